//! Share links: a presigned GET with an optional download name, its *real* lifetime (cut short
//! by temporary credentials), and a check that the link works before anyone gets it.

use std::time::SystemTime;

use time::OffsetDateTime;

use super::browse::{ObjectInfo, head_object};
use super::connection::Connection;
use super::error::{Error, ErrorKind, Result};
use super::expiry::Expiry;
use super::humanize::{cut_short_warning, describe_deadline};
use super::location::S3Uri;
use super::presign::{PresignInput, PresignedRequest, presign};
use super::register::{LinkKind, NewRecord};

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
    pub object: ObjectInfo,
    pub requested: Expiry,
    pub signed_at: SystemTime,
    /// When the link stops working: the earlier of the requested expiry and the credentials'.
    pub expires_at: SystemTime,
    /// When the signing credentials expire, if they are temporary.
    pub credentials_expire_at: Option<SystemTime>,
    /// Why the link is missing from the register, when recording it failed.
    pub register_note: Option<String>,
}

impl ShareLink {
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

    /// The stderr note when the credentials cut the link short, with both times.
    pub fn cut_short_warning(&self) -> Option<String> {
        self.cut_short()
            .then(|| cut_short_warning(self.signed_at, self.requested.duration(), self.expires_at))
    }
}

/// Presign a GET for `req.object` after checking the object is there and readable.
pub async fn share(conn: &Connection, req: &ShareRequest) -> Result<ShareLink> {
    let key = req.object.require_linkable_object()?;
    let disposition = req
        .download_name
        .as_deref()
        .map(content_disposition)
        .transpose()?;
    let object = head_object(conn, &req.object).await.map_err(|e| {
        if e.kind() == ErrorKind::AccessDenied {
            Error::new(
                ErrorKind::AccessDenied,
                format!("The link's signer has no permission to read this object, so the link would not work: {}", req.object),
            )
            .with_detail(e.detail().unwrap_or_default().to_owned())
        } else {
            e
        }
    })?;
    let region = conn.bucket_region(&req.object.bucket).await?;
    let creds = conn.signing_credentials().await?;
    let now = req.now.unwrap_or_else(SystemTime::now);
    let addr = conn.object_address(&req.object.bucket, key, &region);
    let query: Vec<(&str, &str)> = disposition
        .as_deref()
        .map(|d| vec![("response-content-disposition", d)])
        .unwrap_or_default();
    let request = presign(
        &creds,
        &PresignInput {
            method: "GET",
            scheme: &addr.scheme,
            authority: &addr.authority,
            path: &addr.path,
            query: &query,
            headers: &[],
            region: &region,
            expires: req.expires,
            now,
        },
    );
    let expires_at = creds.link_end(now, req.expires);
    // Every link made is kept in the register, with how to revoke it.
    let register_note = conn
        .record(NewRecord {
            kind: LinkKind::Link,
            object: &req.object,
            requested: req.expires.duration(),
            signed_at: now,
            expires_at,
            signer: conn.signer(&creds),
            endpoint: super::transfer::multipart::endpoint_label(conn),
            url: request.url().to_owned(),
            fields: Vec::new(),
            max_size: None,
        })
        .await;
    Ok(ShareLink {
        request,
        object,
        requested: req.expires,
        signed_at: now,
        expires_at,
        credentials_expire_at: creds.expires_at,
        register_note,
    })
}

/// Fetch one byte of the link, as a recipient's browser would, and say in plain words why it
/// fails if it does.
pub async fn verify(conn: &Connection, link: &ShareLink, object: &S3Uri) -> Result<()> {
    check_url(conn.http(), link.url(), object).await
}

/// Fetch one byte of the link `url` to `object` and say in plain words why it fails if it
/// does: expired, the signer may no longer read it, the object is gone, the clock.
pub async fn check_url(http: &reqwest::Client, url: &str, object: &S3Uri) -> Result<()> {
    let resp = http
        .get(url)
        // One byte: a server that does not answer in a minute is not going to.
        .timeout(std::time::Duration::from_secs(60))
        .header("range", "bytes=0-0")
        .send()
        .await
        .map_err(|e| network_error(e, object))?;
    let status = resp.status().as_u16();
    // 416: the object is empty, yet the signature and permission were accepted.
    if matches!(status, 200 | 206 | 416) {
        return Ok(());
    }
    let err = response_error(resp, object).await;
    let words = match err.kind() {
        ErrorKind::AccessDenied if err.detail().is_some_and(|d| d.contains("expired")) => {
            format!("The link does not work: it has already expired: {object}")
        }
        ErrorKind::AccessDenied => {
            format!(
                "The link does not work: the server refused it (HTTP 403); the signer may no longer read this object: {object}"
            )
        }
        ErrorKind::NotFound => format!("The link does not work: the object is gone: {object}"),
        _ => format!("The link does not work: {}", err.message()),
    };
    Err(Error::new(err.kind(), words).with_detail(err.detail().unwrap_or_default().to_owned()))
}

/// A network failure of a presigned request, without the URL (reqwest's Display carries it).
pub(crate) fn network_error(e: reqwest::Error, target: &S3Uri) -> Error {
    let text = super::error::source_chain(&e.without_url());
    Error::new(
        ErrorKind::Network,
        format!("Could not reach the server (is the network up and the endpoint right?): {target}"),
    )
    .with_detail(text)
}

/// The error a failed presigned request's response stands for (S3's XML `<Code>`/`<Message>`
/// and the status), naming `object`.
pub(crate) async fn response_error(resp: reqwest::Response, object: &S3Uri) -> Error {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let (code, message) = parse_s3_error(&body);
    Error::from_s3(
        code.as_deref(),
        Some(status),
        message.as_deref(),
        &object.to_string(),
    )
}

/// `<Code>` and `<Message>` of an S3 XML error body.
pub fn parse_s3_error(body: &str) -> (Option<String>, Option<String>) {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&close)? + start;
        Some(xml_unescape(&body[start..end]))
    };
    (tag("Code"), tag("Message"))
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
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

    #[test]
    fn parses_s3_error_xml() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired &amp; gone</Message></Error>";
        let (code, msg) = parse_s3_error(body);
        assert_eq!(code.as_deref(), Some("AccessDenied"));
        assert_eq!(msg.as_deref(), Some("Request has expired & gone"));
        assert_eq!(parse_s3_error(""), (None, None));
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
