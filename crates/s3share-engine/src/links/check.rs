//! Does a link work? One byte fetched through it, as a recipient's browser would, and why not
//! in plain words: expired, the signer may no longer read it, the object is gone, the clock.

use super::share::ShareLink;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::s3uri::S3Uri;
use crate::client::connection::Connection;
use crate::client::http::{network_error, response_error};

/// Fetch one byte of the link, as a recipient's browser would, and say in plain words why it
/// fails if it does.
pub async fn verify(conn: &Connection, link: &ShareLink) -> Result<()> {
    check_url(conn.http(), link.url(), &link.object_uri).await
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
