//! Trust, end to end against the embedded store: the bucket's posture (and `Unknown` from a
//! server that answers NotImplemented), the signer policy, the register of links and its
//! check, upload requests, and no secret in any output or file at the most verbose logging.

mod support;

use support::Cli as _;

use std::path::{Path, PathBuf};

use s3share_engine::links::register::{LinkKind, NewRecord, Register, Signer};
use s3share_store::StoreExtras;
use support::{TestServer, stderr, stdout};

fn register_of(store: &TestServer) -> Register {
    Register::new(
        store
            .dir
            .path()
            .join("home/.local/share/s3share/links.json"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posture_of_the_embedded_store_is_private_with_its_facts() {
    let store = TestServer::start().await;
    let out = store.cli(&["posture", "s3://shared"], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Private", "{text}");
    for fact in [
        "Block Public Access: on (all four settings)",
        "Bucket policy: none",
        "ACL: private",
        "Versioning: never enabled",
        "Object ownership: BucketOwnerEnforced",
        "Access logging: warning: off",
    ] {
        assert!(text.contains(fact), "{fact:?} in {text}");
    }
    let missing = store.cli(&["posture", "s3://nosuchbucket"], &[]).await;
    assert_eq!(missing.status.code(), Some(3), "{}", stderr(&missing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_not_implemented_gives_unknown() {
    let store = TestServer::start_with(StoreExtras {
        without_posture_reads: true,
        ..StoreExtras::default()
    })
    .await;
    let out = store.cli(&["posture", "s3://shared"], &[]).await;
    assert!(
        out.status.success(),
        "NotImplemented is an answer: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    assert_eq!(text.lines().next(), Some("Unknown"), "{text}");
    assert!(
        text.contains("Bucket policy: unknown (the server does not say)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_answers_make_their_facts_unknown_not_the_check_fail() {
    // As Ceph RGW answers some reads: documents with no rules, no IsPublic, no grants.
    let store = TestServer::start_with(StoreExtras {
        empty_posture_documents: true,
        ..StoreExtras::default()
    })
    .await;
    let out = store.cli(&["posture", "s3://shared"], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().next(), Some("Unknown"), "{text}");
    let unreadable = text
        .lines()
        .filter(|l| l.contains("unknown (the server's answer could not be read)"))
        .count();
    assert!(
        unreadable >= 2,
        "each unreadable answer is its own unknown fact: {text}"
    );
    // The facts that could be read are still there.
    assert!(text.contains("Versioning: "), "{text}");
    assert!(text.lines().count() >= 8, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signer_policy_names_exactly_the_prefix() {
    let store = TestServer::start().await;
    let read = store.cli(&["policy", "s3://shared/team/q3/"], &[]).await;
    assert!(read.status.success(), "{}", stderr(&read));
    let policy: serde_json::Value = serde_json::from_str(&stdout(&read)).expect("JSON");
    assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(1));
    assert_eq!(policy["Statement"][0]["Action"][0], "s3:GetObject");
    assert_eq!(
        policy["Statement"][0]["Resource"][0],
        "arn:aws:s3:::shared/team/q3/*"
    );

    let all = store
        .cli(
            &["policy", "s3://shared/team/q3/", "--upload", "--browse"],
            &[],
        )
        .await;
    let policy: serde_json::Value = serde_json::from_str(&stdout(&all)).expect("JSON");
    let mut resources = Vec::new();
    for s in policy["Statement"].as_array().expect("statements") {
        for r in s["Resource"].as_array().expect("resources") {
            resources.push(r.as_str().expect("text").to_owned());
        }
        for a in s["Action"].as_array().expect("actions") {
            assert!(
                !a.as_str().unwrap_or("*").contains('*'),
                "no wildcard actions"
            );
        }
    }
    resources.sort();
    resources.dedup();
    assert_eq!(
        resources,
        ["arn:aws:s3:::shared", "arn:aws:s3:::shared/team/q3/*"]
    );
    let listing = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Action"][0] == "s3:ListBucket")
        .expect("a listing statement");
    assert_eq!(
        listing["Condition"]["StringLike"]["s3:prefix"][0],
        "team/q3/*"
    );
    let text = stdout(&all);
    assert!(text.contains("s3:PutObject") && text.contains("s3:AbortMultipartUpload"));

    let not_a_prefix = store.cli(&["policy", "s3://shared/team"], &[]).await;
    assert_eq!(not_a_prefix.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_lands_in_the_register_privately_and_without_secrets() {
    let store = TestServer::start().await;
    let file = store.scratch().join("plan.pdf");
    std::fs::write(&file, b"%PDF plan").expect("write");
    let up = store
        .cli(
            &[
                "upload",
                file.to_str().expect("utf-8"),
                "s3://shared/docs/",
                "--share",
                "1h",
            ],
            &[],
        )
        .await;
    assert!(up.status.success(), "{}", stderr(&up));
    let link = stdout(&up).trim().to_owned();
    let shared = store
        .cli(
            &["share", "s3://shared/docs/plan.pdf", "--expires", "5m"],
            &[],
        )
        .await;
    assert!(shared.status.success(), "{}", stderr(&shared));

    let register = register_of(&store);
    let entries = register.list().expect("register");
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries
            .iter()
            .any(|e| e.url == link && e.requested_secs == 3600)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(register.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let raw = std::fs::read_to_string(register.path()).expect("read");
    assert!(!raw.contains(store.store.credentials().secret_access_key.expose()));
    assert!(raw.contains(&store.store.credentials().access_key_id));

    let listed = store.cli(&["links", "--check", "--revoke"], &[]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert_eq!(
        text.matches(" live link s3://shared/docs/plan.pdf").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("· works").count(), 2, "{text}");
    assert!(
        text.contains("to revoke: Delete or move the object"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_says_when_the_signer_may_no_longer_read_the_object() {
    let powerless = s3share_store::credentials::generate().expect("credentials");
    let store = TestServer::start_with(StoreExtras {
        users_without_rights: vec![powerless.clone()],
        ..StoreExtras::default()
    })
    .await;
    let conn = store.conn();
    support::put(&conn, "report.txt", b"r").await;
    // A link the powerless key signed (as a signer that lost its permission would have).
    let creds = s3share_engine::base::signing::SigningCredentials {
        access_key_id: powerless.access_key_id.clone(),
        secret_access_key: powerless.secret_access_key.clone(),
        session_token: None,
        expires_at: None,
    };
    let addr = conn.object_address("shared", "report.txt", "us-east-1");
    let input = support::presign_input("GET", &addr, &[]);
    let (now, expires) = (input.now, input.expires);
    let signed = s3share_engine::base::signing::presign(&creds, &input);
    let object = s3share_engine::S3Uri::new("shared", "report.txt");
    register_of(&store)
        .record(
            NewRecord {
                kind: LinkKind::Link,
                object: &object,
                requested: expires.duration(),
                signed_at: now,
                expires_at: now + expires.duration(),
                signer: Signer {
                    profile: None,
                    access_key_id: powerless.access_key_id.clone(),
                    temporary: false,
                    credentials_expire_unix: None,
                    local_store: false,
                },
                endpoint: store.store.endpoint_url(),
                url: signed.url().to_owned(),
                fields: Vec::new(),
                max_size: None,
                page_key: None,
            }
            .into_record(),
        )
        .expect("record");
    let out = store.cli(&["links", "--check"], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the signer may no longer read this object"),
        "{}",
        stdout(&out)
    );
}

/// The `curl ` line of `request`'s output, with `<FILE>` replaced.
fn curl_for(output: &str, file: &Path) -> String {
    let line = output
        .lines()
        .find(|l| l.starts_with("curl "))
        .expect("a line starting with curl");
    assert!(line.contains("<FILE>"), "{line}");
    line.replace("<FILE>", file.to_str().expect("utf-8"))
}

fn sh(command: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .args(["-c", command])
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .expect("sh")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_request_takes_a_small_file_and_refuses_the_rest() {
    let store = TestServer::start().await;
    let page = store.scratch().join("upload.html");
    let out = store
        .cli(
            &[
                "request",
                "s3://shared/inbox/",
                "--max-size",
                "1KB",
                "--expires",
                "1h",
                "--html",
                page.to_str().expect("utf-8"),
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    // The request has a folder of its own below inbox/: `inbox/2026-12-02-k3f9q2xa/`.
    let own = printed
        .split("key=inbox/")
        .nth(1)
        .and_then(|rest| rest.split("${filename}").next())
        .expect("the key field")
        .to_owned();
    assert!(
        own.len() == "2026-12-02-abcdefgh/".len() && own.ends_with('/'),
        "{own}"
    );
    assert!(
        stderr(&out).contains("a folder of this request's own"),
        "{}",
        stderr(&out)
    );
    let folder = format!("inbox/{own}");
    let small = store.scratch().join("notes é.txt");
    std::fs::write(&small, vec![b'n'; 900]).expect("write");
    let sent = sh(&curl_for(&printed, &small));
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stdout)
    );
    assert!(String::from_utf8_lossy(&sent.stdout).contains("<PostResponse>"));
    let head = store
        .conn()
        .client()
        .head_object()
        .bucket("shared")
        .key(format!("{folder}notes é.txt"))
        .send()
        .await
        .expect("stored under its own name, in the request's folder");
    assert_eq!(head.content_length(), Some(900));

    let big = store.scratch().join("big.bin");
    std::fs::write(&big, vec![b'b'; 1001]).expect("write");
    let refused = sh(&curl_for(&printed, &big));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("EntityTooLarge"));

    let outside = curl_for(&printed, &small).replace(
        &format!("key={folder}${{filename}}"),
        "key=other/${filename}",
    );
    let refused = sh(&outside);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("AccessDenied"));

    // A recipient who edits the key to an object the owner already has reaches nothing.
    support::put(&store.conn(), "inbox/report.pdf", b"the owner's report").await;
    let edited = curl_for(&printed, &small).replace(
        &format!("key={folder}${{filename}}"),
        "key=inbox/report.pdf",
    );
    let refused = sh(&edited);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("AccessDenied"));
    let kept = store
        .conn()
        .client()
        .get_object()
        .bucket("shared")
        .key("inbox/report.pdf")
        .send()
        .await
        .expect("get");
    let body = kept.body.collect().await.expect("body").into_bytes();
    assert_eq!(
        &body[..],
        b"the owner's report",
        "the owner's object is untouched"
    );

    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("x-amz-signature"));
    let entries = register_of(&store).list().expect("register");
    assert!(
        entries
            .iter()
            .any(|e| e.kind == LinkKind::Request && e.key == folder)
    );
    let listed = store.cli(&["links"], &[]).await;
    assert!(stdout(&listed).contains(&format!("upload-request s3://shared/{folder}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_straight_into_a_folder_is_asked_for_in_so_many_words() {
    let store = TestServer::start().await;
    let into = store
        .cli(
            &[
                "request",
                "s3://shared/drop/",
                "--max-size",
                "1KB",
                "--no-own-folder",
            ],
            &[],
        )
        .await;
    assert!(into.status.success(), "{}", stderr(&into));
    assert!(
        stdout(&into).contains("key=drop/${filename}"),
        "{}",
        stdout(&into)
    );
    assert!(
        stderr(&into).contains("warning: files land straight in s3://shared/drop/"),
        "{}",
        stderr(&into)
    );
    // The bucket's root needs its own yes.
    let root = store
        .cli(
            &[
                "request",
                "s3://shared/",
                "--max-size",
                "1KB",
                "--no-own-folder",
            ],
            &[],
        )
        .await;
    assert_eq!(root.status.code(), Some(2), "{}", stderr(&root));
    assert!(
        stderr(&root).contains("replace any object in the bucket"),
        "{}",
        stderr(&root)
    );
    let allowed = store
        .cli(
            &[
                "request",
                "s3://shared/",
                "--max-size",
                "1KB",
                "--no-own-folder",
                "--allow-whole-bucket",
            ],
            &[],
        )
        .await;
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert!(
        stderr(&allowed).contains("ANY object"),
        "{}",
        stderr(&allowed)
    );
    // Without the flag, a request at the root gets a folder of its own there.
    let own = store
        .cli(&["request", "s3://shared/", "--max-size", "1KB"], &[])
        .await;
    assert!(own.status.success(), "{}", stderr(&own));
    assert!(
        !stdout(&own).contains("key=${filename}"),
        "{}",
        stdout(&own)
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Run every command at trace logging with a session token in the environment; returns all
/// stderr and every signature the commands handed out (links, the request's form).
async fn run_every_command(store: &TestServer, token: &str, page: &Path) -> (String, Vec<String>) {
    let env = [
        ("S3SHARE_LOG", "trace"),
        ("RUST_LOG", "trace"),
        ("AWS_SESSION_TOKEN", token),
    ];
    let scratch = store.scratch();
    let file = scratch.join("hygiene.txt");
    std::fs::write(&file, b"clean").expect("write");
    let big = scratch.join("parts.bin");
    std::fs::write(&big, support::pattern(11 << 20, 3)).expect("write");
    let down = scratch.join("down");
    std::fs::create_dir_all(&down).expect("dir");
    let utf8 = |p: &Path| p.to_str().expect("utf-8").to_owned();
    let (file, big, page, down) = (utf8(&file), utf8(&big), utf8(page), utf8(&down));
    let commands: Vec<Vec<&str>> = vec![
        vec!["ls"],
        vec!["upload", &file, "s3://shared/h/", "--share", "10m"],
        vec![
            "upload",
            &big,
            "s3://shared/h/",
            "--multipart-above",
            "8MiB",
            "--part-size",
            "5MiB",
        ],
        vec!["ls", "s3://shared/h/"],
        vec!["share", "s3://shared/h/hygiene.txt", "--verify"],
        vec!["download", "s3://shared/h/", &down],
        vec!["uploads", "s3://shared"],
        vec!["posture", "s3://shared"],
        vec!["policy", "s3://shared/h/", "--upload"],
        vec![
            "request",
            "s3://shared/in/",
            "--max-size",
            "1MB",
            "--html",
            &page,
        ],
        vec!["links", "--all", "--check", "--revoke"],
        vec!["share", "s3://shared/h/missing.txt"],
    ];
    let secret = store.store.credentials().secret_access_key.expose();
    let mut signatures = Vec::new();
    let mut stderrs = String::new();
    for args in &commands {
        let out = store.cli(args, &env).await;
        let (printed, logged) = (stdout(&out), stderr(&out));
        assert!(
            !printed.contains(secret) && !logged.contains(secret),
            "{args:?} printed the secret"
        );
        for url in printed
            .split_whitespace()
            .filter(|w| w.contains("X-Amz-Signature="))
        {
            signatures.extend(s3share_engine::base::signing::query_param(
                url,
                "X-Amz-Signature",
            ));
        }
        stderrs.push_str(&logged);
    }
    // The form's signature, meant for the request page and the register only.
    for r in register_of(store).list().expect("register") {
        signatures.extend(
            r.fields
                .iter()
                .filter(|(n, _)| n == "x-amz-signature")
                .map(|(_, v)| v.clone()),
        );
        signatures.extend(s3share_engine::base::signing::query_param(
            &r.url,
            "X-Amz-Signature",
        ));
    }
    (stderrs, signatures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_leaks_a_secret_at_trace() {
    let store = TestServer::start().await;
    let token = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENabcdef0123456789";
    let page = store.scratch().join("request.html");
    let (stderrs, signatures) = run_every_command(&store, token, &page).await;
    assert!(
        signatures.len() >= 3,
        "links were made: {}",
        signatures.len()
    );
    assert!(!stderrs.is_empty(), "trace logging wrote something");
    let secret = store
        .store
        .credentials()
        .secret_access_key
        .expose()
        .to_owned();
    let needles: Vec<&str> = std::iter::once(secret.as_str())
        .chain([token])
        .chain(signatures.iter().map(String::as_str))
        .collect();
    for needle in &needles {
        assert!(
            !stderrs.contains(needle),
            "stderr holds a secret ({} bytes)",
            stderrs.len()
        );
    }
    assert!(!stderrs.contains("X-Amz-Signature") && !stderrs.contains("x-amz-signature"));
    // Every file written, but the register and the request page (meant to hold them).
    let register = register_of(&store);
    for path in files_under(store.dir.path()) {
        if path == register.path() || path == page || path.starts_with(store.store.data_dir()) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(!text.contains(needle), "{} holds a secret", path.display());
        }
    }
}

/// A `WebDriver` session on headless Chromium (Debian's `chromium` and `chromium-driver`), spoken
/// to over its plain HTTP protocol: a real browser filling a real form.
struct Browser {
    driver: std::process::Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) runs");
        let profile = tempfile::tempdir().expect("profile");
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "args": ["--headless", "--no-sandbox", "--disable-gpu",
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let mut session = None;
        for _ in 0..100 {
            if let Ok(r) = post_json(&http, &format!("{root}/session"), &caps).await {
                let v = json_of(r).await;
                session = v["value"]["sessionId"].as_str().map(str::to_owned);
                assert!(session.is_some(), "no session: {v}");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let id = session.expect("chromedriver answered");
        Self {
            driver,
            base: format!("{root}/session/{id}"),
            http,
            _profile: profile,
        }
    }

    async fn call(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let v = json_of(
            post_json(&self.http, &format!("{}{path}", self.base), &body)
                .await
                .expect("webdriver"),
        )
        .await;
        assert!(v["value"]["error"].is_null(), "{path}: {v}");
        v["value"].clone()
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                "/element",
                serde_json::json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// The text of the element `css` once it starts with `prefix` (waiting up to 10 s), or
    /// the last text seen.
    async fn text_when(&self, css: &str, prefix: &str) -> String {
        let id = self.element(css).await;
        let mut text = String::new();
        for _ in 0..100 {
            let v = json_of(
                self.http
                    .get(format!("{}/element/{id}/text", self.base))
                    .send()
                    .await
                    .expect("webdriver"),
            )
            .await;
            text = v["value"].as_str().unwrap_or_default().to_owned();
            if text.starts_with(prefix) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        text
    }
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> reqwest::Result<reqwest::Response> {
    http.post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
}

async fn json_of(r: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&r.bytes().await.expect("body")).expect("json")
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `request` prints the upload page's link as its last line; opened in a real browser, the page
/// takes a file (a name with `$&` and quotes) into the request's own folder and shows S3's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_request_link_opens_a_page_that_takes_a_file_in_a_browser() {
    let store = TestServer::start().await;
    let out = store
        .cli(
            &[
                "request",
                "s3://shared/inbox/",
                "--max-size",
                "1KB",
                "--expires",
                "1h",
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "the curl line, then the page's link: {printed}"
    );
    assert!(lines[0].starts_with("curl "));
    let page = lines[1];
    assert!(page.contains("/.s3share/pages/") && page.contains("X-Amz-Signature="));
    let file = store.scratch().join("q3 $& 'notes'.txt");
    std::fs::write(&file, b"from the browser").expect("write");

    let browser = Browser::start().await;
    browser.call("/url", serde_json::json!({"url": page})).await;
    let input = browser.element("#file").await;
    browser
        .call(
            &format!("/element/{input}/value"),
            serde_json::json!({"text": file.display().to_string()}),
        )
        .await;
    let send = browser.element("button[type=submit]").await;
    browser
        .call(&format!("/element/{send}/click"), serde_json::json!({}))
        .await;
    let answer = browser.text_when("#status", "Stored").await;
    assert_eq!(
        answer, "Stored: q3 $& 'notes'.txt. You can send another file.",
        "the page says in words that it arrived"
    );
    // Too large: S3's refusal, in words, on the same page.
    let big = store.scratch().join("big.bin");
    std::fs::write(&big, vec![b'b'; 2000]).expect("write");
    browser
        .call(&format!("/element/{input}/clear"), serde_json::json!({}))
        .await;
    browser
        .call(
            &format!("/element/{input}/value"),
            serde_json::json!({"text": big.display().to_string()}),
        )
        .await;
    browser
        .call(&format!("/element/{send}/click"), serde_json::json!({}))
        .await;
    let answer = browser.text_when("#status", "Not stored").await;
    assert!(
        answer.contains("Not stored: the file is larger than this request allows (1 KB"),
        "{answer}"
    );
    let listed = store
        .conn()
        .client()
        .list_objects_v2()
        .bucket("shared")
        .prefix("inbox/")
        .send()
        .await
        .expect("list");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].ends_with("/q3 $& 'notes'.txt")
            && keys[0].len() > "inbox/2026-12-03-abcdefgh/".len(),
        "the file's own name in the request's own folder: {keys:?}"
    );
}

/// AWS's presigned-URL guardrails in the bucket policy: posture names them in words, and every
/// share folds them into the link's real lifetime (or refuses to make a link that cannot work).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_policys_guardrails_appear_in_posture_and_in_every_link() {
    let fenced = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"TenMinuteLinks","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*",
         "Resource":"arn:aws:s3:::shared/*",
         "Condition":{"NumericGreaterThan":{"s3:signatureAge":600000}}},
        {"Sid":"OfficeOnly","Effect":"Deny","Principal":"*","Action":"s3:GetObject",
         "Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"],
         "Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","127.0.0.0/8"]}}},
        {"Sid":"NoSigV2","Effect":"Deny","Principal":"*","Action":"s3:*",
         "Resource":"arn:aws:s3:::shared/*",
         "Condition":{"StringEquals":{"s3:signatureversion":"AWS"}}}]}"#;
    let store = TestServer::start_with(StoreExtras {
        bucket_policy: Some(fenced.to_owned()),
        ..StoreExtras::default()
    })
    .await;
    support::put(&store.conn(), "a.txt", b"a").await;
    let posture = store.cli(&["posture", "s3://shared"], &[]).await;
    let text = stdout(&posture);
    assert!(
        text.contains(
            "Link guardrails: links die 10 minutes after they are signed (s3:signatureAge)"
        ) && text.contains(
            "Link guardrails: links work only from 203.0.113.0/24, 127.0.0.0/8 (aws:SourceIp)"
        ),
        "{text}"
    );
    assert!(
        !text.contains("SigV2"),
        "a SigV2 rule does not touch SigV4 links: {text}"
    );

    let out = store
        .cli(&["share", "s3://shared/a.txt", "--expires", "1h"], &[])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: the bucket policy ends every link 10 minutes after it is signed (s3:signatureAge)")
            && err.contains("note: links work only from 203.0.113.0/24, 127.0.0.0/8 (aws:SourceIp)")
            && err.contains("link expires in 10 minutes"),
        "{err}"
    );
    let links = register_of(&store).list().expect("register");
    let lived = links[0].expires_unix - links[0].created_unix;
    assert_eq!(lived, 600, "the register keeps the real lifetime");

    // The recommended guardrails, ready to paste, read back by posture as what they say.
    let printed = store
        .cli(
            &[
                "policy",
                "s3://shared",
                "--guardrails",
                "--max-link-age",
                "5m",
                "--from",
                "127.0.0.0/8",
            ],
            &[],
        )
        .await;
    assert!(printed.status.success(), "{}", stderr(&printed));
    let json: serde_json::Value = serde_json::from_str(&stdout(&printed)).expect("json");
    let text = json.to_string();
    assert!(
        text.contains(r#""s3:signatureAge":300000"#)
            && text.contains(r#""aws:SecureTransport":"false""#)
            && text.contains(r#""s3:signatureversion":"AWS""#)
            && text.contains(r#""aws:SourceIp":["127.0.0.0/8"]"#),
        "{text}"
    );
    let bad = store
        .cli(
            &["policy", "s3://shared", "--guardrails", "--from", "office"],
            &[],
        )
        .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("Not a network: \"office\""),
        "{}",
        stderr(&bad)
    );

    let closed = TestServer::start_with(StoreExtras {
        bucket_policy: Some(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
                "Resource":"arn:aws:s3:::shared/*",
                "Condition":{"StringNotEquals":{"s3:authType":"REST-HEADER"}}}]}"#
                .to_owned(),
        ),
        ..StoreExtras::default()
    })
    .await;
    support::put(&closed.conn(), "a.txt", b"a").await;
    let refused = closed.cli(&["share", "s3://shared/a.txt"], &[]).await;
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    assert_eq!(stdout(&refused), "", "no link");
    assert!(
        stderr(&refused).contains("presigned links are refused in this bucket")
            && stderr(&refused).contains("s3:authType"),
        "{}",
        stderr(&refused)
    );
}
