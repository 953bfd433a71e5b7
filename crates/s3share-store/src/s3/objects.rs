//! Buckets and objects: list, create, head, get, put, delete, and ListObjectsV2.

use futures_util::{StreamExt as _, TryStreamExt as _};
use s3s::dto::{
    Bucket, CommonPrefix, CreateBucketOutput, DeleteBucketOutput, DeleteObjectOutput, EncodingType,
    GetBucketLocationOutput, GetObjectInput, GetObjectOutput, HeadBucketOutput, HeadObjectInput,
    HeadObjectOutput, ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output, Object,
    PutObjectInput, PutObjectOutput, StreamingBlob, Timestamp,
};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::common::{Expected, Handler, blocking, length, receive_declared};
use super::conditions::{ReadConditions, check_read};
use super::listing::{self, Item, Resume};
use crate::disk::{LeaseGuard, ObjectData, ObjectMeta, Precondition, io_err, precondition_failed};

/// S3's `encoding-type=url` form: `+` for space, `%XX` for the rest, `/` kept.
fn url_encode_key(s: &str) -> String {
    s3share_core::sigv4::uri_encode(s, false).replace("%20", "+")
}

/// The byte range to send for a `Range` header on an object of `size` bytes: `None` for the
/// whole object. As S3: a suffix range on an empty object is ignored (200, the empty body); a
/// range that starts at or past the end is 416 with `Content-Range: bytes */size`.
fn byte_range(range: Option<&s3s::dto::Range>, size: u64) -> S3Result<Option<(u64, u64)>> {
    let Some(range) = range else {
        return Ok(None);
    };
    if size == 0 && matches!(range, s3s::dto::Range::Suffix { length } if *length > 0) {
        return Ok(None);
    }
    match range.check(size) {
        Ok(r) if r.end > r.start => Ok(Some((r.start, r.end))),
        _ => {
            let mut err = S3Error::with_message(
                S3ErrorCode::InvalidRange,
                "The requested range is not satisfiable",
            );
            let mut headers = hyper::HeaderMap::new();
            if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("bytes */{size}")) {
                headers.insert(hyper::header::CONTENT_RANGE, v);
            }
            err.set_headers(headers);
            Err(err)
        }
    }
}

/// The bytes `start..start + len` of an object kept as segments, opening each segment as the
/// read reaches it; the lease keeps them on disk until the stream is dropped.
fn segments_stream(
    files: Vec<(std::path::PathBuf, u64)>,
    start: u64,
    len: u64,
    lease: LeaseGuard,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + Sync + 'static {
    // (file, offset in it, bytes to read from it) for each segment the range touches.
    let mut pieces = Vec::new();
    let mut at = 0u64;
    let end = start + len;
    for (path, size) in files {
        let (lo, hi) = (at.max(start), (at + size).min(end));
        if lo < hi {
            pieces.push((path, lo - at, hi - lo));
        }
        at += size;
    }
    futures_util::stream::iter(pieces)
        .then(|(path, offset, take)| async move {
            let mut file = tokio::fs::File::open(&path).await?;
            file.seek(std::io::SeekFrom::Start(offset)).await?;
            Ok::<_, std::io::Error>(tokio_util::io::ReaderStream::with_capacity(
                file.take(take),
                256 * 1024,
            ))
        })
        .try_flatten()
        .map(move |chunk| {
            let _held = &lease;
            chunk
        })
}

pub(super) fn list_buckets(h: &Handler) -> ListBucketsOutput {
    let buckets = h
        .disk
        .buckets()
        .into_iter()
        .map(|(name, created)| Bucket {
            name: Some(name),
            creation_date: Some(Timestamp::from(created)),
            bucket_region: None,
        })
        .collect();
    ListBucketsOutput {
        buckets: Some(buckets),
        ..Default::default()
    }
}

pub(super) async fn create_bucket(h: &Handler, bucket: String) -> S3Result<CreateBucketOutput> {
    let disk = h.disk.clone();
    blocking(move || disk.create_bucket(&bucket)).await?;
    Ok(CreateBucketOutput::default())
}

pub(super) async fn delete_bucket(h: &Handler, bucket: String) -> S3Result<DeleteBucketOutput> {
    let disk = h.disk.clone();
    blocking(move || disk.delete_bucket(&bucket)).await?;
    Ok(DeleteBucketOutput::default())
}

pub(super) fn head_bucket(h: &Handler, bucket: &str) -> S3Result<HeadBucketOutput> {
    if !h.disk.has_bucket(bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    Ok(HeadBucketOutput {
        bucket_region: Some(h.region.clone()),
        ..Default::default()
    })
}

pub(super) fn bucket_location(h: &Handler, bucket: &str) -> S3Result<GetBucketLocationOutput> {
    if !h.disk.has_bucket(bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    let location = (h.region != s3share_core::DEFAULT_REGION)
        .then(|| s3s::dto::BucketLocationConstraint::from(h.region.clone()));
    Ok(GetBucketLocationOutput {
        location_constraint: location,
    })
}

pub(super) fn head_object(h: &Handler, input: &HeadObjectInput) -> S3Result<HeadObjectOutput> {
    let m = h
        .disk
        .meta(&input.bucket, &input.key)?
        .map_err(|()| s3_error!(NoSuchKey))?;
    check_read(
        &m,
        &ReadConditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        },
    )?;
    Ok(HeadObjectOutput {
        content_length: Some(length(m.size)),
        content_type: m.content_type.clone(),
        content_disposition: m.content_disposition.clone(),
        last_modified: Some(m.modified()),
        e_tag: Some(m.etag()),
        checksum_crc32c: m.checksum_crc32c.clone(),
        checksum_sha256: m.checksum_sha256.clone(),
        accept_ranges: Some("bytes".into()),
        ..Default::default()
    })
}

pub(super) async fn get_object(h: &Handler, input: GetObjectInput) -> S3Result<GetObjectOutput> {
    let (m, data) = h.disk.open_object(&input.bucket, &input.key)?;
    // Checked against the version opened: the bytes sent are the ones the conditions held for.
    check_read(
        &m,
        &ReadConditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        },
    )?;
    let range = byte_range(input.range.as_ref(), m.size)?;
    let (start, len) = range.map_or((0, m.size), |(s, e)| (s, e - s));
    let body = match data {
        ObjectData::File(file) => {
            let mut file = tokio::fs::File::from_std(file);
            if start > 0 {
                file.seek(std::io::SeekFrom::Start(start))
                    .await
                    .map_err(|e| io_err(&e))?;
            }
            StreamingBlob::wrap(tokio_util::io::ReaderStream::with_capacity(
                file.take(len),
                256 * 1024,
            ))
        }
        ObjectData::Segments { files, lease } => {
            StreamingBlob::wrap(segments_stream(files, start, len, lease))
        }
    };
    let whole = range.is_none();
    Ok(GetObjectOutput {
        body: Some(body),
        content_length: Some(length(len)),
        content_range: range.map(|(s, e)| format!("bytes {s}-{}/{}", e - 1, m.size)),
        content_type: m.content_type.clone(),
        content_disposition: m.content_disposition.clone(),
        last_modified: Some(m.modified()),
        e_tag: Some(m.etag()),
        accept_ranges: Some("bytes".into()),
        // S3 returns the full-object checksum only for whole-object reads.
        checksum_crc32c: m.checksum_crc32c.clone().filter(|_| whole),
        checksum_sha256: m.checksum_sha256.clone().filter(|_| whole),
        ..Default::default()
    })
}

pub(super) async fn put_object(h: &Handler, input: PutObjectInput) -> S3Result<PutObjectOutput> {
    let bucket = input.bucket.clone();
    if !h.disk.has_bucket(&bucket) {
        return Err(s3_error!(NoSuchBucket));
    }
    let precondition = Precondition::from_if_none_match(input.if_none_match.as_ref());
    // Checked before the body too, so a refused PUT costs no upload.
    if matches!(precondition, Precondition::NoneMatch) && h.disk.meta(&bucket, &input.key)?.is_ok()
    {
        return Err(precondition_failed());
    }
    let (received, crc, sha) = receive_declared(
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
    let meta = ObjectMeta {
        key: input.key.clone(),
        size: received.size,
        md5: hex::encode(received.md5),
        parts: None,
        content_type: input.content_type.clone(),
        content_disposition: input.content_disposition.clone(),
        modified_unix_nanos: crate::disk::now_nanos(),
        checksum_crc32c: crc,
        checksum_sha256: sha,
        version: None,
        segments: None,
    };
    let disk = h.disk.clone();
    let meta = blocking(move || disk.commit(&bucket, meta, received.file, precondition)).await?;
    Ok(PutObjectOutput {
        e_tag: Some(meta.etag()),
        checksum_crc32c: meta.checksum_crc32c.clone(),
        checksum_sha256: meta.checksum_sha256.clone(),
        ..Default::default()
    })
}

pub(super) async fn delete_object(
    h: &Handler,
    bucket: String,
    key: String,
) -> S3Result<DeleteObjectOutput> {
    let disk = h.disk.clone();
    blocking(move || disk.delete(&bucket, &key)).await?;
    Ok(DeleteObjectOutput::default())
}

pub(super) fn list_objects_v2(
    h: &Handler,
    input: &ListObjectsV2Input,
) -> S3Result<ListObjectsV2Output> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let max_keys = usize::try_from(input.max_keys.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let resume = match (&input.continuation_token, &input.start_after) {
        (Some(t), _) => Resume::from_token(t).ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })?,
        (None, Some(s)) => Resume::StartAfter(s.clone()),
        (None, None) => Resume::Start,
    };
    let query = listing::Query {
        prefix: &prefix,
        delimiter: delimiter.as_deref(),
        max_keys,
        resume,
    };
    let url = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == EncodingType::URL);
    let enc = |s: &str| if url { url_encode_key(s) } else { s.to_owned() };
    let (contents, prefixes, next) = h.disk.with_objects(&input.bucket, |objects| {
        let page = listing::list_page(objects, &query);
        let mut contents = Vec::new();
        let mut prefixes = Vec::new();
        for item in page.items {
            match item {
                Item::Object(key, m) => contents.push(Object {
                    key: Some(enc(key)),
                    size: Some(length(m.size)),
                    last_modified: Some(m.modified()),
                    e_tag: Some(m.etag()),
                    storage_class: Some(s3s::dto::ObjectStorageClass::from_static(
                        s3s::dto::ObjectStorageClass::STANDARD,
                    )),
                    ..Default::default()
                }),
                Item::Prefix(p) => prefixes.push(CommonPrefix {
                    prefix: Some(enc(&p)),
                }),
            }
        }
        (contents, prefixes, page.next.and_then(|n| n.token()))
    })?;
    let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX);
    Ok(ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: Some(enc(&prefix)),
        delimiter: delimiter.as_deref().map(enc),
        max_keys: Some(i32::try_from(max_keys).unwrap_or(1000)),
        key_count: Some(key_count),
        is_truncated: Some(next.is_some()),
        continuation_token: input.continuation_token.clone(),
        start_after: input.start_after.as_deref().map(enc),
        next_continuation_token: next,
        encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
        contents: Some(contents),
        common_prefixes: Some(prefixes),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_answer_as_s3_does() {
        let suffix = |length| s3s::dto::Range::Suffix { length };
        let int = |first, last| s3s::dto::Range::Int { first, last };
        assert_eq!(byte_range(Some(&suffix(1)), 0).ok(), Some(None));
        assert_eq!(byte_range(Some(&suffix(100)), 10).ok(), Some(Some((0, 10))));
        assert_eq!(
            byte_range(Some(&int(2, Some(4))), 10).ok(),
            Some(Some((2, 5)))
        );
        let unsatisfiable = byte_range(Some(&int(0, Some(0))), 0).expect_err("416");
        assert_eq!(*unsatisfiable.code(), S3ErrorCode::InvalidRange);
        assert!(byte_range(Some(&int(10, None)), 10).is_err());
        assert!(byte_range(Some(&suffix(0)), 10).is_err());
    }
}
