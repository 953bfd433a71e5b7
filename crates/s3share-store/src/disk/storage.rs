//! The disk: one folder per bucket; per object a metadata file `<h>.json` (h = SHA-256 of the
//! key, in a shard folder `<h[..2]>/`) that names its data file `<h>.<version>.data`; and a
//! sorted in-memory index of every key, which listings scan.
//!
//! **One commit point.** A write receives the body into a staging file (hashing as it goes),
//! fsyncs it, renames it to a data file of a new version, then writes the metadata to a
//! temporary file, fsyncs it and renames it over `<h>.json`: that rename is the commit. Only
//! then is the index updated and the old version's data file removed. A crash at any step leaves
//! either the old object or the new one; start-up ([`Disk::open`]) keeps the version each
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

use s3s::{S3Result, s3_error};
use s3share_core::fs::{private_dir, sync_dir, write_private};
use s3share_core::lock;

use super::files::{
    DEFAULT_BUCKET, create_private_file, io_err, key_hash, md5_hex, new_version,
    precondition_failed,
};
use super::meta::{ObjectMeta, data_files, segment_file_name};
use super::uploads::{PartMeta, UploadInfo, UploadRecords, part_file};
use crate::error::{StoreError, StoreResult};
use s3share_core::limits::{MAX_PARTS, MIN_PART};

/// Where bodies are received before they are committed.
const STAGING: &str = ".tmp";

pub(crate) struct BucketState {
    pub created: SystemTime,
    pub objects: BTreeMap<String, ObjectMeta>,
}

/// What a write needs to hold to commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
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

pub(crate) struct Disk {
    /// Held (an exclusive lock on `.lock`) while the store runs: one store per folder.
    _lock: File,
    pub root: PathBuf,
    pub index: Mutex<BTreeMap<String, BucketState>>,
    /// Held for a whole commit (disk, then index), so conditional writes are atomic and the
    /// index changes in the order the disk did.
    pub commits: Mutex<()>,
    /// Readers of multipart objects, by version: their segments stay until the last one ends.
    leases: Arc<Mutex<HashMap<String, Lease>>>,
    /// Unfinished multipart uploads.
    pub uploads: UploadRecords,
}

#[derive(Default)]
struct Lease {
    readers: usize,
    /// Files to remove when the last reader ends (the object was replaced or deleted).
    doomed: Vec<PathBuf>,
}

/// A reader's hold on a multipart object's segments.
pub(crate) struct LeaseGuard {
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
pub(crate) enum ObjectData {
    File(File),
    /// A multipart object's segments in order, with their sizes; opened as they are read.
    Segments {
        files: Vec<(PathBuf, u64)>,
        lease: LeaseGuard,
    },
}

/// The file whose lock a serving store holds.
const LOCK_FILE: &str = ".lock";

/// Does a store (in this process or another) serve `root` now? Probes its lock without
/// taking it for longer than the probe, and without creating anything.
pub fn folder_served(root: &Path) -> bool {
    let Ok(lock) = File::options().write(true).open(root.join(LOCK_FILE)) else {
        return false;
    };
    // Dropping the file releases the probe's own lock at once.
    lock.try_lock().is_err()
}

impl Disk {
    /// Load the folder: make it (0700) and the default bucket on first run, keep every object
    /// whose metadata names a data file of the right size, and clear what a crash left behind.
    pub fn open(root: &Path) -> StoreResult<Self> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        private_dir(&root.join(STAGING)).map_err(io("create the store folder", root))?;
        // Before anything is cleaned up: another store on this folder would lose its writes.
        let lock_path = root.join(LOCK_FILE);
        let lock = s3share_core::fs::private_file_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("lock the store folder", &lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::InUse {
                path: root.to_owned(),
            });
        }
        s3share_core::fs::restrict_dir(root).map_err(io("protect the store folder", root))?;
        // Bodies that were being received when the store last stopped.
        for entry in std::fs::read_dir(root.join(STAGING))
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_file(entry.path());
        }
        let mut buckets = BTreeMap::new();
        let entries = std::fs::read_dir(root).map_err(io("read the store folder", root))?;
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
            private_dir(&dir).map_err(io("create the default bucket", &dir))?;
            buckets.insert(
                DEFAULT_BUCKET.to_owned(),
                BucketState {
                    created: SystemTime::now(),
                    objects: BTreeMap::new(),
                },
            );
        }
        let uploads = UploadRecords::recover(root);
        Ok(Self {
            _lock: lock,
            root: root.to_owned(),
            index: Mutex::new(buckets),
            commits: Mutex::new(()),
            leases: Arc::default(),
            uploads,
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
        let written = sync_dir(&dir).and_then(|()| write_private(&meta_path, &json));
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
    pub fn meta(&self, bucket: &str, key: &str) -> S3Result<Result<ObjectMeta, ()>> {
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

    /// The objects of `bucket`, sorted by key, through `f` while the index is held (a
    /// listing's page is cut from them).
    pub fn with_objects<R>(
        &self,
        bucket: &str,
        f: impl FnOnce(&BTreeMap<String, ObjectMeta>) -> R,
    ) -> S3Result<R> {
        let index = lock(&self.index);
        let b = index.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        Ok(f(&b.objects))
    }

    /// Begin a multipart upload. Blocking.
    pub fn create_upload(&self, info: UploadInfo) -> S3Result<()> {
        let _commit = lock(&self.commits);
        if !self.has_bucket(&info.bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        self.uploads.create(info)
    }

    /// Keep `data` as a part of upload `id`. Blocking.
    pub fn commit_part(
        &self,
        id: &str,
        part: PartMeta,
        data: tempfile::NamedTempFile,
    ) -> S3Result<PartMeta> {
        let _commit = lock(&self.commits);
        self.uploads.commit_part(id, part, data)
    }

    /// Give up upload `id` of `bucket/key` and its parts. Blocking.
    pub fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> S3Result<()> {
        let _commit = lock(&self.commits);
        self.uploads.with(bucket, key, id, |_| Ok(()))?;
        self.uploads.remove(id);
        Ok(())
    }

    /// Make the listed parts the object `key`, atomically: each part's data is hard-linked into
    /// the bucket as a segment (no copy), then the object's metadata is committed; only then is
    /// the upload removed, so a Complete that fails (a bad part list, a precondition, a crash)
    /// leaves the upload as it was. Blocking.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        listed: &[(u32, String)],
        precondition: Precondition,
    ) -> S3Result<ObjectMeta> {
        use base64::Engine as _;
        use md5::Digest as _;
        let _commit = lock(&self.commits);
        let (info, parts) = self.uploads.with(bucket, key, id, |upload| {
            Ok((upload.info.clone(), check_part_list(&upload.parts, listed)?))
        })?;
        // `meta` fails for a bucket deleted meanwhile: nothing is linked into it.
        if self.meta(bucket, key)?.is_ok() && precondition == Precondition::NoneMatch {
            return Err(precondition_failed());
        }
        let version = new_version().map_err(|e| io_err(&e))?;
        let h = key_hash(key);
        let shard = self.shard_dir(bucket, &h);
        private_dir(&shard).map_err(|e| io_err(&e))?;
        let upload_dir = self.uploads.dir(id);
        let mut linked = Vec::with_capacity(parts.len());
        let mut md5s = md5::Md5::new();
        let mut crcs = Vec::with_capacity(parts.len() * 4);
        let b64 = base64::engine::general_purpose::STANDARD;
        for (i, part) in parts.iter().enumerate() {
            let target = shard.join(segment_file_name(&h, &version, i));
            let linked_ok =
                std::fs::hard_link(part_file(&upload_dir, part.number, &part.version), &target);
            if let Err(e) = linked_ok {
                for f in &linked {
                    let _ = std::fs::remove_file(f);
                }
                return Err(io_err(&e));
            }
            linked.push(target);
            md5s.update(hex::decode(&part.md5).unwrap_or_default());
            crcs.extend(b64.decode(&part.crc32c).unwrap_or_default());
        }
        let n = u32::try_from(parts.len()).unwrap_or(MAX_PARTS);
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: parts.iter().map(|p| p.size).sum(),
            md5: hex::encode(md5s.finalize()),
            parts: Some(n),
            content_type: info.content_type.clone(),
            content_disposition: info.content_disposition.clone(),
            modified_unix_nanos: now_nanos(),
            // S3's composite checksum: the CRC32C of the parts' CRC32Cs, and the part count.
            checksum_crc32c: Some(format!(
                "{}-{n}",
                b64.encode(crc32c::crc32c(&crcs).to_be_bytes())
            )),
            checksum_sha256: None,
            version: Some(version),
            segments: Some(parts.iter().map(|p| p.size).collect()),
        };
        let meta = self.commit_meta(bucket, meta, &linked)?;
        // The object holds its own links to the parts' data now.
        self.uploads.remove(id);
        Ok(meta)
    }
}

/// Now, in nanoseconds since the epoch, as metadata keeps times.
pub(crate) fn now_nanos() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

/// The parts a Complete names, checked as S3 checks them: ascending numbers, each uploaded with
/// that ETag, each but the last at least 5 MiB.
fn check_part_list(
    uploaded: &BTreeMap<u32, PartMeta>,
    listed: &[(u32, String)],
) -> S3Result<Vec<PartMeta>> {
    if listed.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "You must specify at least one part"
        ));
    }
    if listed.len() > MAX_PARTS as usize {
        return Err(s3_error!(
            InvalidArgument,
            "A multipart upload has at most 10000 parts"
        ));
    }
    if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(s3_error!(
            InvalidPartOrder,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number."
        ));
    }
    let mut parts = Vec::with_capacity(listed.len());
    for (number, etag) in listed {
        let part = uploaded
            .get(number)
            .filter(|p| p.md5 == etag.trim_matches('"'))
            .ok_or_else(|| {
                s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
                )
            })?;
        parts.push(part.clone());
    }
    if parts[..parts.len() - 1].iter().any(|p| p.size < MIN_PART) {
        return Err(s3_error!(
            EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed size"
        ));
    }
    Ok(parts)
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

/// Write objects straight into a store folder that is not being served (tests and benchmarks
/// that need many objects fast). The store finds them when it starts.
pub fn seed_objects<'a>(
    data_dir: &Path,
    bucket: &str,
    objects: impl IntoIterator<Item = (String, &'a [u8])>,
) -> StoreResult<usize> {
    let disk = Disk::open(data_dir)?;
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    };
    let dir = data_dir.join(bucket);
    private_dir(&dir).map_err(io("create the bucket folder", &dir))?;
    let now = now_nanos();
    let mut count = 0;
    for (key, body) in objects {
        let meta = ObjectMeta {
            key,
            size: body.len() as u64,
            md5: md5_hex(body),
            parts: None,
            content_type: None,
            content_disposition: None,
            modified_unix_nanos: now,
            checksum_crc32c: None,
            checksum_sha256: None,
            version: Some(new_version().map_err(io("seed", data_dir))?),
            segments: None,
        };
        let (data, _) = disk.data_paths(bucket, &meta).remove(0);
        let shard = data.parent().unwrap_or(data_dir).to_owned();
        private_dir(&shard).map_err(io("create", &shard))?;
        create_private_file(&data, body).map_err(io("write", &data))?;
        let json = serde_json::to_vec(&meta).map_err(|e| StoreError::Io {
            action: "encode object metadata",
            path: data.clone(),
            source: std::io::Error::other(e),
        })?;
        let path = disk.meta_path(bucket, &meta.key);
        create_private_file(&path, &json).map_err(io("write", &path))?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(disk: &Disk, body: &[u8]) -> tempfile::NamedTempFile {
        use std::io::Write as _;
        let mut f = disk.staging_file().expect("staging");
        f.write_all(body).expect("write");
        f.as_file().sync_all().expect("sync");
        f
    }

    fn meta(key: &str, body: &[u8]) -> ObjectMeta {
        ObjectMeta {
            key: key.to_owned(),
            size: body.len() as u64,
            md5: md5_hex(body),
            parts: None,
            content_type: None,
            content_disposition: None,
            modified_unix_nanos: now_nanos(),
            checksum_crc32c: None,
            checksum_sha256: None,
            version: None,
            segments: None,
        }
    }

    fn read(disk: &Disk, key: &str) -> Vec<u8> {
        use std::io::Read as _;
        let (_, data) = disk.open_object(DEFAULT_BUCKET, key).expect("open");
        let ObjectData::File(mut f) = data else {
            unreachable!("single-file object")
        };
        let mut out = Vec::new();
        f.read_to_end(&mut out).expect("read");
        out
    }

    #[test]
    fn a_commit_survives_a_reopen_and_replaces_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let disk = Disk::open(dir.path()).expect("open");
            let one = staged(&disk, b"one");
            disk.commit(DEFAULT_BUCKET, meta("k", b"one"), one, Precondition::None)
                .expect("commit");
            let two = staged(&disk, b"two!");
            disk.commit(DEFAULT_BUCKET, meta("k", b"two!"), two, Precondition::None)
                .expect("replace");
            let three = staged(&disk, b"3");
            assert!(
                disk.commit(
                    DEFAULT_BUCKET,
                    meta("k", b"3"),
                    three,
                    Precondition::NoneMatch
                )
                .is_err(),
                "If-None-Match: * refuses an existing key"
            );
        }
        let disk = Disk::open(dir.path()).expect("reopen");
        assert_eq!(read(&disk, "k"), b"two!");
        // One data file and one metadata file: the replaced version is gone.
        let h = key_hash("k");
        let files = std::fs::read_dir(disk.shard_dir(DEFAULT_BUCKET, &h))
            .expect("shard")
            .count();
        assert_eq!(files, 2);
    }

    #[test]
    fn start_up_clears_what_a_crash_left_and_keeps_whole_objects() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = key_hash("k");
        {
            let disk = Disk::open(dir.path()).expect("open");
            let body = staged(&disk, b"kept");
            disk.commit(DEFAULT_BUCKET, meta("k", b"kept"), body, Precondition::None)
                .expect("commit");
            // A crash mid-write: a body in staging, a data file no metadata names, a metadata
            // write that did not reach its rename, and an object whose data file is short.
            let _ = staged(&disk, b"half").keep().expect("keep");
            let shard = disk.shard_dir(DEFAULT_BUCKET, &h);
            std::fs::write(shard.join(format!("{h}.deadbeef.data")), b"orphan").expect("orphan");
            std::fs::write(shard.join(".s3share-tmp"), b"{").expect("tmp");
            let broken = key_hash("broken");
            let broken_shard = disk.shard_dir(DEFAULT_BUCKET, &broken);
            private_dir(&broken_shard).expect("shard");
            let mut m = meta("broken", b"0123456789");
            m.version = Some("v1".into());
            std::fs::write(
                broken_shard.join(format!("{broken}.json")),
                serde_json::to_vec(&m).expect("json"),
            )
            .expect("meta");
            std::fs::write(broken_shard.join(format!("{broken}.v1.data")), b"01").expect("short");
        }
        let disk = Disk::open(dir.path()).expect("reopen");
        assert_eq!(read(&disk, "k"), b"kept");
        assert!(
            disk.meta(DEFAULT_BUCKET, "broken")
                .expect("bucket")
                .is_err()
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join(STAGING))
                .expect("staging")
                .count(),
            0
        );
        let names: Vec<String> = std::fs::read_dir(disk.shard_dir(DEFAULT_BUCKET, &h))
            .expect("shard")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| !n.starts_with('.') && !n.contains("deadbeef"))
        );
    }

    #[test]
    fn one_disk_per_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!folder_served(dir.path()), "nothing serves a new folder");
        let first = Disk::open(dir.path()).expect("open");
        assert!(matches!(
            Disk::open(dir.path()),
            Err(StoreError::InUse { .. })
        ));
        assert!(folder_served(dir.path()));
        assert!(
            folder_served(dir.path()),
            "the probe took no lock of its own"
        );
        drop(first);
        assert!(!folder_served(dir.path()), "the lock goes with the store");
        let _again = Disk::open(dir.path()).expect("a probe leaves the folder free");
    }

    #[test]
    fn a_leased_segment_outlives_its_object_until_the_reader_is_done() {
        let dir = tempfile::tempdir().expect("tempdir");
        let disk = Disk::open(dir.path()).expect("open");
        let h = key_hash("mp");
        let shard = disk.shard_dir(DEFAULT_BUCKET, &h);
        private_dir(&shard).expect("shard");
        let segment = shard.join(segment_file_name(&h, "v9", 0));
        std::fs::write(&segment, b"part").expect("segment");
        let mut m = meta("mp", b"part");
        m.version = Some("v9".into());
        m.segments = Some(vec![4]);
        m.parts = Some(1);
        {
            let _commit = lock(&disk.commits);
            disk.commit_meta(DEFAULT_BUCKET, m, std::slice::from_ref(&segment))
                .expect("commit");
        }
        let (_, data) = disk.open_object(DEFAULT_BUCKET, "mp").expect("open");
        disk.delete(DEFAULT_BUCKET, "mp").expect("delete");
        assert!(segment.exists(), "kept while read");
        drop(data);
        assert!(!segment.exists(), "removed when the reader let go");
    }
}
