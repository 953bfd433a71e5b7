//! Names on disk and the errors the disk answers with.

use md5::Digest as _;
use s3s::s3_error;

/// The bucket created on first run.
pub const DEFAULT_BUCKET: &str = "shared";

/// An object's files are named by the SHA-256 of its key, so any key S3 allows fits.
pub(crate) fn key_hash(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// A new data-file version: random, so versions never repeat across restarts.
pub(crate) fn new_version() -> std::io::Result<String> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(raw))
}

/// Create `path` (0600) holding `bytes`, without the fsyncs of a commit (seeding only).
pub(crate) fn create_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    s3share_core::fs::private_file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?
        .write_all(bytes)
}

/// A disk failure, as S3 answers one: 500, with the kind of failure and nothing of the path.
pub(crate) fn io_err(e: &std::io::Error) -> s3s::S3Error {
    s3_error!(InternalError, "local store I/O error: {}", e.kind())
}

/// S3's answer when a condition of the request does not hold.
pub(crate) fn precondition_failed() -> s3s::S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// MD5 of `bytes`, in hex: a single-PUT object's ETag.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}
