//! Multipart uploads, as S3 answers them: parts of at least 5 MiB (but the last), numbers
//! 1..=10,000 with gaps allowed, each part's ETag checked at Complete, the object's ETag
//! `md5(md5s)-N`, nothing visible until Complete, `If-None-Match: *` honoured there. The
//! records live in the disk layer, which keeps them across restarts.

use base64::Engine as _;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CreateMultipartUploadInput,
    CreateMultipartUploadOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput,
    ListPartsInput, ListPartsOutput, MultipartUpload, Part, UploadPartInput, UploadPartOutput,
};
use s3s::{S3Result, s3_error};
use s3share_core::limits::MAX_PARTS;

use super::common::{Expected, Handler, blocking, length, location, receive_declared, timestamp};
use crate::disk::{PartMeta, Precondition, UploadInfo, now_nanos};

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
    h: &Handler,
    input: CreateMultipartUploadInput,
) -> S3Result<CreateMultipartUploadOutput> {
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
    let disk = h.disk.clone();
    blocking(move || disk.create_upload(info)).await?;
    Ok(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(id),
        ..Default::default()
    })
}

pub(super) async fn upload_part(h: &Handler, input: UploadPartInput) -> S3Result<UploadPartOutput> {
    let number = part_number(input.part_number)?;
    h.disk
        .uploads
        .with(&input.bucket, &input.key, &input.upload_id, |_| Ok(()))?;
    let (received, _, sha) = receive_declared(
        &h.disk,
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
    let disk = h.disk.clone();
    let id = input.upload_id.clone();
    let part = blocking(move || disk.commit_part(&id, part, received.file)).await?;
    Ok(UploadPartOutput {
        e_tag: Some(s3s::dto::ETag::Strong(part.md5.clone())),
        checksum_crc32c: input.checksum_crc32c.map(|_| part.crc32c.clone()),
        checksum_sha256: part.sha256.clone(),
        ..Default::default()
    })
}

pub(super) async fn complete(
    h: &Handler,
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
    let disk = h.disk.clone();
    let (bucket, key, id) = (input.bucket.clone(), input.key.clone(), input.upload_id);
    let meta =
        blocking(move || disk.complete_upload(&bucket, &key, &id, &listed, precondition)).await?;
    Ok(CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(meta.etag()),
        location: Some(location(&input.bucket, &input.key)),
        checksum_crc32c: meta.checksum_crc32c.clone(),
        checksum_type: Some(s3s::dto::ChecksumType::from_static(
            s3s::dto::ChecksumType::COMPOSITE,
        )),
        ..Default::default()
    })
}

pub(super) async fn abort(
    h: &Handler,
    input: AbortMultipartUploadInput,
) -> S3Result<AbortMultipartUploadOutput> {
    let disk = h.disk.clone();
    blocking(move || disk.abort_upload(&input.bucket, &input.key, &input.upload_id)).await?;
    Ok(AbortMultipartUploadOutput::default())
}

pub(super) fn list_parts(h: &Handler, input: &ListPartsInput) -> S3Result<ListPartsOutput> {
    let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let marker = u32::try_from(input.part_number_marker.unwrap_or(0)).unwrap_or(0);
    let (after, truncated) =
        h.disk
            .uploads
            .with(&input.bucket, &input.key, &input.upload_id, |upload| {
                let after: Vec<PartMeta> = upload
                    .parts
                    .range(marker.saturating_add(1)..)
                    .map(|(_, p)| p.clone())
                    .collect();
                let truncated = after.len() > max;
                Ok((after.into_iter().take(max).collect::<Vec<_>>(), truncated))
            })?;
    let page = &after[..];
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
    h: &Handler,
    input: &ListMultipartUploadsInput,
) -> S3Result<ListMultipartUploadsOutput> {
    if !h.disk.has_bucket(&input.bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    let max = usize::try_from(input.max_uploads.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let mut all: Vec<UploadInfo> = h.disk.uploads.infos(&input.bucket, &prefix);
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
