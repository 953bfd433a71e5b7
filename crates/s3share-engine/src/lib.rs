//! The engine: everything a user does with S3 — share links and share pages, uploads and
//! downloads at any size, upload requests, a bucket's posture, the signer's policy, the
//! register of links — and nothing of any UI. The desktop app and the CLI call [`ops`], one
//! function per user action, on one [`ops::Session`].
//!
//! Folders by concern, each importing only the ones before it:
//! - [`base`]: errors, `S3Uri`, expiry, wording, signing, the user's folders;
//! - [`client`]: the connection (endpoint, credentials, regions), the AWS files, saved
//!   settings, listings, HTTP error mapping;
//! - [`links`] (share, link checks, the register, upload requests), [`trust`] (posture,
//!   signer policy) and [`transfer`] (uploads, downloads, resume, retries, progress), which
//!   know nothing of each other;
//! - [`ops`]: the session and the operations the fronts call.

pub mod base;
pub mod client;
pub mod links;
pub mod ops;
pub mod transfer;
pub mod trust;

pub use base::error::{Error, ErrorKind, Result};
pub use base::expiry::Expiry;
pub use base::s3uri::S3Uri;
pub use client::browse::{BucketInfo, Entry, ObjectInfo};
pub use client::connection::{Connection, ConnectionSettings};
pub use links::page::{PageRequest, SharePage};
pub use links::share::{ShareLink, ShareRequest};
pub use ops::Session;
