//! A connection: where the S3 API is (AWS or a custom endpoint), which credentials sign, which
//! region each bucket lives in, and the clients that talk to it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use serde::{Deserialize, Serialize};

use super::error::{Error, ErrorKind, Result, source_chain};
use super::presign::SigningCredentials;

/// Region used when nothing names one (AWS's own default, and the local store's).
pub const DEFAULT_REGION: &str = "us-east-1";

/// How to connect, as saved in the config file and given on the command line. Never a secret:
/// credentials come from the AWS chain (environment, profiles, SSO, instance metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// A name for people ("work", "minio at home"); shown in the window title.
    pub name: Option<String>,
    /// An AWS profile from `~/.aws/config` / `~/.aws/credentials`.
    pub profile: Option<String>,
    /// A custom S3-compatible endpoint (`https://minio.example.com:9000`).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`.
    pub path_style: bool,
    /// Allow plain `http://` to a host that is not this computer (links then travel in clear).
    pub allow_http: bool,
}

impl ConnectionSettings {
    /// A short description for titles and messages: the name, the profile or the endpoint.
    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            n.clone()
        } else if let Some(e) = &self.endpoint {
            without_user_info(e)
        } else if let Some(p) = &self.profile {
            format!("profile {p}")
        } else {
            "AWS (default credentials)".into()
        }
    }

    /// The error with the step a person can take for this connection: for an expired SSO
    /// session of a profile, the exact `aws sso login` command.
    pub fn explain(&self, e: Error) -> Error {
        match (&self.profile, e.kind()) {
            (Some(p), ErrorKind::ExpiredCredentials) => {
                let detail = e.detail().unwrap_or_default().to_owned();
                Error::new(
                    ErrorKind::ExpiredCredentials,
                    format!("The sign-in session of profile {p} has expired. Run `aws sso login --profile {p}`, then try again."),
                )
                .with_detail(detail)
            }
            _ => e,
        }
    }
}

/// An endpoint as shown to people: never the password or user name a URL may carry.
fn without_user_info(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(_) => text.to_owned(),
        Err(_) => text.split('@').next_back().unwrap_or_default().to_owned(),
    }
}

/// Do the environment or the AWS files configure credentials, a profile or an endpoint (as
/// the AWS CLI would find them)? If not, the app starts on the local store.
pub fn aws_configured(aws_files: Option<&super::aws_files::AwsFiles>) -> bool {
    let env = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
    env_credentials()
        || env("AWS_PROFILE")
        || env("AWS_ENDPOINT_URL")
        || env("AWS_ENDPOINT_URL_S3")
        || aws_files.is_some_and(super::aws_files::AwsFiles::any_profile)
}

/// Does the environment hold an access key (`AWS_ACCESS_KEY_ID`)?
pub fn env_credentials() -> bool {
    std::env::var("AWS_ACCESS_KEY_ID").is_ok_and(|v| !v.is_empty())
}

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

    fn url(&self) -> String {
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
fn virtual_hostable(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// A live connection: SDK clients per region, the credentials chain, an HTTP client for
/// presigned requests, and what we learned about each bucket's region.
pub struct Connection {
    settings: ConnectionSettings,
    sdk_config: aws_config::SdkConfig,
    endpoint: Option<Endpoint>,
    default_region: String,
    path_style: bool,
    credentials: Option<SharedCredentialsProvider>,
    cached_credentials: Mutex<Option<SigningCredentials>>,
    clients: Mutex<HashMap<String, Client>>,
    bucket_regions: Mutex<HashMap<String, String>>,
    http: reqwest::Client,
    warnings: Vec<String>,
    /// Where the links made on this connection are recorded (`None`: nowhere, as in tests).
    register: Option<super::register::Register>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("settings", &self.settings)
            .field("endpoint", &self.endpoint)
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Resolve settings against the AWS chain (env, profiles, SSO). Makes no network call.
    pub async fn connect(settings: ConnectionSettings) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &settings.region {
            loader = loader.region(Region::new(r.clone()));
        }
        let sdk_config = loader.load().await;
        Self::from_sdk_config(settings, sdk_config, None)
    }

    /// Build on an already loaded SDK config, optionally with fixed credentials (tests, the
    /// embedded store).
    pub fn from_sdk_config(
        settings: ConnectionSettings,
        sdk_config: aws_config::SdkConfig,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Result<Self> {
        let endpoint_text = settings
            .endpoint
            .clone()
            .or_else(|| {
                std::env::var("AWS_ENDPOINT_URL_S3")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .or_else(|| sdk_config.endpoint_url().map(str::to_owned));
        let mut warnings = Vec::new();
        let endpoint = match endpoint_text {
            Some(text) => {
                let (ep, warning) = Endpoint::parse(&text, settings.allow_http)?;
                warnings.extend(warning);
                Some(ep)
            }
            None => None,
        };
        let default_region = settings
            .region
            .clone()
            .or_else(|| sdk_config.region().map(ToString::to_string))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        // IP addresses and localhost have no sub-domains to put a bucket in.
        let path_style =
            settings.path_style || endpoint.as_ref().is_some_and(|e| e.is_ip || e.is_loopback);
        let credentials = credentials.or_else(|| sdk_config.credentials_provider());
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Network, "Could not set up the HTTP client")
                    .with_detail(e.without_url().to_string())
            })?;
        Ok(Self {
            settings,
            sdk_config,
            endpoint,
            default_region,
            path_style,
            credentials,
            cached_credentials: Mutex::new(None),
            clients: Mutex::new(HashMap::new()),
            bucket_regions: Mutex::new(HashMap::new()),
            http,
            warnings,
            register: None,
        })
    }

    /// Record every link made on this connection in `register`.
    #[must_use]
    pub fn with_register(mut self, register: super::register::Register) -> Self {
        self.register = Some(register);
        self
    }

    /// Record a link made on this connection (nothing without a register), on the blocking
    /// pool (it locks and fsyncs a file). A failure is returned as a note to show: the link
    /// itself is made and works.
    pub async fn record(&self, record: super::register::NewRecord<'_>) -> Option<String> {
        let register = self.register.clone()?;
        let entry = record.into_record();
        let done = tokio::task::spawn_blocking(move || register.record(entry))
            .await
            .map_err(|e| {
                Error::new(ErrorKind::LocalIo, "Recording the link stopped")
                    .with_detail(e.to_string())
            })
            .and_then(|r| r);
        done.err().map(|e| {
            tracing::warn!("a link was not recorded in the register: {e}");
            format!("warning: the link was not recorded in the register of links: {e}")
        })
    }

    /// Who signs with `creds` on this connection, as the register keeps it.
    pub fn signer(&self, creds: &SigningCredentials) -> super::register::Signer {
        super::register::Signer {
            profile: self.settings.profile.clone(),
            access_key_id: creds.access_key_id.clone(),
            temporary: creds.session_token.is_some() || creds.expires_at.is_some(),
            credentials_expire_unix: creds
                .expires_at
                .map(|t| time::OffsetDateTime::from(t).unix_timestamp()),
            local_store: self.settings.name.as_deref()
                == Some(super::local_store::LOCAL_STORE_NAME),
        }
    }

    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Notes for the user about this connection (plain http allowed, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.endpoint.as_ref()
    }

    /// The HTTP client for presigned requests (uploads, link checks).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The credentials that sign links, with their own expiry. Cached until five minutes before
    /// they expire, so SSO or STS is not asked for every link.
    pub async fn signing_credentials(&self) -> Result<SigningCredentials> {
        {
            let cached = lock(&self.cached_credentials);
            if let Some(c) = cached.as_ref() {
                let fresh = c
                    .expires_at
                    .is_none_or(|at| at > SystemTime::now() + Duration::from_secs(300));
                if fresh {
                    return Ok(c.clone());
                }
            }
        }
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| super::error::credentials_error("no credentials provider"))?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| super::error::credentials_error(&source_chain(&e)))?;
        let signing = SigningCredentials::from(&creds);
        if let Some(at) = signing.expires_at
            && at <= SystemTime::now()
        {
            return Err(super::error::credentials_error(
                "the credentials have expired",
            ));
        }
        *lock(&self.cached_credentials) = Some(signing.clone());
        Ok(signing)
    }

    /// The SDK client for `region`, made once.
    pub fn client_for_region(&self, region: &str) -> Client {
        let mut clients = lock(&self.clients);
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let mut b = aws_sdk_s3::config::Builder::from(&self.sdk_config)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.path_style);
                if let Some(ep) = &self.endpoint {
                    b = b.endpoint_url(ep.url());
                }
                if let Some(c) = &self.credentials {
                    b = b.credentials_provider(c.clone());
                }
                Client::from_conf(b.build())
            })
            .clone()
    }

    /// The client for the connection's own region (listing buckets, first contact).
    pub fn client(&self) -> Client {
        self.client_for_region(&self.default_region)
    }

    /// The bucket's real region, asked once with HeadBucket (its `x-amz-bucket-region` header,
    /// which S3 sends even with a redirect or a 403) and remembered.
    pub async fn bucket_region(&self, bucket: &str) -> Result<String> {
        if let Some(r) = lock(&self.bucket_regions).get(bucket) {
            return Ok(r.clone());
        }
        let target = format!("s3://{bucket}");
        let region = match self.client().head_bucket().bucket(bucket).send().await {
            Ok(out) => out
                .bucket_region()
                .map_or_else(|| self.default_region.clone(), str::to_owned),
            Err(err) => {
                let header = err
                    .raw_response()
                    .and_then(|r| r.headers().get("x-amz-bucket-region"))
                    .map(str::to_owned);
                if let Some(r) = header {
                    r
                } else {
                    let e = Error::from_sdk(&err, &target);
                    match e.kind() {
                        // A least-privilege signer may read objects without being allowed
                        // to see the bucket: sign for the configured region and go on.
                        ErrorKind::AccessDenied => self.default_region.clone(),
                        ErrorKind::NotFound => {
                            return Err(Error::new(
                                ErrorKind::NotFound,
                                format!("No such bucket: {target}"),
                            ));
                        }
                        _ => return Err(e),
                    }
                }
            }
        };
        if region != self.default_region {
            tracing::info!(bucket, region, configured = %self.default_region, "bucket lives in another region; using it");
        }
        lock(&self.bucket_regions).insert(bucket.to_owned(), region.clone());
        Ok(region)
    }

    /// The SDK client and region for `bucket`.
    pub async fn client_for_bucket(&self, bucket: &str) -> Result<(Client, String)> {
        let region = self.bucket_region(bucket).await?;
        Ok((self.client_for_region(&region), region))
    }

    /// Where `bucket/key` lives, for a presigned URL signed for `region`.
    pub fn object_address(&self, bucket: &str, key: &str, region: &str) -> ObjectAddress {
        let (scheme, host, port_suffix, base) = if let Some(ep) = &self.endpoint {
            let port = ep
                .authority
                .strip_prefix(ep.host.as_str())
                .unwrap_or("")
                .to_owned();
            (
                ep.scheme.clone(),
                ep.host.clone(),
                port,
                ep.base_path.clone(),
            )
        } else {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            (
                "https".to_owned(),
                format!("s3.{region}.{suffix}"),
                String::new(),
                String::new(),
            )
        };
        let path_style = self.path_style || !virtual_hostable(bucket) || !base.is_empty();
        if path_style {
            ObjectAddress {
                scheme,
                authority: format!("{host}{port_suffix}"),
                path: format!("{base}/{bucket}/{key}"),
                region: region.to_owned(),
            }
        } else {
            ObjectAddress {
                scheme,
                authority: format!("{bucket}.{host}{port_suffix}"),
                path: format!("/{key}"),
                region: region.to_owned(),
            }
        }
    }
}

/// Lock a mutex, going on with the data if a panicking thread poisoned it (the maps here hold
/// caches only, never half-updated state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let saved = ConnectionSettings {
            endpoint: Some("https://u:secretpw@minio.example.com".into()),
            ..ConnectionSettings::default()
        };
        assert!(!saved.label().contains("secretpw"), "{}", saved.label());
        assert!(Endpoint::parse("not a url", false).is_err());
    }

    #[test]
    fn buckets_with_dots_or_ip_endpoints_use_path_style() {
        assert!(virtual_hostable("my-bucket"));
        assert!(!virtual_hostable("my.bucket"));
        assert!(!virtual_hostable("My_Bucket"));
    }
}
