//! One presigned PUT for a file up to 5 GiB: the engine signs it (content type, checksum and,
//! unless replacing, `If-None-Match: *`), then streams the file from disk with its
//! Content-Length. The whole file is never in memory.

use std::sync::Arc;
use std::time::SystemTime;

use super::body::{Unchanged, checksum_handle, put_body};
use super::source::{
    FileStamp, MAX_SINGLE_PUT, UploadOutcome, UploadRequest, changed_while_uploading,
    content_type_for, open_for_upload, refuse_existing,
};
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::base::signing::{PresignInput, presign};
use crate::client::connection::Connection;
use crate::client::http::{network_error, response_error};
use crate::transfer::Progress;

/// Upload `req.path` to `req.object` in one PUT.
pub async fn upload_single(
    conn: &Connection,
    req: &UploadRequest,
    progress: Progress<'_>,
) -> Result<UploadOutcome> {
    let key = req.object.require_linkable_object()?;
    // Opened once: the same handle is hashed and sent, so the file checked is the file uploaded.
    let (file, size) = open_for_upload(&req.path).await?;
    if size > MAX_SINGLE_PUT {
        return Err(Error::invalid(format!(
            "This file is larger than 5 GiB, the most one PUT can carry; it goes in parts instead: {}",
            req.path.display()
        )));
    }
    let stamp = FileStamp::now(&file, &req.path).await?;
    let region = conn.bucket_region(&req.object.bucket).await?;
    if !req.overwrite {
        refuse_existing(conn, &req.object).await?;
    }
    let file = Arc::new(file.into_std().await);
    let checksum = checksum_handle(&file, (0, size), req.checksum, &req.path).await?;
    if file.metadata().map(|m| FileStamp::of(&m)).ok() != Some(stamp) {
        return Err(changed_while_uploading(&req.path));
    }
    let content_type = content_type_for(key, &req.path);
    let creds = conn.signing_credentials().await?;
    let addr = conn.object_address(&req.object.bucket, key, &region);
    let mut headers = vec![
        ("content-type", content_type.as_str()),
        (req.checksum.header(), checksum.as_str()),
    ];
    if !req.overwrite {
        headers.push(("if-none-match", "*"));
    }
    let signed = presign(
        &creds,
        &PresignInput {
            method: "PUT",
            scheme: &addr.scheme,
            authority: &addr.authority,
            path: &addr.path,
            query: &[],
            headers: &headers,
            region: &region,
            // Long enough to start a slow upload; the signature is checked when it starts.
            expires: Expiry::new(std::time::Duration::from_secs(3600))?,
            now: SystemTime::now(),
        },
    );
    let probe = file.clone();
    let watched = file.clone();
    let sent = put_file(
        conn,
        &Put {
            url: signed.url(),
            headers: &signed.headers,
            size,
            unchanged: Arc::new(move || {
                watched.metadata().is_ok_and(|m| FileStamp::of(&m) == stamp)
            }),
        },
        file,
        progress,
        &req.object,
    )
    .await;
    if let Err(e) = sent {
        // A file that changed under the upload fails with that reason, not a checksum riddle.
        let changed = probe.metadata().map(|m| FileStamp::of(&m)).ok() != Some(stamp);
        return Err(if changed {
            changed_while_uploading(&req.path)
        } else {
            e
        });
    }
    Ok(UploadOutcome {
        object: req.object.clone(),
        size,
    })
}

/// A presigned PUT of a file's first `size` bytes.
struct Put<'a> {
    url: &'a str,
    headers: &'a [(String, String)],
    size: u64,
    /// Is the file still as it was when it was hashed? Asked before the last bytes go: a file
    /// that changed breaks the body off, so the server stores nothing.
    unchanged: Unchanged,
}

/// Stream the file to a presigned PUT URL.
async fn put_file(
    conn: &Connection,
    put: &Put<'_>,
    file: Arc<std::fs::File>,
    progress: Progress<'_>,
    object: &S3Uri,
) -> Result<()> {
    progress.set_total(put.size);
    let mut request = conn.http().put(put.url);
    for (n, v) in put.headers {
        request = request.header(n.as_str(), v.as_str());
    }
    let moved = std::sync::atomic::AtomicU64::new(0);
    let resp = put_body(
        request,
        file,
        (0, put.size),
        progress,
        put.unchanged.clone(),
        &moved,
    )
    .await;
    let resp = resp.map_err(|e| network_error(e, object))?;
    if resp.status().is_success() {
        progress.finish();
        return Ok(());
    }
    let err = response_error(resp, object).await;
    Err(if err.kind() == ErrorKind::Integrity {
        Error::new(
            ErrorKind::Integrity,
            format!("The upload was damaged on the way or the file changed while it was read; the server rejected it: {object}"),
        )
        .with_detail(err.detail().unwrap_or_default().to_owned())
    } else {
        err
    })
}
