//! The least-privilege IAM policy for a dedicated signing user or role: s3:GetObject on exactly
//! the prefix's objects; with uploads, s3:PutObject and the multipart actions on them (and the
//! listing below, which the existence check needs); with browsing, s3:ListBucket limited to the
//! prefix. Nothing beyond the prefix.

use serde_json::{Value, json};

use crate::base::s3uri::S3Uri;

/// What the signer will do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignerNeeds {
    /// Presigned uploads (PUT, parts) and upload requests.
    pub upload: bool,
    /// Listing the prefix (the browser, `ls`).
    pub browse: bool,
}

/// A prefix as it goes into an ARN or an `s3:prefix` condition: `*`, `?` and `$` are IAM
/// wildcards or variables there, so a key that holds them is written with policy variables
/// (`${*}`, `${?}`, `${$}`), which match the characters themselves.
fn arn_literal(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' => out.push_str("${$}"),
            _ => out.push(c),
        }
    }
    out
}

/// The policy (IAM JSON, ready to paste) for signing links under `location` (a bucket and a
/// prefix; an empty prefix means the whole bucket).
pub fn signer_policy(location: &S3Uri, needs: SignerNeeds) -> Value {
    let bucket_arn = format!("arn:aws:s3:::{}", location.bucket);
    let objects_arn = format!("{bucket_arn}/{}*", arn_literal(&location.key));
    let mut statements = vec![json!({
        "Sid": "ReadSharedObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [objects_arn],
    })];
    if needs.upload {
        statements.push(json!({
            "Sid": "UploadObjects",
            "Effect": "Allow",
            "Action": [
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            "Resource": [objects_arn],
        }));
    }
    // Listing the prefix also lets a HEAD of a missing key answer 404 rather than 403, which the
    // "never replace silently" check of uploads needs; unfinished uploads are listed per bucket.
    if needs.upload {
        statements.push(json!({
            "Sid": "ListUnfinishedUploads",
            "Effect": "Allow",
            "Action": ["s3:ListBucketMultipartUploads"],
            "Resource": [bucket_arn],
        }));
    }
    if needs.browse || needs.upload {
        statements.push(json!({
            "Sid": "ListThePrefix",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [format!("{}*", arn_literal(&location.key))]}},
        }));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": statements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_exactly_the_prefix() {
        let p = signer_policy(&S3Uri::new("team", "share/q3/"), SignerNeeds::default());
        assert_eq!(p["Statement"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            p["Statement"][0]["Resource"][0],
            "arn:aws:s3:::team/share/q3/*"
        );
        let all = signer_policy(
            &S3Uri::new("team", "a*b?$/"),
            SignerNeeds {
                upload: true,
                browse: true,
            },
        );
        let text = all.to_string();
        assert!(
            text.contains("arn:aws:s3:::team/a${*}b${?}${$}/*"),
            "{text}"
        );
        assert!(text.contains("s3:AbortMultipartUpload") && text.contains("s3:ListBucket"));
        assert_eq!(all["Statement"][3]["Resource"][0], "arn:aws:s3:::team");
        assert_eq!(all["Statement"][3]["Action"][0], "s3:ListBucket");
    }
}
