//! A connection: where the S3 API is (AWS or a custom endpoint), which credentials sign, which
//! region each bucket lives in, and the clients that talk to it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use s3share_core::{AccessKey, lock};
use serde::{Deserialize, Serialize};

pub use s3share_core::DEFAULT_REGION;

use super::endpoint::{Endpoint, ObjectAddress, virtual_hostable};
use crate::base::error::{Error, ErrorKind, Result, credentials_error, source_chain};
use crate::base::signing::SigningCredentials;

/// The embedded store's name, as connections to it carry it and the app shows it.
pub const LOCAL_STORE_LABEL: &str = "Local store";

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
    /// The embedded store on this computer (links work only here; revoked by new keys).
    local_store: bool,
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
            local_store: false,
        })
    }

    /// A connection that signs with `key`, whatever the environment holds: to the embedded
    /// store at `endpoint` (marked so), or to any server a test runs.
    pub fn with_access_key(
        settings: ConnectionSettings,
        key: &AccessKey,
        region: &str,
    ) -> Result<Self> {
        let provider = SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            &key.access_key_id,
            key.secret_access_key.expose(),
            None,
            None,
            "s3share-access-key",
        ));
        let sdk_config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(provider.clone())
            .build();
        Self::from_sdk_config(settings, sdk_config, Some(provider))
    }

    /// A connection to the embedded store at `endpoint`, signing with its `key`.
    pub fn to_local_store(endpoint: &str, key: &AccessKey, region: &str) -> Result<Self> {
        let settings = ConnectionSettings {
            name: Some(LOCAL_STORE_LABEL.into()),
            endpoint: Some(endpoint.to_owned()),
            region: Some(region.to_owned()),
            path_style: true,
            ..ConnectionSettings::default()
        };
        let mut conn = Self::with_access_key(settings, key, region)?;
        conn.local_store = true;
        Ok(conn)
    }

    /// Is this the embedded store on this computer?
    pub fn is_local_store(&self) -> bool {
        self.local_store
    }

    /// The identity of this connection's endpoint, in saved states and the register: the
    /// endpoint URL, or `aws`.
    pub fn endpoint_label(&self) -> String {
        self.endpoint.as_ref().map_or_else(
            || "aws".to_owned(),
            |e| format!("{}://{}{}", e.scheme, e.authority, e.base_path),
        )
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
            .ok_or_else(|| credentials_error("no credentials provider"))?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| credentials_error(&source_chain(&e)))?;
        let signing = SigningCredentials::from(&creds);
        if let Some(at) = signing.expires_at
            && at <= SystemTime::now()
        {
            return Err(credentials_error("the credentials have expired"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_show_a_password() {
        let saved = ConnectionSettings {
            endpoint: Some("https://u:secretpw@minio.example.com".into()),
            ..ConnectionSettings::default()
        };
        assert!(!saved.label().contains("secretpw"), "{}", saved.label());
    }
}
