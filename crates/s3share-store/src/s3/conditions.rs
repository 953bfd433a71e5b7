//! S3's conditional reads (GET and HEAD): `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, evaluated against the version being served, with S3's precedence
//! (RFC 9110's): an `If-Match` that holds overrides a failing `If-Unmodified-Since` (the object
//! is sent), and an `If-None-Match` that fails (the ETag matches) wins over an
//! `If-Modified-Since` that holds (304).

use s3s::dto::{ETagCondition, Timestamp};
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::disk::{ObjectMeta, precondition_failed};

/// The conditions a read carries (the headers' own names).
#[derive(Default)]
#[expect(
    clippy::struct_field_names,
    reason = "the fields are the four If-* headers, named as S3 names them"
)]
pub(crate) struct ReadConditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

/// Does `condition` name the object's ETag (or `*`, any object)? Compared by value: quotes
/// and a weak marker are not part of it.
fn matches(condition: &ETagCondition, meta: &ObjectMeta) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(etag) => etag.value() == meta.etag_value(),
    }
}

/// HTTP dates carry whole seconds: the object's time is compared at that resolution.
fn modified_secs(meta: &ObjectMeta) -> i64 {
    meta.modified_at().unix_timestamp()
}

fn secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

/// S3's 304: no body, with the ETag and Last-Modified a cache needs.
fn not_modified(meta: &ObjectMeta) -> S3Error {
    let mut err = S3Error::new(S3ErrorCode::NotModified);
    let mut headers = hyper::HeaderMap::new();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("\"{}\"", meta.etag_value())) {
        headers.insert(hyper::header::ETAG, v);
    }
    let fmt = time::format_description::well_known::Rfc2822;
    if let Ok(text) = meta.modified_at().format(&fmt)
        && let Ok(v) = hyper::header::HeaderValue::from_str(&text.replace("+0000", "GMT"))
    {
        headers.insert(hyper::header::LAST_MODIFIED, v);
    }
    err.set_headers(headers);
    err
}

/// Whether a read of `meta` goes ahead: `Ok`, or S3's 412 `PreconditionFailed` / 304
/// `NotModified`.
pub(crate) fn check_read(meta: &ObjectMeta, c: &ReadConditions<'_>) -> S3Result<()> {
    match c.if_match {
        Some(m) if !matches(m, meta) => return Err(precondition_failed()),
        Some(_) => {}
        None => {
            if let Some(t) = c.if_unmodified_since
                && modified_secs(meta) > secs(t)
            {
                return Err(precondition_failed());
            }
        }
    }
    match c.if_none_match {
        Some(m) if matches(m, meta) => return Err(not_modified(meta)),
        Some(_) => {}
        None => {
            if let Some(t) = c.if_modified_since
                && modified_secs(meta) <= secs(t)
            {
                return Err(not_modified(meta));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ObjectMeta {
        ObjectMeta {
            key: "k".into(),
            size: 1,
            md5: "abc".into(),
            parts: None,
            content_type: None,
            content_disposition: None,
            modified_unix_nanos: 1_700_000_000_500_000_000,
            checksum_crc32c: None,
            checksum_sha256: None,
            version: None,
            segments: None,
        }
    }

    fn etag(v: &str) -> ETagCondition {
        ETagCondition::ETag(s3s::dto::ETag::Strong(v.into()))
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).expect("time"))
    }

    fn code(r: S3Result<()>) -> Option<String> {
        r.err().map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn conditions_answer_with_s3s_precedence() {
        let m = meta();
        let (same, other) = (etag("abc"), etag("xyz"));
        let (before, at_mod, after) = (at(1_699_999_999), at(1_700_000_000), at(1_700_000_001));
        let c = |im, inm, ims, ius| ReadConditions {
            if_match: im,
            if_none_match: inm,
            if_modified_since: ims,
            if_unmodified_since: ius,
        };
        assert_eq!(code(check_read(&m, &c(None, None, None, None))), None);
        assert_eq!(
            code(check_read(&m, &c(Some(&same), None, None, None))),
            None
        );
        assert_eq!(
            code(check_read(
                &m,
                &c(Some(&ETagCondition::Any), None, None, None)
            )),
            None
        );
        assert_eq!(
            code(check_read(&m, &c(Some(&other), None, None, None))).as_deref(),
            Some("PreconditionFailed")
        );
        assert_eq!(
            code(check_read(&m, &c(None, Some(&same), None, None))).as_deref(),
            Some("NotModified")
        );
        assert_eq!(
            code(check_read(&m, &c(None, Some(&other), None, None))),
            None
        );
        // Dates at one second: modified at 1_700_000_000.5 counts as ...000.
        assert_eq!(
            code(check_read(&m, &c(None, None, Some(&at_mod), None))).as_deref(),
            Some("NotModified")
        );
        assert_eq!(
            code(check_read(&m, &c(None, None, Some(&before), None))),
            None
        );
        assert_eq!(
            code(check_read(&m, &c(None, None, None, Some(&at_mod)))),
            None
        );
        assert_eq!(
            code(check_read(&m, &c(None, None, None, Some(&before)))).as_deref(),
            Some("PreconditionFailed")
        );
        // If-Match holding overrides a failing If-Unmodified-Since (S3: 200).
        assert_eq!(
            code(check_read(&m, &c(Some(&same), None, None, Some(&before)))),
            None
        );
        // If-None-Match failing wins over If-Modified-Since holding (S3: 304).
        assert_eq!(
            code(check_read(&m, &c(None, Some(&same), Some(&before), None))).as_deref(),
            Some("NotModified")
        );
        // If-None-Match holding makes If-Modified-Since moot (200 even if not modified).
        assert_eq!(
            code(check_read(&m, &c(None, Some(&other), Some(&after), None))),
            None
        );
    }
}
