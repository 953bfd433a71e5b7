//! A custom endpoint (MinIO, Ceph RGW, SeaweedFS, Garage, R2, the embedded store) and where
//! an object's URL points: path-style or virtual-hosted, plain http only to this computer.

use std::net::IpAddr;

use crate::base::error::{Error, Result};

/// A parsed custom endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: String,
    /// `host` or `host:port` as the Host header carries it.
    pub authority: String,
    pub host: String,
    /// A path prefix some gateways put before the bucket (`/s3`), without the trailing slash.
    pub base_path: String,
    pub is_loopback: bool,
    pub is_ip: bool,
}

impl Endpoint {
    /// Parse and check an endpoint URL. Plain http is refused unless it is this computer or
    /// `allow_http` is set (a warning is then returned for the caller to show).
    pub fn parse(text: &str, allow_http: bool) -> Result<(Self, Option<String>)> {
        let bad = |why: &str| Error::invalid(format!("Not a usable endpoint URL ({why}): {text}"));
        let url =
            url::Url::parse(text.trim()).map_err(|_| bad("expected http(s)://host[:port]"))?;
        let scheme = url.scheme().to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be https or http"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_owned();
        if !url.username().is_empty() || url.password().is_some() {
            // Never echo the URL: it holds a password.
            return Err(Error::invalid(
                "Not a usable endpoint URL: it carries a user name or password (user:password@); give only https://host[:port] — credentials come from the AWS profile or environment",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it must not carry a query or fragment"));
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let ip: Option<IpAddr> = bare.parse().ok();
        let is_loopback =
            ip.is_some_and(|ip| ip.is_loopback()) || host.eq_ignore_ascii_case("localhost");
        let mut warning = None;
        if scheme == "http" && !is_loopback {
            if !allow_http {
                return Err(Error::invalid(format!(
                    "Refusing plain http to a host that is not this computer: links and data would travel unencrypted. Use https, or pass --allow-http if you accept that: {text}"
                )));
            }
            warning = Some(format!(
                "warning: using plain http to {host}: links, credentials' signatures and data travel unencrypted"
            ));
        }
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let base_path = url.path().trim_end_matches('/').to_owned();
        Ok((
            Self {
                scheme,
                authority,
                host,
                base_path,
                is_loopback,
                is_ip: ip.is_some(),
            },
            warning,
        ))
    }

    /// `scheme://authority/base`: what the SDK is pointed at.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.base_path)
    }
}

/// Where an object's URL points: what the presigner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAddress {
    pub scheme: String,
    pub authority: String,
    /// Unencoded path: `/bucket/key` or `/key`.
    pub path: String,
    pub region: String,
}

/// A bucket name that can be the first label of a host name under TLS (no dots, DNS-safe).
pub(crate) fn virtual_hostable(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_for_loopback_unless_allowed() {
        assert!(Endpoint::parse("http://127.0.0.1:9000", false).is_ok());
        assert!(Endpoint::parse("http://localhost:9000", false).is_ok());
        assert!(Endpoint::parse("http://[::1]:9000", false).is_ok());
        let refused = Endpoint::parse("http://minio.example.com", false).unwrap_err();
        assert!(refused.message().contains("--allow-http"), "{refused}");
        let (_, warning) = Endpoint::parse("http://minio.example.com", true).expect("allowed");
        assert!(warning.is_some());
        assert!(Endpoint::parse("ftp://x", false).is_err());
        for with_user in [
            "https://:pw@host",
            "https://u:pw@host:9000",
            "https://u@host",
        ] {
            let err = Endpoint::parse(with_user, false).unwrap_err();
            assert!(!err.to_string().contains("pw"), "{err}");
            assert!(err.message().contains("password"), "{err}");
        }
        assert!(Endpoint::parse("not a url", false).is_err());
    }

    #[test]
    fn buckets_with_dots_or_ip_endpoints_use_path_style() {
        assert!(virtual_hostable("my-bucket"));
        assert!(!virtual_hostable("my.bucket"));
        assert!(!virtual_hostable("My_Bucket"));
    }
}
