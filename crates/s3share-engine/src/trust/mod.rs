//! What protects a bucket: its posture (exposure), and the least-privilege policy of a signer.

pub mod policy;
pub mod posture;
