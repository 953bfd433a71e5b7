//! Moving bytes: uploads by presigned PUT, downloads to a local file.

pub mod download;
pub mod upload;

/// Progress callback: bytes done and bytes in all. Called often; keep it cheap.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// A progress callback that does nothing.
pub fn no_progress(_done: u64, _total: u64) {}
