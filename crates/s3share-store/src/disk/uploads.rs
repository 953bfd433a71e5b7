//! The records of unfinished multipart uploads, kept as S3 keeps them: nothing visible until
//! Complete, and every upload surviving a restart until it is completed or aborted.
//!
//! Layout: `<root>/.uploads/<id>/upload.json`, and per part `<n>.json` (its commit point)
//! naming `<n>.<version>.part`. Writes here are called with the disk's commit lock held.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use s3s::{S3Error, S3Result, s3_error};
use s3share_core::fs::{private_dir, sync_dir, write_private};
use s3share_core::lock;
use serde::{Deserialize, Serialize};

use super::files::{io_err, new_version};

/// Where unfinished uploads live, under the store's root.
pub(crate) const UPLOADS: &str = ".uploads";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct UploadInfo {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_unix_nanos: i128,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PartMeta {
    pub number: u32,
    pub size: u64,
    /// Hex MD5: the part's ETag.
    pub md5: String,
    /// Base64 CRC32C, always computed (for the object's composite checksum).
    pub crc32c: String,
    pub sha256: Option<String>,
    pub modified_unix_nanos: i128,
    pub version: String,
}

/// An unfinished upload.
pub(crate) struct Upload {
    pub info: UploadInfo,
    pub parts: BTreeMap<u32, PartMeta>,
}

pub(crate) fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

/// Every unfinished upload, by id.
pub(crate) struct UploadRecords {
    root: PathBuf,
    uploads: Mutex<HashMap<String, Upload>>,
}

impl UploadRecords {
    /// Load every upload under `store_root` after a stop or a crash: keep each part whose
    /// metadata names a data file of the right size; drop half-made uploads and files no
    /// metadata names.
    pub fn recover(store_root: &Path) -> Self {
        let root = store_root.join(UPLOADS);
        let mut uploads = HashMap::new();
        let _ = private_dir(&root);
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let dir = entry.path();
            let info = std::fs::read(dir.join("upload.json"))
                .ok()
                .and_then(|t| serde_json::from_slice::<UploadInfo>(&t).ok());
            let Some(info) = info else {
                // CreateMultipartUpload did not finish: it answered nobody.
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            };
            let parts = recover_parts(&dir);
            uploads.insert(info.id.clone(), Upload { info, parts });
        }
        Self {
            root,
            uploads: Mutex::new(uploads),
        }
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Run `f` on the upload `id` of `bucket/key`, or answer S3's `NoSuchUpload`.
    pub fn with<T>(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        f: impl FnOnce(&Upload) -> S3Result<T>,
    ) -> S3Result<T> {
        let uploads = lock(&self.uploads);
        let upload = uploads
            .get(id)
            .filter(|u| u.info.bucket == bucket && u.info.key == key)
            .ok_or_else(no_such_upload)?;
        f(upload)
    }

    /// The uploads of `bucket` whose key starts with `prefix`.
    pub fn infos(&self, bucket: &str, prefix: &str) -> Vec<UploadInfo> {
        lock(&self.uploads)
            .values()
            .filter(|u| u.info.bucket == bucket && u.info.key.starts_with(prefix))
            .map(|u| u.info.clone())
            .collect()
    }

    pub fn create(&self, info: UploadInfo) -> S3Result<()> {
        let dir = self.dir(&info.id);
        private_dir(&dir).map_err(|e| io_err(&e))?;
        let json = serde_json::to_vec(&info).map_err(|_| s3_error!(InternalError))?;
        write_private(&dir.join("upload.json"), &json)
            .and_then(|()| sync_dir(&dir))
            .map_err(|e| io_err(&e))?;
        lock(&self.uploads).insert(
            info.id.clone(),
            Upload {
                info,
                parts: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// Keep `data` as part `part.number`, replacing an earlier upload of that number. Blocking.
    pub fn commit_part(
        &self,
        id: &str,
        mut part: PartMeta,
        data: tempfile::NamedTempFile,
    ) -> S3Result<PartMeta> {
        if !lock(&self.uploads).contains_key(id) {
            // Aborted or completed while the body arrived.
            return Err(no_such_upload());
        }
        let dir = self.dir(id);
        part.version = new_version().map_err(|e| io_err(&e))?;
        let path = part_file(&dir, part.number, &part.version);
        data.persist(&path).map_err(|e| io_err(&e.error))?;
        let json = serde_json::to_vec(&part).map_err(|_| s3_error!(InternalError))?;
        let committed = sync_dir(&dir)
            .and_then(|()| write_private(&dir.join(format!("{}.json", part.number)), &json))
            .and_then(|()| sync_dir(&dir));
        if let Err(e) = committed {
            let _ = std::fs::remove_file(&path);
            return Err(io_err(&e));
        }
        let replaced = lock(&self.uploads)
            .get_mut(id)
            .and_then(|u| u.parts.insert(part.number, part.clone()));
        if let Some(old) = replaced {
            let _ = std::fs::remove_file(part_file(&dir, old.number, &old.version));
        }
        Ok(part)
    }

    /// Forget the upload `id` and remove its files (aborted, or completed: the object holds
    /// its own links to the parts' data then).
    pub fn remove(&self, id: &str) {
        lock(&self.uploads).remove(id);
        let _ = std::fs::remove_dir_all(self.dir(id));
    }
}

/// A part's data file in the upload folder `dir`.
pub(crate) fn part_file(dir: &Path, number: u32, version: &str) -> PathBuf {
    dir.join(format!("{number}.{version}.part"))
}

/// The parts of the upload in `dir` whose data is whole; everything else there is removed.
fn recover_parts(dir: &Path) -> BTreeMap<u32, PartMeta> {
    let mut parts = BTreeMap::new();
    let mut keep = std::collections::HashSet::new();
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    for path in &files {
        let is_part_meta = path.extension().is_some_and(|x| x == "json")
            && path.file_name().is_some_and(|n| n != "upload.json");
        let Some(part) = is_part_meta
            .then(|| std::fs::read(path).ok())
            .flatten()
            .and_then(|t| serde_json::from_slice::<PartMeta>(&t).ok())
        else {
            continue;
        };
        let data = part_file(dir, part.number, &part.version);
        if std::fs::metadata(&data).is_ok_and(|m| m.len() == part.size) {
            keep.insert(data);
            keep.insert(path.clone());
            parts.insert(part.number, part);
        }
    }
    keep.insert(dir.join("upload.json"));
    for path in files {
        if !keep.contains(&path) {
            let _ = std::fs::remove_file(path);
        }
    }
    parts
}
