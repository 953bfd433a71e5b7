//! Storage: one folder per bucket; per object a metadata file `<h>.json` (h = SHA-256 of the
//! key, in a shard folder `<h[..2]>/`) that names its data file `<h>.<version>.data`; and a
//! sorted in-memory index of every key, which listings scan.
//!
//! **One commit point.** A write receives the body into a staging file (hashing as it goes),
//! fsyncs it, renames it to a data file of a new version, then writes the metadata to a
//! temporary file, fsyncs it and renames it over `<h>.json`: that rename is the commit. Only
//! then is the index updated and the old version's data file removed. A crash at any step leaves
//! either the old object or the new one; start-up ([`Storage::open`]) keeps the version each
//! metadata file names, checks its size, and removes staging files and unnamed data files.
//!
//! **Reads never tear.** A GET looks up the metadata and opens the data file it names while
//! holding the index lock; an overwrite removes the old data file only after it has swapped the
//! index entry (which needs that lock), so the open file is always the one the metadata
//! describes — an open file stays readable on Unix after it is unlinked.
//!
//! Object names are private: folders are 0700 and files 0600.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use md5::Digest as _;
use s3s::dto::{ETag, Timestamp};
use s3s::{S3Result, s3_error};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;

use super::listing;
use crate::engine::connection::lock;
use crate::engine::error::{Error, Result};

/// The bucket created on first run.
pub const DEFAULT_BUCKET: &str = "shared";
/// Where bodies are received before they are committed.
const STAGING: &str = ".tmp";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Hex MD5 of the content (single PUT), or of the parts' MD5s (multipart).
    pub md5: String,
    /// The number of parts of a multipart upload: the ETag then reads `md5-N`.
    #[serde(default)]
    pub parts: Option<u32>,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    /// Nanoseconds since the epoch.
    pub modified_unix_nanos: i128,
    pub checksum_crc32c: Option<String>,
    pub checksum_sha256: Option<String>,
    /// Names the data file; `None` for objects written before versions (`<h>.data`).
    #[serde(default)]
    pub version: Option<String>,
    /// A multipart object is kept as its parts, unchanged: the size of each segment, stored in
    /// `<h>.<version>.<i>.data`. `None`: one data file.
    #[serde(default)]
    pub segments: Option<Vec<u64>>,
}

impl ObjectMeta {
    pub fn modified(&self) -> Timestamp {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.modified_unix_nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Timestamp::from(t)
    }

    pub fn etag(&self) -> ETag {
        match self.parts {
            Some(n) => ETag::Strong(format!("{}-{n}", self.md5)),
            None => ETag::Strong(self.md5.clone()),
        }
    }
}

pub(super) struct BucketState {
    pub created: SystemTime,
    pub objects: BTreeMap<String, ObjectMeta>,
}

/// What a write needs to hold to commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precondition {
    None,
    /// `If-None-Match: *`: only if no object has this key.
    NoneMatch,
}

impl Precondition {
    /// What a request's `If-None-Match` asks (only `*` is a condition on writes, as on S3).
    pub fn from_if_none_match(header: Option<&s3s::dto::ETagCondition>) -> Self {
        if header.is_some_and(s3s::dto::ETagCondition::is_any) {
            Self::NoneMatch
        } else {
            Self::None
        }
    }
}

/// A body received into a staging file, with its size and hashes.
pub(super) struct Received {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc32c: u32,
    pub sha256: Option<[u8; 32]>,
}

/// Why receiving a body stopped.
pub(super) enum ReceiveError {
    /// The client's stream broke off.
    Broken,
    /// More than the limit arrived.
    TooLarge,
    Io(std::io::Error),
}

pub(super) struct Storage {
    /// Held (an exclusive lock on `.lock`) while the store runs: one store per folder.
    _lock: File,
    pub root: PathBuf,
    pub index: Mutex<BTreeMap<String, BucketState>>,
    /// Held for a whole commit (disk, then index), so conditional writes are atomic and the
    /// index changes in the order the disk did.
    pub commits: Mutex<()>,
    /// Readers of multipart objects, by version: their segments stay until the last one ends.
    leases: Arc<Mutex<HashMap<String, Lease>>>,
    /// Unfinished multipart uploads, by upload id (see `multipart`).
    pub uploads: Mutex<HashMap<String, super::multipart::Upload>>,
}

#[derive(Default)]
struct Lease {
    readers: usize,
    /// Files to remove when the last reader ends (the object was replaced or deleted).
    doomed: Vec<PathBuf>,
}

/// A reader's hold on a multipart object's segments.
pub(super) struct LeaseGuard {
    leases: Arc<Mutex<HashMap<String, Lease>>>,
    version: String,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        let mut leases = lock(&self.leases);
        let done = leases.get_mut(&self.version).is_some_and(|l| {
            l.readers -= 1;
            l.readers == 0
        });
        if done && let Some(lease) = leases.remove(&self.version) {
            for f in lease.doomed {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// An object's data, ready to read.
pub(super) enum ObjectData {
    File(File),
    /// A multipart object's segments in order, with their sizes; opened as they are read.
    Segments {
        files: Vec<(PathBuf, u64)>,
        lease: LeaseGuard,
    },
}

pub(super) fn key_hash(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// A new data-file version: random, so versions never repeat across restarts.
pub(super) fn new_version() -> std::io::Result<String> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(raw))
}

/// A folder only the user can enter (0700), made with its parents.
pub(super) fn private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path)?;
    // The new folder's name is durable too, or a committed write could vanish with it.
    match path.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Create `path` (0600) holding `bytes`, without the fsyncs of a commit (seeding only).
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// fsync a folder, so the renames in it survive a crash.
pub(super) fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Write `bytes` to `path` through a 0600 temporary file in the same folder (its name starts
/// with `.`, so start-up clears one a crash left), fsynced, then renamed over it.
pub(super) use crate::engine::config::write_private as write_atomic;

impl Storage {
    /// Load the folder: make it (0700) and the default bucket on first run, keep every object
    /// whose metadata names a data file of the right size, and clear what a crash left behind.
    pub fn open(root: &Path) -> Result<Self> {
        let io = |what: &str, p: &Path, e: &std::io::Error| Error::local_io(what, p, e);
        private_dir(&root.join(STAGING)).map_err(|e| io("create the store folder", root, &e))?;
        // Before anything is cleaned up: another store on this folder would lose its writes.
        let lock_path = root.join(".lock");
        let mut options = File::options();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let lock = options
            .open(&lock_path)
            .map_err(|e| io("lock the store folder", &lock_path, &e))?;
        if lock.try_lock().is_err() {
            return Err(Error::new(
                crate::engine::error::ErrorKind::AlreadyExists,
                format!(
                    "Another s3share store is using this folder (s3share local, or another window): {}",
                    root.display()
                ),
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io("protect the store folder", root, &e))?;
        }
        // Bodies that were being received when the store last stopped.
        for entry in std::fs::read_dir(root.join(STAGING))
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_file(entry.path());
        }
        let mut buckets = BTreeMap::new();
        let entries = std::fs::read_dir(root).map_err(|e| io("read the store folder", root, &e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() || !s3s::path::check_bucket_name(&name) {
                continue;
            }
            let created = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut objects = BTreeMap::new();
            for shard in std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if shard.path().is_dir() {
                    recover_shard(&shard.path(), &mut objects);
                }
            }
            buckets.insert(name, BucketState { created, objects });
        }
        if buckets.is_empty() {
            let dir = root.join(DEFAULT_BUCKET);
            private_dir(&dir).map_err(|e| io("create the default bucket", &dir, &e))?;
            buckets.insert(
                DEFAULT_BUCKET.to_owned(),
                BucketState {
                    created: SystemTime::now(),
                    objects: BTreeMap::new(),
                },
            );
        }
        let uploads = super::multipart::recover_uploads(&root.join(super::multipart::UPLOADS));
        Ok(Self {
            _lock: lock,
            root: root.to_owned(),
            index: Mutex::new(buckets),
            commits: Mutex::new(()),
            leases: Arc::default(),
            uploads: Mutex::new(uploads),
        })
    }

    pub fn shard_dir(&self, bucket: &str, hash: &str) -> PathBuf {
        self.root.join(bucket).join(&hash[..2])
    }

    fn meta_path(&self, bucket: &str, key: &str) -> PathBuf {
        let h = key_hash(key);
        self.shard_dir(bucket, &h).join(format!("{h}.json"))
    }

    /// The object's data files, in order, with their sizes.
    fn data_paths(&self, bucket: &str, meta: &ObjectMeta) -> Vec<(PathBuf, u64)> {
        let h = key_hash(&meta.key);
        let dir = self.shard_dir(bucket, &h);
        data_files(&h, meta)
            .into_iter()
            .map(|(name, size)| (dir.join(name), size))
            .collect()
    }

    /// Remove a replaced or deleted object's data files: now, or when the last reader of that
    /// version lets go.
    fn discard(&self, bucket: &str, meta: &ObjectMeta) {
        let files: Vec<PathBuf> = self
            .data_paths(bucket, meta)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        if let Some(version) = &meta.version
            && let Some(lease) = lock(&self.leases).get_mut(version)
        {
            lease.doomed = files;
            return;
        }
        for f in files {
            let _ = std::fs::remove_file(f);
        }
    }

    /// A new, empty 0600 staging file.
    pub fn staging_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new()
            .prefix("in-")
            .tempfile_in(self.root.join(STAGING))
    }

    /// Receive `body` into a staging file, hashing MD5, CRC32C and (when asked) SHA-256 as the
    /// bytes arrive, and stopping once more than `limit` bytes came.
    pub async fn receive<S, E>(
        &self,
        mut body: S,
        limit: u64,
        want_sha256: bool,
    ) -> std::result::Result<Received, ReceiveError>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    {
        let file = self.staging_file().map_err(ReceiveError::Io)?;
        let mut out = tokio::io::BufWriter::with_capacity(
            256 * 1024,
            tokio::fs::File::from_std(file.reopen().map_err(ReceiveError::Io)?),
        );
        let mut md5 = md5::Md5::new();
        let mut crc = 0u32;
        let mut sha = want_sha256.then(sha2::Sha256::new);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| ReceiveError::Broken)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(ReceiveError::TooLarge);
            }
            md5.update(&chunk);
            crc = crc32c::crc32c_append(crc, &chunk);
            if let Some(s) = sha.as_mut() {
                s.update(&chunk);
            }
            out.write_all(&chunk).await.map_err(ReceiveError::Io)?;
        }
        out.flush().await.map_err(ReceiveError::Io)?;
        // Durable before it can be committed (on the blocking pool, not an async worker).
        out.get_ref().sync_all().await.map_err(ReceiveError::Io)?;
        Ok(Received {
            file,
            size,
            md5: md5.finalize().into(),
            crc32c: crc,
            sha256: sha.map(|s| s.finalize().into()),
        })
    }

    /// Make `data` (a staging file, already fsynced) the content of `meta.key`, atomically.
    /// Blocking (fsyncs): run it off the async workers.
    pub fn commit(
        &self,
        bucket: &str,
        mut meta: ObjectMeta,
        data: tempfile::NamedTempFile,
        precondition: Precondition,
    ) -> S3Result<ObjectMeta> {
        let _commit = lock(&self.commits);
        let exists = self.meta(bucket, &meta.key)?.is_ok();
        if precondition == Precondition::NoneMatch && exists {
            return Err(precondition_failed());
        }
        meta.version = Some(new_version().map_err(|e| io_err(&e))?);
        meta.segments = None;
        let (data_path, _) = self.data_paths(bucket, &meta).remove(0);
        let dir = data_path.parent().unwrap_or(&self.root).to_owned();
        private_dir(&dir).map_err(|e| io_err(&e))?;
        data.persist(&data_path).map_err(|e| io_err(&e.error))?;
        self.commit_meta(bucket, meta, &[data_path])
    }

    /// The commit point shared by every write: the data files are in place (fsynced), so make
    /// their names durable, write the metadata that names them, swap the index entry and
    /// discard what it replaced. On failure the new data files are removed; the old object
    /// stays. Call with the commit lock held.
    pub fn commit_meta(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        new_files: &[PathBuf],
    ) -> S3Result<ObjectMeta> {
        let meta_path = self.meta_path(bucket, &meta.key);
        let dir = meta_path.parent().unwrap_or(&self.root).to_owned();
        let json = serde_json::to_vec(&meta).map_err(|_| s3_error!(InternalError))?;
        // The data files' names are durable before the metadata that names them is written.
        let written = sync_dir(&dir).and_then(|()| write_atomic(&meta_path, &json));
        if let Err(e) = written {
            for f in new_files {
                let _ = std::fs::remove_file(f);
            }
            return Err(io_err(&e));
        }
        // Committed: the rename happened. A failed fsync now only risks the power-cut case.
        if let Err(e) = sync_dir(&dir) {
            tracing::warn!(
                "local store: could not sync a folder after a commit ({})",
                e.kind()
            );
        }
        let replaced = {
            let mut index = lock(&self.index);
            let b = index
                .get_mut(bucket)
                .ok_or_else(|| s3_error!(NoSuchBucket))?;
            b.objects.insert(meta.key.clone(), meta.clone())
        };
        if let Some(old) = replaced {
            self.discard(bucket, &old);
        }
        Ok(meta)
    }

    /// Remove `key`; a key that is not there is no error (S3 semantics). Blocking.
    pub fn delete(&self, bucket: &str, key: &str) -> S3Result<()> {
        let _commit = lock(&self.commits);
        let Some(meta) = self.meta(bucket, key)?.ok() else {
            return Ok(());
        };
        let meta_path = self.meta_path(bucket, key);
        std::fs::remove_file(&meta_path).map_err(|e| io_err(&e))?;
        if let Some(dir) = meta_path.parent() {
            let _ = sync_dir(dir);
        }
        if let Some(b) = lock(&self.index).get_mut(bucket) {
            b.objects.remove(key);
        }
        self.discard(bucket, &meta);
        Ok(())
    }

    /// The metadata of `key`: `Err` for a missing bucket, `Ok(Err(()))` for a missing key.
    pub fn meta(&self, bucket: &str, key: &str) -> S3Result<std::result::Result<ObjectMeta, ()>> {
        let index = lock(&self.index);
        let b = index.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        Ok(b.objects.get(key).cloned().ok_or(()))
    }

    /// The metadata of `key` and its data, taken together under the index lock so they always
    /// belong to each other: one data file is opened there; a multipart object's segments are
    /// leased (kept on disk, even if the object is replaced meanwhile, until the reader is done).
    pub fn open_object(&self, bucket: &str, key: &str) -> S3Result<(ObjectMeta, ObjectData)> {
        let index = lock(&self.index);
        let b = index.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        let meta = b.objects.get(key).ok_or_else(|| s3_error!(NoSuchKey))?;
        let mut paths = self.data_paths(bucket, meta);
        let data = if let (Some(_), Some(version)) = (&meta.segments, &meta.version) {
            lock(&self.leases)
                .entry(version.clone())
                .or_default()
                .readers += 1;
            ObjectData::Segments {
                files: paths,
                lease: LeaseGuard {
                    leases: self.leases.clone(),
                    version: version.clone(),
                },
            }
        } else {
            let (path, _) = paths.remove(0);
            ObjectData::File(File::open(path).map_err(|e| io_err(&e))?)
        };
        Ok((meta.clone(), data))
    }

    pub fn has_bucket(&self, bucket: &str) -> bool {
        lock(&self.index).contains_key(bucket)
    }

    /// The buckets and when each was made.
    pub fn buckets(&self) -> Vec<(String, SystemTime)> {
        lock(&self.index)
            .iter()
            .map(|(n, b)| (n.clone(), b.created))
            .collect()
    }

    pub fn create_bucket(&self, name: &str) -> S3Result<()> {
        let _commit = lock(&self.commits);
        if self.has_bucket(name) {
            return Err(s3_error!(BucketAlreadyOwnedByYou));
        }
        private_dir(&self.root.join(name)).map_err(|e| io_err(&e))?;
        lock(&self.index).insert(
            name.to_owned(),
            BucketState {
                created: SystemTime::now(),
                objects: BTreeMap::new(),
            },
        );
        Ok(())
    }

    pub fn delete_bucket(&self, name: &str) -> S3Result<()> {
        let _commit = lock(&self.commits);
        let mut index = lock(&self.index);
        let b = index.get(name).ok_or_else(|| s3_error!(NoSuchBucket))?;
        if !b.objects.is_empty() {
            return Err(s3_error!(BucketNotEmpty));
        }
        let _ = std::fs::remove_dir_all(self.root.join(name));
        index.remove(name);
        Ok(())
    }

    /// One page of a listing, through `f` while the index is held.
    pub fn list<R>(
        &self,
        bucket: &str,
        query: &listing::Query<'_>,
        f: impl FnOnce(listing::Page<'_, ObjectMeta>) -> R,
    ) -> S3Result<R> {
        let index = lock(&self.index);
        let b = index.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        Ok(f(listing::list_page(&b.objects, query)))
    }
}

/// The data file of segment `i` of version `version` of the object whose key hashes to `hash`
/// (a completed multipart upload keeps its parts so).
pub(super) fn segment_file_name(hash: &str, version: &str, i: usize) -> String {
    format!("{hash}.{version}.{i}.data")
}

/// The names and sizes of an object's data files.
fn data_files(hash: &str, meta: &ObjectMeta) -> Vec<(String, u64)> {
    match (&meta.version, &meta.segments) {
        (Some(v), Some(sizes)) => sizes
            .iter()
            .enumerate()
            .map(|(i, size)| (segment_file_name(hash, v, i), *size))
            .collect(),
        (Some(v), None) => vec![(format!("{hash}.{v}.data"), meta.size)],
        (None, _) => vec![(format!("{hash}.data"), meta.size)],
    }
}

/// Load one shard folder after a stop or a crash: keep each metadata file whose data file is
/// there with the right size; remove temporary files and data files no metadata names.
fn recover_shard(dir: &Path, objects: &mut BTreeMap<String, ObjectMeta>) {
    let mut found = Vec::new();
    let mut named = std::collections::HashSet::new();
    // A metadata file that cannot be read may still name data: then nothing here is removed.
    let mut unreadable = false;
    for file in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = file.path();
        let name = file.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            // A metadata write that did not reach its rename.
            let _ = std::fs::remove_file(&path);
        } else if path.extension().is_some_and(|x| x == "data") {
            found.push((name, path));
        } else if path.extension().is_some_and(|x| x == "json") {
            let Some(meta) = std::fs::read(&path)
                .ok()
                .and_then(|text| serde_json::from_slice::<ObjectMeta>(&text).ok())
            else {
                tracing::warn!("local store: an object's metadata cannot be read; it is left out");
                unreadable = true;
                continue;
            };
            let hash = name.trim_end_matches(".json");
            let files = data_files(hash, &meta);
            let whole = files
                .iter()
                .all(|(n, size)| std::fs::metadata(dir.join(n)).is_ok_and(|m| m.len() == *size));
            if whole {
                named.extend(files.into_iter().map(|(n, _)| n));
                objects.insert(meta.key.clone(), meta);
            } else {
                tracing::warn!(
                    "local store: an object's data file is missing or damaged; it is left out"
                );
            }
        }
    }
    if unreadable {
        return;
    }
    for (name, path) in found {
        if !named.contains(&name) {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub(super) fn io_err(e: &std::io::Error) -> s3s::S3Error {
    s3_error!(InternalError, "local store I/O error: {}", e.kind())
}

pub(super) fn precondition_failed() -> s3s::S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// Write objects straight into a store folder that is not being served (tests and benchmarks
/// that need many objects fast). The store finds them when it starts.
pub fn seed_objects<'a>(
    data_dir: &Path,
    bucket: &str,
    objects: impl IntoIterator<Item = (String, &'a [u8])>,
) -> Result<usize> {
    let storage = Arc::new(Storage::open(data_dir)?);
    let dir = data_dir.join(bucket);
    private_dir(&dir).map_err(|e| Error::local_io("create the bucket folder", &dir, &e))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let mut count = 0;
    for (key, body) in objects {
        let meta = ObjectMeta {
            key,
            size: body.len() as u64,
            md5: hex::encode(md5::Md5::digest(body)),
            parts: None,
            content_type: None,
            content_disposition: None,
            modified_unix_nanos: now,
            checksum_crc32c: None,
            checksum_sha256: None,
            version: Some(new_version().map_err(|e| Error::local_io("seed", data_dir, &e))?),
            segments: None,
        };
        let (data, _) = storage.data_paths(bucket, &meta).remove(0);
        let shard = data.parent().unwrap_or(data_dir);
        private_dir(shard).map_err(|e| Error::local_io("create", shard, &e))?;
        write_private_file(&data, body).map_err(|e| Error::local_io("write", &data, &e))?;
        let json = serde_json::to_vec(&meta).map_err(|e| {
            Error::new(
                crate::engine::error::ErrorKind::LocalIo,
                "Could not encode object metadata",
            )
            .with_detail(e.to_string())
        })?;
        let path = storage.meta_path(bucket, &meta.key);
        write_private_file(&path, &json).map_err(|e| Error::local_io("write", &path, &e))?;
        count += 1;
    }
    Ok(count)
}
