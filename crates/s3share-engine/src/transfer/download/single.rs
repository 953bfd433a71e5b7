//! A download in one stream, into a temporary file beside the target renamed into place when
//! complete, so a failure never leaves a half-written file.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt as _;

use crate::base::error::{Error, ErrorKind, Result, source_chain};
use crate::base::s3uri::S3Uri;
use crate::client::connection::Connection;
use crate::transfer::Progress;

/// Download `object` to the file `target` (already resolved and checked by
/// [`super::download_object`]) in one stream. Returns the file written; without
/// `overwrite`, a file that appeared at `target` meanwhile is kept (the rename refuses).
pub async fn download_to(
    conn: &Connection,
    object: &S3Uri,
    target: &Path,
    overwrite: bool,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let target = target.to_path_buf();
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
    let dir = target
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    // Dropped (deleted) on any early return: nothing half-written is left behind. Created with
    // 0666 less the umask, as any other program's download would be.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".s3share-download-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder
        .tempfile_in(&dir)
        .map_err(|e| Error::local_io("write in", &dir, &e))?;
    let std_file = temp
        .reopen()
        .map_err(|e| Error::local_io("write", temp.path(), &e))?;
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
    let persisted = if overwrite {
        temp.persist(&target)
    } else {
        temp.persist_noclobber(&target)
    };
    persisted.map_err(|e| Error::local_io("write", &target, &e.error))?;
    Ok(target)
}
