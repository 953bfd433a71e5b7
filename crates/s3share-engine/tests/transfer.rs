//! Transfers at any size against the embedded store: uploads in parallel parts that survive
//! connection resets, files that change mid-upload, and what is left behind (nothing).

use s3share_testkit as support;

use s3share_engine::S3Uri;
use s3share_engine::ops::{Clash, UploadJob};
use s3share_engine::transfer::TransferProgress;
use s3share_engine::transfer::TransferSettings;
use s3share_engine::transfer::upload::ChecksumAlgorithm;
use support::{Faults, Proxy, TestServer, pattern, sha256};

const MIB: usize = 1024 * 1024;

/// Small parts so tests move tens of MiB, not gigabytes.
fn small_parts(state_dir: Option<std::path::PathBuf>, parallel: usize) -> TransferSettings {
    TransferSettings {
        multipart_threshold: 8 * MIB as u64,
        part_size: 5 * MIB as u64,
        parallel,
        retries: 6,
        state_dir,
        download_state_dir: None,
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_up_in_parallel_parts_and_lands_whole() {
    let store = TestServer::start().await;
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
    let session = store.session_with(small_parts(Some(store.scratch().join("state")), 4));
    let done = session.upload(&job, &progress).await.expect("upload");
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
        session
            .server_uploads("shared")
            .await
            .expect("list")
            .is_empty()
    );
    // And it is not replaced silently.
    let again = session.upload(&job, &TransferProgress::new()).await;
    assert_eq!(
        again.expect_err("exists").kind(),
        s3share_engine::ErrorKind::AlreadyExists
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_are_retried_and_the_upload_completes() {
    let store = TestServer::start().await;
    let proxy = Proxy::start(
        &store.store.endpoint_url(),
        Faults {
            reset_every: Some(3),
            reset_after: 2 * MIB as u64,
            ..Faults::default()
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
    s3share_engine::ops::Session::new(conn, None, small_parts(None, 2))
        .upload(&job, &progress)
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
    let store = TestServer::start().await;
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
    let session = store.session_with(small_parts(Some(state.clone()), 1));
    let err = session.upload(&job, &progress).await.expect_err("changed");
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
        session
            .server_uploads("shared")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_replaced_mid_download_never_leaves_a_mixed_file() {
    let store = TestServer::start().await;
    let conn = std::sync::Arc::new(store.conn());
    let old = pattern(24 * MIB, 41);
    let new = pattern(24 * MIB, 42);
    support::put(&conn, "v.bin", &old).await;
    let dest = store.scratch().join("v.bin");
    // After the first range lands, someone replaces the object (and the test waits until
    // they have, so the next range surely sees the new version).
    let replacer = conn.clone();
    let replacement = new.clone();
    let once = std::sync::Once::new();
    let progress = TransferProgress::observed(move |s| {
        if s.parts_done >= 1 {
            once.call_once(|| {
                let (tx, rx) = std::sync::mpsc::channel();
                let (conn, body) = (replacer.clone(), replacement.clone());
                tokio::runtime::Handle::current().spawn(async move {
                    support::put(&conn, "v.bin", &body).await;
                    let _ = tx.send(());
                });
                rx.recv_timeout(std::time::Duration::from_secs(30))
                    .expect("replaced");
            });
        }
    });
    let session = store.session_with(small_parts(None, 1));
    session
        .download(
            &S3Uri::new("shared", "v.bin"),
            &dest,
            Clash::Refuse,
            &progress,
        )
        .await
        .expect("the download starts over on the new version");
    assert_eq!(
        sha256(&std::fs::read(&dest).expect("read")),
        sha256(&new),
        "all of the new version, none of the old"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_adds_streams_while_they_make_it_faster() {
    // A distant server: every connection is held to 3 MiB/s, so each range in flight adds
    // speed, and the download should find out and go up to its four.
    let store = TestServer::start().await;
    let proxy = Proxy::start(
        &store.store.endpoint_url(),
        Faults {
            downstream_rate: Some(3 * MIB as u64),
            ..Faults::default()
        },
    )
    .await;
    let bytes = pattern(30 * MIB, 43);
    support::put(&store.conn(), "far.bin", &bytes).await;
    let conn = support::conn_to(&proxy.endpoint(), store.store.credentials());
    let session = s3share_engine::ops::Session::new(conn, None, small_parts(None, 4));
    let dest = store.scratch().join("far.bin");
    let progress = TransferProgress::new();
    session
        .download(
            &S3Uri::new("shared", "far.bin"),
            &dest,
            Clash::Refuse,
            &progress,
        )
        .await
        .expect("download");
    assert_eq!(sha256(&std::fs::read(&dest).expect("read")), sha256(&bytes));
    assert!(
        proxy.peak_connections() >= 3,
        "streams in flight at most: {}",
        proxy.peak_connections()
    );
}
