//! Share links: a presigned GET with an optional download name, its *real* lifetime (cut short
//! by temporary credentials), and a check that the link works before anyone gets it.

use std::time::SystemTime;

use time::OffsetDateTime;

use super::register::{LinkKind, NewRecord, Signer};
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::base::signing::{PresignInput, PresignedRequest, SigningCredentials, presign};
use crate::base::wording::{
    cut_short_warning, describe_deadline, format_clock, format_duration, round_for_people,
};
use crate::client::browse::{ObjectInfo, head_object};
use crate::client::connection::Connection;
use crate::client::endpoint::ObjectAddress;

/// What to share.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    pub object: S3Uri,
    pub expires: Expiry,
    /// The file name the browser saves it as (Content-Disposition: attachment).
    pub download_name: Option<String>,
    /// Signing time; `None` means now. Tests fix it.
    pub now: Option<SystemTime>,
}

/// A link and how long it really lives.
#[derive(Debug, Clone)]
pub struct ShareLink {
    pub request: PresignedRequest,
    /// What was shared.
    pub object_uri: S3Uri,
    pub object: ObjectInfo,
    pub requested: Expiry,
    pub signed_at: SystemTime,
    /// When the link stops working: the earlier of the requested expiry and the credentials'.
    pub expires_at: SystemTime,
    /// When the signing credentials expire, if they are temporary.
    pub credentials_expire_at: Option<SystemTime>,
    /// Who signed it, as the register keeps it.
    pub signer: Signer,
    /// Where it was made (the endpoint, or `aws`).
    pub endpoint: String,
    /// Why the link is missing from the register, when recording it failed (set by whoever
    /// records it).
    pub register_note: Option<String>,
    /// When the bucket policy ends it (`s3:signatureAge`), if it does before the expiry asked.
    pub policy_end: Option<SystemTime>,
    /// The bucket policy's other rules for links, in words (where they work from, "may").
    pub policy_notes: Vec<String>,
}

impl ShareLink {
    /// The link `request` to `target` (its address and what it is), signed at `now` with
    /// `creds` for `requested`: it ends then, or when the credentials do.
    pub(super) fn signed(
        conn: &Connection,
        creds: &SigningCredentials,
        request: PresignedRequest,
        target: (S3Uri, ObjectInfo),
        requested: Expiry,
        now: SystemTime,
    ) -> Self {
        let (object_uri, object) = target;
        Self {
            request,
            object_uri,
            object,
            requested,
            signed_at: now,
            expires_at: creds.link_end(now, requested),
            credentials_expire_at: creds.expires_at,
            signer: Signer::of(conn, creds),
            endpoint: conn.endpoint_label(),
            register_note: None,
            policy_end: None,
            policy_notes: Vec::new(),
        }
    }

    pub fn url(&self) -> &str {
        self.request.url()
    }

    /// True when temporary credentials end the link before the requested expiry.
    pub fn cut_short(&self) -> bool {
        self.credentials_expire_at
            .is_some_and(|c| c < self.signed_at + self.requested.duration())
    }

    /// "expires in 15 minutes, at 14:05"
    pub fn describe(&self) -> String {
        format!(
            "expires {}",
            describe_deadline(
                OffsetDateTime::from(self.signed_at),
                OffsetDateTime::from(self.expires_at)
            )
        )
    }

    /// The register's entry for this link.
    pub fn record(&self) -> NewRecord<'_> {
        NewRecord {
            kind: LinkKind::Link,
            object: &self.object_uri,
            requested: self.requested.duration(),
            signed_at: self.signed_at,
            expires_at: self.expires_at,
            signer: self.signer.clone(),
            endpoint: self.endpoint.clone(),
            url: self.url().to_owned(),
            fields: Vec::new(),
            max_size: None,
            page_key: None,
        }
    }

    /// The stderr note when the credentials cut the link short, with both times.
    pub fn cut_short_warning(&self) -> Option<String> {
        // When the bucket policy ends it sooner still, that is the warning that counts.
        (self.cut_short() && self.policy_end.is_none()).then(|| {
            cut_short_warning(
                self.signed_at,
                self.requested.duration(),
                self.credentials_expire_at.unwrap_or(self.expires_at),
            )
        })
    }

    /// Everything that makes the link's life shorter or narrower than asked, one stderr line
    /// each: the credentials' end, the bucket policy's end, where it works from.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self.cut_short_warning().into_iter().collect();
        out.extend(self.policy_cut_warning().map(|w| format!("warning: {w}")));
        out.extend(self.policy_notes.iter().map(|n| format!("note: {n}")));
        out
    }

    /// When the bucket policy ends the link before the expiry asked: the words, with the time.
    pub fn policy_cut_warning(&self) -> Option<String> {
        let end = self.policy_end?;
        let now = OffsetDateTime::from(self.signed_at);
        Some(format!(
            "the bucket policy ends every link {} after it is signed (s3:signatureAge): this one stops working at {}, not {} as asked",
            format_duration(round_for_people(
                end.duration_since(self.signed_at).unwrap_or_default()
            )),
            format_clock(now, OffsetDateTime::from(end)),
            format_clock(now, now + self.requested.duration()),
        ))
    }
}

/// Presign a GET for `req.object` after checking the object is there and readable. Nothing is
/// recorded: the caller keeps the link in the register ([`ShareLink::record`]).
pub async fn share(conn: &Connection, req: &ShareRequest) -> Result<ShareLink> {
    let key = req.object.require_linkable_object()?;
    let disposition = req
        .download_name
        .as_deref()
        .map(content_disposition)
        .transpose()?;
    let object = head_readable(conn, &req.object).await?;
    let region = conn.bucket_region(&req.object.bucket).await?;
    let creds = conn.signing_credentials().await?;
    let now = req.now.unwrap_or_else(SystemTime::now);
    let request = sign_get(
        &creds,
        &conn.object_address(&req.object.bucket, key, &region),
        disposition.as_deref(),
        req.expires,
        now,
    );
    Ok(ShareLink::signed(
        conn,
        &creds,
        request,
        (req.object.clone(), object),
        req.expires,
        now,
    ))
}

/// HEAD `object`, saying in words when the signer may not read it (its link could not work).
pub(super) async fn head_readable(conn: &Connection, object: &S3Uri) -> Result<ObjectInfo> {
    head_object(conn, object).await.map_err(|e| {
        if e.kind() == ErrorKind::AccessDenied {
            Error::new(
                ErrorKind::AccessDenied,
                format!("The link's signer has no permission to read this object, so the link would not work: {object}"),
            )
            .with_detail(e.detail().unwrap_or_default().to_owned())
        } else {
            e
        }
    })
}

/// A presigned GET of the object at `addr`, saved under the name in `disposition` if given.
pub(super) fn sign_get(
    creds: &SigningCredentials,
    addr: &ObjectAddress,
    disposition: Option<&str>,
    expires: Expiry,
    now: SystemTime,
) -> PresignedRequest {
    let query: Vec<(&str, &str)> = disposition
        .map(|d| vec![("response-content-disposition", d)])
        .unwrap_or_default();
    presign(
        creds,
        &PresignInput {
            method: "GET",
            scheme: &addr.scheme,
            authority: &addr.authority,
            path: &addr.path,
            query: &query,
            headers: &[],
            region: &addr.region,
            expires,
            now,
        },
    )
}

/// `attachment` with an ASCII fallback `filename` and the exact UTF-8 `filename*` (RFC 6266,
/// RFC 5987), so every browser saves the file under the name asked for.
pub fn content_disposition(name: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid(format!("Not a usable download name ({why}): {name:?}"));
    if name.trim().is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > 255 {
        return Err(bad("longer than 255 bytes"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(bad("it contains a slash, backslash or control character"));
    }
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && c != '"' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, RFC5987_ATTR_CHAR).to_string();
    Ok(format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
}

/// RFC 5987 attr-char (letters, digits and ``! # $ & + - . ^ _ ` | ~``) stays; everything else
/// is percent-encoded.
const RFC5987_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_has_ascii_fallback_and_utf8_name() {
        assert_eq!(
            content_disposition("Q3 report.pdf").expect("valid"),
            "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"
        );
        assert_eq!(
            content_disposition("résumé \"final\".pdf").expect("valid"),
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert!(content_disposition("a/b").is_err());
        assert!(content_disposition("").is_err());
        assert!(content_disposition("x\ny").is_err());
    }

    proptest::proptest! {
        #[test]
        fn download_names_encode_exactly_or_are_refused(name in "\\PC{0,40}") {
            let Ok(header) = content_disposition(&name) else {
                return Ok(());
            };
            // One header line, ASCII only, and the exact name back from filename*.
            proptest::prop_assert!(header.is_ascii() && !header.contains(['\r', '\n']));
            let encoded = header.split("filename*=UTF-8''").nth(1).expect("filename*");
            let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8().expect("utf-8");
            proptest::prop_assert_eq!(decoded.as_ref(), name.as_str());
            let fallback = header.split('"').nth(1).expect("quoted fallback");
            proptest::prop_assert!(!fallback.contains(['"', '\\', '%']));
        }
    }
}
