//! Rules checked after s3s has verified the signature, before the operation runs: a signature
//! is required, presigned links live at most 7 days, and a request signed for another region
//! gets S3's 301 with `x-amz-bucket-region`.

use s3s::{S3Result, s3_error};
use s3share_core::limits::MAX_EXPIRES_SECS;

use crate::s3::{decoded_query, wrong_region};

pub(super) struct AccessRules {
    pub region: String,
    /// Access keys whose signatures verify but which may do nothing.
    pub without_rights: Vec<String>,
}

/// Refuse a presigned link asked to live longer than 7 days (or with its lifetime given twice
/// or not as a number), as S3 does.
fn check_presigned_expiry(query: &[(String, String)]) -> S3Result<()> {
    let mut values = query
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("X-Amz-Expires"))
        .map(|(_, v)| v.as_str());
    let Some(first) = values.next() else {
        return Ok(());
    };
    let valid =
        values.next().is_none() && first.parse::<u64>().is_ok_and(|s| s <= MAX_EXPIRES_SECS);
    if valid {
        Ok(())
    } else {
        Err(s3_error!(
            AuthorizationQueryParametersError,
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"
        ))
    }
}

/// The region in a request's credential scope (`AK/20260101/REGION/s3/aws4_request`).
fn signed_region(query: &[(String, String)], headers: &hyper::HeaderMap) -> Option<String> {
    let scope = if let Some((_, v)) = query.iter().find(|(n, _)| n == "X-Amz-Credential") {
        v.clone()
    } else {
        let auth = headers.get("authorization")?.to_str().ok()?;
        let start = auth.find("Credential=")? + "Credential=".len();
        auth[start..].split([',', ' ']).next()?.to_owned()
    };
    scope.split('/').nth(2).map(str::to_owned)
}

#[async_trait::async_trait]
impl s3s::access::S3Access for AccessRules {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let Some(creds) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        };
        if self.without_rights.contains(&creds.access_key) {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        let query = decoded_query(cx.uri().query().unwrap_or(""));
        check_presigned_expiry(&query)?;
        let is_bucket_request = !matches!(cx.s3_path(), s3s::path::S3Path::Root);
        if is_bucket_request
            && let Some(region) = signed_region(&query, cx.headers())
            && region != self.region
        {
            return Err(wrong_region(&self.region));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_or_repeated_expiries_are_read_as_the_server_reads_them() {
        let q = |s: &str| check_presigned_expiry(&decoded_query(s)).is_ok();
        assert!(q("X-Amz-Expires=900&X-Amz-Signature=ab"));
        assert!(q("X-Amz-Expires=604800"));
        assert!(!q("X-Amz-Expires=604801"));
        assert!(!q("X-Amz-%45xpires=31536000"));
        assert!(!q("x-amz-expires=31536000"));
        assert!(!q("X-Amz-Expires=900&X-Amz-Expires=900"));
        assert!(!q("X-Amz-Expires=-1"));
        assert!(!q("X-Amz-Expires=1e9"));
        assert!(q("other=1"));
    }
}
