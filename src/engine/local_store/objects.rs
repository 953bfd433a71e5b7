//! The S3 operations the store answers, one method each, on top of [`Storage`].

use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, Bucket, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CreateBucketInput,
    CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteBucketInput,
    DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput, EncodingType, GetBucketAclInput,
    GetBucketAclOutput, GetBucketEncryptionInput, GetBucketEncryptionOutput,
    GetBucketLocationInput, GetBucketLocationOutput, GetBucketLoggingInput, GetBucketLoggingOutput,
    GetBucketOwnershipControlsInput, GetBucketOwnershipControlsOutput, GetBucketPolicyStatusInput,
    GetBucketPolicyStatusOutput, GetBucketVersioningInput, GetBucketVersioningOutput,
    GetObjectInput, GetObjectOutput, GetPublicAccessBlockInput, GetPublicAccessBlockOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, Object, PutObjectInput, PutObjectOutput,
    StreamingBlob, Timestamp, UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::listing::{self, Item, Resume};
use super::multipart;
use super::storage::{
    LeaseGuard, ObjectData, ObjectMeta, Precondition, ReceiveError, Storage, io_err,
};
use crate::engine::connection::DEFAULT_REGION;
use futures_util::{StreamExt as _, TryStreamExt as _};

/// The largest object one PUT may create (S3's limit).
pub(super) const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

pub(super) struct Store {
    pub storage: Arc<Storage>,
    pub region: String,
    /// Answer the bucket-exposure reads NotImplemented (as Garage and SeaweedFS do).
    pub without_exposure_reads: bool,
}

/// Run a blocking storage step (fsyncs, renames) off the async workers.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| s3_error!(InternalError, "a storage task stopped"))?
}

/// The checksums a client sent with a body, to compare with what arrived.
#[derive(Default)]
pub(super) struct Expected<'a> {
    pub content_md5: Option<&'a str>,
    pub crc32c: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub content_length: Option<i64>,
}

/// Check a received body against what the client said it sent; returns the base64 CRC32C and
/// SHA-256 to keep (those the client asked for).
fn verify_received(
    received: &super::storage::Received,
    expected: &Expected<'_>,
) -> S3Result<(Option<String>, Option<String>)> {
    if let Some(len) = expected.content_length
        && u64::try_from(len).ok() != Some(received.size)
    {
        return Err(s3_error!(
            IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        ));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(md5) = expected.content_md5
        && md5 != b64.encode(received.md5)
    {
        return Err(s3_error!(
            BadDigest,
            "The Content-MD5 you specified did not match what was received"
        ));
    }
    let crc = expected
        .crc32c
        .map(|_| b64.encode(received.crc32c.to_be_bytes()));
    if crc.as_deref() != expected.crc32c {
        return Err(s3_error!(
            BadDigest,
            "The CRC32C you specified did not match the calculated checksum"
        ));
    }
    let sha = received.sha256.map(|s| b64.encode(s));
    if expected.sha256.is_some() && sha.as_deref() != expected.sha256 {
        return Err(s3_error!(
            BadDigest,
            "The SHA256 you specified did not match the calculated checksum"
        ));
    }
    Ok((crc, sha.filter(|_| expected.sha256.is_some())))
}

/// A PUT's or an UploadPart's body: refused unread when it declares more than 5 GiB, else
/// received into staging and held to the length and checksums the request declared. Returns
/// it with the base64 CRC32C and SHA-256 to keep.
pub(super) async fn receive_declared(
    storage: &Storage,
    body: Option<StreamingBlob>,
    expected: &Expected<'_>,
) -> S3Result<(super::storage::Received, Option<String>, Option<String>)> {
    if expected
        .content_length
        .is_some_and(|n| u64::try_from(n).unwrap_or(0) > MAX_PUT)
    {
        return Err(receive_error(ReceiveError::TooLarge));
    }
    let body = body.ok_or_else(|| s3_error!(IncompleteBody))?;
    let received = storage
        .receive(body, MAX_PUT, expected.sha256.is_some())
        .await
        .map_err(receive_error)?;
    let (crc, sha) = verify_received(&received, expected)?;
    Ok((received, crc, sha))
}

pub(super) fn receive_error(e: ReceiveError) -> S3Error {
    match e {
        ReceiveError::Broken => s3_error!(IncompleteBody, "The request body broke off"),
        ReceiveError::TooLarge => s3_error!(
            EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size."
        ),
        ReceiveError::Io(e) => io_err(&e),
    }
}

pub(super) fn now_nanos() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

/// S3's `encoding-type=url` form: `+` for space, `%XX` for the rest, `/` kept.
fn url_encode_key(s: &str) -> String {
    crate::engine::presign::uri_encode(s, false).replace("%20", "+")
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

/// A size as S3's DTOs carry it.
pub(super) fn length(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl S3 for Store {
    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self
            .storage
            .buckets()
            .into_iter()
            .map(|(name, created)| Bucket {
                name: Some(name),
                creation_date: Some(Timestamp::from(created)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        }))
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let storage = self.storage.clone();
        blocking(move || storage.create_bucket(&req.input.bucket)).await?;
        Ok(S3Response::new(CreateBucketOutput::default()))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let storage = self.storage.clone();
        blocking(move || storage.delete_bucket(&req.input.bucket)).await?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        if !self.storage.has_bucket(&req.input.bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(self.region.clone()),
            ..Default::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        if !self.storage.has_bucket(&req.input.bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        let location = (self.region != DEFAULT_REGION)
            .then(|| s3s::dto::BucketLocationConstraint::from(self.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let m = self
            .storage
            .meta(&req.input.bucket, &req.input.key)?
            .map_err(|()| s3_error!(NoSuchKey))?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(length(m.size)),
            content_type: m.content_type.clone(),
            content_disposition: m.content_disposition.clone(),
            last_modified: Some(m.modified()),
            e_tag: Some(m.etag()),
            checksum_crc32c: m.checksum_crc32c.clone(),
            checksum_sha256: m.checksum_sha256.clone(),
            accept_ranges: Some("bytes".into()),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let (m, data) = self.storage.open_object(&input.bucket, &input.key)?;
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
        Ok(S3Response::new(GetObjectOutput {
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
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let bucket = input.bucket.clone();
        if !self.storage.has_bucket(&bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        let precondition = Precondition::from_if_none_match(input.if_none_match.as_ref());
        // Checked before the body too, so a refused PUT costs no upload.
        if matches!(precondition, Precondition::NoneMatch)
            && self.storage.meta(&bucket, &input.key)?.is_ok()
        {
            return Err(super::storage::precondition_failed());
        }
        let (received, crc, sha) = receive_declared(
            &self.storage,
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
            modified_unix_nanos: now_nanos(),
            checksum_crc32c: crc,
            checksum_sha256: sha,
            version: None,
            segments: None,
        };
        let storage = self.storage.clone();
        let meta =
            blocking(move || storage.commit(&bucket, meta, received.file, precondition)).await?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(meta.etag()),
            checksum_crc32c: meta.checksum_crc32c.clone(),
            checksum_sha256: meta.checksum_sha256.clone(),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let storage = self.storage.clone();
        blocking(move || storage.delete(&req.input.bucket, &req.input.key)).await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        self.public_access_block(&req.input.bucket)
            .map(S3Response::new)
    }

    async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        self.policy_status(&req.input.bucket).map(S3Response::new)
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        self.acl(&req.input.bucket).map(S3Response::new)
    }

    async fn get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        self.encryption(&req.input.bucket).map(S3Response::new)
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        self.versioning(&req.input.bucket).map(S3Response::new)
    }

    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        self.ownership(&req.input.bucket).map(S3Response::new)
    }

    async fn get_bucket_logging(
        &self,
        req: S3Request<GetBucketLoggingInput>,
    ) -> S3Result<S3Response<GetBucketLoggingOutput>> {
        self.logging(&req.input.bucket).map(S3Response::new)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create(self, req.input)
            .await
            .map(S3Response::new)
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        multipart::upload_part(self, req.input)
            .await
            .map(S3Response::new)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        multipart::complete(self, req.input)
            .await
            .map(S3Response::new)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort(self, req.input).await.map(S3Response::new)
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(self, &req.input).map(S3Response::new)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        multipart::list_uploads(self, &req.input).map(S3Response::new)
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let max_keys =
            usize::try_from(input.max_keys.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
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
        let (contents, prefixes, next) = self.storage.list(&input.bucket, &query, |page| {
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
        Ok(S3Response::new(ListObjectsV2Output {
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
        }))
    }
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
