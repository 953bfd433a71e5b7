//! What everything else stands on: the engine's error, `s3://` addresses, link lifetimes,
//! every human wording, SigV4 signing, the user's folders, and running blocking work.

pub mod blocking;
pub mod error;
pub mod expiry;
pub mod paths;
pub mod s3uri;
pub mod signing;
pub mod wording;
