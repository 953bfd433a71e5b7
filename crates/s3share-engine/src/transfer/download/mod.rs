//! Downloads: one stream up to the threshold (`single`), parallel ranges that resume above it
//! (`ranges`), side by side; `target` says where a download goes, `local_paths` turns the keys
//! of a prefix into paths that stay inside the folder.

pub mod local_paths;
pub mod ranges;
pub mod single;
pub mod target;

use std::path::{Path, PathBuf};

use crate::base::error::Result;
use crate::base::s3uri::S3Uri;
use crate::client::browse::head_object;
use crate::client::connection::Connection;
use crate::transfer::Progress;
use crate::transfer::settings::TransferSettings;

/// Download `object` to the file `target` (resolved and checked by the caller): one stream,
/// or parallel ranges that resume above the threshold. `overwrite`: replace a file there.
pub async fn download_object(
    conn: &Connection,
    object: &S3Uri,
    target: &Path,
    overwrite: bool,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let head = head_object(conn, object).await?;
    if head.size > settings.multipart_threshold {
        ranges::download_ranged(conn, object, head, target, overwrite, settings, progress).await
    } else {
        single::download_to(conn, object, target, overwrite, progress).await
    }
}
