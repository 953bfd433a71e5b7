//! Downloads: one stream up to the threshold (`single`), parallel ranges that resume above it
//! (`ranges`), side by side; `folder` is how files land in folders others can write to (no
//! link followed, nothing replaced unasked), `target` says where a download goes, and
//! `local_paths` turns the keys of a prefix into paths that stay inside the folder.

pub mod folder;
pub mod local_paths;
pub mod ranges;
pub mod single;
pub mod target;
mod writer;

use std::ffi::OsStr;
use std::sync::Arc;

use folder::Folder;

use crate::base::error::Result;
use crate::base::s3uri::S3Uri;
use crate::client::browse::head_object;
use crate::client::connection::Connection;
use crate::transfer::Progress;
use crate::transfer::settings::TransferSettings;

/// Download `object` to `name` in `folder` (resolved and checked by the caller): one stream,
/// or parallel ranges that resume above the threshold. `overwrite`: replace a file there.
pub async fn download_object(
    conn: &Connection,
    object: &S3Uri,
    (folder, name): (&Arc<Folder>, &OsStr),
    overwrite: bool,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<()> {
    let head = head_object(conn, object).await?;
    if head.size > settings.multipart_threshold {
        ranges::download_ranged(
            conn,
            object,
            head,
            (folder, name),
            overwrite,
            settings,
            progress,
        )
        .await
    } else {
        single::download_to(conn, object, (folder, name), overwrite, progress).await
    }
}
