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

/// The least-privilege IAM policy for signing links under `location` (a bucket and a prefix).
pub fn signer_policy(location: &S3Uri, needs: SignerNeeds) -> Result<Value> {
    location.require_prefix("A signer's policy covers a prefix")?;
    Ok(crate::trust::policy::signer_policy(location, needs))
}
