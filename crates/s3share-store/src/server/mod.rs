//! Serving: the accept loop, the front door every request passes before s3s, and the rules
//! checked after the signature.

mod accept;
mod access;
mod front;

pub(crate) use accept::serve;
pub(crate) use front::Front;
