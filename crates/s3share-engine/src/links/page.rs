//! Share pages: one link for a folder or a selection. s3share signs a GET for every object, writes
//! a small self-contained HTML page listing them into the bucket under [`PAGES_PREFIX`] (never
//! among the user's files), and hands out a presigned GET of that page. Every link, the page's
//! included, is signed at the same moment for the same expiry, so they all end together.

use std::fmt::Write as _;
use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use time::OffsetDateTime;

use super::register::{LinkKind, NewRecord};
use super::share::{ShareLink, content_disposition, head_readable, sign_get};
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::base::signing::{PresignedRequest, SigningCredentials};
use crate::base::wording::{format_iso, format_utc_words, html_escape, human_size, thousands};
use crate::client::browse::{ObjectInfo, list_recursive_up_to};
use crate::client::connection::Connection;

pub use crate::base::s3uri::PAGES_PREFIX;

/// The most files one page lists. A folder with more is refused (with its count) rather than
/// listed in part: a page that silently leaves files out would be worse than none.
pub const MAX_PAGE_FILES: usize = 1000;

/// What to put on a page: objects and prefixes (ending in `/`, or a bucket's root), all in one
/// bucket.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub items: Vec<S3Uri>,
    pub expires: Expiry,
    /// Signing time; `None` means now. Tests fix it.
    pub now: Option<SystemTime>,
}

/// One file on a page.
#[derive(Debug, Clone)]
pub struct PageFile {
    pub key: String,
    /// The name shown: the key below the folder all the files share.
    pub name: String,
    pub size: u64,
    pub request: PresignedRequest,
}

/// A share page made: the page's own link and what it lists.
#[derive(Debug, Clone)]
pub struct SharePage {
    /// The page's link (its object is the page in [`PAGES_PREFIX`]).
    pub link: ShareLink,
    pub files: Vec<PageFile>,
    pub title: String,
}

impl SharePage {
    /// The register's entry: the page, with each file's key and link (so Check checks them).
    pub fn record(&self) -> NewRecord<'_> {
        NewRecord {
            kind: LinkKind::Page,
            page_key: Some(self.link.object_uri.key.clone()),
            fields: self
                .files
                .iter()
                .map(|f| (f.key.clone(), f.request.url().to_owned()))
                .collect(),
            ..self.link.record()
        }
    }

    /// "3 files, 14.2 MiB"
    pub fn summary(&self) -> String {
        let total: u64 = self.files.iter().map(|f| f.size).sum();
        format!("{}, {}", files_count(self.files.len()), human_size(total))
    }
}

fn files_count(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{} files", thousands(n as u64))
    }
}

/// Is `key` one of s3share's own pages (never listed on a page, never shared by one)?
pub fn is_page_key(key: &str) -> bool {
    key.starts_with(".s3share/")
}

/// Sign a link for every object in `req.items`, write the page listing them and sign its link.
/// `policy_max_age` is the bucket policy's `s3:signatureAge`, so the page states the real end.
/// Nothing is recorded: the caller keeps it in the register ([`SharePage::record`]).
pub async fn share_page(
    conn: &Connection,
    req: &PageRequest,
    policy_max_age: Option<std::time::Duration>,
) -> Result<SharePage> {
    let bucket = one_bucket(&req.items)?;
    let objects = collect_objects(conn, bucket, &req.items).await?;
    let region = conn.bucket_region(bucket).await?;
    let creds = conn.signing_credentials().await?;
    let now = req.now.unwrap_or_else(SystemTime::now);
    let base = common_folder(objects.iter().map(|o| o.key.as_str()));
    let files: Vec<PageFile> = objects
        .into_iter()
        .map(|o| {
            let name = o.key[base.len()..].to_owned();
            let file_name = o.key.rsplit('/').next().unwrap_or(&o.key);
            // A name the header cannot carry (control characters) downloads under S3's own.
            let disposition = content_disposition(file_name).ok();
            PageFile {
                request: sign_get(
                    &creds,
                    &conn.object_address(bucket, &o.key, &region),
                    disposition.as_deref(),
                    req.expires,
                    now,
                ),
                key: o.key,
                name,
                size: o.size,
            }
        })
        .collect();
    let expires_at = policy_max_age.map_or_else(
        || creds.link_end(now, req.expires),
        |age| creds.link_end(now, req.expires).min(now + age),
    );
    let title = page_title(bucket, &req.items, &base, files.len());
    let html = render_page(&title, &files, expires_at);
    let size = html.len() as u64;
    let (page_uri, request) =
        publish(conn, bucket, &region, &creds, html, req.expires, now).await?;
    // Its end under the bucket policy is folded in by the caller, as for any link.
    let page = ObjectInfo {
        key: page_uri.key.clone(),
        size,
        last_modified: Some(OffsetDateTime::from(now)),
        storage_class: None,
        content_type: Some(PAGE_CONTENT_TYPE.to_owned()),
        etag: None,
    };
    Ok(SharePage {
        link: ShareLink::signed(conn, &creds, request, (page_uri, page), req.expires, now),
        files,
        title,
    })
}

const PAGE_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Write `html` as a new page into `bucket` (under [`PAGES_PREFIX`], a random name) and sign a
/// GET of it for `expires` from `now`.
pub(super) async fn publish(
    conn: &Connection,
    bucket: &str,
    region: &str,
    creds: &SigningCredentials,
    html: String,
    expires: Expiry,
    now: SystemTime,
) -> Result<(S3Uri, PresignedRequest)> {
    let key = format!("{PAGES_PREFIX}{}.html", super::register::new_id());
    let page = S3Uri::new(bucket, key.clone());
    write_page(conn, &page, html).await?;
    let request = sign_get(
        creds,
        &conn.object_address(bucket, &key, region),
        None,
        expires,
        now,
    );
    Ok((page, request))
}

fn one_bucket(items: &[S3Uri]) -> Result<&str> {
    let Some(first) = items.first() else {
        return Err(Error::invalid("Nothing to share: name a folder or objects"));
    };
    if let Some(other) = items.iter().find(|u| u.bucket != first.bucket) {
        return Err(Error::invalid(format!(
            "A share page lists objects of one bucket; these are in {} and {}",
            first.bucket, other.bucket
        )));
    }
    Ok(&first.bucket)
}

/// The objects behind `items`, in key order, each once: prefixes listed at every depth (folder
/// markers and s3share's own pages left out), objects checked readable with a HEAD.
async fn collect_objects(
    conn: &Connection,
    bucket: &str,
    items: &[S3Uri],
) -> Result<Vec<ObjectInfo>> {
    let mut out: Vec<ObjectInfo> = Vec::new();
    for item in items {
        if item.key.is_empty() || item.key.ends_with('/') {
            let room = MAX_PAGE_FILES.saturating_sub(out.len());
            // Listing stops one past the limit: a folder of millions costs a page of listing.
            let listed = list_recursive_up_to(conn, bucket, &item.key, room + 1, |o| {
                !o.key.ends_with('/') && !is_page_key(&o.key)
            })
            .await?;
            if listed.len() > room {
                return Err(too_many(item));
            }
            out.extend(listed);
            // Overlapping items (a folder and a file in it) count each file once.
            out.sort_by(|a, b| a.key.cmp(&b.key));
            out.dedup_by(|a, b| a.key == b.key);
        } else {
            if is_page_key(&item.key) {
                return Err(Error::invalid(format!(
                    "This is one of s3share's own pages; share the files it lists instead: {item}"
                )));
            }
            let info = head_readable(conn, item).await?;
            out.push(info);
        }
        if out.len() > MAX_PAGE_FILES {
            return Err(too_many(item));
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup_by(|a, b| a.key == b.key);
    if out.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("Nothing to share: no objects under {}", items[0]),
        ));
    }
    Ok(out)
}

fn too_many(item: &S3Uri) -> Error {
    Error::invalid(format!(
        "A share page lists at most {} files, and there are more here: share smaller folders, each its own page: {item}",
        thousands(MAX_PAGE_FILES as u64)
    ))
}

/// The folder every key is in (`photos/2026/` for `photos/2026/a.jpg` and `photos/2026/b/c.jpg`).
fn common_folder<'a>(mut keys: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = keys.next() else {
        return String::new();
    };
    let mut common = first.rfind('/').map_or("", |i| &first[..=i]);
    for key in keys {
        while !key.starts_with(common) {
            common = common[..common.len() - 1]
                .rfind('/')
                .map_or("", |i| &common[..=i]);
        }
    }
    common.to_owned()
}

fn page_title(bucket: &str, items: &[S3Uri], base: &str, files: usize) -> String {
    match items {
        [one] if one.key.is_empty() => bucket.to_owned(),
        [one] if one.key.ends_with('/') => one
            .key
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(bucket)
            .to_owned(),
        _ if !base.is_empty() => format!(
            "{} from {}",
            files_count(files),
            base.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(bucket)
        ),
        _ => format!("{} from {bucket}", files_count(files)),
    }
}

/// The page: plain HTML that works with scripts off, every name escaped and isolated (`<bdi>`:
/// a right-to-left mark in one name cannot reorder the rest of the line), and a
/// Content-Security-Policy that lets no script run and nothing load, so even a name that
/// escaped its escaping could do nothing. `no-referrer`: the page's own link is a bearer token.
pub fn render_page(title: &str, files: &[PageFile], expires_at: SystemTime) -> String {
    let mut rows = String::new();
    for f in files {
        let _ = writeln!(
            rows,
            "      <tr><td><a href=\"{}\"><bdi>{}</bdi></a></td><td class=\"size\">{}</td></tr>",
            html_escape(f.request.url()),
            html_escape(&f.name),
            html_escape(&human_size(f.size)),
        );
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    let end = OffsetDateTime::from(expires_at);
    let until = format_iso(end);
    let when = format_utc_words(end);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
  <meta name="referrer" content="no-referrer">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 3rem auto; padding: 0 1rem; color: #1b262c; }}
    table {{ border-collapse: collapse; width: 100%; }}
    td, th {{ text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e0e6e8; }}
    .size {{ text-align: right; white-space: nowrap; color: #546e7a; }}
    .note {{ color: #546e7a; font-size: .9rem; }}
    a {{ color: #1f6f8b; word-break: break-all; }}
  </style>
</head>
<body>
  <h1><bdi>{title}</bdi></h1>
  <p class="note" id="summary">{count}, {total}. These links work until <time datetime="{until}">{when}</time>.</p>
  <table>
    <thead><tr><th>Name</th><th class="size">Size</th></tr></thead>
    <tbody>
{rows}    </tbody>
  </table>
  <p class="note">Shared with s3share. Each name downloads its file.</p>
</body>
</html>
"#,
        title = html_escape(title),
        count = files_count(files.len()),
        total = html_escape(&human_size(total)),
    )
}

/// Write the page into the bucket. A signer that may not write there is told so plainly;
/// nothing else has been made by then (the files' links are only signatures).
async fn write_page(conn: &Connection, page: &S3Uri, html: String) -> Result<()> {
    let (client, _) = conn.client_for_bucket(&page.bucket).await?;
    client
        .put_object()
        .bucket(&page.bucket)
        .key(&page.key)
        .content_type(PAGE_CONTENT_TYPE)
        .content_disposition("inline")
        .cache_control("private, no-store")
        .body(ByteStream::from(html.into_bytes()))
        .send()
        .await
        .map_err(|e| {
            let err = Error::from_sdk(&e, &page.to_string());
            if err.kind() == ErrorKind::AccessDenied {
                Error::new(
                    ErrorKind::AccessDenied,
                    format!(
                        "The signer may not write share pages into this bucket: give it s3:PutObject, s3:GetObject and s3:DeleteObject on {PAGES_PREFIX}* (s3share policy --pages prints it): {page}"
                    ),
                )
                .with_detail(err.detail().unwrap_or_default().to_owned())
            } else {
                err
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_folder_is_a_whole_folder() {
        let folder = |keys: &[&str]| common_folder(keys.iter().copied());
        assert_eq!(folder(&["a/b/c.txt", "a/b/d/e.txt"]), "a/b/");
        assert_eq!(folder(&["a/bc.txt", "a/bd.txt"]), "a/");
        assert_eq!(folder(&["ab/c", "ac/d"]), "");
        assert_eq!(folder(&["x.txt"]), "");
        assert_eq!(folder(&["p/x.txt"]), "p/");
    }
}
