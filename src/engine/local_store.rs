//! The embedded S3-compatible store: a folder served on 127.0.0.1 through `s3s`, which parses
//! the S3 protocol and verifies SigV4 signatures (headers and presigned links, expiry included).
//!
//! It backs the GUI's first run and every test. The storage backend is our own rather than
//! `s3s-fs`, whose file-per-key layout cannot hold keys with `//`, keys longer than ~170 bytes
//! (its metadata file names embed the base64 of the key) or path segments over 255 bytes, and
//! which checks checksums only after the object is in place. Here each object is a data file
//! and a JSON sidecar named by the SHA-256 of the key, all keys are held in a sorted in-memory
//! index (listings are range scans), and a PUT becomes visible only after its checksums match.
//!
//! Beyond `s3s`, the store rejects links longer than 7 days (as S3 does) and answers requests
//! signed for another region with S3's 301 and `x-amz-bucket-region` header, so the client's
//! region handling is tested against real behaviour.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt as _;
use md5::Digest as _;
use s3s::dto::{
    Bucket, CommonPrefix, CreateBucketInput, CreateBucketOutput, DeleteBucketInput,
    DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput, ETag, EncodingType,
    GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output, Object, PutObjectInput,
    PutObjectOutput, StreamingBlob, Timestamp,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use super::config::write_private;
use super::connection::{ConnectionSettings, DEFAULT_REGION, lock};
use super::error::{Error, ErrorKind, Result};
use super::presign::Secret;

/// The bucket created on first run.
pub const DEFAULT_BUCKET: &str = "shared";
const CREDENTIALS_FILE: &str = "local-store-credentials.toml";

/// The store's own access key and secret, generated on first run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalCredentials {
    pub access_key_id: String,
    #[serde(with = "secret_serde")]
    pub secret_access_key: Secret,
}

mod secret_serde {
    use super::Secret;
    pub fn serialize<S: serde::Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        let s: String = serde::Deserialize::deserialize(de)?;
        Ok(Secret::new(s))
    }
}

impl LocalCredentials {
    /// Fresh random credentials.
    pub fn generate() -> Result<Self> {
        let mut raw = [0u8; 30];
        getrandom::fill(&mut raw).map_err(|e| {
            Error::new(
                ErrorKind::LocalIo,
                "No randomness available to make credentials",
            )
            .with_detail(e.to_string())
        })?;
        let id: String = raw[..10]
            .iter()
            .map(|b| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[usize::from(b % 32)]))
            .collect();
        Ok(Self {
            access_key_id: format!("S3SHARE{id}"),
            secret_access_key: Secret::new(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[10..]),
            ),
        })
    }

    /// The credentials kept (0600) in `config_dir`, made and saved on first use.
    pub fn load_or_create(config_dir: &Path) -> Result<Self> {
        let path = config_dir.join(CREDENTIALS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::invalid(format!(
                    "The local store's credentials file is damaged; delete it to make new ones: {}",
                    path.display()
                ))
                .with_detail(e.message().to_owned())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let creds = Self::generate()?;
                let text = toml::to_string(&creds).map_err(|e| {
                    Error::new(ErrorKind::LocalIo, "Could not encode credentials")
                        .with_detail(e.to_string())
                })?;
                write_private(&path, text.as_bytes())
                    .map_err(|e| Error::local_io("write", &path, &e))?;
                Ok(creds)
            }
            Err(e) => Err(Error::local_io("read", &path, &e)),
        }
    }

    pub fn to_aws(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            self.secret_access_key.expose(),
            None,
            None,
            "s3share-local-store",
        )
    }
}

/// How to run the store.
#[derive(Clone, Debug)]
pub struct LocalStoreOptions {
    pub data_dir: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    pub credentials: LocalCredentials,
    pub region: String,
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
        let backend = Backend::open(&opts.data_dir, &opts.region)?;
        let mut builder = s3s::service::S3ServiceBuilder::new(backend);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(
            opts.credentials.access_key_id.clone(),
            opts.credentials.secret_access_key.expose().to_owned(),
        ));
        builder.set_access(AccessRules {
            region: opts.region.clone(),
        });
        let service = builder.build();

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
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let http =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((socket, _)) = accepted else { continue };
                        let conn = http.serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone());
                        let conn = graceful.watch(conn.into_owned());
                        tokio::spawn(async move {
                            let _ = conn.await;
                        });
                    }
                    _ = &mut rx => break,
                }
            }
            tokio::select! {
                () = graceful.shutdown() => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            }
        });
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
        ConnectionSettings {
            name: Some("Local store".into()),
            endpoint: Some(self.endpoint_url()),
            region: Some(self.region.clone()),
            path_style: true,
            ..ConnectionSettings::default()
        }
    }

    /// A connection to this store with its credentials, independent of the environment.
    pub fn connect(&self) -> Result<super::connection::Connection> {
        let creds = self.credentials.to_aws();
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(creds);
        let sdk_config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(self.region.clone()))
            .credentials_provider(provider.clone())
            .build();
        super::connection::Connection::from_sdk_config(
            self.connection_settings(),
            sdk_config,
            Some(provider),
        )
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

/// Default options: the user's data folder, generated credentials, the default region.
pub fn default_options(port: u16, data_dir: Option<PathBuf>) -> Result<LocalStoreOptions> {
    let paths = super::config::Paths::for_user()?;
    Ok(LocalStoreOptions {
        data_dir: data_dir.unwrap_or_else(|| paths.data_dir.join("local-store")),
        port,
        credentials: LocalCredentials::load_or_create(&paths.config_dir)?,
        region: DEFAULT_REGION.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// Access rules checked after the signature, before the operation.

struct AccessRules {
    region: String,
}

/// The region in a request's credential scope (`AK/20260101/REGION/s3/aws4_request`).
fn signed_region<'a>(uri: &'a hyper::Uri, headers: &'a hyper::HeaderMap) -> Option<String> {
    let scope = if let Some(q) = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("X-Amz-Credential="))
    }) {
        percent_encoding::percent_decode_str(q)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        let auth = headers.get("authorization")?.to_str().ok()?;
        let start = auth.find("Credential=")? + "Credential=".len();
        auth[start..].split([',', ' ']).next()?.to_owned()
    };
    scope.split('/').nth(2).map(str::to_owned)
}

#[async_trait::async_trait]
impl s3s::access::S3Access for AccessRules {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        }
        if let Some(expires) = cx
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("X-Amz-Expires=")))
            && expires.parse::<u64>().map_or(true, |s| s > 604_800)
        {
            return Err(s3_error!(
                AuthorizationQueryParametersError,
                "X-Amz-Expires must be less than a week (in seconds) that is 604800"
            ));
        }
        let is_bucket_request = !matches!(cx.s3_path(), s3s::path::S3Path::Root);
        if is_bucket_request
            && let Some(region) = signed_region(cx.uri(), cx.headers())
            && region != self.region
        {
            let mut err = S3Error::with_message(
                S3ErrorCode::PermanentRedirect,
                format!(
                    "The bucket is in this region: {}. Please use this region to retry the request",
                    self.region
                ),
            );
            err.set_status_code(hyper::StatusCode::MOVED_PERMANENTLY);
            let mut headers = hyper::HeaderMap::new();
            if let Ok(v) = hyper::header::HeaderValue::from_str(&self.region) {
                headers.insert("x-amz-bucket-region", v);
            }
            err.set_headers(headers);
            return Err(err);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Storage: <root>/<bucket>/<xx>/<sha256(key)>.data + .json, and a sorted in-memory index.

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ObjectMeta {
    key: String,
    size: u64,
    /// Hex MD5 of the content, as S3's ETag of a single-part upload.
    md5: String,
    content_type: Option<String>,
    content_disposition: Option<String>,
    /// Seconds and nanoseconds since the epoch.
    modified_unix_nanos: i128,
    checksum_crc32c: Option<String>,
    checksum_sha256: Option<String>,
}

impl ObjectMeta {
    fn modified(&self) -> Timestamp {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.modified_unix_nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Timestamp::from(t)
    }
    fn etag(&self) -> ETag {
        ETag::Strong(self.md5.clone())
    }
}

struct BucketState {
    created: SystemTime,
    objects: BTreeMap<String, ObjectMeta>,
}

struct Backend {
    root: PathBuf,
    region: String,
    buckets: Mutex<BTreeMap<String, BucketState>>,
}

fn io_err(e: &std::io::Error) -> S3Error {
    s3_error!(InternalError, "local store I/O error: {}", e.kind())
}

fn key_hash(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

impl Backend {
    fn open(root: &Path, region: &str) -> Result<Self> {
        std::fs::create_dir_all(root.join(".tmp"))
            .map_err(|e| Error::local_io("create the store folder", root, &e))?;
        let mut buckets = BTreeMap::new();
        let entries = std::fs::read_dir(root)
            .map_err(|e| Error::local_io("read the store folder", root, &e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() || !s3s::path::check_bucket_name(&name) {
                continue;
            }
            let created = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut objects = BTreeMap::new();
            for shard in std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                for file in std::fs::read_dir(shard.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let path = file.path();
                    if path.extension().is_some_and(|x| x == "json")
                        && let Ok(text) = std::fs::read(&path)
                        && let Ok(meta) = serde_json::from_slice::<ObjectMeta>(&text)
                    {
                        objects.insert(meta.key.clone(), meta);
                    }
                }
            }
            buckets.insert(name, BucketState { created, objects });
        }
        if buckets.is_empty() {
            let dir = root.join(DEFAULT_BUCKET);
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::local_io("create the default bucket", &dir, &e))?;
            buckets.insert(
                DEFAULT_BUCKET.to_owned(),
                BucketState {
                    created: SystemTime::now(),
                    objects: BTreeMap::new(),
                },
            );
        }
        Ok(Self {
            root: root.to_owned(),
            region: region.to_owned(),
            buckets: Mutex::new(buckets),
        })
    }

    fn object_paths(&self, bucket: &str, key: &str) -> (PathBuf, PathBuf) {
        let h = key_hash(key);
        let dir = self.root.join(bucket).join(&h[..2]);
        (dir.join(format!("{h}.data")), dir.join(format!("{h}.json")))
    }

    fn meta(&self, bucket: &str, key: &str) -> S3Result<ObjectMeta> {
        let buckets = lock(&self.buckets);
        let b = buckets.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        b.objects
            .get(key)
            .cloned()
            .ok_or_else(|| s3_error!(NoSuchKey))
    }

    fn check_bucket(&self, bucket: &str) -> S3Result<()> {
        if lock(&self.buckets).contains_key(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }
}

/// Write objects straight into a store folder that is not being served (tests and benchmarks
/// that need many objects fast). The store finds them when it starts.
pub fn seed_objects<'a>(
    data_dir: &Path,
    bucket: &str,
    objects: impl IntoIterator<Item = (String, &'a [u8])>,
) -> Result<usize> {
    let backend = Backend::open(data_dir, DEFAULT_REGION)?;
    std::fs::create_dir_all(data_dir.join(bucket))
        .map_err(|e| Error::local_io("create the bucket folder", data_dir, &e))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let mut count = 0;
    for (key, body) in objects {
        let (data, json) = backend.object_paths(bucket, &key);
        if let Some(dir) = data.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::local_io("create", dir, &e))?;
        }
        std::fs::write(&data, body).map_err(|e| Error::local_io("write", &data, &e))?;
        let meta = ObjectMeta {
            key,
            size: body.len() as u64,
            md5: hex::encode(md5::Md5::digest(body)),
            content_type: None,
            content_disposition: None,
            modified_unix_nanos: now,
            checksum_crc32c: None,
            checksum_sha256: None,
        };
        let text = serde_json::to_vec(&meta).map_err(|e| {
            Error::new(ErrorKind::LocalIo, "Could not encode object metadata")
                .with_detail(e.to_string())
        })?;
        std::fs::write(&json, text).map_err(|e| Error::local_io("write", &json, &e))?;
        count += 1;
    }
    Ok(count)
}

/// S3's `encoding-type=url` form: `+` for space, `%XX` for the rest, `/` kept.
fn url_encode_key(s: &str) -> String {
    super::presign::uri_encode(s, false).replace("%20", "+")
}

// One S3 operation per method; splitting the longer ones would hide the protocol's flow.
#[allow(clippy::too_many_lines)]
#[async_trait::async_trait]
impl S3 for Backend {
    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = lock(&self.buckets)
            .iter()
            .map(|(name, b)| Bucket {
                name: Some(name.clone()),
                creation_date: Some(Timestamp::from(b.created)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        }))
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let name = req.input.bucket;
        if lock(&self.buckets).contains_key(&name) {
            return Err(s3_error!(BucketAlreadyOwnedByYou));
        }
        std::fs::create_dir_all(self.root.join(&name)).map_err(|e| io_err(&e))?;
        lock(&self.buckets).insert(
            name,
            BucketState {
                created: SystemTime::now(),
                objects: BTreeMap::new(),
            },
        );
        Ok(S3Response::new(CreateBucketOutput::default()))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = req.input.bucket;
        let mut buckets = lock(&self.buckets);
        let b = buckets.get(&name).ok_or_else(|| s3_error!(NoSuchBucket))?;
        if !b.objects.is_empty() {
            return Err(s3_error!(BucketNotEmpty));
        }
        let _ = std::fs::remove_dir_all(self.root.join(&name));
        buckets.remove(&name);
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.check_bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(self.region.clone()),
            ..Default::default()
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.check_bucket(&req.input.bucket)?;
        let location = (self.region != DEFAULT_REGION)
            .then(|| s3s::dto::BucketLocationConstraint::from(self.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let m = self.meta(&req.input.bucket, &req.input.key)?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(i64::try_from(m.size).unwrap_or(i64::MAX)),
            content_type: m.content_type.clone(),
            content_disposition: m.content_disposition.clone(),
            last_modified: Some(m.modified()),
            e_tag: Some(m.etag()),
            checksum_crc32c: m.checksum_crc32c.clone(),
            checksum_sha256: m.checksum_sha256.clone(),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let m = self.meta(&input.bucket, &input.key)?;
        let (data_path, _) = self.object_paths(&input.bucket, &input.key);
        let mut file = tokio::fs::File::open(&data_path)
            .await
            .map_err(|e| io_err(&e))?;
        let (start, len, content_range) = match input.range {
            None => (0, m.size, None),
            Some(range) => {
                let r = range.check(m.size).map_err(|_| s3_error!(InvalidRange))?;
                (
                    r.start,
                    r.end - r.start,
                    Some(format!("bytes {}-{}/{}", r.start, r.end - 1, m.size)),
                )
            }
        };
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| io_err(&e))?;
        }
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
        let whole = content_range.is_none();
        Ok(S3Response::new(GetObjectOutput {
            body: Some(StreamingBlob::wrap(stream)),
            content_length: Some(i64::try_from(len).unwrap_or(i64::MAX)),
            content_range,
            content_type: m.content_type.clone(),
            content_disposition: m.content_disposition.clone(),
            last_modified: Some(m.modified()),
            e_tag: Some(m.etag()),
            accept_ranges: Some("bytes".into()),
            // S3 returns the full-object checksum only for whole-object reads.
            checksum_crc32c: if whole {
                m.checksum_crc32c.clone()
            } else {
                None
            },
            checksum_sha256: if whole {
                m.checksum_sha256.clone()
            } else {
                None
            },
            ..Default::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        self.check_bucket(&bucket)?;
        let if_none_match = input
            .if_none_match
            .as_ref()
            .is_some_and(s3s::dto::ETagCondition::is_any);
        let exists = || {
            lock(&self.buckets)
                .get(&bucket)
                .is_some_and(|b| b.objects.contains_key(&key))
        };
        if if_none_match && exists() {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
        let mut body = input.body.ok_or_else(|| s3_error!(IncompleteBody))?;

        // Receive into a temporary file, hashing as the bytes arrive.
        let tmp = tempfile::Builder::new()
            .prefix("put-")
            .tempfile_in(self.root.join(".tmp"))
            .map_err(|e| io_err(&e))?;
        let mut out = tokio::io::BufWriter::with_capacity(
            256 * 1024,
            tokio::fs::File::from_std(tmp.reopen().map_err(|e| io_err(&e))?),
        );
        let mut md5 = md5::Md5::new();
        let mut crc = input.checksum_crc32c.as_ref().map(|_| 0u32);
        let mut sha = input.checksum_sha256.as_ref().map(|_| sha2::Sha256::new());
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk: Bytes =
                chunk.map_err(|_| s3_error!(IncompleteBody, "the request body broke off"))?;
            md5.update(&chunk);
            if let Some(c) = crc.as_mut() {
                *c = crc32c::crc32c_append(*c, &chunk);
            }
            if let Some(s) = sha.as_mut() {
                s.update(&chunk);
            }
            size += chunk.len() as u64;
            out.write_all(&chunk).await.map_err(|e| io_err(&e))?;
        }
        out.flush().await.map_err(|e| io_err(&e))?;
        drop(out);
        if let Some(expected) = input.content_length
            && u64::try_from(expected).ok() != Some(size)
        {
            return Err(s3_error!(
                IncompleteBody,
                "the body is shorter or longer than Content-Length"
            ));
        }
        let md5 = md5.finalize();
        let b64 = base64::engine::general_purpose::STANDARD;
        if let Some(content_md5) = &input.content_md5
            && *content_md5 != b64.encode(md5)
        {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what was received"
            ));
        }
        let crc = crc.map(|c| b64.encode(c.to_be_bytes()));
        if crc != input.checksum_crc32c {
            return Err(s3_error!(
                BadDigest,
                "The CRC32C you specified did not match the calculated checksum"
            ));
        }
        let sha = sha.map(|s| b64.encode(s.finalize()));
        if sha != input.checksum_sha256 {
            return Err(s3_error!(
                BadDigest,
                "The SHA256 you specified did not match the calculated checksum"
            ));
        }

        let meta = ObjectMeta {
            key: key.clone(),
            size,
            md5: hex::encode(md5),
            content_type: input.content_type.clone(),
            content_disposition: input.content_disposition.clone(),
            modified_unix_nanos: time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
            checksum_crc32c: crc,
            checksum_sha256: sha,
        };
        let (data_path, meta_path) = self.object_paths(&bucket, &key);
        let meta_json = serde_json::to_vec(&meta).map_err(|_| s3_error!(InternalError))?;
        // Commit under the index lock so If-None-Match is atomic against concurrent PUTs.
        let mut buckets = lock(&self.buckets);
        let b = buckets
            .get_mut(&bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        if if_none_match && b.objects.contains_key(&key) {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
        if let Some(dir) = data_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(&e))?;
        }
        tmp.persist(&data_path).map_err(|e| io_err(&e.error))?;
        let meta_tmp = meta_path.with_extension("json.tmp");
        std::fs::write(&meta_tmp, &meta_json)
            .and_then(|()| std::fs::rename(&meta_tmp, &meta_path))
            .map_err(|e| io_err(&e))?;
        let etag = meta.etag();
        let output = PutObjectOutput {
            e_tag: Some(etag),
            checksum_crc32c: meta.checksum_crc32c.clone(),
            checksum_sha256: meta.checksum_sha256.clone(),
            ..Default::default()
        };
        b.objects.insert(key, meta);
        Ok(S3Response::new(output))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket, req.input.key);
        let (data_path, meta_path) = self.object_paths(&bucket, &key);
        let mut buckets = lock(&self.buckets);
        let b = buckets
            .get_mut(&bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        if b.objects.remove(&key).is_some() {
            let _ = std::fs::remove_file(meta_path);
            let _ = std::fs::remove_file(data_path);
        }
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let max_keys =
            usize::try_from(input.max_keys.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
        let token = match &input.continuation_token {
            Some(t) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        s3_error!(
                            InvalidArgument,
                            "The continuation token provided is incorrect"
                        )
                    })?,
            ),
            None => None,
        };
        let after = match (token.as_deref(), input.start_after.as_deref()) {
            (Some(t), Some(s)) => Some(t.max(s).to_owned()),
            (Some(t), None) => Some(t.to_owned()),
            (None, Some(s)) => Some(s.to_owned()),
            (None, None) => None,
        };
        let buckets = lock(&self.buckets);
        let b = buckets
            .get(&input.bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;

        let mut contents = Vec::new();
        let mut prefixes = Vec::new();
        let mut last = None;
        let mut truncated = false;
        let mut lower = match &after {
            Some(a) if a.as_str() >= prefix.as_str() => Bound::Excluded(a.clone()),
            _ => Bound::Included(prefix.clone()),
        };
        'scan: loop {
            for (key, meta) in b.objects.range((lower.clone(), Bound::Unbounded)) {
                if !key.starts_with(&prefix) {
                    break 'scan;
                }
                if contents.len() + prefixes.len() >= max_keys {
                    truncated = true;
                    break 'scan;
                }
                let common = delimiter.as_deref().and_then(|d| {
                    key[prefix.len()..]
                        .find(d)
                        .map(|i| key[..prefix.len() + i + d.len()].to_owned())
                });
                if let Some(common) = common {
                    // Skip every key under this common prefix in one step.
                    if after.as_deref().is_none_or(|a| common.as_str() > a) {
                        prefixes.push(common.clone());
                        last = Some(common.clone());
                    }
                    let mut next = common;
                    next.push(char::MAX);
                    lower = Bound::Excluded(next);
                    continue 'scan;
                }
                contents.push(meta);
                last = Some(key.clone());
            }
            break;
        }
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let enc = |s: &str| if url { url_encode_key(s) } else { s.to_owned() };
        let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX);
        let output = ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            prefix: Some(enc(&prefix)),
            delimiter: delimiter.as_deref().map(enc),
            max_keys: Some(i32::try_from(max_keys).unwrap_or(1000)),
            key_count: Some(key_count),
            is_truncated: Some(truncated),
            continuation_token: input.continuation_token.clone(),
            start_after: input.start_after.as_deref().map(enc),
            next_continuation_token: if truncated {
                last.map(|l| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l))
            } else {
                None
            },
            encoding_type: if url {
                Some(EncodingType::from_static(EncodingType::URL))
            } else {
                None
            },
            contents: Some(
                contents
                    .into_iter()
                    .map(|m| Object {
                        key: Some(enc(&m.key)),
                        size: Some(i64::try_from(m.size).unwrap_or(i64::MAX)),
                        last_modified: Some(m.modified()),
                        e_tag: Some(m.etag()),
                        storage_class: Some(s3s::dto::ObjectStorageClass::from_static(
                            s3s::dto::ObjectStorageClass::STANDARD,
                        )),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc(&p)),
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}
