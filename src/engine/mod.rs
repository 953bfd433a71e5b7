//! The engine: everything that knows S3, and nothing of egui.

pub mod aws_files;
pub mod browse;
pub mod config;
pub mod connection;
pub mod error;
pub mod expiry;
pub mod humanize;
pub mod local_store;
pub mod location;
pub mod ops;
pub mod policy;
pub mod posture;
pub mod presign;
pub mod register;
pub mod request;
pub mod share;
pub mod transfer;

pub use browse::{BucketInfo, Entry, ObjectInfo, list_buckets, list_level};
pub use connection::{Connection, ConnectionSettings};
pub use error::{Error, ErrorKind, Result};
pub use expiry::Expiry;
pub use location::S3Uri;
pub use share::{ShareLink, ShareRequest, share, verify};
pub use transfer::upload::{ChecksumAlgorithm, UploadRequest, upload};
