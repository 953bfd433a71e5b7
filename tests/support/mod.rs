//! The embedded store on 127.0.0.1:0 (a real S3 server that verifies signatures), a connection
//! to it, and a way to run the real `s3share` binary against it.
#![allow(dead_code)] // each test file uses a part of this

use std::path::Path;
use std::process::Output;

use s3share::engine::Connection;
use s3share::engine::local_store::{LocalCredentials, LocalStore, LocalStoreOptions};

pub struct TestStore {
    pub store: LocalStore,
    pub dir: tempfile::TempDir,
}

impl TestStore {
    pub async fn start() -> Self {
        Self::start_in_region("us-east-1").await
    }

    pub async fn start_in_region(region: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::start(LocalStoreOptions {
            data_dir: dir.path().join("data"),
            port: 0,
            credentials: LocalCredentials::generate().expect("credentials"),
            region: region.to_owned(),
            extras: s3share::engine::local_store::StoreExtras::default(),
        })
        .await
        .expect("store starts");
        Self { store, dir }
    }

    pub fn conn(&self) -> Connection {
        self.store.connect().expect("connection")
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
        Connection::from_sdk_config(self.store.connection_settings(), sdk, Some(provider))
            .expect("connection")
    }

    /// A scratch folder for local files.
    pub fn scratch(&self) -> std::path::PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }

    /// Run `program args…` (a wrapper such as `script` that runs s3share itself) with the same
    /// environment as [`TestStore::cli`].
    pub async fn cli_via(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args);
        self.run(cmd).await
    }

    /// Run the real binary with only this store's `AWS_*` variables (nothing of the developer's
    /// AWS setup leaks in), plus `extra` variables.
    pub async fn cli(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3share"));
        cmd.args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        self.run(cmd).await
    }

    async fn run(&self, mut cmd: std::process::Command) -> Output {
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
        tokio::task::spawn_blocking(move || cmd.output().expect("run s3share"))
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

/// `s3share local` in a child process (so a test can stop, kill or measure it), on a free port,
/// serving `data_dir`, with its own HOME for its credentials file.
pub struct ChildStore {
    pub child: std::process::Child,
    pub endpoint: String,
    pub credentials: LocalCredentials,
    pub stderr_path: std::path::PathBuf,
}

impl ChildStore {
    /// Start it and wait for its `AWS_*` lines. `env` adds variables (`S3SHARE_LOG`, ...).
    pub fn start(home: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(home, data_dir, env, None)
    }

    /// As [`ChildStore::start`], run through `wrapper` (`prlimit …`) when given.
    pub fn start_with(
        home: &Path,
        data_dir: &Path,
        env: &[(&str, &str)],
        wrapper: Option<&[&str]>,
    ) -> Self {
        use std::io::BufRead as _;
        std::fs::create_dir_all(home).expect("home");
        let stderr_path = home.join(format!("store-stderr-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let exe = env!("CARGO_BIN_EXE_s3share");
        let mut cmd = match wrapper {
            Some(w) => {
                let mut c = std::process::Command::new(w[0]);
                c.args(&w[1..]).arg(exe);
                c
            }
            None => std::process::Command::new(exe),
        };
        cmd.args(["local", "--port", "0", "--dir"])
            .arg(data_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start s3share local");
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
            credentials: LocalCredentials {
                access_key_id: vars["AWS_ACCESS_KEY_ID"].clone(),
                secret_access_key: s3share::engine::presign::Secret::new(
                    vars["AWS_SECRET_ACCESS_KEY"].clone(),
                ),
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

impl Drop for ChildStore {
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
        let (to_target, up_count, down_count, reset_count) =
            (target.clone(), up.clone(), down.clone(), resets.clone());
        let task = tokio::spawn(async move {
            let mut accepted = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                accepted += 1;
                let to = *to_target.lock().expect("target");
                let doomed = faults
                    .reset_every
                    .is_some_and(|every| accepted.is_multiple_of(every));
                tokio::spawn(relay(
                    client,
                    to,
                    doomed.then_some(faults.reset_after),
                    faults.upstream_rate,
                    [up_count.clone(), down_count.clone(), reset_count.clone()],
                ));
            }
        });
        Self {
            addr,
            target,
            up,
            down,
            resets,
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
}

/// Carry one connection both ways, counting; reset it after `reset_after` bytes upstream, and
/// hold its upstream to `rate` bytes a second.
async fn relay(
    client: tokio::net::TcpStream,
    to: std::net::SocketAddr,
    reset_after: Option<u64>,
    rate: Option<u64>,
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
        loop {
            let Ok(k) = sr.read(&mut buf).await else {
                return;
            };
            if k == 0 {
                let _ = cw.shutdown().await;
                return;
            }
            down.fetch_add(k as u64, Ordering::Relaxed);
            if cw.write_all(&buf[..k]).await.is_err() {
                return;
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

/// A connection to `endpoint` signing with `credentials` (a store behind a proxy).
pub fn conn_to(endpoint: &str, credentials: &LocalCredentials) -> Connection {
    let provider =
        aws_credential_types::provider::SharedCredentialsProvider::new(credentials.to_aws());
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(provider.clone())
        .build();
    let settings = s3share::engine::ConnectionSettings {
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        path_style: true,
        ..Default::default()
    };
    Connection::from_sdk_config(settings, sdk, Some(provider)).expect("connection")
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
    addr: &'a s3share::engine::connection::ObjectAddress,
    headers: &'a [(&'a str, &'a str)],
) -> s3share::engine::presign::PresignInput<'a> {
    s3share::engine::presign::PresignInput {
        method,
        scheme: &addr.scheme,
        authority: &addr.authority,
        path: &addr.path,
        query: &[],
        headers,
        region: "us-east-1",
        expires: s3share::engine::Expiry::DEFAULT,
        now: std::time::SystemTime::now(),
    }
}
