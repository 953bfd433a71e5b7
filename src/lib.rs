//! s3share: share files out of private S3 buckets with time-limited presigned links.
//!
//! `engine` knows S3 and nothing of egui; `gui` and `cli` are two fronts on it.

pub mod cli;
pub mod engine;
pub mod gui;
pub mod logging;
