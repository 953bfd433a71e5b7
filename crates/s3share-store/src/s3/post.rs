//! Browser form uploads (`POST /bucket` with `multipart/form-data`), handled here rather than by
//! s3s, which holds the whole file in memory before any access check.
//!
//! The form's fields come before its file (S3 requires the file last), so the fields alone are
//! read (at most [`MAX_FIELDS_BYTES`]), the SigV4 POST signature and the policy are checked, and
//! only then is the file streamed to disk, its size held to the policy's
//! `content-length-range` while it arrives. An unsigned or badly signed form is refused before a
//! byte of its file is read. Policies may live at most 7 days from their signing date (as
//! links), and `${filename}` in the key is replaced by the file's own name, as S3 does.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use s3s::post_policy::{PostPolicy, PostPolicyCondition};
use s3s::{S3Error, S3Result, s3_error};

use s3share_core::limits::{MAX_EXPIRES_SECS, MAX_KEY_BYTES, MAX_SINGLE_PUT};
use s3share_core::sigv4::{constant_time_eq, sign_post_policy};

use super::common::{blocking, location, receive_error, wrong_region};
use crate::disk::{Disk, ObjectMeta, Precondition, ReceiveError, io_err, now_nanos, receive};

/// The most the fields before the file may take together.
const MAX_FIELDS_BYTES: usize = 64 * 1024;
/// The most fields a form may have.
const MAX_FIELDS: usize = 64;

/// What a form POST needs from the store.
pub(crate) struct FormUploads {
    pub disk: Arc<Disk>,
    pub auth: Arc<s3s::auth::SimpleAuth>,
    pub region: String,
}

/// The form's fields (names lower-cased), in order.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn malformed<E>(_: E) -> S3Error {
    s3_error!(
        MalformedPOSTRequest,
        "The body of your POST request is not well-formed multipart/form-data."
    )
}

fn denied(message: impl Into<std::borrow::Cow<'static, str>>) -> S3Error {
    S3Error::with_message(s3s::S3ErrorCode::AccessDenied, message)
}

fn policy_failed(what: &str) -> S3Error {
    denied(format!("Invalid according to Policy: {what}"))
}

/// The SigV2 refusal S3 gives where only SigV4 is accepted.
pub(crate) fn sigv2_refused() -> S3Error {
    s3_error!(
        InvalidRequest,
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    )
}

/// What a checked form asks to store.
struct Accepted {
    key: String,
    content_type: Option<String>,
    content_disposition: Option<String>,
    min_size: u64,
    max_size: u64,
    status: u16,
}

impl FormUploads {
    /// Answer one form POST to `bucket`.
    pub async fn handle(
        &self,
        bucket: &str,
        content_type: &str,
        body: hyper::body::Incoming,
    ) -> S3Result<hyper::Response<s3s::Body>> {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| s3_error!(MalformedPOSTRequest, "The form has no boundary"))?;
        // multer holds what comes before a boundary or a header's end: the body is capped, to the
        // fields' limit until the signature and policy hold, then to the policy's size.
        let cap = Arc::new(std::sync::atomic::AtomicU64::new(
            MAX_FIELDS_BYTES as u64 + 16 * 1024,
        ));
        let counted = {
            let cap = cap.clone();
            let mut seen = 0u64;
            http_body_util::BodyDataStream::new(body).map(move |chunk| {
                let chunk = chunk.map_err(std::io::Error::other)?;
                seen += chunk.len() as u64;
                if seen > cap.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(std::io::Error::other("the form is larger than allowed"));
                }
                Ok::<_, std::io::Error>(chunk)
            })
        };
        let mut form = multer::Multipart::new(counted, boundary);
        let mut fields = Vec::new();
        let mut fields_bytes = 0usize;
        let file = loop {
            let Some(mut field) = form.next_field().await.map_err(malformed)? else {
                return Err(s3_error!(
                    MalformedPOSTRequest,
                    "The form has no file field"
                ));
            };
            let name = field.name().unwrap_or_default().to_ascii_lowercase();
            if name == "file" {
                break field;
            }
            if fields.len() >= MAX_FIELDS {
                return Err(s3_error!(
                    MalformedPOSTRequest,
                    "The form has too many fields"
                ));
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                fields_bytes += chunk.len();
                if fields_bytes > MAX_FIELDS_BYTES {
                    return Err(s3_error!(
                        MalformedPOSTRequest,
                        "Your POST request fields preceding the upload file were too large."
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(malformed)?;
            fields.push((name, value));
        };
        let fields = Fields(fields);
        let file_name = file.file_name().map(str::to_owned);
        let accepted = self.check(bucket, &fields, file_name.as_deref())?;
        cap.store(
            accepted
                .max_size
                .min(MAX_SINGLE_PUT)
                .saturating_add(64 * 1024),
            std::sync::atomic::Ordering::Relaxed,
        );

        // Only now is the file read, never past the policy's maximum.
        let limit = accepted.max_size.min(MAX_SINGLE_PUT);
        let staging = self.disk.staging_file().map_err(|e| io_err(&e))?;
        let received = receive(staging, file.map(|c| c.map_err(|_| ())), limit, false)
            .await
            .map_err(|e| match e {
                ReceiveError::TooLarge => s3_error!(
                    EntityTooLarge,
                    "Your proposed upload exceeds the maximum allowed size"
                ),
                other => receive_error(other),
            })?;
        if received.size < accepted.min_size {
            return Err(s3_error!(
                EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size"
            ));
        }
        let meta = ObjectMeta {
            key: accepted.key.clone(),
            size: received.size,
            md5: hex::encode(received.md5),
            parts: None,
            content_type: accepted.content_type.clone(),
            content_disposition: accepted.content_disposition.clone(),
            modified_unix_nanos: now_nanos(),
            checksum_crc32c: None,
            checksum_sha256: None,
            version: None,
            segments: None,
        };
        let disk = self.disk.clone();
        let owned_bucket = bucket.to_owned();
        let meta =
            blocking(move || disk.commit(&owned_bucket, meta, received.file, Precondition::None))
                .await?;
        Ok(success(bucket, &meta, accepted.status))
    }

    /// Check the signature, the policy and every field against it, before the file is read.
    fn check(&self, bucket: &str, fields: &Fields, file_name: Option<&str>) -> S3Result<Accepted> {
        let signed_at = self.check_signature(fields)?;
        let policy_b64 = fields.get("policy").unwrap_or_default();
        let policy = PostPolicy::from_base64(policy_b64)
            .map_err(|_| s3_error!(InvalidPolicyDocument, "The policy is not valid base64 JSON"))?;
        let expiration: time::OffsetDateTime = policy.expiration.clone().into();
        let now = time::OffsetDateTime::now_utc();
        if now >= expiration {
            return Err(policy_failed("Policy expired."));
        }
        if expiration - signed_at > time::Duration::seconds(MAX_EXPIRES_SECS.cast_signed()) {
            return Err(policy_failed(
                "the policy expires more than 7 days after it was signed",
            ));
        }
        if signed_at > now + time::Duration::minutes(15) {
            return Err(s3_error!(
                RequestTimeTooSkewed,
                "The difference between the request time and the server's time is too large."
            ));
        }
        let key_field = fields
            .get("key")
            .ok_or_else(|| s3_error!(InvalidArgument, "The form has no key"))?;
        let key = if key_field.contains("${filename}") {
            key_field.replace("${filename}", &base_name(file_name)?)
        } else {
            key_field.to_owned()
        };
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(s3_error!(KeyTooLongError));
        }
        if key.split('/').any(|s| s == "." || s == "..") {
            // A link could not reach it (browsers fold such segments), and it could climb out
            // of a starts-with prefix once folded.
            return Err(s3_error!(
                InvalidArgument,
                "The key has a \".\" or \"..\" segment"
            ));
        }
        for header_field in ["content-type", "content-disposition"] {
            if fields
                .get(header_field)
                .is_some_and(|v| hyper::header::HeaderValue::from_str(v).is_err())
            {
                return Err(s3_error!(
                    InvalidArgument,
                    "The form's {} is not a valid header value",
                    header_field
                ));
            }
        }
        if fields.get("bucket").is_some_and(|b| b != bucket) {
            return Err(policy_failed(
                "the form's bucket is not the bucket posted to",
            ));
        }
        let (min_size, max_size) = check_conditions(&policy, fields, bucket, &key)?;
        if !self.disk.has_bucket(bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(Accepted {
            key,
            content_type: fields.get("content-type").map(str::to_owned),
            content_disposition: fields.get("content-disposition").map(str::to_owned),
            min_size,
            max_size,
            status: match fields.get("success_action_status") {
                Some("200") => 200,
                Some("201") => 201,
                _ => 204,
            },
        })
    }

    /// The SigV4 POST signature over the policy; returns when it was signed (`x-amz-date`).
    fn check_signature(&self, fields: &Fields) -> S3Result<time::OffsetDateTime> {
        if fields.get("signature").is_some() || fields.get("awsaccesskeyid").is_some() {
            return Err(sigv2_refused());
        }
        let Some(signature) = fields.get("x-amz-signature") else {
            return Err(denied(
                "Anonymous uploads are not allowed: the form must carry a SigV4 signature",
            ));
        };
        let policy_b64 = fields
            .get("policy")
            .ok_or_else(|| denied("The form has no policy"))?;
        if fields.get("x-amz-algorithm") != Some("AWS4-HMAC-SHA256") {
            return Err(sigv2_refused());
        }
        let credential = fields
            .get("x-amz-credential")
            .ok_or_else(|| s3_error!(InvalidArgument, "The form has no x-amz-credential"))?;
        let amz_date = fields
            .get("x-amz-date")
            .ok_or_else(|| s3_error!(InvalidArgument, "The form has no x-amz-date"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key, date, region, "s3", "aws4_request"] = scope.as_slice() else {
            return Err(s3_error!(
                AuthorizationQueryParametersError,
                "x-amz-credential is not ACCESS_KEY/DATE/REGION/s3/aws4_request"
            ));
        };
        let signed_at = parse_amz_date(amz_date)
            .filter(|_| amz_date.starts_with(date))
            .ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "x-amz-date does not match the credential's date"
                )
            })?;
        let secret = self
            .auth
            .lookup(access_key)
            .ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
        let expected = sign_post_policy(secret.expose(), date, region, policy_b64);
        if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(s3_error!(SignatureDoesNotMatch));
        }
        if *region != self.region {
            return Err(wrong_region(&self.region));
        }
        Ok(signed_at)
    }
}

/// Every field must be named by a condition, and every condition hold; returns the size range
/// the file must fall in.
fn check_conditions(
    policy: &PostPolicy,
    fields: &Fields,
    bucket: &str,
    key: &str,
) -> S3Result<(u64, u64)> {
    let value = |field: &str| -> Option<String> {
        match field {
            "bucket" => Some(bucket.to_owned()),
            "key" => Some(key.to_owned()),
            _ => fields.get(field).map(str::to_owned),
        }
    };
    for (name, _) in &fields.0 {
        let exempt = matches!(name.as_str(), "x-amz-signature" | "policy" | "submit")
            || name.starts_with("x-ignore-");
        let covered = policy.conditions.iter().any(|c| match c {
            PostPolicyCondition::Eq { field, .. }
            | PostPolicyCondition::StartsWith { field, .. } => field == name,
            PostPolicyCondition::ContentLengthRange { .. } => false,
        });
        if !exempt && !covered {
            return Err(policy_failed(&format!("Extra input fields: {name}")));
        }
    }
    let (mut min_size, mut max_size) = (0, u64::MAX);
    for c in &policy.conditions {
        match c {
            PostPolicyCondition::Eq { field, value: want } => {
                if value(field).as_deref() != Some(want.as_str()) {
                    return Err(policy_failed(&format!(
                        "Policy Condition failed: [\"eq\", \"${field}\", \"{want}\"]"
                    )));
                }
            }
            PostPolicyCondition::StartsWith { field, prefix } => {
                if !value(field)
                    .unwrap_or_default()
                    .starts_with(prefix.as_str())
                {
                    return Err(policy_failed(&format!(
                        "Policy Condition failed: [\"starts-with\", \"${field}\", \"{prefix}\"]"
                    )));
                }
            }
            PostPolicyCondition::ContentLengthRange { min, max } => {
                min_size = min_size.max(*min);
                max_size = max_size.min(*max);
            }
        }
    }
    // SigV4 POST requires the signing fields among the signed conditions.
    for signing_field in ["x-amz-algorithm", "x-amz-credential", "x-amz-date"] {
        let signed = policy
            .conditions
            .iter()
            .any(|c| matches!(c, PostPolicyCondition::Eq { field, .. } if field == signing_field));
        if !signed {
            return Err(policy_failed(&format!(
                "the policy has no condition on {signing_field}"
            )));
        }
    }
    Ok((min_size, max_size))
}

/// The file's own name for `${filename}`: its last path segment (browsers send no folders, some
/// tools do), never empty, `.` or `..`.
fn base_name(file_name: Option<&str>) -> S3Result<String> {
    let name = file_name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." || name.chars().any(char::is_control) {
        return Err(s3_error!(
            InvalidArgument,
            "The uploaded file needs a plain file name"
        ));
    }
    Ok(name.to_owned())
}

/// `20260102T030405Z`
fn parse_amz_date(s: &str) -> Option<time::OffsetDateTime> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// S3's answer to a stored form upload: 204 by default, 200 empty, or 201 with a
/// `PostResponse` document, each with the ETag and the object's location.
fn success(bucket: &str, meta: &ObjectMeta, status: u16) -> hyper::Response<s3s::Body> {
    let etag = match meta.etag() {
        s3s::dto::ETag::Strong(s) | s3s::dto::ETag::Weak(s) => format!("\"{s}\""),
    };
    let location = location(bucket, &meta.key);
    let body = if status == 201 {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        Bytes::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
            esc(&location),
            esc(bucket),
            esc(&meta.key),
            esc(&etag)
        ))
    } else {
        Bytes::new()
    };
    let mut resp = hyper::Response::new(s3s::Body::from(body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::NO_CONTENT);
    let headers = resp.headers_mut();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&etag) {
        headers.insert(hyper::header::ETAG, v);
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(&location) {
        headers.insert(hyper::header::LOCATION, v);
    }
    if status == 201 {
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/xml"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_for_keys_are_plain() {
        assert_eq!(
            base_name(Some("C:\\Users\\me\\a b.pdf")).ok().as_deref(),
            Some("a b.pdf")
        );
        assert_eq!(base_name(Some("dir/x.txt")).ok().as_deref(), Some("x.txt"));
        assert!(base_name(Some("..")).is_err());
        assert!(base_name(None).is_err());
        assert!(base_name(Some("a\nb")).is_err());
    }

    #[test]
    fn amz_dates_parse() {
        assert!(parse_amz_date("20261202T010203Z").is_some());
        assert!(parse_amz_date("2026-12-02").is_none());
    }
}
