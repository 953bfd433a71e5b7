//! Transfers through the CLI against the embedded store: an upload in parts that resumes after
//! a store crash, whole-prefix downloads with awkward keys, a ranged download that resumes after
//! a kill, and `uploads` for cleaning up.

mod support;

use support::Cli as _;

use std::time::Duration;

use support::{ChildServer, Faults, Proxy, TestServer, pattern, sha256, stderr};

const MIB: usize = 1024 * 1024;

async fn get_all(conn: &s3share_engine::Connection, key: &str) -> (Vec<u8>, String) {
    let got = conn
        .client()
        .get_object()
        .bucket("shared")
        .key(key)
        .send()
        .await
        .expect("get");
    let etag = got.e_tag().unwrap_or_default().trim_matches('"').to_owned();
    let body = got
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec();
    (body, etag)
}

/// The CLI upload command of the resume test, through `endpoint`.
fn upload_command(
    home: &std::path::Path,
    file: &std::path::Path,
    endpoint: &str,
    store: &ChildServer,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3share"));
    cmd.args([
        "upload",
        file.to_str().expect("utf-8"),
        "s3://shared/big/",
        "--multipart-above",
        "8MiB",
        "--part-size",
        "5MiB",
        "--parallel",
        "2",
    ])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", home)
    .env("AWS_EC2_METADATA_DISABLED", "true")
    .env("AWS_ENDPOINT_URL", endpoint)
    .env("AWS_ACCESS_KEY_ID", &store.credentials.access_key_id)
    .env(
        "AWS_SECRET_ACCESS_KEY",
        store.credentials.secret_access_key.expose(),
    )
    .env("AWS_REGION", "us-east-1")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    cmd
}

#[test]
fn an_upload_cut_by_a_store_crash_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (home, data) = (dir.path().join("home"), dir.path().join("data"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = support::child_store(&dir.path().join("store-home"), &data, &[], None);
    // Slowed down so the crash comes mid-upload.
    let proxy = rt.block_on(Proxy::start(
        &store.endpoint,
        Faults {
            upstream_rate: Some(12 * MIB as u64),
            ..Faults::default()
        },
    ));
    let bytes = pattern(40 * MIB, 21);
    let file = dir.path().join("movie.mkv");
    std::fs::write(&file, &bytes).expect("write");
    let mut first = upload_command(&home, &file, &proxy.endpoint(), &store)
        .spawn()
        .expect("upload");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while proxy.up() < 26 * MIB as u64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload did not get going"
        );
        assert!(
            first.try_wait().expect("wait").is_none(),
            "the upload ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The store dies (and the command with it, as on a power cut).
    let _ = store.kill();
    let _ = first.kill();
    let _ = first.wait();
    let store = support::child_store(&dir.path().join("store-home"), &data, &[], None);
    proxy.retarget(&store.endpoint);
    let before = proxy.up();
    let out = upload_command(&home, &file, &proxy.endpoint(), &store)
        .output()
        .expect("upload again");
    let sent = proxy.up() - before;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming: "), "{}", stderr(&out));
    assert!(
        sent < bytes.len() as u64 * 4 / 5,
        "the second run sent {sent} of {} bytes",
        bytes.len()
    );
    let (body, etag) = rt.block_on(get_all(&store.conn(), "big/movie.mkv"));
    assert_eq!(sha256(&body), sha256(&bytes));
    assert!(etag.ends_with("-8"), "{etag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_downloads_whole_with_awkward_keys_inside_the_folder() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let keys = [
        "tree/a",
        "tree/a/b",
        "tree/space and + % # ? é😀.txt",
        "tree/../escape.txt",
        "tree//leading-slash.txt",
        "tree/./dot.txt",
        "tree/back\\slash.txt",
        "tree/sub/deep/x.bin",
        "tree/folder-marker/",
    ];
    for (i, key) in keys.iter().enumerate() {
        support::put(&conn, key, &pattern(1000 + i * 7, i as u64)).await;
    }
    let outside = store.scratch().join("out");
    let into = outside.join("into");
    std::fs::create_dir_all(&into).expect("dir");
    let out = store
        .cli(
            &[
                "download",
                "s3://shared/tree/",
                into.to_str().expect("utf-8"),
            ],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 renamed to keep both"),
        "{}",
        stderr(&out)
    );
    let mut files = Vec::new();
    let mut stack = vec![outside.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    // Every object but the folder marker arrived, each inside the folder, with its bytes.
    assert_eq!(files.len(), keys.len() - 1, "{files:?}");
    assert!(files.iter().all(|f| f.starts_with(&into)), "{files:?}");
    let mut sums: Vec<String> = files
        .iter()
        .map(|f| sha256(&std::fs::read(f).expect("read")))
        .collect();
    sums.sort();
    let mut expected: Vec<String> = keys[..keys.len() - 1]
        .iter()
        .enumerate()
        .map(|(i, _)| sha256(&pattern(1000 + i * 7, i as u64)))
        .collect();
    expected.sort();
    assert_eq!(sums, expected);
    assert!(into.join("a (1)").is_file() && into.join("a/b").is_file());
    assert!(into.join("space and + % # ? é😀.txt").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_lists_and_aborts_unfinished_ones() {
    let store = TestServer::start().await;
    let client = store.conn().client();
    for key in ["old/one.bin", "old/two.bin"] {
        client
            .create_multipart_upload()
            .bucket("shared")
            .key(key)
            .send()
            .await
            .expect("create");
    }
    let listed = store.cli(&["uploads", "s3://shared"], &[]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = support::stdout(&listed);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("old/one.bin") && text.contains("old/two.bin"));
    let kept = store
        .cli(&["uploads", "s3://shared", "--abort-older-than", "1h"], &[])
        .await;
    assert!(!support::stdout(&kept).contains("aborted"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let aborted = store
        .cli(&["uploads", "s3://shared", "--abort-older-than", "1s"], &[])
        .await;
    assert!(aborted.status.success(), "{}", stderr(&aborted));
    assert_eq!(support::stdout(&aborted).matches("aborted").count(), 2);
    let left = client
        .list_multipart_uploads()
        .bucket("shared")
        .send()
        .await
        .expect("list");
    assert!(left.uploads().is_empty());
}

#[test]
fn an_interrupted_download_resumes_with_ranges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(TestServer::start());
    let bytes = pattern(30 * MIB, 33);
    rt.block_on(support::put(&store.conn(), "iso/disk.img", &bytes));
    let proxy = rt.block_on(Proxy::start(&store.store.endpoint_url(), Faults::default()));
    let target = dir.path().join("disk.img");
    let command = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3share"));
        cmd.args([
            "download",
            "s3://shared/iso/disk.img",
            target.to_str().expect("utf-8"),
            "--multipart-above",
            "8MiB",
            "--part-size",
            "5MiB",
            "--parallel",
            "1",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env(
            "AWS_ACCESS_KEY_ID",
            &store.store.credentials().access_key_id,
        )
        .env(
            "AWS_SECRET_ACCESS_KEY",
            store.store.credentials().secret_access_key.expose(),
        )
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        cmd
    };
    let mut first = command().spawn().expect("download");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while proxy.down() < 11 * MIB as u64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download did not get going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = first.kill();
    let _ = first.wait();
    assert!(
        !target.exists(),
        "nothing at the target until it is complete"
    );
    let before = proxy.down();
    let out = command().output().expect("download again");
    let fetched = proxy.down() - before;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming: "), "{}", stderr(&out));
    assert!(
        fetched < bytes.len() as u64 * 3 / 4,
        "fetched {fetched} bytes again"
    );
    assert_eq!(
        sha256(&std::fs::read(&target).expect("read")),
        sha256(&bytes)
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".s3share-partial")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
