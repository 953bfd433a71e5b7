//! Test support for s3share's crates: the embedded store on 127.0.0.1:0 (a real S3 server that
//! verifies signatures) with an engine connection to it, a store as a child process (to kill,
//! limit or measure), a TCP proxy that injects faults, and small helpers.
//!
//! It links the engine and the store, never a UI crate: the store's and the engine's tests use
//! it without egui.

use std::path::Path;
use std::process::Output;

use s3share_core::AccessKey;
use s3share_engine::Connection;
use s3share_engine::client::connection::ConnectionSettings;
use s3share_engine::ops::Session;
use s3share_engine::transfer::TransferSettings;
use s3share_store::{StoreExtras, StoreOptions, StoreServer};

/// The embedded store on a free port, serving a temporary folder.
pub struct TestServer {
    pub store: StoreServer,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_in_region("us-east-1").await
    }

    pub async fn start_in_region(region: &str) -> Self {
        Self::start_with_options(region, StoreExtras::default()).await
    }

    /// A store with `extras` (signers without rights, no posture reads).
    pub async fn start_with(extras: StoreExtras) -> Self {
        Self::start_with_options(s3share_core::DEFAULT_REGION, extras).await
    }

    async fn start_with_options(region: &str, extras: StoreExtras) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = StoreServer::start(StoreOptions {
            data_dir: dir.path().join("data"),
            port: 0,
            credentials: s3share_store::credentials::generate().expect("credentials"),
            region: region.to_owned(),
            extras,
        })
        .await
        .expect("store starts");
        Self { store, dir }
    }

    /// A connection to it with its own key, independent of the environment.
    pub fn conn(&self) -> Connection {
        Connection::to_local_store(
            &self.store.endpoint_url(),
            self.store.credentials(),
            self.store.region(),
        )
        .expect("connection")
    }

    /// A session on [`Self::conn`], recording nothing, with `transfers`.
    pub fn session_with(&self, transfers: TransferSettings) -> Session {
        Session::new(self.conn(), None, transfers)
    }

    /// A session on [`Self::conn`] with the default transfer settings, recording nothing.
    pub fn session(&self) -> Session {
        self.session_with(TransferSettings::default())
    }

    /// A session on [`Self::conn`] that keeps a register of its own (in the test's folder).
    pub fn recording_session(&self) -> Session {
        Session::new(
            self.conn(),
            Some(s3share_engine::links::register::Register::new(
                self.dir.path().join("links.json"),
            )),
            TransferSettings::default(),
        )
    }

    /// Connection settings that reach this store.
    pub fn connection_settings(&self) -> ConnectionSettings {
        self.conn().settings().clone()
    }

    /// A connection signing with temporary credentials (a session token, as STS or SSO give)
    /// that expire at `expires_at`; the store accepts them like its own keys.
    pub fn conn_with_temporary_credentials(&self, expires_at: std::time::SystemTime) -> Connection {
        let creds = aws_credential_types::Credentials::new(
            &self.store.credentials().access_key_id,
            self.store.credentials().secret_access_key.expose(),
            Some("session-token-from-sts".into()),
            Some(expires_at),
            "test-sts",
        );
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(creds);
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(
                self.store.region().to_owned(),
            ))
            .credentials_provider(provider.clone())
            .build();
        Connection::from_sdk_config(self.connection_settings(), sdk, Some(provider))
            .expect("connection")
    }

    /// A scratch folder for local files.
    pub fn scratch(&self) -> std::path::PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }

    /// `program` set up to run against this store: only its `AWS_*` variables (nothing of the
    /// developer's AWS setup leaks in), a HOME of its own, no EC2 metadata, plus the variables
    /// `cmd` already had.
    pub fn command(&self, mut cmd: std::process::Command) -> std::process::Command {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let extra: Vec<(std::ffi::OsString, std::ffi::OsString)> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
            .collect();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            // Never ask the EC2 metadata address: tests talk to 127.0.0.1 only.
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for line in self.store.env_lines() {
            let (k, v) = line.split_once('=').expect("env line");
            cmd.env(k, v);
        }
        cmd.envs(extra);
        cmd
    }

    /// Run `cmd` (see [`Self::command`]) to its end, off the async workers.
    pub async fn run(&self, cmd: std::process::Command) -> Output {
        let mut cmd = self.command(cmd);
        tokio::task::spawn_blocking(move || cmd.output().expect("run the program"))
            .await
            .expect("join")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// A store in a child process (`s3share local`, or the store crate's own `s3share-store`), so
/// a test can stop, kill or measure it.
pub struct ChildServer {
    pub child: std::process::Child,
    pub endpoint: String,
    pub credentials: AccessKey,
    pub stderr_path: std::path::PathBuf,
}

impl ChildServer {
    /// Start `cmd` (the store on port 0) with `home` as its HOME and only PATH besides, and
    /// wait for its `AWS_*` lines.
    pub fn start(mut cmd: std::process::Command, home: &Path) -> Self {
        use std::io::BufRead as _;
        std::fs::create_dir_all(home).expect("home");
        let stderr_path = home.join(format!("store-stderr-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let extra: Vec<(std::ffi::OsString, std::ffi::OsString)> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
            .collect();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .envs(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("start the store");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut vars = std::collections::HashMap::new();
        while vars.len() < 4 {
            let line = lines
                .next()
                .expect("the store printed its AWS_* lines")
                .expect("read stdout");
            if let Some((k, v)) = line.split_once('=') {
                vars.insert(k.to_owned(), v.to_owned());
            }
        }
        Self {
            child,
            endpoint: vars["AWS_ENDPOINT_URL"].clone(),
            credentials: AccessKey {
                access_key_id: vars["AWS_ACCESS_KEY_ID"].clone(),
                secret_access_key: s3share_core::Secret::new(vars["AWS_SECRET_ACCESS_KEY"].clone()),
            },
            stderr_path,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A connection to it with its credentials.
    pub fn conn(&self) -> Connection {
        conn_to(&self.endpoint, &self.credentials)
    }

    /// A field of `/proc/PID/status` in kB (`VmHWM`, `VmRSS`).
    pub fn status_kb(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a status field")
    }

    /// CPU time used so far, in clock ticks (utime + stime of `/proc/PID/stat`).
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("stat");
        let after = stat.rsplit_once(')').expect("comm").1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    /// Stop it hard (SIGKILL), as a crash or a power cut would.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Faults a [`Proxy`] injects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Reset (RST) every Nth connection once it has carried `reset_after` bytes upstream.
    pub reset_every: Option<u64>,
    pub reset_after: u64,
    /// Cap the upstream rate (bytes per second) of every connection.
    pub upstream_rate: Option<u64>,
    /// Cap the downstream rate (bytes per second) of every connection: a distant server, where
    /// each stream gets a share and more streams go faster.
    pub downstream_rate: Option<u64>,
}

/// A TCP proxy on 127.0.0.1:0 in front of a store: counts the bytes each way, can reset
/// connections and slow them down, and can be pointed at a restarted store.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    target: std::sync::Arc<std::sync::Mutex<std::net::SocketAddr>>,
    /// Client to server bytes.
    pub up: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Server to client bytes.
    pub down: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub resets: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Connections carrying bytes now, and the most there were at once.
    open: std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str, faults: Faults) -> Self {
        use std::sync::atomic::AtomicU64;
        use std::sync::{Arc, Mutex};
        let target: std::net::SocketAddr = target
            .trim_start_matches("http://")
            .parse()
            .expect("target address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let target = Arc::new(Mutex::new(target));
        let (up, down, resets) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let open = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let (to_target, up_count, down_count, reset_count, open_count) = (
            target.clone(),
            up.clone(),
            down.clone(),
            resets.clone(),
            open.clone(),
        );
        let task = tokio::spawn(async move {
            let mut accepted = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                accepted += 1;
                let to = *to_target.lock().expect("target");
                let doomed = faults
                    .reset_every
                    .is_some_and(|every| accepted.is_multiple_of(every));
                let open = open_count.clone();
                let carry = relay(
                    client,
                    to,
                    doomed.then_some(faults.reset_after),
                    (faults.upstream_rate, faults.downstream_rate),
                    [up_count.clone(), down_count.clone(), reset_count.clone()],
                );
                tokio::spawn(async move {
                    let now = open[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    open[1].fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                    carry.await;
                    open[0].fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                });
            }
        });
        Self {
            addr,
            target,
            up,
            down,
            resets,
            open,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Send new connections to `target` (a restarted store).
    pub fn retarget(&self, target: &str) {
        *self.target.lock().expect("target") = target
            .trim_start_matches("http://")
            .parse()
            .expect("target address");
    }

    pub fn up(&self) -> u64 {
        self.up.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn down(&self) -> u64 {
        self.down.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn resets(&self) -> u64 {
        self.resets.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The most connections that were open through the proxy at once.
    pub fn peak_connections(&self) -> u64 {
        self.open[1].load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Carry one connection both ways, counting; reset it after `reset_after` bytes upstream, and
/// hold each way to its rate in bytes a second.
async fn relay(
    client: tokio::net::TcpStream,
    to: std::net::SocketAddr,
    reset_after: Option<u64>,
    (rate, down_rate): (Option<u64>, Option<u64>),
    [up, down, resets]: [std::sync::Arc<std::sync::atomic::AtomicU64>; 3],
) {
    use std::sync::atomic::Ordering;
    let Ok(server) = tokio::net::TcpStream::connect(to).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let upstream = async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut buf = vec![0u8; 64 * 1024];
        let mut carried = 0u64;
        let started = std::time::Instant::now();
        loop {
            let Ok(k) = cr.read(&mut buf).await else {
                return true;
            };
            if k == 0 {
                let _ = sw.shutdown().await;
                return false;
            }
            carried += k as u64;
            up.fetch_add(k as u64, Ordering::Relaxed);
            if reset_after.is_some_and(|after| carried > after) {
                resets.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            if sw.write_all(&buf[..k]).await.is_err() {
                return true;
            }
            if let Some(rate) = rate {
                let due = std::time::Duration::from_secs_f64(carried as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    };
    let downstream = async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut buf = vec![0u8; 64 * 1024];
        let mut carried = 0u64;
        let started = std::time::Instant::now();
        loop {
            let Ok(k) = sr.read(&mut buf).await else {
                return;
            };
            if k == 0 {
                let _ = cw.shutdown().await;
                return;
            }
            carried += k as u64;
            down.fetch_add(k as u64, Ordering::Relaxed);
            if cw.write_all(&buf[..k]).await.is_err() {
                return;
            }
            if let Some(rate) = down_rate {
                let due = std::time::Duration::from_secs_f64(carried as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    };
    let reset = tokio::select! {
        reset = upstream => reset,
        () = downstream => false,
    };
    if reset && let Ok(client) = cr.reunite(cw) {
        // Closed with linger 0: the client sees a reset, not an end.
        let _ = client.set_zero_linger();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A connection to the store at `endpoint` signing with `credentials` (a store behind a
/// proxy, or in a child process).
pub fn conn_to(endpoint: &str, credentials: &AccessKey) -> Connection {
    Connection::to_local_store(endpoint, credentials, "us-east-1").expect("connection")
}

/// PUT `body` as `key` in the store's bucket `shared`, through the SDK.
pub async fn put(conn: &Connection, key: &str, body: &[u8]) {
    conn.client()
        .put_object()
        .bucket("shared")
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .expect("put");
}

/// What to presign for `method` on `addr` (us-east-1, the default expiry, signed now), with
/// `headers` signed too.
pub fn presign_input<'a>(
    method: &'a str,
    addr: &'a s3share_engine::client::endpoint::ObjectAddress,
    headers: &'a [(&'a str, &'a str)],
) -> s3share_engine::base::signing::PresignInput<'a> {
    s3share_engine::base::signing::PresignInput {
        method,
        scheme: &addr.scheme,
        authority: &addr.authority,
        path: &addr.path,
        query: &[],
        headers,
        region: "us-east-1",
        expires: s3share_engine::Expiry::DEFAULT,
        now: std::time::SystemTime::now(),
    }
}

/// A connection to `server` with its own key (a store started by hand, restarted).
pub fn conn_of(server: &StoreServer) -> Connection {
    Connection::to_local_store(
        &server.endpoint_url(),
        server.credentials(),
        server.region(),
    )
    .expect("connection")
}

/// A presigned GET for `key` in `shared` on `conn`'s store, signed now (with `session_token`
/// added to the signature when given, as STS credentials carry one).
pub async fn presigned_get(conn: &Connection, key: &str, session_token: Option<&str>) -> String {
    let mut creds = conn.signing_credentials().await.expect("credentials");
    creds.session_token = session_token.map(s3share_core::Secret::new);
    let addr = conn.object_address("shared", key, "us-east-1");
    s3share_engine::base::signing::presign(&creds, &presign_input("GET", &addr, &[])).into_url()
}

/// A share page's rows (in the page as written, or as a browser serialises it) as (name shown,
/// link), HTML entities undone.
pub fn page_rows(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    html.split("<a href=\"")
        .skip(1)
        .map(|row| {
            let (href, rest) = row.split_once('"').expect("href ends");
            let name = rest
                .split_once("<bdi>")
                .and_then(|(_, r)| r.split_once("</bdi>"))
                .expect("a name")
                .0;
            (unescape(name), unescape(href))
        })
        .collect()
}
