//! A bucket's posture and a signer's policy, on a session.

use serde_json::Value;

use super::session::Session;
use crate::base::error::Result;
use crate::base::s3uri::S3Uri;
use crate::trust::policy::SignerNeeds;
use crate::trust::posture::{Posture, posture};

impl Session {
    /// Read everything the server will say about `bucket`'s exposure.
    pub async fn posture(&self, bucket: &str) -> Result<Posture> {
        posture(self.connection(), bucket).await
    }
}

/// The bucket policy of AWS's presigned-link guardrails for `bucket` (its networks checked).
pub fn guardrail_policy(
    bucket: &S3Uri,
    max_age: crate::base::expiry::Expiry,
    networks: &[String],
) -> Result<Value> {
    for n in networks {
        if n.parse::<std::net::IpAddr>().is_err()
            && n.split_once('/').is_none_or(|(ip, bits)| {
                ip.parse::<std::net::IpAddr>().is_err() || bits.parse::<u8>().is_err()
            })
        {
            return Err(crate::base::error::Error::invalid(format!(
                "Not a network: {n:?} (like 203.0.113.0/24 or 2001:db8::/32)"
            )));
        }
    }
    Ok(crate::trust::policy::guardrail_policy(
        &bucket.bucket,
        max_age.duration(),
        networks,
    ))
}

/// The least-privilege IAM policy for signing links under `location` (a bucket and a prefix).
pub fn signer_policy(location: &S3Uri, needs: SignerNeeds) -> Result<Value> {
    location.require_prefix("A signer's policy covers a prefix")?;
    Ok(crate::trust::policy::signer_policy(location, needs))
}
