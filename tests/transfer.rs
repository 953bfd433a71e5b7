//! Transfers at any size against the embedded store: multipart as S3 keeps it, uploads in
//! parallel parts that resume after a store crash and survive connection resets, files that
//! change mid-upload, whole-prefix downloads with awkward keys, ranged downloads that resume,
//! and `uploads` for cleaning up.

mod support;

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use md5::Digest as _;
use s3share::engine::S3Uri;
use s3share::engine::ops::{self, Clash, UploadJob};
use s3share::engine::transfer::TransferProgress;
use s3share::engine::transfer::multipart::TransferSettings;
use s3share::engine::transfer::upload::ChecksumAlgorithm;
use support::{ChildStore, Faults, Proxy, TestStore, pattern, sha256, stderr};

const MIB: usize = 1024 * 1024;

/// Small parts so tests move tens of MiB, not gigabytes.
fn small_parts(state_dir: Option<std::path::PathBuf>, parallel: usize) -> TransferSettings {
    TransferSettings {
        multipart_threshold: 8 * MIB as u64,
        part_size: 5 * MIB as u64,
        parallel,
        retries: 6,
        state_dir,
    }
}

async fn get_all(conn: &s3share::engine::Connection, key: &str) -> (Vec<u8>, String) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one upload's whole life, step by step, reads best in one place"
)]
async fn the_store_keeps_multipart_uploads_as_s3_does() {
    let store = TestStore::start().await;
    let client = store.conn().client();
    let up = client
        .create_multipart_upload()
        .bucket("shared")
        .key("mp.bin")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id").to_owned();
    let part = |n: i32, body: Vec<u8>| {
        let client = client.clone();
        let id = id.clone();
        async move {
            client
                .upload_part()
                .bucket("shared")
                .key("mp.bin")
                .upload_id(id)
                .part_number(n)
                .body(body.into())
                .send()
                .await
        }
    };
    let a = pattern(5 * MIB, 1);
    let b = pattern(MIB, 2);
    let small = pattern(1000, 3);
    let etag_a = part(1, a.clone())
        .await
        .expect("part 1")
        .e_tag()
        .expect("etag")
        .to_owned();
    // Gaps are allowed: parts 1 and 3.
    let etag_b = part(3, b.clone())
        .await
        .expect("part 3")
        .e_tag()
        .expect("etag")
        .to_owned();
    let etag_small = part(2, small)
        .await
        .expect("part 2")
        .e_tag()
        .expect("etag")
        .to_owned();
    for bad in [0, 10_001] {
        let err = part(bad, vec![1]).await.expect_err("bad number");
        assert_eq!(err.code(), Some("InvalidArgument"), "{bad}");
    }
    // Nothing visible until Complete.
    assert!(
        client
            .head_object()
            .bucket("shared")
            .key("mp.bin")
            .send()
            .await
            .is_err()
    );

    let completed = |parts: &[(i32, &str)]| {
        CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
                    .collect(),
            ))
            .build()
    };
    let complete = |parts: CompletedMultipartUpload, if_none_match: bool| {
        let mut req = client
            .complete_multipart_upload()
            .bucket("shared")
            .key("mp.bin")
            .upload_id(&id)
            .multipart_upload(parts);
        if if_none_match {
            req = req.if_none_match("*");
        }
        req.send()
    };
    let code = |r: Result<_, aws_sdk_s3::error::SdkError<_, _>>| {
        r.map(|_| ())
            .expect_err("refused")
            .code()
            .map(str::to_owned)
    };
    // A 1,000-byte part that is not the last.
    assert_eq!(
        code(
            complete(
                completed(&[(1, &etag_a), (2, &etag_small), (3, &etag_b)]),
                false
            )
            .await
        )
        .as_deref(),
        Some("EntityTooSmall")
    );
    assert_eq!(
        code(complete(completed(&[(3, &etag_b), (1, &etag_a)]), false).await).as_deref(),
        Some("InvalidPartOrder")
    );
    assert_eq!(
        code(complete(completed(&[(1, &etag_b), (3, &etag_b)]), false).await).as_deref(),
        Some("InvalidPart")
    );
    // Failed Completes leave the upload whole.
    let parts = client
        .list_parts()
        .bucket("shared")
        .key("mp.bin")
        .upload_id(&id)
        .max_parts(2)
        .send()
        .await
        .expect("list parts");
    assert_eq!(parts.parts().len(), 2);
    assert_eq!(parts.is_truncated(), Some(true));
    let rest = client
        .list_parts()
        .bucket("shared")
        .key("mp.bin")
        .upload_id(&id)
        .part_number_marker(parts.next_part_number_marker().expect("marker"))
        .send()
        .await
        .expect("list parts");
    assert_eq!(rest.parts().len(), 1);
    assert_eq!(rest.parts()[0].part_number(), Some(3));
    assert!(rest.parts()[0].checksum_crc32_c().is_some());

    // The upload survives a restart of the store.
    let TestStore {
        store: running,
        dir,
    } = store;
    let options = s3share::engine::local_store::LocalStoreOptions {
        data_dir: running.data_dir().to_owned(),
        port: 0,
        credentials: running.credentials().clone(),
        region: "us-east-1".into(),
        extras: s3share::engine::local_store::StoreExtras::default(),
    };
    running.shutdown().await;
    let restarted = s3share::engine::local_store::LocalStore::start(options)
        .await
        .expect("restart");
    let conn = restarted.connect().expect("conn");
    let client = conn.client();
    let listed = client
        .list_multipart_uploads()
        .bucket("shared")
        .send()
        .await
        .expect("list uploads");
    assert_eq!(listed.uploads().len(), 1);
    assert_eq!(listed.uploads()[0].upload_id(), Some(id.as_str()));

    // If-None-Match: * refuses when the key exists, and the upload stays.
    client
        .put_object()
        .bucket("shared")
        .key("mp.bin")
        .body(b"taken".to_vec().into())
        .send()
        .await
        .expect("put");
    let refused = client
        .complete_multipart_upload()
        .bucket("shared")
        .key("mp.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &etag_a), (3, &etag_b)]))
        .if_none_match("*")
        .send()
        .await;
    assert_eq!(code(refused).as_deref(), Some("PreconditionFailed"));
    let done = client
        .complete_multipart_upload()
        .bucket("shared")
        .key("mp.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &etag_a), (3, &etag_b)]))
        .send()
        .await
        .expect("complete");
    let mut md5s = md5::Md5::new();
    md5s.update(md5::Md5::digest(&a));
    md5s.update(md5::Md5::digest(&b));
    let expected = format!("{}-2", hex::encode(md5s.finalize()));
    assert_eq!(
        done.e_tag().map(|e| e.trim_matches('"')),
        Some(expected.as_str())
    );
    let (body, etag) = get_all(&conn, "mp.bin").await;
    assert_eq!(etag, expected);
    assert_eq!(sha256(&body), sha256(&[a.clone(), b.clone()].concat()));
    // A range across the two parts.
    let ranged = client
        .get_object()
        .bucket("shared")
        .key("mp.bin")
        .range(format!("bytes={}-{}", 5 * MIB - 2, 5 * MIB + 1))
        .send()
        .await
        .expect("range");
    let bytes = ranged.body.collect().await.expect("body").into_bytes();
    assert_eq!(
        bytes.as_ref(),
        &[a[5 * MIB - 2], a[5 * MIB - 1], b[0], b[1]]
    );
    let gone = client
        .list_parts()
        .bucket("shared")
        .key("mp.bin")
        .upload_id(&id)
        .send()
        .await;
    assert_eq!(gone.expect_err("completed").code(), Some("NoSuchUpload"));
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_up_in_parallel_parts_and_lands_whole() {
    let store = TestStore::start().await;
    let conn = store.conn();
    let bytes = pattern(23 * MIB + 11, 5);
    let path = store.scratch().join("video.mp4");
    std::fs::write(&path, &bytes).expect("write");
    let progress = TransferProgress::new();
    let job = UploadJob {
        path: path.clone(),
        object: S3Uri::new("shared", "videos/video.mp4"),
        clash: Clash::Refuse,
        checksum: ChecksumAlgorithm::Crc32c,
        share: Some("15m".parse().expect("expiry")),
    };
    let settings = small_parts(Some(store.scratch().join("state")), 4);
    let done = ops::upload(&conn, &job, &settings, &progress)
        .await
        .expect("upload");
    let snap = progress.snapshot();
    assert_eq!((snap.parts_done, snap.parts_total), (5, 5));
    assert_eq!(snap.done, bytes.len() as u64);
    let (body, etag) = get_all(&conn, "videos/video.mp4").await;
    assert_eq!(sha256(&body), sha256(&bytes));
    assert!(etag.ends_with("-5"), "a multipart ETag: {etag}");
    let link = done.link.expect("asked").expect("link");
    let fetched = reqwest::get(link.url())
        .await
        .expect("fetch")
        .bytes()
        .await
        .expect("body");
    assert_eq!(sha256(&fetched), sha256(&bytes));
    // Done: no state is left, and no upload on the server.
    assert_eq!(
        std::fs::read_dir(store.scratch().join("state")).map_or(0, Iterator::count),
        0
    );
    assert!(
        ops::server_uploads(&conn, "shared")
            .await
            .expect("list")
            .is_empty()
    );
    // And it is not replaced silently.
    let again = ops::upload(&conn, &job, &settings, &TransferProgress::new()).await;
    assert_eq!(
        again.expect_err("exists").kind(),
        s3share::engine::ErrorKind::AlreadyExists
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_are_retried_and_the_upload_completes() {
    let store = TestStore::start().await;
    let proxy = Proxy::start(
        &store.store.endpoint_url(),
        Faults {
            reset_every: Some(3),
            reset_after: 2 * MIB as u64,
            upstream_rate: None,
        },
    )
    .await;
    let conn = support::conn_to(&proxy.endpoint(), store.store.credentials());
    let bytes = pattern(26 * MIB, 8);
    let path = store.scratch().join("flaky.bin");
    std::fs::write(&path, &bytes).expect("write");
    let progress = TransferProgress::new();
    let job = UploadJob {
        path,
        object: S3Uri::new("shared", "flaky.bin"),
        clash: Clash::Refuse,
        checksum: ChecksumAlgorithm::Crc32c,
        share: None,
    };
    ops::upload(&conn, &job, &small_parts(None, 2), &progress)
        .await
        .expect("the upload survives resets");
    assert!(proxy.resets() >= 1, "the proxy reset connections");
    assert!(
        progress.snapshot().retries >= 1,
        "parts were retried ({} resets)",
        proxy.resets()
    );
    let (body, _) = get_all(&store.conn(), "flaky.bin").await;
    assert_eq!(sha256(&body), sha256(&bytes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_mid_upload_fails_and_leaves_nothing() {
    let store = TestStore::start().await;
    let conn = store.conn();
    let path = store.scratch().join("live.log");
    std::fs::write(&path, pattern(18 * MIB, 9)).expect("write");
    let touched = path.clone();
    let once = std::sync::Once::new();
    // After the first part, the file is written to.
    let progress = TransferProgress::observed(move |s| {
        if s.parts_done >= 1 {
            once.call_once(|| {
                use std::io::Write as _;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&touched)
                    .expect("open");
                f.write_all(b"more").expect("append");
            });
        }
    });
    let state = store.scratch().join("state");
    let job = UploadJob {
        path,
        object: S3Uri::new("shared", "live.log"),
        clash: Clash::Refuse,
        checksum: ChecksumAlgorithm::Crc32c,
        share: None,
    };
    let err = ops::upload(&conn, &job, &small_parts(Some(state.clone()), 1), &progress)
        .await
        .expect_err("changed");
    assert!(
        err.message()
            .contains("changed while it was being uploaded"),
        "{err}"
    );
    assert!(
        conn.client()
            .head_object()
            .bucket("shared")
            .key("live.log")
            .send()
            .await
            .is_err()
    );
    assert!(
        ops::server_uploads(&conn, "shared")
            .await
            .expect("list")
            .is_empty(),
        "aborted"
    );
    assert_eq!(
        std::fs::read_dir(&state).map_or(0, Iterator::count),
        0,
        "forgotten"
    );
}

/// The CLI upload command of the resume test, through `endpoint`.
fn upload_command(
    home: &std::path::Path,
    file: &std::path::Path,
    endpoint: &str,
    store: &ChildStore,
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
    let store = ChildStore::start(&dir.path().join("store-home"), &data, &[]);
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
    let store = ChildStore::start(&dir.path().join("store-home"), &data, &[]);
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
    let store = TestStore::start().await;
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

#[test]
fn an_interrupted_download_resumes_with_ranges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(TestStore::start());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_lists_and_aborts_unfinished_ones() {
    let store = TestStore::start().await;
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
