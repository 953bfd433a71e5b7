//! Multipart uploads, kept as S3 keeps them: parts of at least 5 MiB (but the last), numbers
//! 1..=10,000 with gaps allowed, each part's ETag checked at Complete, the object's ETag
//! `md5(md5s)-N`, nothing visible until Complete, `If-None-Match: *` honoured there, and an
//! upload that survives a restart until it is completed or aborted.
//!
//! Layout: `<root>/.uploads/<id>/upload.json`, and per part `<n>.json` (its commit point) naming
//! `<n>.<version>.part`. Complete hard-links the listed parts into the bucket as the object's
//! segments and commits the object's metadata; only then is the upload removed, so a Complete
//! that fails (a bad part list, a precondition, a crash) leaves the upload as it was.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use md5::Digest as _;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CreateMultipartUploadInput,
    CreateMultipartUploadOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput,
    ListPartsInput, ListPartsOutput, MultipartUpload, Part, Timestamp, UploadPartInput,
    UploadPartOutput,
};
use s3s::{S3Error, S3Result, s3_error};
use serde::{Deserialize, Serialize};

use super::objects::{Expected, Store, blocking, length, now_nanos, receive_declared};
use super::storage::{
    ObjectMeta, Precondition, Storage, io_err, key_hash, new_version, precondition_failed,
    private_dir, sync_dir, write_atomic,
};
use crate::engine::connection::lock;

/// Where unfinished uploads live, under the store's root.
pub(super) const UPLOADS: &str = ".uploads";
/// The smallest part but the last.
pub(super) const MIN_PART: u64 = 5 * 1024 * 1024;
/// Part numbers run from 1 to this.
pub(super) const MAX_PARTS: u32 = 10_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct UploadInfo {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_unix_nanos: i128,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct PartMeta {
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
pub(super) struct Upload {
    pub info: UploadInfo,
    pub parts: BTreeMap<u32, PartMeta>,
}

fn timestamp(nanos: i128) -> Timestamp {
    Timestamp::from(
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

fn part_file(dir: &Path, number: u32, version: &str) -> PathBuf {
    dir.join(format!("{number}.{version}.part"))
}

/// Load every upload after a stop or a crash: keep each part whose metadata names a data file
/// of the right size; drop half-made uploads and files no metadata names.
pub(super) fn recover_uploads(root: &Path) -> HashMap<String, Upload> {
    let mut uploads = HashMap::new();
    let _ = private_dir(root);
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let dir = entry.path();
        let info = std::fs::read(dir.join("upload.json"))
            .ok()
            .and_then(|t| serde_json::from_slice::<UploadInfo>(&t).ok());
        let Some(info) = info else {
            // CreateMultipartUpload did not finish: it answered nobody.
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        };
        let mut parts = BTreeMap::new();
        let mut keep = std::collections::HashSet::new();
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
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
            let data = part_file(&dir, part.number, &part.version);
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
        uploads.insert(info.id.clone(), Upload { info, parts });
    }
    uploads
}

impl Storage {
    fn upload_dir(&self, id: &str) -> PathBuf {
        self.root.join(UPLOADS).join(id)
    }

    /// The upload `id` of `bucket/key`, or S3's `NoSuchUpload`.
    fn upload_info(&self, bucket: &str, key: &str, id: &str) -> S3Result<UploadInfo> {
        lock(&self.uploads)
            .get(id)
            .filter(|u| u.info.bucket == bucket && u.info.key == key)
            .map(|u| u.info.clone())
            .ok_or_else(no_such_upload)
    }

    fn create_upload(&self, info: UploadInfo) -> S3Result<()> {
        let dir = self.upload_dir(&info.id);
        private_dir(&dir).map_err(|e| io_err(&e))?;
        let json = serde_json::to_vec(&info).map_err(|_| s3_error!(InternalError))?;
        write_atomic(&dir.join("upload.json"), &json)
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
    fn commit_part(
        &self,
        id: &str,
        mut part: PartMeta,
        data: tempfile::NamedTempFile,
    ) -> S3Result<PartMeta> {
        let _commit = lock(&self.commits);
        if !lock(&self.uploads).contains_key(id) {
            // Aborted or completed while the body arrived.
            return Err(no_such_upload());
        }
        let dir = self.upload_dir(id);
        part.version = new_version().map_err(|e| io_err(&e))?;
        let path = part_file(&dir, part.number, &part.version);
        data.persist(&path).map_err(|e| io_err(&e.error))?;
        let json = serde_json::to_vec(&part).map_err(|_| s3_error!(InternalError))?;
        let committed = sync_dir(&dir)
            .and_then(|()| write_atomic(&dir.join(format!("{}.json", part.number)), &json))
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

    fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> S3Result<()> {
        let _commit = lock(&self.commits);
        self.upload_info(bucket, key, id)?;
        lock(&self.uploads).remove(id);
        let _ = std::fs::remove_dir_all(self.upload_dir(id));
        Ok(())
    }

    /// Make the listed parts the object `key`, atomically. Blocking.
    fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        listed: &[(u32, String)],
        precondition: Precondition,
    ) -> S3Result<ObjectMeta> {
        let _commit = lock(&self.commits);
        let (info, parts) = {
            let uploads = lock(&self.uploads);
            let upload = uploads
                .get(id)
                .filter(|u| u.info.bucket == bucket && u.info.key == key)
                .ok_or_else(no_such_upload)?;
            let parts = check_part_list(&upload.parts, listed)?;
            (upload.info.clone(), parts)
        };
        // `meta` fails for a bucket deleted meanwhile: nothing is linked into it.
        if self.meta(bucket, key)?.is_ok() && precondition == Precondition::NoneMatch {
            return Err(precondition_failed());
        }
        let version = new_version().map_err(|e| io_err(&e))?;
        let h = key_hash(key);
        let shard = self.shard_dir(bucket, &h);
        private_dir(&shard).map_err(|e| io_err(&e))?;
        let upload_dir = self.upload_dir(id);
        let mut linked = Vec::with_capacity(parts.len());
        let mut md5s = md5::Md5::new();
        let mut crcs = Vec::with_capacity(parts.len() * 4);
        let b64 = base64::engine::general_purpose::STANDARD;
        for (i, part) in parts.iter().enumerate() {
            let target = shard.join(super::storage::segment_file_name(&h, &version, i));
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
        lock(&self.uploads).remove(id);
        let _ = std::fs::remove_dir_all(&upload_dir);
        Ok(meta)
    }
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

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            )
        })
}

pub(super) async fn create(
    store: &Store,
    input: CreateMultipartUploadInput,
) -> S3Result<CreateMultipartUploadOutput> {
    if !store.storage.has_bucket(&input.bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|_| s3_error!(InternalError))?;
    let info = UploadInfo {
        id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        initiated_unix_nanos: now_nanos(),
        content_type: input.content_type,
        content_disposition: input.content_disposition,
    };
    let id = info.id.clone();
    let storage = store.storage.clone();
    blocking(move || storage.create_upload(info)).await?;
    Ok(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(id),
        ..Default::default()
    })
}

pub(super) async fn upload_part(
    store: &Store,
    input: UploadPartInput,
) -> S3Result<UploadPartOutput> {
    let number = part_number(input.part_number)?;
    store
        .storage
        .upload_info(&input.bucket, &input.key, &input.upload_id)?;
    let (received, _, sha) = receive_declared(
        &store.storage,
        input.body,
        &Expected {
            content_md5: input.content_md5.as_deref(),
            crc32c: input.checksum_crc32c.as_deref(),
            sha256: input.checksum_sha256.as_deref(),
            content_length: input.content_length,
        },
    )
    .await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let part = PartMeta {
        number,
        size: received.size,
        md5: hex::encode(received.md5),
        crc32c: b64.encode(received.crc32c.to_be_bytes()),
        sha256: sha,
        modified_unix_nanos: now_nanos(),
        version: String::new(),
    };
    let storage = store.storage.clone();
    let id = input.upload_id.clone();
    let part = blocking(move || storage.commit_part(&id, part, received.file)).await?;
    Ok(UploadPartOutput {
        e_tag: Some(s3s::dto::ETag::Strong(part.md5.clone())),
        checksum_crc32c: input.checksum_crc32c.map(|_| part.crc32c.clone()),
        checksum_sha256: part.sha256.clone(),
        ..Default::default()
    })
}

pub(super) async fn complete(
    store: &Store,
    input: CompleteMultipartUploadInput,
) -> S3Result<CompleteMultipartUploadOutput> {
    let listed = input
        .multipart_upload
        .and_then(|m| m.parts)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let number = part_number(p.part_number.unwrap_or(0))?;
            Ok((
                number,
                p.e_tag
                    .as_ref()
                    .map(|e| e.value().to_owned())
                    .unwrap_or_default(),
            ))
        })
        .collect::<S3Result<Vec<_>>>()?;
    let precondition = Precondition::from_if_none_match(input.if_none_match.as_ref());
    let storage = store.storage.clone();
    let (bucket, key, id) = (input.bucket.clone(), input.key.clone(), input.upload_id);
    let meta = blocking(move || storage.complete_upload(&bucket, &key, &id, &listed, precondition))
        .await?;
    Ok(CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(meta.etag()),
        location: Some(format!(
            "/{}/{}",
            input.bucket,
            crate::engine::presign::uri_encode(&input.key, false)
        )),
        checksum_crc32c: meta.checksum_crc32c.clone(),
        checksum_type: Some(s3s::dto::ChecksumType::from_static(
            s3s::dto::ChecksumType::COMPOSITE,
        )),
        ..Default::default()
    })
}

pub(super) async fn abort(
    store: &Store,
    input: AbortMultipartUploadInput,
) -> S3Result<AbortMultipartUploadOutput> {
    let storage = store.storage.clone();
    blocking(move || storage.abort_upload(&input.bucket, &input.key, &input.upload_id)).await?;
    Ok(AbortMultipartUploadOutput::default())
}

pub(super) fn list_parts(store: &Store, input: &ListPartsInput) -> S3Result<ListPartsOutput> {
    let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let marker = u32::try_from(input.part_number_marker.unwrap_or(0)).unwrap_or(0);
    let uploads = lock(&store.storage.uploads);
    let upload = uploads
        .get(&input.upload_id)
        .filter(|u| u.info.bucket == input.bucket && u.info.key == input.key)
        .ok_or_else(no_such_upload)?;
    let after: Vec<&PartMeta> = upload
        .parts
        .range(marker.saturating_add(1)..)
        .map(|(_, p)| p)
        .collect();
    let page = &after[..after.len().min(max)];
    let truncated = after.len() > page.len();
    Ok(ListPartsOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        max_parts: Some(i32::try_from(max).unwrap_or(1000)),
        part_number_marker: input.part_number_marker,
        is_truncated: Some(truncated),
        next_part_number_marker: page
            .last()
            .filter(|_| truncated)
            .and_then(|p| i32::try_from(p.number).ok()),
        parts: Some(
            page.iter()
                .map(|p| Part {
                    part_number: i32::try_from(p.number).ok(),
                    e_tag: Some(s3s::dto::ETag::Strong(p.md5.clone())),
                    size: Some(length(p.size)),
                    last_modified: Some(timestamp(p.modified_unix_nanos)),
                    checksum_crc32c: Some(p.crc32c.clone()),
                    checksum_sha256: p.sha256.clone(),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}

/// ListMultipartUploads: by key, then by when each began; `key-marker` (and `upload-id-marker`
/// within that key) resume after a page; a delimiter groups keys into common prefixes.
pub(super) fn list_uploads(
    store: &Store,
    input: &ListMultipartUploadsInput,
) -> S3Result<ListMultipartUploadsOutput> {
    if !store.storage.has_bucket(&input.bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    let max = usize::try_from(input.max_uploads.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let mut all: Vec<UploadInfo> = lock(&store.storage.uploads)
        .values()
        .filter(|u| u.info.bucket == input.bucket && u.info.key.starts_with(&prefix))
        .map(|u| u.info.clone())
        .collect();
    all.sort_by(|a, b| {
        (a.key.as_str(), a.initiated_unix_nanos, a.id.as_str()).cmp(&(
            b.key.as_str(),
            b.initiated_unix_nanos,
            b.id.as_str(),
        ))
    });
    let key_marker = input.key_marker.clone();
    let id_marker = input.upload_id_marker.clone();
    let mut position_of_marker = None;
    if let (Some(k), Some(id)) = (&key_marker, &id_marker) {
        position_of_marker = all.iter().position(|u| &u.key == k && &u.id == id);
    }
    let after: Vec<UploadInfo> = all
        .into_iter()
        .enumerate()
        .filter(|(i, u)| match (&key_marker, &id_marker) {
            (None, _) => true,
            (Some(k), None) => u.key.as_str() > k.as_str(),
            (Some(k), Some(_)) => {
                u.key.as_str() > k.as_str()
                    || (&u.key == k && position_of_marker.is_some_and(|p| *i > p))
            }
        })
        .map(|(_, u)| u)
        .collect();
    let mut uploads = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last: Option<(String, String)> = None;
    let mut truncated = false;
    for u in after {
        let common = delimiter.as_deref().and_then(|d| {
            u.key[prefix.len()..]
                .find(d)
                .map(|i| u.key[..prefix.len() + i + d.len()].to_owned())
        });
        if let Some(c) = &common
            && prefixes.last() == Some(c)
        {
            // The rest of a group already listed: a next page resumes after its last member.
            last = Some((u.key.clone(), u.id.clone()));
            continue;
        }
        if uploads.len() + prefixes.len() >= max {
            truncated = true;
            break;
        }
        last = Some((u.key.clone(), u.id.clone()));
        match common {
            Some(c) => prefixes.push(c),
            None => uploads.push(MultipartUpload {
                key: Some(u.key.clone()),
                upload_id: Some(u.id.clone()),
                initiated: Some(timestamp(u.initiated_unix_nanos)),
                storage_class: Some(s3s::dto::StorageClass::from_static(
                    s3s::dto::StorageClass::STANDARD,
                )),
                ..Default::default()
            }),
        }
    }
    Ok(ListMultipartUploadsOutput {
        bucket: Some(input.bucket.clone()),
        prefix: input.prefix.clone(),
        delimiter,
        key_marker: input.key_marker.clone(),
        upload_id_marker: input.upload_id_marker.clone(),
        max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
        is_truncated: Some(truncated),
        next_key_marker: last.as_ref().filter(|_| truncated).map(|(k, _)| k.clone()),
        next_upload_id_marker: last.filter(|_| truncated).map(|(_, id)| id),
        uploads: Some(uploads),
        common_prefixes: Some(
            prefixes
                .into_iter()
                .map(|p| CommonPrefix { prefix: Some(p) })
                .collect(),
        ),
        ..Default::default()
    })
}
