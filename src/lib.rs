//! s3share: share files out of private S3 buckets with time-limited presigned links.
//!
//! The app on top of the engine (`s3share-engine`, which knows S3 and nothing of any UI) and the
//! embedded store (`s3share-store`, an S3 server that knows nothing of the client): `cli` and
//! `gui` are two fronts on `engine::ops`, and `local` is the one place that starts the store or
//! finds the one already serving; `desktop` is what both ask of the desktop (window system,
//! browser).

pub mod cli;
pub mod desktop;
pub mod gui;
pub mod local;
pub mod logging;

/// The engine, under the name the fronts use.
pub use s3share_engine as engine;
