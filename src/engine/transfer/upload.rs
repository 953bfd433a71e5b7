//! Upload by presigned PUT: the engine signs a PUT (content type, checksum and, unless
//! replacing, `If-None-Match: *`), then streams the file from disk with its Content-Length.
//! The whole file is never in memory.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures_util::StreamExt as _;

use super::Progress;
use crate::engine::browse::object_exists;
use crate::engine::connection::Connection;
use crate::engine::error::{Error, ErrorKind, Result};
use crate::engine::expiry::Expiry;
use crate::engine::location::S3Uri;
use crate::engine::presign::{PresignInput, presign};
use crate::engine::share::{network_error, response_error};

/// The largest object a single PUT may create (S3's limit).
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

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
    fn header(self) -> &'static str {
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

/// Hash exactly `len` bytes of the open handle at `offset` (the bytes that will be sent). A
/// file that ends early has changed.
pub(super) async fn checksum_handle(
    file: &std::sync::Arc<std::fs::File>,
    (offset, len): (u64, u64),
    algorithm: ChecksumAlgorithm,
    path: &Path,
) -> Result<String> {
    super::body::checksum_range(file.clone(), offset, len, algorithm)
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                changed_while_uploading(path)
            } else {
                Error::local_io("read", path, &e)
            }
        })
}

/// Upload `req.path` to `req.object`.
pub async fn upload(
    conn: &Connection,
    req: &UploadRequest,
    progress: Progress<'_>,
) -> Result<UploadOutcome> {
    let key = req.object.require_linkable_object()?;
    // Opened once: the same handle is hashed and sent, so the file checked is the file uploaded.
    let (file, size) = open_for_upload(&req.path).await?;
    if size > MAX_SINGLE_PUT {
        return Err(Error::invalid(format!(
            "This file is larger than 5 GiB, the most one PUT can carry; it goes in parts instead: {}",
            req.path.display()
        )));
    }
    let stamp = FileStamp::now(&file, &req.path).await?;
    let region = conn.bucket_region(&req.object.bucket).await?;
    if !req.overwrite {
        refuse_existing(conn, &req.object).await?;
    }
    let file = std::sync::Arc::new(file.into_std().await);
    let checksum = checksum_handle(&file, (0, size), req.checksum, &req.path).await?;
    if file.metadata().map(|m| FileStamp::of(&m)).ok() != Some(stamp) {
        return Err(changed_while_uploading(&req.path));
    }
    let content_type = content_type_for(key, &req.path);
    let creds = conn.signing_credentials().await?;
    let addr = conn.object_address(&req.object.bucket, key, &region);
    let mut headers = vec![
        ("content-type", content_type.as_str()),
        (req.checksum.header(), checksum.as_str()),
    ];
    if !req.overwrite {
        headers.push(("if-none-match", "*"));
    }
    let signed = presign(
        &creds,
        &PresignInput {
            method: "PUT",
            scheme: &addr.scheme,
            authority: &addr.authority,
            path: &addr.path,
            query: &[],
            headers: &headers,
            region: &region,
            // Long enough to start a slow upload; the signature is checked when it starts.
            expires: Expiry::new(std::time::Duration::from_secs(3600))?,
            now: SystemTime::now(),
        },
    );
    let probe = file.clone();
    let watched = file.clone();
    let sent = put_file(
        conn,
        &Put {
            url: signed.url(),
            headers: &signed.headers,
            size,
            unchanged: std::sync::Arc::new(move || {
                watched.metadata().is_ok_and(|m| FileStamp::of(&m) == stamp)
            }),
        },
        file,
        progress,
        &req.object,
    )
    .await;
    if let Err(e) = sent {
        // A file that changed under the upload fails with that reason, not a checksum riddle.
        let changed = probe.metadata().map(|m| FileStamp::of(&m)).ok() != Some(stamp);
        return Err(if changed {
            changed_while_uploading(&req.path)
        } else {
            e
        });
    }
    Ok(UploadOutcome {
        object: req.object.clone(),
        size,
    })
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

/// A presigned PUT of a file's first `size` bytes.
struct Put<'a> {
    url: &'a str,
    headers: &'a [(String, String)],
    size: u64,
    /// Is the file still as it was when it was hashed? Asked before the last bytes go: a file
    /// that changed breaks the body off, so the server stores nothing.
    unchanged: Unchanged,
}

/// "Is the file still as it was?", asked before the last bytes of a body go.
pub(super) type Unchanged = std::sync::Arc<dyn Fn() -> bool + Send + Sync>;

/// Send `len` bytes of `file` from `offset` as the body of a presigned PUT, telling
/// `progress` as they leave; `unchanged` is asked before the last chunk, and a `false` breaks
/// the body off. Returns the response and how many bytes left.
pub(super) async fn put_body(
    request: reqwest::RequestBuilder,
    file: std::sync::Arc<std::fs::File>,
    (offset, len): (u64, u64),
    progress: Progress<'_>,
    unchanged: Unchanged,
    moved: &std::sync::atomic::AtomicU64,
) -> reqwest::Result<reqwest::Response> {
    // The body is read lazily by the HTTP client; progress is reported as chunks leave.
    let stream = super::body::range_stream(file, offset, len);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut read = 0u64;
    let stream = stream.map(move |chunk| {
        let chunk = chunk?;
        read += chunk.len() as u64;
        if read >= len && !unchanged() {
            return Err(std::io::Error::other(
                "the file changed while it was being uploaded",
            ));
        }
        let _ = tx.send(chunk.len() as u64);
        Ok(chunk)
    });
    let send = request
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    tokio::pin!(send);
    let count = |n: u64| {
        moved.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        progress.add(n);
    };
    let resp = loop {
        tokio::select! {
            r = &mut send => break r,
            Some(n) = rx.recv() => count(n),
        }
    };
    while let Ok(n) = rx.try_recv() {
        count(n);
    }
    resp
}

/// Stream the file to a presigned PUT URL.
async fn put_file(
    conn: &Connection,
    put: &Put<'_>,
    file: std::sync::Arc<std::fs::File>,
    progress: Progress<'_>,
    object: &S3Uri,
) -> Result<()> {
    progress.set_total(put.size);
    let mut request = conn.http().put(put.url);
    for (n, v) in put.headers {
        request = request.header(n.as_str(), v.as_str());
    }
    let moved = std::sync::atomic::AtomicU64::new(0);
    let resp = put_body(
        request,
        file,
        (0, put.size),
        progress,
        put.unchanged.clone(),
        &moved,
    )
    .await;
    let resp = resp.map_err(|e| network_error(e, object))?;
    if resp.status().is_success() {
        progress.finish();
        return Ok(());
    }
    let err = response_error(resp, object).await;
    Err(if err.kind() == ErrorKind::Integrity {
        Error::new(
            ErrorKind::Integrity,
            format!("The upload was damaged on the way or the file changed while it was read; the server rejected it: {object}"),
        )
        .with_detail(err.detail().unwrap_or_default().to_owned())
    } else {
        err
    })
}

/// `report (1).pdf`, `report (2).pdf`, ...: the `n`th alternative name for a key, numbered before
/// the extension of its last segment.
pub fn numbered_key(key: &str, n: u32) -> String {
    let (dir, name) = key.rsplit_once('/').map_or(("", key), |(d, n)| (d, n));
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let renamed = format!("{stem} ({n}){ext}");
    if key.contains('/') {
        format!("{dir}/{renamed}")
    } else {
        renamed
    }
}

/// The first `numbered_key` that is free, for "Keep both" (tries up to 1,000 names).
pub async fn free_key(conn: &Connection, object: &S3Uri) -> Result<S3Uri> {
    for n in 1..=1000 {
        let candidate = S3Uri::new(object.bucket.clone(), numbered_key(&object.key, n));
        if !object_exists(conn, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(Error::new(
        ErrorKind::AlreadyExists,
        format!("No free name found next to {object} (tried 1,000)"),
    ))
}

#[cfg(test)]
mod numbering_tests {
    use super::numbered_key;

    #[test]
    fn numbers_go_before_the_extension_of_the_last_segment() {
        assert_eq!(numbered_key("a/report.pdf", 1), "a/report (1).pdf");
        assert_eq!(numbered_key("v1.2/notes", 2), "v1.2/notes (2)");
        assert_eq!(numbered_key(".env", 1), ".env (1)");
        assert_eq!(numbered_key("x.tar.gz", 3), "x.tar (3).gz");
    }
}
