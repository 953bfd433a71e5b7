//! S3's limits, stated once: what the engine must not ask for is what the store must refuse.

/// The largest object one PUT (or one POST form) may create: 5 GiB.
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;
/// The largest object a multipart upload may create: 5 TiB.
pub const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// The smallest part of a multipart upload but the last: 5 MiB.
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// The largest part: 5 GiB.
pub const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// Part numbers run from 1 to this.
pub const MAX_PARTS: u32 = 10_000;
/// A key is at most this many bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;
/// The longest a SigV4 presigned request (or POST policy) may live: 7 days, in seconds
/// (`X-Amz-Expires=604800`).
pub const MAX_EXPIRES_SECS: u64 = 7 * 24 * 3600;
/// The shortest: one second.
pub const MIN_EXPIRES_SECS: u64 = 1;
