//! A bucket's exposure, read, never changed: Block Public Access, the policy status, ACL grants
//! to everyone, default encryption, versioning, object ownership and server access logging.
//!
//! The verdict is `Public` only when something does make objects public (a public policy or
//! an ACL grant to AllUsers/AuthenticatedUsers that Block Public Access does not neutralise);
//! Block Public Access being off is a warning under `Private`, not a verdict. `Unknown` means
//! the server does not say (NotImplemented is an answer). Nothing here ever sets Block Public
//! Access: on Ceph radosgw, BlockPublicAcls refuses every PUT, even the owner's.

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::base::error::{Error, ErrorKind, HttpStatus, Result};
use crate::client::connection::Connection;
use crate::trust::guardrails::read_guardrails;

/// What makes a bucket's objects reachable without a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Private,
    /// With what makes it public.
    Public(Vec<String>),
    /// The server does not say.
    Unknown,
}

impl Verdict {
    /// The word printed first: `Private`, `Public` or `Unknown`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Private => "Private",
            Self::Public(_) => "Public",
            Self::Unknown => "Unknown",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub name: &'static str,
    pub value: String,
    /// Worth a person's attention (no audit trail, Block Public Access off, ...).
    pub warning: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    pub bucket: String,
    pub verdict: Verdict,
    pub facts: Vec<Fact>,
}

/// How one read came out.
enum Answer<T> {
    Value(T),
    /// The documented "nothing is set" error (NoSuchBucketPolicy, ...).
    NotSet,
    /// NotImplemented, or a method the server does not know.
    Unsupported,
    /// These credentials may not read it.
    Denied,
    /// The server answered something that could not be read (an empty or malformed
    /// document, an error of no known meaning): this fact is unknown, the others still count.
    Unreadable,
}

/// Sort an SDK error into "nothing set", "not supported", or a real failure.
fn classify<T, E, R>(
    result: std::result::Result<T, aws_sdk_s3::error::SdkError<E, R>>,
    not_set: &[&str],
    target: &str,
) -> Result<Answer<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HttpStatus + std::fmt::Debug + 'static,
{
    match result {
        Ok(v) => Ok(Answer::Value(v)),
        Err(e) => {
            let code = e.as_service_error().and_then(ProvideErrorMetadata::code);
            let status = e.raw_response().map(HttpStatus::status_code);
            if code.is_some_and(|c| not_set.contains(&c)) {
                return Ok(Answer::NotSet);
            }
            if code == Some("AccessDenied") || status == Some(403) {
                return Ok(Answer::Denied);
            }
            if matches!(
                code,
                Some("NotImplemented" | "MethodNotAllowed" | "InvalidRequest")
            ) || matches!(status, Some(501 | 405))
            {
                return Ok(Answer::Unsupported);
            }
            let err = Error::from_sdk(&e, target);
            // Some stores answer an unknown sub-resource with a plain 404 or 400.
            if matches!(status, Some(400 | 404)) && err.kind() != ErrorKind::NotFound
                || code.is_none() && status == Some(404)
            {
                return Ok(Answer::Unsupported);
            }
            // A missing bucket or unusable credentials end the whole check; anything else
            // makes this one fact unknown.
            match err.kind() {
                ErrorKind::NotFound
                | ErrorKind::NoCredentials
                | ErrorKind::ExpiredCredentials
                | ErrorKind::ClockSkew => Err(err),
                _ => {
                    tracing::debug!(
                        "posture: an answer could not be read ({err}); that fact is unknown"
                    );
                    Ok(Answer::Unreadable)
                }
            }
        }
    }
}

/// Why a fact is not known.
/// A fact whose answer came but said nothing that could be read.
const UNREADABLE: &str = "unknown (the server's answer could not be read)";

fn unknown_text<T>(answer: &Answer<T>) -> String {
    match answer {
        Answer::Denied => "unknown (these credentials may not read it)".into(),
        Answer::Unreadable => UNREADABLE.into(),
        _ => "unknown (the server does not say)".into(),
    }
}

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

fn fact(name: &'static str, value: impl Into<String>, warning: bool) -> Fact {
    Fact {
        name,
        value: value.into(),
        warning,
    }
}

/// The reads of one bucket.
struct Reader {
    client: aws_sdk_s3::Client,
    bucket: String,
    target: String,
}

/// Block Public Access's four settings.
#[derive(Clone, Copy, Default)]
struct Blocks {
    ignore_acls: bool,
    restrict_policy: bool,
}

impl Reader {
    async fn block_public_access(&self) -> Result<(Fact, Blocks)> {
        let answer = classify(
            self.client
                .get_public_access_block()
                .bucket(&self.bucket)
                .send()
                .await,
            &["NoSuchPublicAccessBlockConfiguration"],
            &self.target,
        )?;
        let name = "Block Public Access";
        Ok(match answer {
            Answer::Value(out) => {
                use aws_sdk_s3::types::PublicAccessBlockConfiguration as C;
                let c = out.public_access_block_configuration();
                let given = |f: fn(&C) -> Option<bool>| c.and_then(f);
                let none_given = [
                    given(C::block_public_acls),
                    given(C::ignore_public_acls),
                    given(C::block_public_policy),
                    given(C::restrict_public_buckets),
                ]
                .iter()
                .all(Option::is_none);
                if none_given {
                    // An empty document is no answer: none of the four is known.
                    return Ok((fact(name, UNREADABLE, false), Blocks::default()));
                }
                let on = |f: fn(&C) -> Option<bool>| given(f).unwrap_or(false);
                let settings = [
                    ("BlockPublicAcls", on(C::block_public_acls)),
                    ("IgnorePublicAcls", on(C::ignore_public_acls)),
                    ("BlockPublicPolicy", on(C::block_public_policy)),
                    ("RestrictPublicBuckets", on(C::restrict_public_buckets)),
                ];
                let off: Vec<&str> = settings
                    .iter()
                    .filter(|(_, on)| !on)
                    .map(|(n, _)| *n)
                    .collect();
                let blocks = Blocks {
                    ignore_acls: settings[1].1,
                    restrict_policy: settings[3].1,
                };
                if off.is_empty() {
                    (fact(name, "on (all four settings)", false), blocks)
                } else {
                    (
                        fact(
                            name,
                            format!(
                                "partly off: {} (nothing stops a public policy or ACL from being added)",
                                off.join(", ")
                            ),
                            true,
                        ),
                        blocks,
                    )
                }
            }
            Answer::NotSet => (
                fact(
                    name,
                    "not set for this bucket (nothing stops a public policy or ACL from being added)",
                    true,
                ),
                Blocks::default(),
            ),
            other @ (Answer::Unsupported | Answer::Denied | Answer::Unreadable) => {
                (fact(name, unknown_text(&other), false), Blocks::default())
            }
        })
    }

    /// The policy's fact, and why it makes the bucket public (`Some`), or `None`; `Err(())`
    /// inside: not known.
    async fn policy(
        &self,
        blocks: Blocks,
    ) -> Result<(Fact, std::result::Result<Option<String>, ()>)> {
        let name = "Bucket policy";
        let answer = classify(
            self.client
                .get_bucket_policy_status()
                .bucket(&self.bucket)
                .send()
                .await,
            &["NoSuchBucketPolicy"],
            &self.target,
        )?;
        Ok(match answer {
            Answer::Value(out) => {
                let Some(is_public) = out
                    .policy_status()
                    .and_then(aws_sdk_s3::types::PolicyStatus::is_public)
                else {
                    return Ok((fact(name, UNREADABLE, false), Err(())));
                };
                if is_public && !blocks.restrict_policy {
                    (
                        fact(name, "public: it grants access to everyone", true),
                        Ok(Some("the bucket policy grants public access".into())),
                    )
                } else if is_public {
                    (
                        fact(name, "public, but RestrictPublicBuckets blocks it", true),
                        Ok(None),
                    )
                } else {
                    (fact(name, "not public", false), Ok(None))
                }
            }
            Answer::NotSet => (fact(name, "none", false), Ok(None)),
            // Unknown, but RestrictPublicBuckets keeps any public policy from applying.
            other @ (Answer::Unsupported | Answer::Denied | Answer::Unreadable)
                if blocks.restrict_policy =>
            {
                (fact(name, unknown_text(&other), false), Ok(None))
            }
            other @ (Answer::Unsupported | Answer::Denied | Answer::Unreadable) => {
                (fact(name, unknown_text(&other), false), Err(()))
            }
        })
    }

    /// As [`Reader::policy`], for the bucket ACL's grants to everyone.
    async fn acl(&self, blocks: Blocks) -> Result<(Fact, std::result::Result<Option<String>, ()>)> {
        let name = "ACL";
        let answer = classify(
            self.client
                .get_bucket_acl()
                .bucket(&self.bucket)
                .send()
                .await,
            &[],
            &self.target,
        )?;
        let Answer::Value(out) = answer else {
            // Unknown, but IgnorePublicAcls keeps any public grant from applying.
            let known = if blocks.ignore_acls {
                Ok(None)
            } else {
                Err(())
            };
            return Ok((fact(name, unknown_text(&answer), false), known));
        };
        let open: Vec<String> = out
            .grants()
            .iter()
            .filter_map(|g| {
                let who = match g.grantee().and_then(aws_sdk_s3::types::Grantee::uri)? {
                    ALL_USERS => "everyone (AllUsers)",
                    AUTHENTICATED_USERS => "any AWS account (AuthenticatedUsers)",
                    _ => return None,
                };
                let what = g.permission().map_or("access", |p| p.as_str());
                Some(format!("{what} to {who}"))
            })
            .collect();
        Ok(if open.is_empty() {
            (
                fact(name, "private (no grants to everyone)", false),
                Ok(None),
            )
        } else if blocks.ignore_acls {
            (
                fact(
                    name,
                    format!(
                        "grants {}, but IgnorePublicAcls neutralises it",
                        open.join(", ")
                    ),
                    true,
                ),
                Ok(None),
            )
        } else {
            let grants = open.join(", ");
            (
                fact(name, format!("grants {grants}"), true),
                Ok(Some(format!("the bucket ACL grants {grants}"))),
            )
        })
    }

    async fn encryption(&self) -> Result<Fact> {
        let name = "Default encryption";
        let answer = classify(
            self.client
                .get_bucket_encryption()
                .bucket(&self.bucket)
                .send()
                .await,
            &["ServerSideEncryptionConfigurationNotFoundError"],
            &self.target,
        )?;
        Ok(match answer {
            Answer::Value(out) => {
                let algorithms: Vec<String> = out
                    .server_side_encryption_configuration()
                    .map(|c| {
                        c.rules()
                            .iter()
                            .filter_map(|r| r.apply_server_side_encryption_by_default())
                            .map(|d| d.sse_algorithm().as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                if algorithms.is_empty() {
                    // A configuration with no rule says nothing about what is applied.
                    fact(name, UNREADABLE, false)
                } else {
                    fact(name, algorithms.join(", "), false)
                }
            }
            Answer::NotSet => fact(name, "none: objects are stored unencrypted", true),
            other @ (Answer::Unsupported | Answer::Denied | Answer::Unreadable) => {
                fact(name, unknown_text(&other), false)
            }
        })
    }

    async fn versioning(&self) -> Result<Fact> {
        let name = "Versioning";
        let answer = classify(
            self.client
                .get_bucket_versioning()
                .bucket(&self.bucket)
                .send()
                .await,
            &[],
            &self.target,
        )?;
        Ok(match answer {
            Answer::Value(out) => match out.status() {
                Some(s) => fact(name, s.as_str().to_lowercase(), false),
                None => fact(name, "never enabled (a deleted object is gone)", false),
            },
            other => fact(name, unknown_text(&other), false),
        })
    }

    async fn ownership(&self) -> Result<Fact> {
        let name = "Object ownership";
        let answer = classify(
            self.client
                .get_bucket_ownership_controls()
                .bucket(&self.bucket)
                .send()
                .await,
            &["OwnershipControlsNotFoundError"],
            &self.target,
        )?;
        Ok(match answer {
            Answer::Value(out) => {
                let Some(rule) = out
                    .ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_owned())
                    .filter(|r| !r.is_empty())
                else {
                    return Ok(fact(name, UNREADABLE, false));
                };
                let note = if rule == "BucketOwnerEnforced" {
                    " (ACLs disabled)"
                } else {
                    ""
                };
                fact(name, format!("{rule}{note}"), false)
            }
            Answer::NotSet => fact(name, "not set (ACLs in use)", false),
            other @ (Answer::Unsupported | Answer::Denied | Answer::Unreadable) => {
                fact(name, unknown_text(&other), false)
            }
        })
    }

    async fn logging(&self) -> Result<Fact> {
        let name = "Access logging";
        let answer = classify(
            self.client
                .get_bucket_logging()
                .bucket(&self.bucket)
                .send()
                .await,
            &[],
            &self.target,
        )?;
        Ok(match answer {
            Answer::Value(out) => match out.logging_enabled() {
                Some(l) => fact(
                    name,
                    format!("on, to s3://{}/{}", l.target_bucket(), l.target_prefix()),
                    false,
                ),
                None => fact(name, "off: no audit trail of who fetched what", true),
            },
            other => fact(name, unknown_text(&other), false),
        })
    }
}

/// Read everything the server will say about `bucket`'s exposure.
pub async fn posture(conn: &Connection, bucket: &str) -> Result<Posture> {
    let (client, _) = conn.client_for_bucket(bucket).await?;
    let reader = Reader {
        client,
        bucket: bucket.to_owned(),
        target: format!("s3://{bucket}"),
    };
    let (bpa, blocks) = reader.block_public_access().await?;
    let (policy, by_policy) = reader.policy(blocks).await?;
    let (acl, by_acl) = reader.acl(blocks).await?;
    let mut facts = vec![
        bpa,
        policy,
        acl,
        reader.encryption().await?,
        reader.versioning().await?,
        reader.ownership().await?,
        reader.logging().await?,
    ];
    // The bucket policy's rules for links on the whole bucket, where it can be read (key "":
    // rules on a single prefix show when a link there is made).
    if let Some(rails) = read_guardrails(conn, bucket, "").await {
        let lines = rails.lines();
        if lines.is_empty() {
            facts.push(fact(
                "Link guardrails",
                "none for the whole bucket (a rule on one prefix shows when a link there is made)",
                false,
            ));
        }
        for line in lines {
            facts.push(fact("Link guardrails", line, rails.refused.is_some()));
        }
    }
    Ok(Posture {
        bucket: bucket.to_owned(),
        verdict: verdict(&by_policy, &by_acl),
        facts,
    })
}

/// What makes objects public (`Ok(Some(why))`), nothing (`Ok(None)`), or not known (`Err`).
type Exposure = std::result::Result<Option<String>, ()>;

/// The verdict from the two things that can make objects public: `Public` when either does
/// (whatever the other), `Private` when both are known not to, else `Unknown`.
fn verdict(by_policy: &Exposure, by_acl: &Exposure) -> Verdict {
    let public: Vec<String> = [by_policy, by_acl]
        .into_iter()
        .filter_map(|r| r.clone().ok().flatten())
        .collect();
    if !public.is_empty() {
        Verdict::Public(public)
    } else if by_policy.is_err() || by_acl.is_err() {
        Verdict::Unknown
    } else {
        Verdict::Private
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_wins_private_needs_both_known() {
        let open = Ok(Some("the bucket policy grants public access".to_owned()));
        assert_eq!(
            verdict(&open, &Err(())),
            Verdict::Public(vec!["the bucket policy grants public access".into()])
        );
        assert_eq!(verdict(&Ok(None), &Ok(None)), Verdict::Private);
        assert_eq!(verdict(&Ok(None), &Err(())), Verdict::Unknown);
        assert_eq!(verdict(&Err(()), &Ok(None)), Verdict::Unknown);
        assert_eq!(Verdict::Unknown.word(), "Unknown");
    }

    #[test]
    fn unknown_facts_say_why() {
        assert!(unknown_text(&Answer::<()>::Unreadable).contains("could not be read"));
        assert!(unknown_text(&Answer::<()>::Denied).contains("may not read"));
        assert!(unknown_text(&Answer::<()>::Unsupported).contains("does not say"));
    }
}
