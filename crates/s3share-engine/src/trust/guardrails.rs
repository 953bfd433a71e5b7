//! The bucket policy's rules for presigned links (AWS's presigned-URL guardrails), read as IAM
//! evaluates them for a presigned GET of one key: a Deny with `s3:signatureAge` ends every link
//! that long after signing, `s3:authType` other than `REST-QUERY-STRING` refuses them all,
//! `aws:SourceIp` / `aws:SourceVpce` / `aws:SourceVpc` limit where they work from, and
//! `aws:SecureTransport` refuses plain HTTP. Deny wins; `…IfExists` operators read as their base
//! (these keys are always present for a presigned request); values in a list are OR; a
//! statement's conditions are AND. A statement that names its principals, or has conditions
//! s3share cannot know, "may" apply: it depends on who asks.

use std::time::Duration;

use serde_json::Value;

use crate::client::connection::Connection;

/// The guardrails a presigned GET of `key` meets in `bucket`'s policy, or `None` when the
/// policy cannot be read (none set, not allowed to read it, a server that does not say): then
/// nothing is known and nothing is claimed.
pub async fn read_guardrails(conn: &Connection, bucket: &str, key: &str) -> Option<Guardrails> {
    let (client, region) = conn.client_for_bucket(bucket).await.ok()?;
    let policy = client
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()?
        .policy?;
    let https = conn.object_address(bucket, key, &region).scheme == "https";
    guardrails(&policy, LinkContext { bucket, key, https })
}

/// What a presigned GET of the key meets in the bucket policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guardrails {
    /// Links stop working this long after they are signed (the shortest such rule).
    pub max_signature_age: Option<Duration>,
    /// No presigned link can work: why, in words.
    pub refused: Option<String>,
    /// Links work only from these networks (`aws:SourceIp`).
    pub only_from: Vec<String>,
    /// Links are refused from these networks.
    pub not_from: Vec<String>,
    /// Links work only through these VPC endpoints or VPCs.
    pub only_through: Vec<String>,
    /// Deny statements that may apply, depending on who asks or on conditions not read here.
    pub may: Vec<String>,
}

/// How a presigned GET is made: the facts the conditions are evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct LinkContext<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The link is `https`.
    pub https: bool,
}

impl Guardrails {
    /// Nothing in the policy bears on links.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// One line per rule, in words, with the condition key that makes it.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(why) = &self.refused {
            out.push(why.clone());
        }
        if let Some(age) = self.max_signature_age {
            out.push(format!(
                "links die {} after they are signed (s3:signatureAge)",
                crate::base::wording::format_duration(age)
            ));
        }
        if !self.only_from.is_empty() {
            out.push(format!(
                "links work only from {} (aws:SourceIp)",
                self.only_from.join(", ")
            ));
        }
        if !self.not_from.is_empty() {
            out.push(format!(
                "links are refused from {} (aws:SourceIp)",
                self.not_from.join(", ")
            ));
        }
        if !self.only_through.is_empty() {
            out.push(format!(
                "links work only through {} (aws:SourceVpce / aws:SourceVpc)",
                self.only_through.join(", ")
            ));
        }
        out.extend(self.may.iter().cloned());
        out
    }
}

/// Read `policy` (a bucket policy document) for a presigned GET in `ctx`. A document that is
/// not JSON gives `None`: nothing is known.
pub fn guardrails(policy: &str, ctx: LinkContext<'_>) -> Option<Guardrails> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let mut out = Guardrails::default();
    for st in as_list(doc.get("Statement")) {
        if st.get("Effect").and_then(Value::as_str) != Some("Deny")
            || !covers_get_object(st)
            || !covers_key(st, ctx)
        {
            continue;
        }
        let principal = st.get("Principal");
        let everyone = as_list(principal)
            .chain(as_list(principal.and_then(|p| p.get("AWS"))))
            .any(|p| p.as_str() == Some("*"));
        read_statement(st, ctx, everyone, &mut out);
    }
    Some(out)
}

/// What one Deny statement that covers the GET means for links.
fn read_statement(st: &Value, ctx: LinkContext<'_>, everyone: bool, out: &mut Guardrails) {
    let sid = st
        .get("Sid")
        .and_then(Value::as_str)
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    // The conditions whose answer is known for every presigned GET, and the one that varies.
    let mut varying: Option<Rule> = None;
    let mut unknown: Vec<String> = Vec::new();
    let mut reasons: Vec<&str> = Vec::new();
    for (op, keys) in st
        .get("Condition")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let base_op = op.strip_suffix("IfExists").unwrap_or(op);
        for (key, values) in keys.as_object().into_iter().flatten() {
            let values: Vec<String> = as_list(Some(values))
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                })
                .collect();
            match condition(base_op, &key.to_ascii_lowercase(), &values, ctx) {
                Condition::Holds(why) => reasons.push(why),
                Condition::Fails => return,
                Condition::Varies(rule) if varying.is_none() => varying = Some(rule),
                Condition::Varies(_) | Condition::Unknown => unknown.push(format!("{op} {key}")),
            }
        }
    }
    if !everyone || !unknown.is_empty() {
        let keys = if unknown.is_empty() {
            String::new()
        } else {
            format!(" on {}", unknown.join(", "))
        };
        let who = if everyone { "" } else { " for some signers" };
        out.may.push(format!(
            "a Deny statement{sid} may refuse links{who}{keys}: it depends on who asks"
        ));
        return;
    }
    match varying {
        None => {
            if out.refused.is_none() {
                let why = if reasons.is_empty() {
                    "every GetObject".to_owned()
                } else {
                    reasons.join(", ")
                };
                out.refused = Some(format!(
                    "presigned links are refused in this bucket: the bucket policy denies {why}{sid}"
                ));
            }
        }
        Some(Rule::MaxAge(age)) => {
            out.max_signature_age = Some(out.max_signature_age.map_or(age, |a| a.min(age)));
        }
        // Two "only from" rules mean the overlap of their networks, which s3share does not
        // work out: the second one is reported as a "may".
        Some(Rule::OnlyFrom(nets)) if out.only_from.is_empty() => out.only_from = nets,
        Some(Rule::OnlyThrough(ids)) if out.only_through.is_empty() => out.only_through = ids,
        Some(Rule::OnlyFrom(nets) | Rule::OnlyThrough(nets)) => out.may.push(format!(
            "a Deny statement{sid} also limits where links work from ({}): links may work from fewer places than listed",
            nets.join(", ")
        )),
        Some(Rule::NotFrom(nets)) => out.not_from.extend(nets),
    }
}

/// A condition that depends on when or where a link is used.
enum Rule {
    MaxAge(Duration),
    OnlyFrom(Vec<String>),
    NotFrom(Vec<String>),
    OnlyThrough(Vec<String>),
}

enum Condition {
    /// True for every presigned GET made here (the statement applies so far), with why.
    Holds(&'static str),
    /// False for every presigned GET: the statement never applies to links.
    Fails,
    /// Depends on the link's age or the recipient's network.
    Varies(Rule),
    /// A key or operator s3share does not evaluate.
    Unknown,
}

fn condition(op: &str, key: &str, values: &[String], ctx: LinkContext<'_>) -> Condition {
    let any = |v: &str| values.iter().any(|x| string_matches(op, x, v));
    match (op, key) {
        ("StringEquals" | "StringLike", "s3:authtype") => {
            holds_if(any("REST-QUERY-STRING"), "presigned requests (s3:authType)")
        }
        ("StringNotEquals" | "StringNotLike", "s3:authtype") => holds_if(
            !values
                .iter()
                .any(|x| string_matches(op, x, "REST-QUERY-STRING")),
            "requests other than header-signed ones (s3:authType)",
        ),
        ("StringEquals" | "StringLike", "s3:signatureversion") => {
            holds_if(any("AWS4-HMAC-SHA256"), "SigV4 (s3:signatureversion)")
        }
        ("StringNotEquals" | "StringNotLike", "s3:signatureversion") => holds_if(
            !values
                .iter()
                .any(|x| string_matches(op, x, "AWS4-HMAC-SHA256")),
            "signatures other than SigV2 (s3:signatureversion)",
        ),
        ("Bool", "aws:securetransport") => {
            let secure = ctx.https.to_string();
            holds_if(
                values.iter().any(|v| v.eq_ignore_ascii_case(&secure)),
                if ctx.https {
                    "HTTPS (aws:SecureTransport)"
                } else {
                    "plain HTTP, which these links use (aws:SecureTransport)"
                },
            )
        }
        ("NumericGreaterThan" | "NumericGreaterThanEquals", "s3:signatureage") => values
            .iter()
            .filter_map(|v| v.parse::<u64>().ok())
            .min()
            .map_or(Condition::Unknown, |ms| {
                Condition::Varies(Rule::MaxAge(Duration::from_millis(ms)))
            }),
        ("NotIpAddress", "aws:sourceip") => Condition::Varies(Rule::OnlyFrom(values.to_vec())),
        ("IpAddress", "aws:sourceip") => Condition::Varies(Rule::NotFrom(values.to_vec())),
        ("StringNotEquals" | "StringNotLike", "aws:sourcevpce" | "aws:sourcevpc") => {
            Condition::Varies(Rule::OnlyThrough(values.to_vec()))
        }
        _ => Condition::Unknown,
    }
}

fn holds_if(holds: bool, why: &'static str) -> Condition {
    if holds {
        Condition::Holds(why)
    } else {
        Condition::Fails
    }
}

/// `StringEquals` (exact) or `StringLike` (`*` and `?` wildcards) of `pattern` against `value`.
fn string_matches(op: &str, pattern: &str, value: &str) -> bool {
    if op.ends_with("Like") {
        wildcard(pattern, value)
    } else {
        pattern == value
    }
}

/// IAM's `*` (any run) and `?` (one character) against `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn as_list(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let items: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    items.into_iter()
}

fn covers_get_object(st: &Value) -> bool {
    let matches = |list: Option<&Value>| {
        as_list(list).any(|a| {
            a.as_str()
                .is_some_and(|a| wildcard(&a.to_ascii_lowercase(), "s3:getobject"))
        })
    };
    if st.get("NotAction").is_some() {
        !matches(st.get("NotAction"))
    } else {
        matches(st.get("Action"))
    }
}

fn covers_key(st: &Value, ctx: LinkContext<'_>) -> bool {
    // Any partition: aws, aws-cn, aws-us-gov.
    let arns =
        ["aws", "aws-cn", "aws-us-gov"].map(|p| format!("arn:{p}:s3:::{}/{}", ctx.bucket, ctx.key));
    let matches = |list: Option<&Value>| {
        as_list(list).any(|r| {
            r.as_str()
                .is_some_and(|r| arns.iter().any(|arn| wildcard(r, arn)))
        })
    };
    if st.get("NotResource").is_some() {
        !matches(st.get("NotResource"))
    } else {
        matches(st.get("Resource"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: LinkContext<'static> = LinkContext {
        bucket: "amzn-s3-demo-bucket",
        key: "reports/q3.pdf",
        https: true,
    };

    fn read(statement: &str) -> Guardrails {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        guardrails(&doc, CTX).expect("a policy")
    }

    // The statements below are AWS's own examples (the S3 user guide's "Limiting presigned URL
    // capabilities" and the bucket-policy examples), with the bucket named as there.

    #[test]
    fn signature_age_caps_every_link() {
        let g = read(
            r#"{"Sid":"Deny a presigned URL request if the signature is more than 10 min old",
                "Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"NumericGreaterThan":{"s3:signatureAge":600000}}}"#,
        );
        assert_eq!(g.max_signature_age, Some(Duration::from_secs(600)));
        assert_eq!(
            g.lines(),
            ["links die 10 minutes after they are signed (s3:signatureAge)"]
        );
        // Another bucket's rule is not this bucket's.
        let other = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*",
                "Resource":"arn:aws:s3:::another-bucket/*",
                "Condition":{"NumericGreaterThan":{"s3:signatureAge":600000}}}"#,
        );
        assert!(other.is_empty());
    }

    #[test]
    fn auth_type_other_than_header_refuses_all_links() {
        let g = read(
            r#"{"Sid":"Allow only requests that use an authorization header","Effect":"Deny",
                "Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"StringNotEquals":{"s3:authType":"REST-HEADER"}}}"#,
        );
        let why = g.refused.expect("refused");
        assert!(why.contains("s3:authType"), "{why}");
        // Allowing the query string too leaves links alone.
        let both = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"StringNotEquals":{"s3:authType":["REST-HEADER","REST-QUERY-STRING"]}}}"#,
        );
        assert!(both.is_empty(), "{both:?}");
    }

    #[test]
    fn sigv2_denial_leaves_sigv4_links_alone() {
        let g = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"StringEquals":{"s3:signatureversion":"AWS"}}}"#,
        );
        assert!(g.is_empty(), "{g:?}");
    }

    #[test]
    fn source_networks_and_endpoints_limit_where_links_work() {
        let g = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*",
                "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],
                "Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","127.0.0.0/8"]}}}"#,
        );
        assert_eq!(
            g.lines(),
            ["links work only from 203.0.113.0/24, 127.0.0.0/8 (aws:SourceIp)"]
        );
        let vpce = read(
            r#"{"Sid":"Access-to-specific-VPCE-only","Effect":"Deny","Principal":"*",
                "Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}"#,
        );
        assert_eq!(vpce.only_through, ["vpce-1a2b3c4d"]);
    }

    #[test]
    fn secure_transport_refuses_http_links_only() {
        let https_only = r#"{"Effect":"Deny","Principal":"*","Action":"s3:*",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;
        assert!(read(https_only).is_empty(), "https links are fine");
        let doc = format!(r#"{{"Statement":[{https_only}]}}"#);
        let http = guardrails(
            &doc,
            LinkContext {
                https: false,
                ..CTX
            },
        )
        .expect("policy");
        assert!(
            http.refused
                .is_some_and(|w| w.contains("aws:SecureTransport")),
            "a plain-HTTP link is refused"
        );
    }

    #[test]
    fn named_principals_unknown_keys_and_other_actions_are_may_or_nothing() {
        let named = read(
            r#"{"Sid":"NoInterns","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/intern"},
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#,
        );
        assert_eq!(named.may.len(), 1);
        assert!(named.may[0].contains("NoInterns") && named.may[0].contains("some signers"));
        let unknown = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-123"}}}"#,
        );
        assert!(unknown.may[0].contains("aws:PrincipalOrgID"), "{unknown:?}");
        let puts = read(
            r#"{"Effect":"Deny","Principal":"*","Action":["s3:PutObject","s3:DeleteObject"],
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#,
        );
        assert!(puts.is_empty());
        let not_action = read(
            r#"{"Effect":"Deny","Principal":"*","NotAction":"s3:Get*",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#,
        );
        assert!(not_action.is_empty());
        let elsewhere = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",
                "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/private/*"}"#,
        );
        assert!(elsewhere.is_empty(), "a rule on another prefix");
        assert!(guardrails("not json", CTX).is_none());
    }

    #[test]
    fn several_age_rules_keep_the_shortest_and_allows_grant_nothing_here() {
        let g = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"NumericGreaterThanIfExists":{"s3:signatureAge":"3600000"}}},
               {"Effect":"Deny","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/reports/*",
                "Condition":{"NumericGreaterThan":{"s3:signatureAge":300000}}},
               {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#,
        );
        assert_eq!(g.max_signature_age, Some(Duration::from_secs(300)));
        assert!(g.refused.is_none() && g.may.is_empty());
    }

    #[test]
    fn two_network_rules_are_not_claimed_as_their_union_and_partitions_count() {
        let g = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}},
               {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}"#,
        );
        assert_eq!(g.only_from, ["203.0.113.0/24"]);
        assert!(g.may[0].contains("198.51.100.0/24") && g.may[0].contains("fewer places"));
        let china = read(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws-cn:s3:::amzn-s3-demo-bucket/*",
                "Condition":{"NumericGreaterThan":{"s3:signatureAge":60000}}}"#,
        );
        assert_eq!(china.max_signature_age, Some(Duration::from_secs(60)));
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard("s3:*", "s3:getobject"));
        assert!(wildcard("s3:get?bject", "s3:getobject"));
        assert!(!wildcard("s3:put*", "s3:getobject"));
        assert!(wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c"));
        assert!(!wildcard("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
        assert!(wildcard("*", ""));
    }
}
