//! The errors of presigned HTTP requests (made with reqwest, not the SDK), in words: a network
//! failure without the URL (it is a bearer token), and S3's XML error document read back.

use crate::base::error::{Error, ErrorKind, source_chain};
use crate::base::s3uri::S3Uri;

/// A network failure of a presigned request, without the URL (reqwest's Display carries it).
pub fn network_error(e: reqwest::Error, target: &S3Uri) -> Error {
    let text = source_chain(&e.without_url());
    Error::new(
        ErrorKind::Network,
        format!("Could not reach the server (is the network up and the endpoint right?): {target}"),
    )
    .with_detail(text)
}

/// The error a failed presigned request's response stands for (S3's XML `<Code>`/`<Message>`
/// and the status), naming `object`.
pub async fn response_error(resp: reqwest::Response, object: &S3Uri) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_error_xml() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired &amp; gone</Message></Error>";
        let (code, msg) = parse_s3_error(body);
        assert_eq!(code.as_deref(), Some("AccessDenied"));
        assert_eq!(msg.as_deref(), Some("Request has expired & gone"));
        assert_eq!(parse_s3_error(""), (None, None));
    }
}
