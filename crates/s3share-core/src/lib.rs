//! The small, pure pieces both halves of s3share need — the store that answers S3 requests and
//! the engine that makes them — so that neither has to import the other: SigV4's primitives
//! (key derivation, HMAC, URI encoding, POST-policy signatures), a secret that never shows
//! itself, S3's limits, the atomic private (0600) write, and the poison-tolerant lock.
//!
//! It imports nothing of ours, and nothing heavier than `sha2`/`hmac`/`serde`/`tempfile`.

pub mod fs;
pub mod limits;
pub mod secret;
pub mod sigv4;
pub mod sync;

pub use secret::{AccessKey, Secret};
pub use sync::lock;

/// The region used when nothing names one: AWS's own default, and the embedded store's.
pub const DEFAULT_REGION: &str = "us-east-1";
