//! What protects a bucket: its posture (exposure), the bucket policy's rules for links
//! (guardrails), and the least-privilege policy of a signer.

pub mod guardrails;
pub mod policy;
pub mod posture;
