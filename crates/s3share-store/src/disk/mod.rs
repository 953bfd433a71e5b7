//! The disk layer: one folder per bucket, every write committed at one point, reads that never
//! tear, multipart uploads kept until completed or aborted, and start-up recovery of what a
//! crash left. It answers in S3's errors (`s3s::S3Error`), which the operations above pass on.
//!
//! - `files`: names, versions, the errors the disk answers with;
//! - `meta`: an object's metadata and the data files it names;
//! - `receive`: a request body into a staging file, hashed as it arrives;
//! - `uploads`: the records of unfinished multipart uploads;
//! - `storage`: the [`Disk`] itself — index, commits, leases, recovery.

mod files;
mod meta;
mod receive;
mod storage;
mod uploads;

pub use files::DEFAULT_BUCKET;
pub(crate) use files::{io_err, precondition_failed};
pub(crate) use meta::ObjectMeta;
pub(crate) use receive::{ReceiveError, Received, receive};
pub(crate) use storage::{Disk, LeaseGuard, ObjectData, Precondition, now_nanos};
pub use storage::{folder_served, seed_objects};
pub(crate) use uploads::{PartMeta, UploadInfo};
