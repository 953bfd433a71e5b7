//! Moving bytes: uploads (one presigned PUT, or parts in parallel that resume) and downloads
//! (one stream, or ranges in parallel that resume), with their settings, retry rule and one
//! progress source.
//!
//! `upload` and `download` stand side by side on the pieces here (`settings`, `retry`,
//! `progress`, `names`, `resume`), never on each other.

pub mod download;
pub mod names;
pub mod progress;
pub mod ramp;
pub mod resume;
pub mod retry;
pub mod saver;
pub mod settings;
pub mod upload;

pub use progress::{ProgressSnapshot, TransferProgress};
pub use settings::TransferSettings;

/// Where a transfer reports how far it got.
pub type Progress<'a> = &'a TransferProgress;
