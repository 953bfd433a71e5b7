//! A download in one stream, into a temporary file beside the target renamed into place when
//! complete, so a failure never leaves a half-written file.

use std::ffi::OsStr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt as _;

use super::folder::{Folder, Scratch};

use crate::base::error::{Error, ErrorKind, Result, source_chain};
use crate::base::s3uri::S3Uri;
use crate::client::connection::Connection;
use crate::transfer::Progress;

/// Download `object` in one stream to `name` in `folder` (resolved and checked by the
/// caller), through a scratch file of a random name. Without `overwrite`, a file that appeared
/// at `name` meanwhile is kept (the rename refuses).
pub async fn download_to(
    conn: &Connection,
    object: &S3Uri,
    (folder, name): (&Arc<Folder>, &OsStr),
    overwrite: bool,
    progress: Progress<'_>,
) -> Result<()> {
    let target = folder.path().join(name);
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    let mut resp = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &object.to_string()))?;
    let total = resp
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let (temp, std_file) = Scratch::create(folder, ".s3share-download-")
        .map_err(|e| Error::local_io("write in", folder.path(), &e))?;
    let mut file =
        tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(std_file));
    let mut done = 0u64;
    progress.set_total(total);
    while let Some(chunk) = resp.body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("The download broke off; nothing was kept: {object}"),
            )
            .with_detail(source_chain(&e))
        })?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::local_io("write", &target, &e))?;
        done += chunk.len() as u64;
        progress.add(chunk.len() as u64);
    }
    file.flush()
        .await
        .map_err(|e| Error::local_io("write", &target, &e))?;
    file.into_inner()
        .sync_all()
        .await
        .map_err(|e| Error::local_io("write", &target, &e))?;
    if total != 0 && done != total {
        return Err(Error::new(
            ErrorKind::Network,
            format!("The download ended early; nothing was kept: {object}"),
        ));
    }
    temp.put_in_place(name, overwrite)
        .map_err(|e| Error::local_io("write", &target, &e))?;
    Ok(())
}
