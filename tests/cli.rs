//! The real `s3share` binary end to end against the embedded store: awkward keys round-trip
//! through upload, ls, share and download; every bad input ends in one plain line and a
//! non-zero exit, with nothing written.

mod support;

use support::Cli as _;

use support::{TestServer, http, pattern, presigned_get, put, sha256, stderr, stdout};

/// Keys that break naive URL handling, and one of 1,000 bytes (segments under 255 bytes).
fn awkward_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "with space/file name.txt",
        "ünïcödé/文件 名.txt",
        "plus+sign.txt",
        "percent%20literal%.txt",
        "hash#tag.txt",
        "question?mark.txt",
        "amp&eq=.txt",
        "tilde~.txt",
        "double//slash.txt",
        "emoji 😀🎉.txt",
        "quote'dq\"semi;comma,.txt",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let mut long = String::from("long/");
    while long.len() < 1000 - 201 {
        long.push_str(&"a".repeat(199));
        long.push('/');
    }
    long.push_str(&"b".repeat(1000 - long.len() - 4));
    long.push_str(".bin");
    assert_eq!(long.len(), 1000);
    keys.push(long);
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_keys_round_trip_through_upload_ls_share_download() {
    let store = TestServer::start().await;
    for (i, key) in awkward_keys().into_iter().enumerate() {
        let bytes = pattern(10_000 + i, i as u64 + 11);
        let local = store.scratch().join(format!("in-{i}"));
        std::fs::write(&local, &bytes).expect("write");
        let uri = format!("s3://shared/{key}");

        let up = store
            .cli(
                &[
                    "upload",
                    local.to_str().expect("utf-8"),
                    &uri,
                    "--share",
                    "10m",
                ],
                &[],
            )
            .await;
        assert!(up.status.success(), "upload {key:?}: {}", stderr(&up));
        let link = stdout(&up).trim().to_owned();
        assert!(link.starts_with("http://127.0.0.1:"), "{key:?}");

        let parent = &key[..key.rfind('/').map_or(0, |i| i + 1)];
        let ls = store
            .cli(&["ls", &format!("s3://shared/{parent}")], &[])
            .await;
        assert!(ls.status.success(), "ls {parent:?}: {}", stderr(&ls));
        let listed = stdout(&ls);
        let line = listed
            .lines()
            .find(|l| l.ends_with(&format!(" {key}")))
            .unwrap_or_else(|| panic!("{key:?} not in:\n{listed}"));
        assert!(
            line.trim_start().starts_with(&bytes.len().to_string()),
            "{line}"
        );

        let shared = store
            .cli(&["share", &uri, "--expires", "1h", "--verify"], &[])
            .await;
        assert!(
            shared.status.success(),
            "share {key:?}: {}",
            stderr(&shared)
        );
        for url in [link, stdout(&shared).trim().to_owned()] {
            let body = reqwest::get(&url)
                .await
                .expect("fetch")
                .bytes()
                .await
                .expect("body");
            assert_eq!(sha256(&body), sha256(&bytes), "link for {key:?}");
        }

        let out_dir = store.scratch().join(format!("out-{i}"));
        std::fs::create_dir_all(&out_dir).expect("dir");
        let down = store
            .cli(&["download", &uri, out_dir.to_str().expect("utf-8")], &[])
            .await;
        assert!(down.status.success(), "download {key:?}: {}", stderr(&down));
        let name = key.rsplit('/').next().expect("name");
        assert_eq!(
            sha256(&std::fs::read(out_dir.join(name)).expect("downloaded")),
            sha256(&bytes),
            "{key:?}"
        );
    }
    // Every level lists: the folder level shows PRE lines, and buckets list.
    let top = store.cli(&["ls", "s3://shared/"], &[]).await;
    assert!(
        stdout(&top).lines().any(|l| l.trim() == "PRE with space/"),
        "{}",
        stdout(&top)
    );
    assert!(
        stdout(&top).lines().any(|l| l.trim() == "PRE double/"),
        "{}",
        stdout(&top)
    );
    let buckets = store.cli(&["ls"], &[]).await;
    assert!(
        stdout(&buckets).lines().any(|l| l.ends_with(" shared")),
        "{}",
        stdout(&buckets)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_prints_only_the_url_and_states_expiry() {
    let store = TestServer::start().await;
    let local = store.scratch().join("report.pdf");
    std::fs::write(&local, b"%PDF").expect("write");
    let up = store
        .cli(
            &[
                "upload",
                local.to_str().expect("utf-8"),
                "s3://shared/docs/",
            ],
            &[],
        )
        .await;
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(stdout(&up), "", "no --share, no URL");
    let out = store
        .cli(
            &[
                "share",
                "s3://shared/docs/report.pdf",
                "--expires",
                "2h",
                "--download-name",
                "Q3 report.pdf",
                "--verify",
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.contains("X-Amz-Expires=7200") && text.contains("response-content-disposition="),
        "{text}"
    );
    assert!(
        stderr(&out).contains("checked: the link works"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("expires in 2 hours"),
        "{}",
        stderr(&out)
    );
    // Global flags after the command work too.
    let endpoint = store.store.endpoint_url();
    let ls = store
        .cli(
            &[
                "ls",
                "s3://shared/docs/",
                "--endpoint",
                &endpoint,
                "--path-style",
                "--region",
                "us-east-1",
            ],
            &[],
        )
        .await;
    assert!(
        ls.status.success() && stdout(&ls).contains(" docs/report.pdf"),
        "{}",
        stderr(&ls)
    );
}

/// Each bad input: the exit code, a phrase of the one-line message, and that no secret or
/// link leaks into it.
async fn expect_failure(
    store: &TestServer,
    args: &[&str],
    extra: &[(&str, &str)],
    code: i32,
    phrase: &str,
) {
    let out = store.cli(args, extra).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(phrase),
        "{args:?}: expected {phrase:?} in {err:?}"
    );
    let error_lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{args:?}: one error line: {err:?}");
    assert!(
        !err.contains("X-Amz-Signature")
            && !err.contains("hunter2")
            && !err.contains(store.store.credentials().secret_access_key.expose()),
        "{err}"
    );
    assert_eq!(stdout(&out), "", "{args:?}: nothing on stdout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_ends_in_one_plain_line() {
    let store = TestServer::start().await;
    let scratch = store.scratch();
    let file = scratch.join("a.txt");
    std::fs::write(&file, b"a").expect("write");
    let file = file.to_str().expect("utf-8");
    let scratch_s = scratch.to_str().expect("utf-8");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["share", "shared/a.txt"], 2, "Not an S3 address"),
        (vec!["share", "s3://x/a.txt"], 2, "Not a valid bucket name"),
        (
            vec!["share", "s3://shared/a.txt", "--expires", "8d"],
            2,
            "at most 7 days",
        ),
        (
            vec!["share", "s3://shared/a.txt", "--expires", "soon"],
            2,
            "Not an expiry",
        ),
        (
            vec!["share", "s3://shared/docs/"],
            3,
            "Nothing to share: no objects under s3://shared/docs/",
        ),
        (
            vec!["share", "s3://shared/a/", "--download-name", "x"],
            2,
            "a share page keeps each file's own name",
        ),
        (
            vec!["share", "s3://shared/a.txt", "s3://other/b.txt"],
            2,
            "one bucket",
        ),
        (
            vec!["share", "s3://shared/missing.txt"],
            3,
            "No such object: s3://shared/missing.txt",
        ),
        (vec!["share", "s3://nosuchbucket/x"], 3, "No such bucket"),
        (
            vec!["upload", "/no/such/file.pdf", "s3://shared/"],
            3,
            "No such file or folder: /no/such/file.pdf",
        ),
        (
            vec!["upload", scratch_s, "s3://shared/dir"],
            2,
            "A folder goes into a folder",
        ),
        (
            vec!["upload", file, "s3://shared/a/../b.txt"],
            2,
            "web browsers and HTTP clients remove",
        ),
        (
            vec!["share", "s3://shared/./a.txt"],
            2,
            "web browsers and HTTP clients remove",
        ),
        (
            vec!["ls", "--endpoint", "https://:hunter2@minio.example.com"],
            2,
            "user name or password",
        ),
        (
            vec!["upload", file, file, "s3://shared/dir"],
            2,
            "end the destination with a slash",
        ),
        (
            vec!["download", "s3://shared/missing.txt", scratch_s],
            3,
            "No such object",
        ),
    ];
    for (args, code, phrase) in cases {
        expect_failure(&store, &args, &[], code, phrase).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_objects_and_files_are_not_replaced() {
    let store = TestServer::start().await;
    let scratch = store.scratch();
    let file = scratch.join("a.txt");
    std::fs::write(&file, b"a").expect("write");
    let file = file.to_str().expect("utf-8");

    // Already there: refused without --overwrite, and the object is unchanged.
    let ok = store.cli(&["upload", file, "s3://shared/a.txt"], &[]).await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    let other = scratch.join("b.txt");
    std::fs::write(&other, b"bbb").expect("write");
    expect_failure(
        &store,
        &[
            "upload",
            other.to_str().expect("utf-8"),
            "s3://shared/a.txt",
        ],
        &[],
        5,
        "already exists",
    )
    .await;
    let dest = scratch.join("dl");
    std::fs::create_dir_all(&dest).expect("dir");
    let down = store
        .cli(
            &[
                "download",
                "s3://shared/a.txt",
                dest.to_str().expect("utf-8"),
            ],
            &[],
        )
        .await;
    assert!(down.status.success());
    assert_eq!(std::fs::read(dest.join("a.txt")).expect("read"), b"a");
    expect_failure(
        &store,
        &[
            "download",
            "s3://shared/a.txt",
            dest.to_str().expect("utf-8"),
        ],
        &[],
        5,
        "already exists",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_and_network_failures_end_in_one_plain_line() {
    let store = TestServer::start().await;
    let scratch = store.scratch();
    let file = scratch.join("a.txt");
    std::fs::write(&file, b"a").expect("write");
    let up = store
        .cli(
            &["upload", file.to_str().expect("utf-8"), "s3://shared/a.txt"],
            &[],
        )
        .await;
    assert!(up.status.success(), "{}", stderr(&up));

    // Credentials: none at all; a wrong secret; expired temporary ones.
    let home = store.dir.path().join("home");
    let no_creds = std::process::Command::new(env!("CARGO_BIN_EXE_s3share"))
        .args([
            "ls",
            "s3://shared/",
            "--endpoint",
            &store.store.endpoint_url(),
        ])
        .env_clear()
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run");
    assert_eq!(no_creds.status.code(), Some(4), "{}", stderr(&no_creds));
    assert!(
        stderr(&no_creds).contains("No AWS credentials found"),
        "{}",
        stderr(&no_creds)
    );

    expect_failure(
        &store,
        &["ls", "s3://shared/"],
        &[("AWS_SECRET_ACCESS_KEY", "wrong-secret")],
        4,
        "rejected the signature",
    )
    .await;

    let expired_config = scratch.join("aws-config");
    let past = "2020-01-01T00:00:00Z";
    let creds_json = format!(
        r#"{{"Version": 1, "AccessKeyId": "{}", "SecretAccessKey": "{}", "SessionToken": "t", "Expiration": "{past}"}}"#,
        store.store.credentials().access_key_id,
        store.store.credentials().secret_access_key.expose()
    );
    let script = scratch.join("creds.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncat <<'JSON'\n{creds_json}\nJSON\n"),
    )
    .expect("write");
    std::fs::write(
        &expired_config,
        format!(
            "[profile temp]\ncredential_process = sh {}\n",
            script.display()
        ),
    )
    .expect("write");
    let cfg = expired_config.to_str().expect("utf-8");
    let out = store
        .cli(
            &["share", "s3://shared/a.txt", "--profile", "temp"],
            &[
                ("AWS_CONFIG_FILE", cfg),
                ("AWS_ACCESS_KEY_ID", ""),
                ("AWS_SECRET_ACCESS_KEY", ""),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).to_lowercase().contains("expired"),
        "{}",
        stderr(&out)
    );

    // Network down: nothing listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let endpoint = format!("http://127.0.0.1:{closed}");
    expect_failure(
        &store,
        &["share", "s3://shared/a.txt", "--endpoint", &endpoint],
        &[],
        1,
        "Could not reach the server",
    )
    .await;
    // Plain http to another host is refused up front.
    expect_failure(
        &store,
        &["ls", "s3://shared/", "--endpoint", "http://s3.example.com"],
        &[],
        2,
        "--allow-http",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_runs_a_store_and_prints_env_lines() {
    let store = TestServer::start().await; // only for its temp dir and scratch
    let data = store.scratch().join("local-data");
    let home = store.dir.path().join("home-local");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3share"))
        .args([
            "local",
            "--port",
            "0",
            "--dir",
            data.to_str().expect("utf-8"),
        ])
        .env_clear()
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
        child.stdout.take().expect("stdout"),
    ));
    let mut env = Vec::new();
    while env.len() < 4 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("env lines in time")
            .expect("read")
            .expect("a line");
        env.push(
            line.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .expect("KEY=value"),
        );
    }
    let keys: Vec<_> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION"
        ]
    );
    // The credentials are kept 0600 in the config dir.
    let creds_file = home.join("config/s3share/local-store-credentials.toml");
    let meta = std::fs::metadata(&creds_file).expect("creds file");
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    assert!(meta.is_file());
    // And the printed lines are enough to use it: the "shared" bucket exists.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3share"));
    cmd.args(["ls"])
        .env_clear()
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join");
    assert!(
        stdout(&out).lines().any(|l| l.ends_with(" shared")),
        "{}",
        stderr(&out)
    );
    child.kill().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_leaves_the_link_pasteable_after_exit() {
    let have = |p: &str| {
        std::process::Command::new("which")
            .arg(p)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("Xvfb") && have("xclip")) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install xvfb and xclip for this test"
        );
        eprintln!("skipped: Xvfb or xclip missing (install xvfb and xclip)");
        return;
    }
    let store = TestServer::start().await;
    let display = ":87";
    let mut xvfb = std::process::Command::new("Xvfb")
        .args([
            display,
            "-screen",
            "0",
            "640x480x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Xvfb");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let local = store.scratch().join("c.txt");
    std::fs::write(&local, b"clip").expect("write");
    let up = store
        .cli(
            &[
                "upload",
                local.to_str().expect("utf-8"),
                "s3://shared/c.txt",
            ],
            &[],
        )
        .await;
    assert!(up.status.success());
    let out = store
        .cli(
            &["share", "s3://shared/c.txt", "--copy", "--expires", "20s"],
            &[("DISPLAY", display)],
        )
        .await;
    let url = stdout(&out).trim().to_owned();
    assert!(
        stderr(&out).contains("copied to the clipboard"),
        "{}",
        stderr(&out)
    );
    // The keeper outlives the command as long as the link: it holds the display's variables
    // and nothing of the AWS environment.
    let keeper = keeper_environment().expect("the clipboard keeper runs");
    assert!(
        keeper.iter().any(|v| v == &format!("DISPLAY={display}")),
        "{keeper:?}"
    );
    let secret = store.store.credentials().secret_access_key.expose();
    assert!(
        keeper
            .iter()
            .all(|v| !v.starts_with("AWS_") && !v.contains(secret)),
        "the keeper inherited AWS variables"
    );
    let pasted = std::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", display)
        .output()
        .expect("xclip");
    // The keeper exits by itself when the 20 s link expires: no process outlives the test long.
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    assert_eq!(String::from_utf8_lossy(&pasted.stdout), url);
    assert_eq!(
        reqwest::get(&url)
            .await
            .expect("fetch")
            .text()
            .await
            .expect("text"),
        "clip"
    );
}

/// The environment of the running `__hold-clipboard` process, as /proc shows it to anyone.
fn keeper_environment() -> Option<Vec<String>> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("__hold-clipboard") {
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            return Some(
                environ
                    .split(|b| *b == 0)
                    .filter(|v| !v.is_empty())
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect(),
            );
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_uploads_with_its_layout_like_a_drop() {
    let store = TestServer::start().await;
    let root = store.scratch().join("photos");
    std::fs::create_dir_all(root.join("2024/summer")).expect("dirs");
    std::fs::write(root.join("a.jpg"), b"a").expect("write");
    std::fs::write(root.join("2024/summer/b c.jpg"), b"bc").expect("write");
    let out = store
        .cli(
            &[
                "upload",
                root.to_str().expect("utf-8"),
                "s3://shared/in/",
                "--share",
                "5m",
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let links: Vec<&str> = printed.lines().collect();
    assert_eq!(links.len(), 2, "one link per file: {links:?}");
    for (link, body) in links.iter().zip([b"bc".as_slice(), b"a"]) {
        let got = reqwest::get(*link)
            .await
            .expect("fetch")
            .bytes()
            .await
            .expect("body");
        assert_eq!(got.as_ref(), body);
    }
    let ls = store
        .cli(&["ls", "s3://shared/in/photos/2024/summer/"], &[])
        .await;
    assert!(
        stdout(&ls).contains(" in/photos/2024/summer/b c.jpg"),
        "{}",
        stdout(&ls)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_escapes_control_characters_on_a_terminal_and_survives_odd_servers() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let evil = "docs/\u{1b}]0;pwned\u{7}\u{1b}[2Jx\u{202e}gpj.exe";
    put(&conn, evil, b"e").await;
    // Piped (a script): the key as it is.
    let piped = store.cli(&["ls", "s3://shared/docs/"], &[]).await;
    assert!(stdout(&piped).contains(evil));
    // On a terminal (through `script`, which gives it a pty): escaped.
    let exe = env!("CARGO_BIN_EXE_s3share");
    let out = store
        .cli_via(
            "script",
            &["-qec", &format!("{exe} ls s3://shared/docs/"), "/dev/null"],
        )
        .await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("\\x1b]0;pwned\\x07\\x1b[2Jx\\u{202e}gpj.exe"),
        "{text:?}"
    );

    // A server (not S3, not ours) that answers folders not under the prefix asked for, one cut
    // inside the prefix's two-byte character and one shorter than it: listed whole, no panic.
    let odd = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let odd_endpoint = format!("http://{}", odd.local_addr().expect("addr"));
    std::thread::spawn(move || {
        use std::io::{BufRead as _, Write as _};
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
            <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <Name>shared</Name><Prefix>\u{e9}</Prefix><KeyCount>2</KeyCount>\
            <MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>\
            <CommonPrefixes><Prefix>a\u{e9}/</Prefix></CommonPrefixes>\
            <CommonPrefixes><Prefix>x</Prefix></CommonPrefixes></ListBucketResult>";
        for conn in odd.incoming().flatten() {
            let mut reader = std::io::BufReader::new(&conn);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                &conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
                xml.len()
            );
        }
    });
    let out = store
        .cli(
            &["ls", "s3://shared/\u{e9}", "--endpoint", &odd_endpoint],
            &[],
        )
        .await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(
        text.contains("PRE a\u{e9}/") && text.contains("PRE x"),
        "{text:?}"
    );
}
#[test]
fn no_signature_secret_or_token_reaches_the_log_at_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = support::child_store(
        &dir.path().join("home"),
        &dir.path().join("data"),
        &[("S3SHARE_LOG", "trace"), ("RUST_LOG", "trace")],
        None,
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let conn = store.conn();
    let token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
    let (good, with_token) = rt.block_on(async {
        put(&conn, "log.txt", b"logged?").await;
        (
            presigned_get(&conn, "log.txt", None).await,
            presigned_get(&conn, "log.txt", Some(token)).await,
        )
    });
    let signature = |url: &str| {
        s3share_engine::base::signing::query_param(url, "X-Amz-Signature").expect("signature")
    };
    let good_sig = signature(&good);
    // Tampered: the store computes the real signature (the good one) to compare.
    let tampered = format!(
        "{}{}",
        &good[..good.len() - 1],
        if good.ends_with('0') { '1' } else { '0' }
    );
    rt.block_on(async {
        for url in [&good, &with_token, &tampered] {
            let _ = http().get(url.as_str()).send().await.expect("get");
        }
    });
    let log = store.kill();
    // The log is written (s3s reports the refused link at its error level) ...
    assert!(log.contains("SignatureDoesNotMatch"), "{log}");
    // ... and holds none of these.
    for secret in [
        good_sig.as_str(),
        signature(&with_token).as_str(),
        token,
        store_secret(&dir),
    ] {
        assert!(
            !log.contains(secret),
            "the log holds a secret ({} bytes of log)",
            log.len()
        );
    }
}
/// The child store's secret key, read from its credentials file.
fn store_secret(dir: &tempfile::TempDir) -> &'static str {
    let path = dir
        .path()
        .join("home/.config/s3share/local-store-credentials.toml");
    let text = std::fs::read_to_string(path).expect("credentials file");
    let creds: s3share_core::AccessKey = toml::from_str(&text).expect("credentials");
    Box::leak(creds.secret_access_key.expose().to_owned().into_boxed_str())
}

/// A folder of hostile names shared as one page, opened in a real browser (headless Chromium):
/// the page it renders lists exactly the folder, every link on it returns its file, and the
/// register shows one share-page entry whose check covers the files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_shared_as_one_page_opens_in_a_browser_with_every_file() {
    let store = TestServer::start().await;
    let names = [
        "<img src=x onerror=alert(1)>.txt",
        "quote\"s & 'apos'.txt",
        "\u{202e}txt.exe",
        "100% #1?.txt",
        "sub dir/😀 \u{10ffff}.txt",
    ];
    for (i, name) in names.iter().enumerate() {
        put(
            &store.conn(),
            &format!("q3 files/{name}"),
            format!("file {i}").as_bytes(),
        )
        .await;
    }
    put(&store.conn(), "q3 files-not/x.txt", b"outside").await;
    let out = store
        .cli(
            &[
                "share",
                "s3://shared/q3 files/",
                "--expires",
                "10m",
                "--verify",
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out).trim().to_owned();
    assert_eq!(stdout(&out).lines().count(), 1, "the page's URL alone");
    assert!(
        stderr(&out).contains("share page of 5 files"),
        "{}",
        stderr(&out)
    );

    let profile = tempfile::tempdir().expect("profile");
    let dom = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("chromium (Debian's chromium package) runs");
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(!dom.contains("<img"), "markup in a name stayed text: {dom}");
    let mut seen = Vec::new();
    for (name, href) in support::page_rows(&dom) {
        let body = http()
            .get(href)
            .send()
            .await
            .expect("fetch")
            .text()
            .await
            .expect("body");
        let i = names
            .iter()
            .position(|n| *n == name)
            .expect("a listed name");
        assert_eq!(body, format!("file {i}"), "{name}");
        seen.push(name);
    }
    seen.sort();
    let mut expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    expected.sort();
    assert_eq!(seen, expected, "exactly the folder");

    let links = store.cli(&["links", "--check"], &[]).await;
    assert!(links.status.success(), "{}", stderr(&links));
    let line = stdout(&links);
    assert!(
        line.contains(" live share-page ") && line.contains("(5 files) · works"),
        "{line}"
    );
}
