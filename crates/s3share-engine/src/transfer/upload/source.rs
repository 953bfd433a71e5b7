//! The file being uploaded and its object: what to send (content type, checksum), the file
//! opened once and watched for changes, and the checks before anything is sent.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::base::error::{Error, ErrorKind, Result};
use crate::base::s3uri::S3Uri;
use crate::client::browse::object_exists;
use crate::client::connection::Connection;
use crate::transfer::names::numbered_name;

pub use crate::transfer::settings::MAX_SINGLE_PUT;

/// The checksum sent with the PUT, so the server rejects a body damaged on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumAlgorithm {
    /// CRC32C (`x-amz-checksum-crc32c`): hardware-fast, the default.
    #[default]
    Crc32c,
    /// SHA-256 (`x-amz-checksum-sha256`).
    Sha256,
}

impl std::str::FromStr for ChecksumAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "crc32c" => Ok(Self::Crc32c),
            "sha256" => Ok(Self::Sha256),
            _ => Err(Error::invalid(format!(
                "Unknown checksum {s:?}: use crc32c or sha256"
            ))),
        }
    }
}

impl ChecksumAlgorithm {
    pub(super) fn header(self) -> &'static str {
        match self {
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub path: PathBuf,
    pub object: S3Uri,
    /// Replace an existing object; otherwise refuse.
    pub overwrite: bool,
    pub checksum: ChecksumAlgorithm,
}

#[derive(Debug, Clone)]
pub struct UploadOutcome {
    pub object: S3Uri,
    pub size: u64,
}

/// Content type from the object's name (what recipients see), else the local file's name,
/// else `application/octet-stream`.
pub fn content_type_for(key: &str, path: &Path) -> String {
    mime_guess::from_path(key)
        .first()
        .or_else(|| mime_guess::from_path(path).first())
        .map_or_else(
            || "application/octet-stream".to_owned(),
            |m| m.essence_str().to_owned(),
        )
}

/// Open a local file for upload, with the usual mistakes in plain words.
pub async fn open_for_upload(path: &Path) -> Result<(tokio::fs::File, u64)> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| Error::local_io("read", path, &e))?;
    if meta.is_dir() {
        return Err(Error::invalid(format!(
            "This is a folder; give the files inside it: {}",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "Not a regular file: {}",
            path.display()
        )));
    }
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::local_io("read", path, &e))?;
    Ok((file, meta.len()))
}

/// What a file looked like when it was opened, to tell whether it changed while it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// The inode's change time (seconds, nanoseconds): every write moves it, and unlike the
    /// modification time no program can set it back.
    pub changed: (i64, i64),
}

impl FileStamp {
    pub fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let changed = {
            use std::os::unix::fs::MetadataExt as _;
            (meta.ctime(), meta.ctime_nsec())
        };
        #[cfg(not(unix))]
        let changed = (0, 0);
        Self {
            size: meta.len(),
            modified: meta.modified().ok(),
            changed,
        }
    }

    /// The stamp of the open handle now.
    pub async fn now(file: &tokio::fs::File, path: &Path) -> Result<Self> {
        let meta = file
            .metadata()
            .await
            .map_err(|e| Error::local_io("read", path, &e))?;
        Ok(Self::of(&meta))
    }
}

/// The error for a file that changed while it was being uploaded.
pub fn changed_while_uploading(path: &Path) -> Error {
    Error::new(
        ErrorKind::Integrity,
        format!(
            "The file changed while it was being uploaded; nothing was stored. Upload it again once it is finished: {}",
            path.display()
        ),
    )
}

/// Refuse to replace an object that exists (never skipped: some stores, Garage and others,
/// ignore `If-None-Match` and would overwrite).
pub async fn refuse_existing(conn: &Connection, object: &S3Uri) -> Result<()> {
    match object_exists(conn, object).await {
        Ok(false) => Ok(()),
        Ok(true) => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "An object with this name already exists (pass --overwrite to replace it): {object}"
            ),
        )),
        Err(e) if e.kind() == ErrorKind::AccessDenied => Err(Error::new(
            ErrorKind::AccessDenied,
            format!(
                "Could not check whether the object already exists (no permission to read it); pass --overwrite to upload anyway: {object}"
            ),
        )),
        Err(e) => Err(e),
    }
}

/// The first [`numbered_name`] that is free, for "Keep both" (tries up to 1,000 names).
pub async fn free_key(conn: &Connection, object: &S3Uri) -> Result<S3Uri> {
    for n in 1..=1000 {
        let candidate = S3Uri::new(object.bucket.clone(), numbered_name(&object.key, n));
        if !object_exists(conn, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(Error::new(
        ErrorKind::AlreadyExists,
        format!("No free name found next to {object} (tried 1,000)"),
    ))
}
