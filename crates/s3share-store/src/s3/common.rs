//! What every S3 operation here shares: the handler's state, running disk steps off the async
//! workers, receiving a declared body, and the S3 errors and encodings several operations use.

use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::StreamingBlob;
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};
use s3share_core::limits::MAX_SINGLE_PUT;

use crate::disk::{Disk, ReceiveError, Received, io_err, receive};

/// The S3 operations' state: the disk and how to answer.
pub(crate) struct Handler {
    pub disk: Arc<Disk>,
    pub region: String,
    /// Answer the bucket-posture reads NotImplemented (as Garage and SeaweedFS do).
    pub without_posture_reads: bool,
    /// Answer them with empty documents (as Ceph RGW answers some).
    pub empty_posture_documents: bool,
    /// What `GetBucketPolicy` answers (none: `NoSuchBucketPolicy`).
    pub bucket_policy: Option<String>,
}

/// Run a blocking disk step (fsyncs, renames) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| s3_error!(InternalError, "a storage task stopped"))?
}

/// The checksums a client sent with a body, to compare with what arrived.
#[derive(Default)]
pub(crate) struct Expected<'a> {
    pub content_md5: Option<&'a str>,
    pub crc32c: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub content_length: Option<i64>,
}

/// Check a received body against what the client said it sent; returns the base64 CRC32C and
/// SHA-256 to keep (those the client asked for).
fn verify_received(
    received: &Received,
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
pub(crate) async fn receive_declared(
    disk: &Disk,
    body: Option<StreamingBlob>,
    expected: &Expected<'_>,
) -> S3Result<(Received, Option<String>, Option<String>)> {
    if expected
        .content_length
        .is_some_and(|n| u64::try_from(n).unwrap_or(0) > MAX_SINGLE_PUT)
    {
        return Err(receive_error(ReceiveError::TooLarge));
    }
    let body = body.ok_or_else(|| s3_error!(IncompleteBody))?;
    let staging = disk.staging_file().map_err(|e| io_err(&e))?;
    let received = receive(staging, body, MAX_SINGLE_PUT, expected.sha256.is_some())
        .await
        .map_err(receive_error)?;
    let (crc, sha) = verify_received(&received, expected)?;
    Ok((received, crc, sha))
}

pub(crate) fn receive_error(e: ReceiveError) -> S3Error {
    match e {
        ReceiveError::Broken => s3_error!(IncompleteBody, "The request body broke off"),
        ReceiveError::TooLarge => s3_error!(
            EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size."
        ),
        ReceiveError::Io(e) => io_err(&e),
    }
}

/// A size as S3's DTOs carry it.
pub(crate) fn length(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A timestamp as S3's DTOs carry it, from nanoseconds since the epoch.
pub(crate) fn timestamp(nanos: i128) -> s3s::dto::Timestamp {
    s3s::dto::Timestamp::from(
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

/// An object's location, as Complete and form uploads answer it: `/bucket/key`, the key
/// URI-encoded.
pub(crate) fn location(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", s3share_core::sigv4::uri_encode(key, false))
}

/// The query's parameters as a server reads them: names and values percent-decoded, so an
/// encoded name (`X-Amz-%45xpires`) is the parameter it stands for.
pub(crate) fn decoded_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(n), decode(v))
        })
        .collect()
}

/// S3's answer to a request signed for another region than the bucket's.
pub(crate) fn wrong_region(region: &str) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::PermanentRedirect,
        format!(
            "The bucket is in this region: {region}. Please use this region to retry the request"
        ),
    );
    err.set_status_code(hyper::StatusCode::MOVED_PERMANENTLY);
    let mut headers = hyper::HeaderMap::new();
    if let Ok(v) = hyper::header::HeaderValue::from_str(region) {
        headers.insert("x-amz-bucket-region", v);
    }
    err.set_headers(headers);
    err
}
