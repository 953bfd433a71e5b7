//! The embedded S3-compatible store: a folder served on 127.0.0.1 through `s3s`, which parses
//! the S3 protocol and verifies SigV4 signatures (headers and presigned links, expiry included).
//!
//! It backs the GUI's first run and every test, so it is held to S3's own behaviour: what S3
//! refuses it refuses (SigV2, links over 7 days, requests signed for another region), what S3
//! keeps atomic it keeps atomic, and no request may hang it, panic it or make it buffer a body.
//!
//! - [`credentials`]: the store's generated access keys;
//! - `server`: the accept loop and the front door (SigV2 refused, form uploads routed);
//! - `access`: the rules checked after the signature;
//! - `storage`: files and the sorted index, with one commit point per write;
//! - `listing`: ListObjectsV2's range logic, pure;
//! - `objects`: the S3 operations;
//! - `multipart`: multipart uploads, kept across restarts until completed or aborted;
//! - `exposure`: the bucket-configuration reads a posture check makes, answered as a private
//!   bucket;
//! - `post`: browser form uploads, streamed and checked before the file is read.
//!
//! The storage is our own rather than `s3s-fs`, whose file-per-key layout cannot hold keys with
//! `//`, keys longer than ~170 bytes or path segments over 255 bytes, and which checks checksums
//! only after the object is in place.

mod access;
pub mod credentials;
mod exposure;
mod listing;
mod multipart;
mod objects;
mod post;
mod server;
mod storage;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::connection::{ConnectionSettings, DEFAULT_REGION};
use super::error::{Error, ErrorKind, Result};
pub use credentials::LocalCredentials;
pub use storage::{DEFAULT_BUCKET, seed_objects};

/// The name connections to the embedded store carry.
pub const LOCAL_STORE_NAME: &str = "Local store";

/// How to run the store.
#[derive(Clone, Debug)]
pub struct LocalStoreOptions {
    pub data_dir: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    pub credentials: LocalCredentials,
    pub region: String,
    pub extras: StoreExtras,
}

/// What tests and odd setups ask of the store beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct StoreExtras {
    /// More access keys, known to the store (their signatures verify) but allowed nothing: a
    /// signer without permission, whose links the server refuses with 403 AccessDenied.
    pub users_without_rights: Vec<LocalCredentials>,
    /// Answer the bucket-exposure reads (Block Public Access, policy status, ACL, ...)
    /// NotImplemented, as Garage and SeaweedFS do.
    pub without_exposure_reads: bool,
}

/// A running store; stops when dropped or shut down.
pub struct LocalStore {
    addr: SocketAddr,
    credentials: LocalCredentials,
    region: String,
    data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl LocalStore {
    /// Load the folder, make the default bucket on first run, and serve on 127.0.0.1.
    pub async fn start(opts: LocalStoreOptions) -> Result<Self> {
        // The port first: a start that cannot serve leaves the folder untouched.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::LocalIo,
                    format!(
                        "Could not listen on 127.0.0.1:{} (is the port in use?)",
                        opts.port
                    ),
                )
                .with_detail(e.to_string())
            })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::new(ErrorKind::LocalIo, "No local address").with_detail(e.to_string())
        })?;
        // Opening reads every object's metadata: on the blocking pool, not an async worker.
        let data_dir = opts.data_dir.clone();
        let storage = tokio::task::spawn_blocking(move || storage::Storage::open(&data_dir))
            .await
            .map_err(|e| {
                Error::new(ErrorKind::LocalIo, "Opening the store stopped")
                    .with_detail(e.to_string())
            })??;
        let storage = Arc::new(storage);
        let mut users = s3s::auth::SimpleAuth::from_single(
            opts.credentials.access_key_id.clone(),
            opts.credentials.secret_access_key.expose().to_owned(),
        );
        for u in &opts.extras.users_without_rights {
            users.register(
                u.access_key_id.clone(),
                s3s::auth::SecretKey::from(u.secret_access_key.expose()),
            );
        }
        let auth = Arc::new(users);
        let mut builder = s3s::service::S3ServiceBuilder::new(objects::Store {
            storage: storage.clone(),
            region: opts.region.clone(),
            without_exposure_reads: opts.extras.without_exposure_reads,
        });
        builder.set_auth(SharedAuth(auth.clone()));
        builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
            s3s_limits(),
        ))));
        builder.set_access(access::AccessRules {
            region: opts.region.clone(),
            without_rights: opts
                .extras
                .users_without_rights
                .iter()
                .map(|u| u.access_key_id.clone())
                .collect(),
        });
        let front = server::Front {
            s3: builder.build(),
            forms: Arc::new(post::FormUploads {
                storage,
                auth,
                region: opts.region.clone(),
            }),
        };

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, front, rx));
        Ok(Self {
            addr,
            credentials: opts.credentials,
            region: opts.region,
            data_dir: opts.data_dir,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn credentials(&self) -> &LocalCredentials {
        &self.credentials
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Connection settings that reach this store.
    pub fn connection_settings(&self) -> ConnectionSettings {
        settings_for(&self.endpoint_url(), &self.region)
    }

    /// A connection to this store with its credentials, independent of the environment.
    pub fn connect(&self) -> Result<super::connection::Connection> {
        connect_to(&self.endpoint_url(), &self.credentials, &self.region)
    }

    /// `AWS_*` lines that point the AWS CLI, SDKs and s3share at this store.
    pub fn env_lines(&self) -> Vec<String> {
        vec![
            format!("AWS_ENDPOINT_URL={}", self.endpoint_url()),
            format!("AWS_ACCESS_KEY_ID={}", self.credentials.access_key_id),
            format!(
                "AWS_SECRET_ACCESS_KEY={}",
                self.credentials.secret_access_key.expose()
            ),
            format!("AWS_REGION={}", self.region),
        ]
    }

    /// Stop serving and wait for open connections (at most a few seconds).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A connection to a store at `endpoint` (this one, or one another s3share runs on the same
/// folder) with `credentials`, independent of the environment.
pub fn connect_to(
    endpoint: &str,
    credentials: &LocalCredentials,
    region: &str,
) -> Result<super::connection::Connection> {
    let provider =
        aws_credential_types::provider::SharedCredentialsProvider::new(credentials.to_aws());
    let sdk_config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(region.to_owned()))
        .credentials_provider(provider.clone())
        .build();
    super::connection::Connection::from_sdk_config(
        settings_for(endpoint, region),
        sdk_config,
        Some(provider),
    )
}

/// Connection settings for an embedded store at `endpoint`: path-style, named as the app shows it.
fn settings_for(endpoint: &str, region: &str) -> ConnectionSettings {
    ConnectionSettings {
        name: Some(LOCAL_STORE_NAME.into()),
        endpoint: Some(endpoint.to_owned()),
        region: Some(region.to_owned()),
        path_style: true,
        ..ConnectionSettings::default()
    }
}

/// Default options: the user's data folder, generated credentials, the default region.
pub fn default_options(port: u16, data_dir: Option<PathBuf>) -> Result<LocalStoreOptions> {
    let paths = super::config::Paths::for_user()?;
    Ok(LocalStoreOptions {
        data_dir: data_dir.unwrap_or_else(|| paths.data_dir.join("local-store")),
        port,
        credentials: LocalCredentials::load_or_create(&paths.config_dir)?,
        region: DEFAULT_REGION.to_owned(),
        extras: StoreExtras::default(),
    })
}

/// s3s's own limits, as low as the store allows: form uploads never reach s3s (the front door
/// streams them), so it may read no form file at all and only small form fields.
fn s3s_limits() -> s3s::config::S3Config {
    let mut config = s3s::config::S3Config::default();
    config.post_object_max_file_size = 0;
    config.form_max_field_size = 16 * 1024;
    config.form_max_fields_size = 64 * 1024;
    config.form_max_parts = 64;
    config
}

/// The store's keys, shared by s3s (headers and links) and the form uploads.
struct SharedAuth(Arc<s3s::auth::SimpleAuth>);

#[async_trait::async_trait]
impl s3s::auth::S3Auth for SharedAuth {
    async fn get_secret_key(&self, access_key: &str) -> s3s::S3Result<s3s::auth::SecretKey> {
        self.0.get_secret_key(access_key).await
    }
}
