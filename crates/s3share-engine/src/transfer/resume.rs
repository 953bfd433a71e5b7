//! What is remembered of an unfinished upload (0600, one file each in the state folder), saved
//! after each part, so the same upload run again sends only the parts the server lacks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::settings::part_range;
use crate::base::blocking::run_blocking;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::s3uri::S3Uri;

/// A part done: what Complete needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DonePart {
    pub etag: String,
    pub crc32c: String,
}

/// What is remembered of an unfinished upload (0600, in the state folder), saved after each part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadState {
    /// The endpoint (or `aws`) the upload is on.
    pub endpoint: String,
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_size: u64,
    pub path: PathBuf,
    pub size: u64,
    /// The file's modification time (nanoseconds since the epoch) when the upload began.
    pub modified_unix_nanos: i128,
    pub overwrite: bool,
    pub started_unix: i64,
    pub parts: BTreeMap<u32, DonePart>,
}

impl UploadState {
    /// Bytes the parts done so far hold.
    pub fn bytes_done(&self) -> u64 {
        self.parts
            .keys()
            .map(|n| part_range(self.size, self.part_size, *n).1)
            .sum()
    }

    pub fn object(&self) -> S3Uri {
        S3Uri::new(self.bucket.clone(), self.key.clone())
    }
}

/// The folder where unfinished uploads are remembered, one state file each.
#[derive(Debug, Clone)]
pub struct ResumeDir {
    dir: PathBuf,
}

impl ResumeDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The state file of the upload of `path` to `object` on `endpoint`.
    fn file(&self, endpoint: &str, object: &S3Uri, path: &Path) -> PathBuf {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let id =
            sha2::Sha256::digest(format!("{endpoint}\n{object}\n{}", path.display()).as_bytes());
        self.dir.join(format!("{}.json", hex::encode(&id[..16])))
    }

    /// The remembered upload of `path` to `object` on `endpoint`, if any.
    pub fn load(&self, endpoint: &str, object: &S3Uri, path: &Path) -> Option<UploadState> {
        let text = std::fs::read(self.file(endpoint, object, path)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn save(&self, state: &UploadState) -> Result<()> {
        let path = self.file(&state.endpoint, &state.object(), &state.path);
        let json = serde_json::to_vec_pretty(state).map_err(|e| {
            Error::new(ErrorKind::LocalIo, "Could not encode the upload's state")
                .with_detail(e.to_string())
        })?;
        s3share_core::fs::write_private(&path, &json)
            .map_err(|e| Error::local_io("write", &path, &e))
    }

    /// `save` on the blocking pool: the write is fsynced, no work for an async worker.
    pub async fn save_blocking(&self, state: UploadState) -> Result<()> {
        let dir = self.clone();
        run_blocking(move || dir.save(&state)).await
    }

    /// Forget the upload of `path` to `object` (finished, discarded or no longer on the server).
    pub fn forget(&self, endpoint: &str, object: &S3Uri, path: &Path) {
        let _ = std::fs::remove_file(self.file(endpoint, object, path));
    }

    /// Every unfinished upload remembered here, oldest first.
    pub fn list(&self) -> Vec<UploadState> {
        let mut all: Vec<UploadState> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|t| serde_json::from_slice(&t).ok())
            .collect();
        all.sort_by_key(|s: &UploadState| s.started_unix);
        all
    }
}
