//! Buckets, one listing level (every page, handed out as it arrives), and object metadata.

use std::ops::ControlFlow;

use aws_sdk_s3::types::EncodingType;
use time::OffsetDateTime;

use super::connection::Connection;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::s3uri::S3Uri;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    pub name: String,
    pub created: Option<OffsetDateTime>,
}

/// An object's metadata, as a listing or HEAD gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    pub last_modified: Option<OffsetDateTime>,
    pub storage_class: Option<String>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
}

/// One entry of a listing level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A "folder": a common prefix, in full, ending in the delimiter.
    Prefix(String),
    Object(ObjectInfo),
}

fn to_time(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}

pub async fn list_buckets(conn: &Connection) -> Result<Vec<BucketInfo>> {
    let out = conn
        .client()
        .list_buckets()
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, "the bucket list"))?;
    Ok(out
        .buckets()
        .iter()
        .map(|b| BucketInfo {
            name: b.name().unwrap_or_default().to_owned(),
            created: b.creation_date().and_then(to_time),
        })
        .collect())
}

/// List the level under `prefix` with delimiter `/`, every page, calling `on_page` with each
/// page's entries as it arrives; `on_page` may stop the listing. Returns the number of entries.
pub async fn list_level(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    mut on_page: impl FnMut(Vec<Entry>) -> ControlFlow<()>,
) -> Result<usize> {
    let mut pager = LevelPager::new(conn, bucket, prefix).await?;
    let mut count = 0;
    while let Some((entries, _more)) = pager.next_page().await? {
        count += entries.len();
        if on_page(entries).is_break() {
            break;
        }
    }
    Ok(count)
}

/// One listing level, a page at a time, fetched only when asked (the browser asks as the user
/// scrolls).
pub struct LevelPager {
    pages: aws_smithy_async::future::pagination_stream::PaginationStream<
        std::result::Result<
            aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output,
            aws_sdk_s3::error::SdkError<
                aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
                aws_smithy_runtime_api::http::Response,
            >,
        >,
    >,
    target: String,
}

impl LevelPager {
    pub async fn new(conn: &Connection, bucket: &str, prefix: &str) -> Result<Self> {
        let target = S3Uri::new(bucket, prefix).to_string();
        let (client, _) = conn.client_for_bucket(bucket).await?;
        let pages = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .delimiter("/")
            // Keys may hold characters XML cannot carry; ask for URL encoding and decode only
            // when the server says it applied it (some stores ignore the request).
            .encoding_type(EncodingType::Url)
            .into_paginator()
            .send();
        Ok(Self { pages, target })
    }

    /// The next page's entries and whether more pages follow; `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<(Vec<Entry>, bool)>> {
        let Some(page) = self.pages.next().await else {
            return Ok(None);
        };
        let page = page.map_err(|e| Error::from_sdk(&e, &self.target))?;
        let encoded = page.encoding_type() == Some(&EncodingType::Url);
        let decode = |s: &str| -> String { if encoded { url_decode(s) } else { s.to_owned() } };
        let mut entries = Vec::with_capacity(page.common_prefixes().len() + page.contents().len());
        for p in page.common_prefixes() {
            if let Some(p) = p.prefix() {
                entries.push(Entry::Prefix(decode(p)));
            }
        }
        for o in page.contents() {
            entries.push(Entry::Object(ObjectInfo {
                key: decode(o.key().unwrap_or_default()),
                size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                last_modified: o.last_modified().and_then(to_time),
                storage_class: o.storage_class().map(|s| s.as_str().to_owned()),
                content_type: None,
                etag: o.e_tag().map(str::to_owned),
            }));
        }
        let more = page.is_truncated() == Some(true) && page.next_continuation_token().is_some();
        Ok(Some((entries, more)))
    }
}

/// Every object under `prefix`, at any depth (all pages), in key order.
pub async fn list_recursive(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ObjectInfo>> {
    list_recursive_up_to(conn, bucket, prefix, usize::MAX, |_| true).await
}

/// The objects under `prefix` that `keep` keeps, in key order, at any depth, the listing
/// stopped as soon as there are `max` of them.
pub async fn list_recursive_up_to(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    max: usize,
    keep: impl Fn(&ObjectInfo) -> bool,
) -> Result<Vec<ObjectInfo>> {
    let target = S3Uri::new(bucket, prefix).to_string();
    let (client, _) = conn.client_for_bucket(bucket).await?;
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .encoding_type(EncodingType::Url)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::from_sdk(&e, &target))?;
        let encoded = page.encoding_type() == Some(&EncodingType::Url);
        for o in page.contents() {
            let raw = o.key().unwrap_or_default();
            let info = ObjectInfo {
                key: if encoded {
                    url_decode(raw)
                } else {
                    raw.to_owned()
                },
                size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                last_modified: o.last_modified().and_then(to_time),
                storage_class: o.storage_class().map(|s| s.as_str().to_owned()),
                content_type: None,
                etag: o.e_tag().map(str::to_owned),
            };
            if keep(&info) {
                out.push(info);
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// S3's `encoding-type=url` form read back: `+` is a space (a real plus is `%2B`).
fn url_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// HEAD an object: does it exist, how big, what type.
pub async fn head_object(conn: &Connection, object: &S3Uri) -> Result<ObjectInfo> {
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    let out = client
        .head_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|e| {
            let err = Error::from_sdk(&e, &object.to_string());
            // HEAD answers carry no body, so a 404 has no code; the bucket was found already
            // (its region was asked), so it is the object that is missing.
            if err.kind() == ErrorKind::NotFound {
                Error::new(err.kind(), format!("No such object: {object}"))
            } else {
                err
            }
        })?;
    Ok(ObjectInfo {
        key: object.key.clone(),
        size: out
            .content_length()
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0),
        last_modified: out.last_modified().and_then(to_time),
        storage_class: out.storage_class().map(|s| s.as_str().to_owned()),
        content_type: out.content_type().map(str::to_owned),
        etag: out.e_tag().map(str::to_owned),
    })
}

/// Does the object exist? `Ok(false)` only for a clear "not found".
pub async fn object_exists(conn: &Connection, object: &S3Uri) -> Result<bool> {
    match head_object(conn, object).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound && !e.message().starts_with("No such bucket") => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Delete one object. Deleting a key that is not there is not an error (S3 semantics).
pub async fn delete_object(conn: &Connection, object: &S3Uri) -> Result<()> {
    object.require_object()?;
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    client
        .delete_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &object.to_string()))?;
    Ok(())
}

/// Make an empty "folder" under `parent` (a prefix ending in `/`, or empty): an empty object
/// whose key ends in `/`, as the S3 console does. Returns the new prefix.
pub async fn create_folder(
    conn: &Connection,
    bucket: &str,
    parent: &str,
    name: &str,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::invalid(format!(
            "Not a folder name: {name:?}. Use a name without \"/\""
        )));
    }
    let prefix = format!("{parent}{name}/");
    let target = S3Uri::new(bucket, prefix.clone());
    let (client, _) = conn.client_for_bucket(bucket).await?;
    client
        .put_object()
        .bucket(bucket)
        .key(&prefix)
        .content_length(0)
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &target.to_string()))?;
    Ok(prefix)
}
