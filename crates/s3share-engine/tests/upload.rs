//! Uploads by presigned PUT against the embedded store: bytes intact, no silent overwrite,
//! damaged bodies rejected, and clear errors for files that cannot be sent.

use s3share_testkit as support;

use s3share_engine::base::signing::presign;
use s3share_engine::transfer::TransferProgress;
use s3share_engine::transfer::upload::single::upload_single as upload;
use s3share_engine::transfer::upload::{ChecksumAlgorithm, UploadRequest};
use s3share_engine::{ErrorKind, S3Uri};
use support::{TestServer, http, pattern, sha256};

/// Download through the engine's one download operation.
async fn download(
    store: &TestServer,
    object: &S3Uri,
    dest: &std::path::Path,
    overwrite: bool,
    progress: s3share_engine::transfer::Progress<'_>,
) -> s3share_engine::Result<std::path::PathBuf> {
    let session = store.session();
    let clash = s3share_engine::ops::Clash::from_overwrite(overwrite);
    session.download(object, dest, clash, progress).await
}

fn req(path: std::path::PathBuf, key: &str, overwrite: bool) -> UploadRequest {
    UploadRequest {
        path,
        object: S3Uri::new("shared", key),
        overwrite,
        checksum: ChecksumAlgorithm::Crc32c,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_round_trips_bytes_with_either_checksum() {
    let store = TestServer::start().await;
    let conn = store.conn();
    for (i, checksum) in [ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Sha256]
        .into_iter()
        .enumerate()
    {
        let bytes = pattern(3 * 1024 * 1024 + 17, i as u64 + 1);
        let path = store.scratch().join(format!("big-{i}.bin"));
        std::fs::write(&path, &bytes).expect("write");
        let mut r = req(path, &format!("dir/big-{i}.bin"), false);
        r.checksum = checksum;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let progress = TransferProgress::observed(move |s| {
            record.lock().expect("lock").push((s.done, s.total));
        });
        let out = upload(&conn, &r, &progress).await.expect("upload");
        assert_eq!(out.size, bytes.len() as u64);
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.last(), Some(&(bytes.len() as u64, bytes.len() as u64)));
        assert!(seen.len() > 2, "progress reported along the way: {seen:?}");

        let dest = store.scratch().join(format!("back-{i}.bin"));
        download(&store, &r.object, &dest, false, &TransferProgress::new())
            .await
            .expect("download");
        assert_eq!(sha256(&std::fs::read(&dest).expect("read")), sha256(&bytes));
    }
}

/// The object's bytes, downloaded to a fresh file.
async fn read_back(store: &TestServer, key: &str) -> Vec<u8> {
    let dest = tempfile::tempdir_in(store.scratch())
        .expect("dir")
        .keep()
        .join("back");
    download(
        store,
        &S3Uri::new("shared", key),
        &dest,
        false,
        &TransferProgress::new(),
    )
    .await
    .expect("download");
    std::fs::read(&dest).expect("read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_objects_are_not_silently_overwritten() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let path = store.scratch().join("v1.txt");
    std::fs::write(&path, b"version 1").expect("write");
    upload(
        &conn,
        &req(path.clone(), "doc.txt", false),
        &TransferProgress::new(),
    )
    .await
    .expect("first upload");

    std::fs::write(&path, b"version 2").expect("write");
    let err = upload(
        &conn,
        &req(path.clone(), "doc.txt", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(
        err.message().contains("--overwrite") && err.message().ends_with("s3://shared/doc.txt"),
        "{err}"
    );
    assert_eq!(read_back(&store, "doc.txt").await, b"version 1");

    upload(&conn, &req(path, "doc.txt", true), &TransferProgress::new())
        .await
        .expect("overwrite");
    assert_eq!(read_back(&store, "doc.txt").await, b"version 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_closes_the_race_on_the_server() {
    // The HEAD check passed earlier, then someone else wrote the key: the signed
    // If-None-Match: * must make the server refuse the PUT.
    let store = TestServer::start().await;
    let conn = store.conn();
    let creds = conn.signing_credentials().await.expect("creds");
    let addr = conn.object_address("shared", "race.txt", "us-east-1");
    let sign = || {
        presign(
            &creds,
            &support::presign_input("PUT", &addr, &[("if-none-match", "*")]),
        )
    };
    let first = sign();
    let put = |url: String| {
        http()
            .put(url)
            .header("if-none-match", "*")
            .body("racer")
            .send()
    };
    assert_eq!(put(first.into_url()).await.expect("put").status(), 200);
    assert_eq!(put(sign().into_url()).await.expect("put").status(), 412);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_body_is_rejected_and_nothing_is_stored() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let creds = conn.signing_credentials().await.expect("creds");
    let addr = conn.object_address("shared", "damaged.bin", "us-east-1");
    // The checksum of "hello", but the body says "jello": as if a bit flipped on the way.
    let crc = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crc32c::crc32c(b"hello").to_be_bytes(),
    );
    let signed = presign(
        &creds,
        &support::presign_input("PUT", &addr, &[("x-amz-checksum-crc32c", &crc)]),
    );
    let resp = http()
        .put(signed.url())
        .header("x-amz-checksum-crc32c", &crc)
        .body("jello")
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.expect("body").contains("BadDigest"));
    let exists =
        s3share_engine::client::browse::object_exists(&conn, &S3Uri::new("shared", "damaged.bin"))
            .await
            .expect("head");
    assert!(!exists, "a rejected upload must leave nothing behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_cannot_be_sent_fail_clearly() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let missing = upload(
        &conn,
        &req(store.scratch().join("nope.pdf"), "x.pdf", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.message().starts_with("No such file"), "{missing}");
    let folder = upload(
        &conn,
        &req(store.scratch(), "x", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("folder");
    assert_eq!(folder.kind(), ErrorKind::InvalidInput);
    assert!(folder.message().contains("folder"), "{folder}");
    let device = upload(
        &conn,
        &req("/dev/null".into(), "x", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("device");
    assert!(device.message().contains("Not a regular file"), "{device}");
    let to_prefix = upload(
        &conn,
        &req(store.scratch(), "dir/", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("prefix");
    assert_eq!(to_prefix.kind(), ErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_never_leave_partial_files_or_escape_the_folder() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let target = store.scratch().join("into");
    std::fs::create_dir_all(&target).expect("dir");
    let err = download(
        &store,
        &S3Uri::new("shared", "missing.bin"),
        &target,
        false,
        &TransferProgress::new(),
    )
    .await
    .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        std::fs::read_dir(&target).expect("list").count(),
        0,
        "nothing written"
    );

    let path = store.scratch().join("evil.txt");
    std::fs::write(&path, b"x").expect("write");
    upload(
        &conn,
        &req(path, "a\\..\\..\\evil.txt", false),
        &TransferProgress::new(),
    )
    .await
    .expect("upload");
    let written = download(
        &store,
        &S3Uri::new("shared", "a\\..\\..\\evil.txt"),
        &target,
        false,
        &TransferProgress::new(),
    )
    .await
    .expect("download");
    assert_eq!(written.parent(), Some(target.as_path()));
    let again = download(
        &store,
        &S3Uri::new("shared", "a\\..\\..\\evil.txt"),
        &target,
        false,
        &TransferProgress::new(),
    )
    .await;
    assert_eq!(again.expect_err("exists").kind(), ErrorKind::AlreadyExists);
    let entries: Vec<_> = std::fs::read_dir(&target)
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 1, "only the finished file: {entries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_over_five_gib_get_a_clear_error_before_any_transfer() {
    let store = TestServer::start().await;
    let path = store.scratch().join("huge.bin");
    // Sparse: 5 GiB + 1 byte of size, no disk used.
    std::fs::File::create(&path)
        .expect("create")
        .set_len(5 * 1024 * 1024 * 1024 + 1)
        .expect("size");
    let err = upload(
        &store.conn(),
        &req(path, "huge.bin", false),
        &TransferProgress::new(),
    )
    .await
    .expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("larger than 5 GiB"), "{err}");
    let exists = s3share_engine::client::browse::object_exists(
        &store.conn(),
        &S3Uri::new("shared", "huge.bin"),
    )
    .await
    .expect("head");
    assert!(!exists);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_while_uploading_fails_and_stores_nothing() {
    let store = TestServer::start().await;
    let path = store.scratch().join("growing.log");
    std::fs::write(&path, pattern(3 * 1024 * 1024, 4)).expect("write");
    let grow = std::sync::Once::new();
    let growing = path.clone();
    // The first progress report comes as the body starts: the file grows under the upload.
    let appended = TransferProgress::observed(move |_| {
        grow.call_once(|| {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&growing)
                .expect("open");
            f.write_all(b"one more line\n").expect("append");
        });
    });
    let err = upload(
        &store.conn(),
        &req(path.clone(), "growing.log", false),
        &appended,
    )
    .await
    .expect_err("the file changed");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(
        err.message()
            .contains("changed while it was being uploaded"),
        "{err}"
    );
    let head = store
        .conn()
        .client()
        .head_object()
        .bucket("shared")
        .key("growing.log")
        .send()
        .await;
    assert!(head.is_err(), "nothing was stored");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_get_the_mode_any_download_gets_and_resolve_their_place_once() {
    use s3share_engine::ops::Clash;
    use std::os::unix::fs::PermissionsExt as _;
    let store = TestServer::start().await;
    let conn = store.conn();
    let path = store.scratch().join("report.pdf");
    std::fs::write(&path, b"%PDF").expect("write");
    upload(
        &conn,
        &req(path, "docs/report.pdf", false),
        &TransferProgress::new(),
    )
    .await
    .expect("upload");
    let umask = std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .expect("umask");
    let umask =
        u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).expect("octal");
    let into = store.scratch().join("into");
    // A folder named like the object is already there: the file goes beside it, never inside.
    std::fs::create_dir_all(into.join("report.pdf")).expect("dirs");
    let object = S3Uri::new("shared", "docs/report.pdf");
    let session = store.session();
    let refused = session
        .download(&object, &into, Clash::Refuse, &TransferProgress::new())
        .await;
    assert_eq!(refused.expect_err("taken").kind(), ErrorKind::AlreadyExists);
    let written = session
        .download(&object, &into, Clash::KeepBoth, &TransferProgress::new())
        .await
        .expect("download");
    assert_eq!(written, into.join("report (1).pdf"));
    assert_eq!(
        std::fs::read_dir(into.join("report.pdf"))
            .expect("dir")
            .count(),
        0
    );
    let mode = std::fs::metadata(&written)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o666 & !umask, "umask {umask:o}");
}
