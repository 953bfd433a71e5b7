//! AWS Signature V4 in the query string: the presigned URL, made locally with no network call.
//!
//! One small, pure implementation for GET (share links), PUT (uploads) and HEAD, so that the
//! headers we sign (content type, checksum, `If-None-Match`) are exactly the ones we send, the
//! signing time is injectable for exact tests, and 10,000 links take milliseconds.

use std::fmt;
use std::fmt::Write as _;
use std::time::SystemTime;

use base64::Engine as _;
use s3share_core::sigv4::{sha256_hex, sign_post_policy, signature, uri_encode};
use time::OffsetDateTime;

pub use s3share_core::Secret;

use super::expiry::Expiry;

/// The credentials a link is signed with, and when they stop working (temporary credentials).
#[derive(Clone, Debug)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    /// When the credentials themselves expire (SSO, assumed role, instance profile); a link
    /// signed with them dies then, whatever X-Amz-Expires says.
    pub expires_at: Option<SystemTime>,
}

impl SigningCredentials {
    /// When a link signed at `now` to last `expires` really stops working: then, or when
    /// these credentials expire, whichever comes first.
    pub fn link_end(&self, now: SystemTime, expires: Expiry) -> SystemTime {
        let requested_end = now + expires.duration();
        self.expires_at
            .map_or(requested_end, |c| c.min(requested_end))
    }
}

impl From<&aws_credential_types::Credentials> for SigningCredentials {
    fn from(c: &aws_credential_types::Credentials) -> Self {
        Self {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: Secret::new(c.secret_access_key()),
            session_token: c.session_token().map(Secret::new),
            expires_at: c.expiry(),
        }
    }
}

/// What to sign: the request a link stands for.
#[derive(Debug, Clone)]
pub struct PresignInput<'a> {
    pub method: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// `host` or `host:port`, exactly as the Host header will carry it.
    pub authority: &'a str,
    /// The path, not yet encoded: `/bucket/key` (path-style) or `/key` (virtual-hosted).
    pub path: &'a str,
    /// Extra query parameters, not yet encoded (`response-content-disposition`, ...).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers the request will carry and that are signed, besides `host` (lower-case names).
    pub headers: &'a [(&'a str, &'a str)],
    pub region: &'a str,
    pub expires: Expiry,
    pub now: SystemTime,
}

/// A presigned request. A bearer token: its `Debug` hides the URL.
#[derive(Clone)]
pub struct PresignedRequest {
    pub method: String,
    url: String,
    /// Headers that must be sent exactly as signed (besides `host`).
    pub headers: Vec<(String, String)>,
    pub signed_at: SystemTime,
}

impl PresignedRequest {
    /// The link itself. Never log it or put it in an error.
    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn into_url(self) -> String {
        self.url
    }
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("url", &"**redacted**")
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Sign `input` with `creds`.
pub fn presign(creds: &SigningCredentials, input: &PresignInput<'_>) -> PresignedRequest {
    presign_with_raw_expiry(creds, input, input.expires.as_secs())
}

/// Sign with any X-Amz-Expires, even outside SigV4's bounds: only for testing that servers
/// refuse such links. Everything else goes through [`presign`].
#[doc(hidden)]
pub fn presign_with_raw_expiry(
    creds: &SigningCredentials,
    input: &PresignInput<'_>,
    expires_secs: u64,
) -> PresignedRequest {
    let t = OffsetDateTime::from(input.now).to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    let amz_date = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    let scope = format!("{date}/{}/s3/aws4_request", input.region);

    let mut headers: Vec<(String, String)> = Vec::with_capacity(input.headers.len() + 1);
    headers.push(("host".to_owned(), input.authority.to_owned()));
    for (name, value) in input.headers {
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let credential = format!("{}/{scope}", creds.access_key_id);
    let expires = expires_secs.to_string();
    let mut params: Vec<(String, String)> = Vec::with_capacity(input.query.len() + 7);
    params.push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
    params.push(("X-Amz-Credential".into(), credential));
    params.push(("X-Amz-Date".into(), amz_date.clone()));
    params.push(("X-Amz-Expires".into(), expires));
    params.push(("X-Amz-SignedHeaders".into(), signed_headers.clone()));
    if let Some(token) = &creds.session_token {
        params.push(("X-Amz-Security-Token".into(), token.expose().to_owned()));
    }
    for (k, v) in input.query {
        params.push(((*k).to_owned(), (*v).to_owned()));
    }
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    encoded.sort();
    let mut query = String::with_capacity(512);
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        query.push_str(k);
        query.push('=');
        query.push_str(v);
    }

    let canonical_uri = uri_encode(input.path, false);
    let mut canonical = String::with_capacity(1024);
    canonical.push_str(input.method);
    canonical.push('\n');
    canonical.push_str(&canonical_uri);
    canonical.push('\n');
    canonical.push_str(&query);
    canonical.push('\n');
    for (n, v) in &headers {
        let _ = writeln!(canonical, "{n}:{v}");
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push_str("\nUNSIGNED-PAYLOAD");

    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let signature = signature(
        creds.secret_access_key.expose(),
        &date,
        input.region,
        &string_to_sign,
    );

    let url = format!(
        "{}://{}{canonical_uri}?{query}&X-Amz-Signature={signature}",
        input.scheme, input.authority
    );
    let headers = headers.into_iter().filter(|(n, _)| n != "host").collect();
    PresignedRequest {
        method: input.method.to_owned(),
        url,
        headers,
        signed_at: input.now,
    }
}

/// What an upload form may send: a key under a prefix, a size limit, maybe one content type.
#[derive(Debug, Clone)]
pub struct PostPolicyInput<'a> {
    /// The form's action: `scheme://authority/bucket` (path-style) or the bucket's host.
    pub action: &'a str,
    pub bucket: &'a str,
    /// Every key must start with this (`uploads/`); the form sends `prefix${filename}`.
    pub key_prefix: &'a str,
    pub max_size: u64,
    pub content_type: Option<&'a str>,
    pub region: &'a str,
    pub expires: Expiry,
    pub now: SystemTime,
}

/// A presigned upload form: where to POST and the fields to send before the file. A bearer
/// token like a link: its `Debug` hides the signature and the policy.
#[derive(Clone)]
pub struct PresignedPost {
    pub action: String,
    /// The form fields in order; the file goes after them.
    pub fields: Vec<(String, String)>,
    pub expires_at: SystemTime,
}

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedPost")
            .field(
                "fields",
                &self.fields.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// ISO-8601 with milliseconds, as POST policies write their expiration.
fn policy_time(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t).to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Sign a browser-form upload (a SigV4 POST policy): the key must start with the prefix, the
/// file must be at most `max_size` bytes (and not empty), of `content_type` when one is given,
/// and the form works until the expiry. The same key derivation as links signs it.
pub fn presign_post(creds: &SigningCredentials, input: &PostPolicyInput<'_>) -> PresignedPost {
    let t = OffsetDateTime::from(input.now).to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    let amz_date = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    let credential = format!(
        "{}/{date}/{}/s3/aws4_request",
        creds.access_key_id, input.region
    );
    let expires_at = input.now + input.expires.duration();
    let mut fields: Vec<(String, String)> = vec![
        ("key".into(), format!("{}${{filename}}", input.key_prefix)),
        ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("x-amz-credential".into(), credential),
        ("x-amz-date".into(), amz_date),
    ];
    if let Some(token) = &creds.session_token {
        fields.push(("x-amz-security-token".into(), token.expose().to_owned()));
    }
    if let Some(ct) = input.content_type {
        fields.push(("content-type".into(), ct.to_owned()));
    }
    // The store answers with a PostResponse naming the object: what a person sees in the
    // browser, and what curl prints.
    fields.push(("success_action_status".into(), "201".into()));
    let mut conditions = vec![
        serde_json::json!({ "bucket": input.bucket }),
        serde_json::json!(["starts-with", "$key", input.key_prefix]),
        serde_json::json!(["content-length-range", 1, input.max_size]),
    ];
    for (name, value) in &fields[1..] {
        conditions.push(serde_json::json!({ name.as_str(): value }));
    }
    let policy = serde_json::json!({
        "expiration": policy_time(expires_at),
        "conditions": conditions,
    });
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signature = sign_post_policy(
        creds.secret_access_key.expose(),
        &date,
        input.region,
        &policy_b64,
    );
    fields.push(("policy".into(), policy_b64));
    fields.push(("x-amz-signature".into(), signature));
    PresignedPost {
        action: input.action.to_owned(),
        fields,
        expires_at,
    }
}

/// The value of a query parameter in `url`, decoded (for reading back X-Amz-Expires and such).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn example_creds() -> SigningCredentials {
        SigningCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
            expires_at: None,
        }
    }

    /// The worked example of AWS's "Authenticating Requests: Using Query Parameters" page.
    #[test]
    fn matches_the_aws_documented_example() {
        let now = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let input = PresignInput {
            method: "GET",
            scheme: "https",
            authority: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            query: &[],
            headers: &[],
            region: "us-east-1",
            expires: Expiry::new(Duration::from_secs(86_400)).expect("1 day is valid"),
            now,
        };
        let signed = presign(&example_creds(), &input);
        assert_eq!(
            signed.url(),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn signs_extra_headers_and_hides_the_url_in_debug() {
        let input = PresignInput {
            method: "PUT",
            scheme: "http",
            authority: "127.0.0.1:9000",
            path: "/b/k",
            query: &[("response-content-type", "text/plain")],
            headers: &[("Content-Type", "text/plain"), ("if-none-match", "*")],
            region: "us-east-1",
            expires: Expiry::DEFAULT,
            now: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        };
        let signed = presign(&example_creds(), &input);
        assert_eq!(
            query_param(signed.url(), "X-Amz-SignedHeaders").as_deref(),
            Some("content-type;host;if-none-match")
        );
        assert_eq!(
            query_param(signed.url(), "X-Amz-Expires").as_deref(),
            Some("900")
        );
        assert_eq!(signed.headers.len(), 2);
        assert!(!format!("{signed:?}").contains("X-Amz-Signature"));
        assert!(!format!("{:?}", example_creds()).contains("EXAMPLEKEY"));
    }
}
