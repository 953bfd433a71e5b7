//! Uploads: one presigned PUT up to the threshold (`single`), parts in parallel above it
//! (`parts`), side by side on the file they send (`source`) and how a body is read and sent
//! (`body`); `plan` expands dropped paths into files.

mod body;
pub mod parts;
pub mod plan;
pub mod single;
pub mod source;

pub use plan::{PlannedFile, plan_uploads};
pub use source::{ChecksumAlgorithm, UploadOutcome, UploadRequest, free_key};

use crate::base::error::Result;
use crate::client::connection::Connection;
use crate::transfer::Progress;
use crate::transfer::settings::{MAX_SINGLE_PUT, TransferSettings};

/// Upload `request.path` to `request.object`: one PUT, or in parts above the threshold (and
/// always above 5 GiB, the most one PUT can carry).
pub async fn upload_file(
    conn: &Connection,
    request: &UploadRequest,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<UploadOutcome> {
    let size = tokio::fs::metadata(&request.path)
        .await
        .map_or(0, |m| m.len());
    if size > settings.multipart_threshold || size > MAX_SINGLE_PUT {
        parts::upload_parts(conn, request, settings, progress).await
    } else {
        single::upload_single(conn, request, progress).await
    }
}
