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
    // "never replace silently" check of uploads needs.
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

/// What a person should know about the policy for `location`: what it covers beyond a folder,
/// and what it deliberately leaves out.
pub fn policy_notes(location: &S3Uri, needs: SignerNeeds) -> Vec<String> {
    let mut notes = Vec::new();
    if location.key.is_empty() {
        notes.push(format!(
            "warning: no prefix was given, so this policy covers the whole bucket s3://{}; give s3://{}/FOLDER/ to cover one folder",
            location.bucket, location.bucket
        ));
    }
    if needs.upload {
        notes.push(format!(
            "note: listing unfinished uploads (`s3share uploads`) needs s3:ListBucketMultipartUploads, which IAM grants only on the whole bucket (arn:aws:s3:::{}); it is left out — add it only to a role that may see every upload in the bucket",
            location.bucket
        ));
    }
    notes
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
        assert!(
            !text.contains("ListBucketMultipartUploads"),
            "nothing on the whole bucket"
        );
        assert_eq!(all["Statement"][2]["Resource"][0], "arn:aws:s3:::team");
        assert_eq!(all["Statement"][2]["Action"][0], "s3:ListBucket");
        let notes = policy_notes(
            &S3Uri::new("team", ""),
            SignerNeeds {
                upload: true,
                browse: false,
            },
        );
        assert!(notes[0].contains("whole bucket s3://team"), "{notes:?}");
        assert!(notes[1].contains("ListBucketMultipartUploads"), "{notes:?}");
        assert!(policy_notes(&S3Uri::new("team", "a/"), SignerNeeds::default()).is_empty());
    }
}
