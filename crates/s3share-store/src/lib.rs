//! The embedded S3-compatible store: a folder served on 127.0.0.1 through `s3s`, which parses
//! the S3 protocol and verifies SigV4 signatures (headers and presigned links, expiry included).
//!
//! It backs the app's first run and every test, so it is held to S3's own behaviour: what S3
//! refuses it refuses (SigV2, links over 7 days, requests signed for another region), what S3
//! keeps atomic it keeps atomic, and no request may hang it, panic it or make it buffer a body.
//! It knows nothing of any client: it gives what a client needs to reach it (the endpoint, the
//! credentials, the region) and stops when told.
//!
//! Layers, each importing only the ones below it:
//! - `server`: the accept loop and the front door (SigV2 refused, form uploads routed), and the
//!   access rules checked after the signature;
//! - `s3`: the S3 operations (objects, multipart, form POSTs, the bucket-posture reads, and
//!   ListObjectsV2's pure range logic);
//! - `disk`: files and the sorted index, one commit point per write, multipart records,
//!   start-up recovery;
//! - [`credentials`] and [`error`]: the store's keys, and why it could not start.
//!
//! The storage is our own rather than `s3s-fs`, whose file-per-key layout cannot hold keys with
//! `//`, keys longer than ~170 bytes or path segments over 255 bytes, and which checks checksums
//! only after the object is in place.

pub mod credentials;
mod disk;
pub mod error;
mod s3;
mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use disk::{DEFAULT_BUCKET, folder_served, seed_objects};

/// The file, in the store's folder beside its lock, where a running store records where it
/// serves. The folder is the user's own (0700), so whoever can read it is the user, and a
/// store holding the folder's lock is serving at the address it names.
pub const ADDRESS_FILE: &str = ".address.json";

/// Where a store serves, as it records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoreAddress {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub port: u16,
    /// The process serving.
    pub pid: u32,
}

impl StoreAddress {
    /// What the store serving (or last serving) `data_dir` recorded, if anything. A store is
    /// serving there now only while the folder is locked.
    pub fn read(data_dir: &Path) -> Option<Self> {
        let text = std::fs::read(data_dir.join(ADDRESS_FILE)).ok()?;
        serde_json::from_slice(&text).ok()
    }
}
pub use error::{StoreError, StoreResult};
pub use s3share_core::AccessKey;

/// How to run the store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub data_dir: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    pub credentials: AccessKey,
    pub region: String,
    pub extras: StoreExtras,
}

/// What tests and odd setups ask of the store beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct StoreExtras {
    /// More access keys, known to the store (their signatures verify) but allowed nothing: a
    /// signer without permission, whose links the server refuses with 403 AccessDenied.
    pub users_without_rights: Vec<AccessKey>,
    /// Answer the bucket-posture reads (Block Public Access, policy status, ACL, ...)
    /// NotImplemented, as Garage and SeaweedFS do.
    pub without_posture_reads: bool,
    /// Answer the posture reads with empty documents (an encryption configuration with no
    /// rules, ownership controls with no rules, a policy status without `IsPublic`, ...), as
    /// Ceph RGW answers some of them.
    pub empty_posture_documents: bool,
    /// A bucket policy document that `GetBucketPolicy` answers with (read, not enforced: tests
    /// of how s3share reads a policy's conditions on links).
    pub bucket_policy: Option<String>,
}

/// A running store; stops when dropped or shut down.
pub struct StoreServer {
    addr: SocketAddr,
    credentials: AccessKey,
    region: String,
    data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for StoreServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreServer")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl StoreServer {
    /// Load the folder, make the default bucket on first run, and serve on 127.0.0.1.
    pub async fn start(opts: StoreOptions) -> StoreResult<Self> {
        // The port first: a start that cannot serve leaves the folder untouched.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|source| StoreError::Bind {
                port: opts.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StoreError::Bind {
            port: opts.port,
            source,
        })?;
        // Opening reads every object's metadata: on the blocking pool, not an async worker.
        let data_dir = opts.data_dir.clone();
        let disk = tokio::task::spawn_blocking(move || disk::Disk::open(&data_dir))
            .await
            .map_err(|e| StoreError::Io {
                action: "open the store",
                path: opts.data_dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
        // Recorded beside the lock, now that it is held: other windows and commands find it.
        let address = StoreAddress {
            endpoint: format!("http://{addr}"),
            port: addr.port(),
            pid: std::process::id(),
        };
        let json = serde_json::to_vec(&address).map_err(|e| StoreError::Io {
            action: "record where the store serves",
            path: opts.data_dir.join(ADDRESS_FILE),
            source: std::io::Error::other(e),
        })?;
        s3share_core::fs::write_private(&opts.data_dir.join(ADDRESS_FILE), &json).map_err(
            |source| StoreError::Io {
                action: "record where the store serves",
                path: opts.data_dir.join(ADDRESS_FILE),
                source,
            },
        )?;
        let front = server::Front::new(Arc::new(disk), &opts);
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

    /// `http://127.0.0.1:PORT`: where a client reaches it (path-style addressing).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The key that may do everything here.
    pub fn credentials(&self) -> &AccessKey {
        &self.credentials
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
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

impl Drop for StoreServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
