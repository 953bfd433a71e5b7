//! The least-privilege IAM policy for a dedicated signing user or role: s3:GetObject on exactly
//! the prefix's objects; with uploads, s3:PutObject and the multipart actions on them (and the
//! listing below, which the existence check needs); with browsing, s3:ListBucket limited to the
//! prefix. Nothing beyond the prefix.

use serde_json::{Value, json};

use crate::base::s3uri::{PAGES_PREFIX, S3Uri};

/// What the signer will do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignerNeeds {
    /// Presigned uploads (PUT, parts) and upload requests.
    pub upload: bool,
    /// Listing the prefix (the browser, `ls`).
    pub browse: bool,
    /// Share pages: writing, reading and deleting s3share's own pages (and listing the prefix,
    /// for a folder's page).
    pub pages: bool,
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
    if needs.pages {
        statements.push(json!({
            "Sid": "SharePages",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": [format!("{bucket_arn}/{PAGES_PREFIX}*")],
        }));
    }
    // Listing the prefix also lets a HEAD of a missing key answer 404 rather than 403, which the
    // "never replace silently" check of uploads needs.
    if needs.browse || needs.upload || needs.pages {
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

/// The guardrails AWS recommends for presigned links, as a bucket policy for `bucket`, ready to
/// paste: every link dies `max_age` after it is signed (`s3:signatureAge`, in milliseconds),
/// only over HTTPS (`aws:SecureTransport`), never with SigV2 (`s3:signatureversion`), and with
/// `networks` only from them (`aws:SourceIp`). Deny statements only: they take nothing away from
/// requests signed in the header by the bucket's own tools, except plain HTTP and SigV2.
pub fn guardrail_policy(bucket: &str, max_age: std::time::Duration, networks: &[String]) -> Value {
    let objects = format!("arn:aws:s3:::{bucket}/*");
    let mut statements = vec![
        json!({
            "Sid": "LinksDieAfterMaxAge",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [objects],
            "Condition": {"NumericGreaterThan": {"s3:signatureAge": u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX)}},
        }),
        json!({
            "Sid": "OnlyHttps",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }),
        json!({
            "Sid": "NoSigV2",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [objects],
            "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}},
        }),
    ];
    if !networks.is_empty() {
        statements.push(json!({
            "Sid": "LinksOnlyFromTheseNetworks",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": [objects],
            "Condition": {
                "NotIpAddress": {"aws:SourceIp": networks},
                "StringEquals": {"s3:authType": "REST-QUERY-STRING"},
            },
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
                pages: false,
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
                pages: false,
            },
        );
        assert!(notes[0].contains("whole bucket s3://team"), "{notes:?}");
        assert!(notes[1].contains("ListBucketMultipartUploads"), "{notes:?}");
        assert!(policy_notes(&S3Uri::new("team", "a/"), SignerNeeds::default()).is_empty());
    }

    #[test]
    fn the_guardrail_policy_reads_back_as_its_own_guardrails() {
        use crate::trust::guardrails::{LinkContext, guardrails};
        let policy = guardrail_policy(
            "team",
            std::time::Duration::from_secs(600),
            &["203.0.113.0/24".to_owned()],
        );
        let ctx = LinkContext {
            bucket: "team",
            key: "a/b.pdf",
            https: true,
        };
        let read = guardrails(&policy.to_string(), ctx).expect("json");
        assert_eq!(
            read.max_signature_age,
            Some(std::time::Duration::from_secs(600))
        );
        assert!(read.refused.is_none(), "https SigV4 links still work");
        assert_eq!(read.only_from, ["203.0.113.0/24"]);
        let http = guardrails(
            &policy.to_string(),
            LinkContext {
                https: false,
                ..ctx
            },
        )
        .expect("json");
        assert!(http.refused.is_some(), "plain-HTTP links are refused");
    }

    #[test]
    fn pages_get_their_own_prefix_and_nothing_wider() {
        let p = signer_policy(
            &S3Uri::new("team", "q3/"),
            SignerNeeds {
                pages: true,
                ..SignerNeeds::default()
            },
        );
        let pages = &p["Statement"][1];
        assert_eq!(pages["Sid"], "SharePages");
        assert_eq!(pages["Resource"][0], "arn:aws:s3:::team/.s3share/pages/*");
        assert_eq!(
            pages["Action"],
            serde_json::json!(["s3:PutObject", "s3:GetObject", "s3:DeleteObject"])
        );
        // Writing stays off the prefix itself; a folder's page lists it.
        assert_eq!(
            p["Statement"][0]["Action"],
            serde_json::json!(["s3:GetObject"])
        );
        assert_eq!(p["Statement"][2]["Action"][0], "s3:ListBucket");
        assert_eq!(p["Statement"].as_array().map(Vec::len), Some(3));
    }
}
