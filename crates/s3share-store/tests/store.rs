//! The embedded store held to S3's behaviour under odd and hostile requests: listings that end,
//! links it must refuse, form POSTs that cost no memory, reads that never tear, commits that
//! survive a crash, ranges, file modes, logs without secrets, and an accept loop that backs off.

use s3share_testkit as support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use std::fmt::Write as _;

use base64::Engine as _;
use futures_util::StreamExt as _;
use md5::Digest as _;
use s3share_engine::Expiry;
use s3share_engine::base::signing::presign_with_raw_expiry;
use support::{ChildServer, TestServer, http, pattern, presign_input, presigned_get, put};

/// The store crate's own binary serving `data` on a free port, its credentials kept in `home`
/// (so a restart finds the same keys), run through `wrapper` (`prlimit …`) when given.
fn child(home: &std::path::Path, data: &std::path::Path, wrapper: Option<&[&str]>) -> ChildServer {
    let exe = env!("CARGO_BIN_EXE_s3share-store");
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = std::process::Command::new(w[0]);
            c.args(&w[1..]).arg(exe);
            c
        }
        None => std::process::Command::new(exe),
    };
    cmd.args(["--port", "0", "--dir"])
        .arg(data)
        .arg("--credentials")
        .arg(home.join("credentials.toml"));
    ChildServer::start(cmd, home)
}

fn s3_code(body: &str) -> String {
    s3share_engine::client::http::parse_s3_error(body)
        .0
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_with_the_last_code_point_end_and_list_each_folder_once() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let max = char::MAX;
    for key in [
        format!("a/{max}z"),
        format!("a/{max}"),
        "a/b".to_owned(),
        format!("b{max}/c"),
        "c".to_owned(),
    ] {
        put(&conn, &key, b"x").await;
    }
    let list = async |start_after: Option<&str>| {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let out = conn
                .client()
                .list_objects_v2()
                .bucket("shared")
                .delimiter("/")
                .max_keys(1)
                .set_start_after(start_after.map(str::to_owned))
                .set_continuation_token(token.clone())
                .send()
                .await
                .expect("list");
            entries.extend(
                out.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            entries.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            token = out.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return entries;
            }
        }
        panic!("the listing did not end after 20 pages: {entries:?}");
    };
    let all = tokio::time::timeout(Duration::from_secs(20), list(None))
        .await
        .expect("the store answers");
    assert_eq!(all, vec!["a/".to_owned(), format!("b{max}/"), "c".into()]);
    let after = tokio::time::timeout(Duration::from_secs(20), list(Some("a/")))
        .await
        .expect("the store answers");
    assert_eq!(after, vec![format!("b{max}/"), "c".into()]);
    // The store still answers everyone else.
    put(&conn, "after", b"y").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_expiry_names_and_sigv2_are_refused() {
    let store = TestServer::start().await;
    let conn = store.conn();
    put(&conn, "k.txt", b"hello").await;
    let creds = conn.signing_credentials().await.expect("credentials");
    let addr = conn.object_address("shared", "k.txt", "us-east-1");
    let year = presign_with_raw_expiry(&creds, &presign_input("GET", &addr, &[]), 31_536_000);
    let encoded = year.url().replace("X-Amz-Expires=", "X-Amz-%45xpires=");
    assert_ne!(encoded, year.url());
    for url in [year.url().to_owned(), encoded] {
        let resp = http().get(&url).send().await.expect("fetch");
        assert_eq!(
            resp.status(),
            400,
            "{}",
            url.split('?').next().unwrap_or("")
        );
        let body = resp.text().await.expect("body");
        assert_eq!(
            s3_code(&body),
            "AuthorizationQueryParametersError",
            "{body}"
        );
    }

    let base = format!("{}/shared/k.txt", store.store.endpoint_url());
    let v2_link = format!(
        "{base}?AWSAccessKeyId={}&Expires=4102444800&Signature=c2lnbmF0dXJl",
        creds.access_key_id
    );
    let v2_header = http()
        .get(&base)
        .header(
            "authorization",
            format!("AWS {}:c2lnbmF0dXJl", creds.access_key_id),
        )
        .header("date", "Wed, 02 Dec 2026 00:00:00 GMT");
    for resp in [
        http().get(&v2_link).send().await.expect("fetch"),
        v2_header.send().await.expect("fetch"),
    ] {
        assert_eq!(resp.status(), 400);
        let body = resp.text().await.expect("body");
        assert_eq!(s3_code(&body), "InvalidRequest", "{body}");
        assert!(body.contains("AWS4-HMAC-SHA256"), "{body}");
    }
}

const CHUNK: u64 = 64 * 1024;

/// A multipart/form-data body: the fields, then a file of `file_len` bytes streamed (never
/// held), counting how many bytes the server pulled.
fn form_body(
    boundary: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    file_len: u64,
    pulled: Arc<AtomicU64>,
) -> reqwest::Body {
    let mut head = String::new();
    for (name, value) in fields {
        let _ = write!(
            head,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(
        head,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let chunks = file_len.div_ceil(CHUNK);
    let body = futures_util::stream::iter(
        std::iter::once(bytes::Bytes::from(head))
            .chain((0..chunks).map(move |i| {
                let n = CHUNK.min(file_len - i * CHUNK);
                bytes::Bytes::from(vec![b'z'; n as usize])
            }))
            .chain(std::iter::once(bytes::Bytes::from(tail))),
    )
    .map(move |b| {
        pulled.fetch_add(b.len() as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(b)
    });
    reqwest::Body::wrap_stream(body)
}

#[test]
fn an_unsigned_256_mib_form_post_is_refused_before_its_body_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = child(&dir.path().join("home"), &dir.path().join("data"), None);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let before = store.status_kb("VmHWM");
    let boundary = "s3shareboundary";
    let size = 256 * 1024 * 1024;
    // The form upload itself, and every way around its door: a query, an encoded bucket name,
    // a key, the root, a content type spelled otherwise, and a body whose boundary never comes.
    let variants = [
        ("/shared", "multipart/form-data", boundary),
        ("/shared?x", "multipart/form-data", boundary),
        ("/shared?", "multipart/form-data", boundary),
        ("/%73hared", "multipart/form-data", boundary),
        ("/shared/key", "multipart/form-data", boundary),
        ("/", "multipart/form-data", boundary),
        ("/shared", " Multipart/Form-Data ", boundary),
        (
            "/shared",
            "multipart/form-data",
            "a-boundary-that-never-appears",
        ),
    ];
    for (path, kind, declared) in variants {
        let pulled = Arc::new(AtomicU64::new(0));
        let body = form_body(
            boundary,
            &[("key", "uploads/big.bin")],
            "big.bin",
            size,
            pulled.clone(),
        );
        let result = rt.block_on(
            http()
                .post(format!("{}{path}", store.endpoint))
                .header("content-type", format!("{kind}; boundary={declared}"))
                .body(body)
                .send(),
        );
        // The store answers and closes as soon as it has seen enough; the client may see the
        // answer or the closed connection, depending on how far its sending got.
        if let Ok(resp) = result {
            assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        }
        let sent = pulled.load(Ordering::Relaxed);
        assert!(
            sent < 64 * 1024 * 1024,
            "{path} {kind}: the store read {sent} bytes of an unsigned POST"
        );
    }
    let after = store.status_kb("VmHWM");
    assert!(
        after < before + 32 * 1024,
        "the store's peak memory grew from {before} kB to {after} kB"
    );
    // Nothing was stored, and it still answers.
    let conn = store.conn();
    let listed = rt
        .block_on(conn.client().list_objects_v2().bucket("shared").send())
        .expect("list");
    assert!(listed.contents().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_store_per_folder() {
    let store = TestServer::start().await;
    let second = s3share_store::StoreServer::start(s3share_store::StoreOptions {
        data_dir: store.store.data_dir().to_owned(),
        port: 0,
        credentials: store.store.credentials().clone(),
        region: "us-east-1".into(),
        extras: s3share_store::StoreExtras::default(),
    })
    .await
    .expect_err("the folder is in use");
    assert!(
        second.to_string().contains("Another s3share store"),
        "{second}"
    );
    // The first goes on undisturbed.
    put(&store.conn(), "still.txt", b"here").await;
}

/// POST a form of `fields` and a file of `len` bytes; the status and S3's error code.
async fn post_form(url: &str, fields: &[(&str, &str)], file_name: &str, len: u64) -> (u16, String) {
    let boundary = "s3shareboundary";
    let body = form_body(
        boundary,
        fields,
        file_name,
        len,
        Arc::new(AtomicU64::new(0)),
    );
    let resp = http()
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, s3_code(&resp.text().await.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_form_posts_store_within_their_policy_only() {
    use s3share_engine::base::signing::{PostPolicyInput, presign_post};
    let store = TestServer::start().await;
    let conn = store.conn();
    let creds = conn.signing_credentials().await.expect("credentials");
    let action = format!("{}/shared", store.store.endpoint_url());
    let sign = |expires: Expiry, now: SystemTime| {
        presign_post(
            &creds,
            &PostPolicyInput {
                action: &action,
                bucket: "shared",
                key_prefix: "inbox/",
                max_size: 1000,
                content_type: None,
                region: "us-east-1",
                expires,
                now,
            },
        )
    };
    let form = sign(Expiry::DEFAULT, SystemTime::now());
    let fields: Vec<(&str, &str)> = form
        .fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();

    assert_eq!(post_form(&action, &fields, "a b+é.txt", 1000).await.0, 201);
    let stored = conn
        .client()
        .head_object()
        .bucket("shared")
        .key("inbox/a b+é.txt")
        .send()
        .await
        .expect("stored under the prefix with its own name");
    assert_eq!(stored.content_length(), Some(1000));

    assert_eq!(
        post_form(&action, &fields, "big.txt", 1001).await,
        (400, "EntityTooLarge".into())
    );
    let mut outside = fields.clone();
    outside[0] = ("key", "elsewhere/${filename}");
    assert_eq!(
        post_form(&action, &outside, "x.txt", 10).await,
        (403, "AccessDenied".into())
    );
    let mut extra = fields.clone();
    extra.insert(1, ("acl", "public-read"));
    assert_eq!(
        post_form(&action, &extra, "x.txt", 10).await,
        (403, "AccessDenied".into())
    );
    let mut forged = fields.clone();
    let last = forged.len() - 1;
    forged[last] = ("x-amz-signature", "0000");
    assert_eq!(
        post_form(&action, &forged, "x.txt", 10).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let old = sign(
        "1h".parse().expect("expiry"),
        SystemTime::now() - Duration::from_secs(7200),
    );
    let old_fields: Vec<(&str, &str)> = old
        .fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        post_form(&action, &old_fields, "x.txt", 10).await,
        (403, "AccessDenied".into())
    );
    let listed = conn
        .client()
        .list_objects_v2()
        .bucket("shared")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.contents().len(),
        1,
        "only the accepted upload is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_policies_living_longer_than_seven_days_are_refused() {
    use s3share_core::sigv4::sign_post_policy;
    let store = TestServer::start().await;
    let creds = store
        .conn()
        .signing_credentials()
        .await
        .expect("credentials");
    let action = format!("{}/shared", store.store.endpoint_url());
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let amz_date = format!(
        "{date}T{:02}{:02}{:02}Z",
        now.hour(),
        now.minute(),
        now.second()
    );
    let credential = format!("{}/{date}/us-east-1/s3/aws4_request", creds.access_key_id);
    let expiration = now + time::Duration::days(8);
    let policy = format!(
        r#"{{"expiration":"{:04}-{:02}-{:02}T00:00:00.000Z","conditions":[{{"bucket":"shared"}},["starts-with","$key",""],{{"x-amz-algorithm":"AWS4-HMAC-SHA256"}},{{"x-amz-credential":"{credential}"}},{{"x-amz-date":"{amz_date}"}}]}}"#,
        expiration.year(),
        u8::from(expiration.month()),
        expiration.day()
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let signature = sign_post_policy(
        creds.secret_access_key.expose(),
        &date,
        "us-east-1",
        &policy,
    );
    let long = [
        ("key", "long.txt"),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", credential.as_str()),
        ("x-amz-date", amz_date.as_str()),
        ("policy", policy.as_str()),
        ("x-amz-signature", signature.as_str()),
    ];
    assert_eq!(
        post_form(&action, &long, "x.txt", 10).await,
        (403, "AccessDenied".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_racing_puts_always_match_their_etag() {
    let store = TestServer::start().await;
    let conn = Arc::new(store.conn());
    let bodies = [pattern(1_000, 1), pattern(300_000, 2), pattern(40_000, 3)];
    put(&conn, "race", &bodies[0]).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let conn = conn.clone();
        let stop = stop.clone();
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                put(&conn, "race", &bodies[n % bodies.len()]).await;
                n += 1;
            }
            n
        })
    };
    let url = presigned_get(&conn, "race", None).await;
    let mut mismatches = Vec::new();
    for _ in 0..300 {
        let resp = http().get(&url).send().await.expect("get");
        assert_eq!(resp.status(), 200);
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let length: usize = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        let body = resp.bytes().await.expect("body");
        let md5 = hex::encode(md5::Md5::digest(&body));
        if md5 != etag || body.len() != length {
            mismatches.push((etag, md5, length, body.len()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let puts = writer.await.expect("writer");
    assert!(puts > 10, "only {puts} PUTs raced the GETs");
    assert!(mismatches.is_empty(), "torn reads: {mismatches:?}");
}

fn key_hash(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_data_and_metadata_leaves_a_whole_object() {
    let store = TestServer::start().await;
    let data = store.store.data_dir().to_owned();
    let options = s3share_store::StoreOptions {
        data_dir: data.clone(),
        port: 0,
        credentials: store.store.credentials().clone(),
        region: "us-east-1".into(),
        extras: s3share_store::StoreExtras::default(),
    };
    let old = pattern(10_000, 5);
    put(&store.conn(), "doc", &old).await;
    let TestServer {
        store: running,
        dir,
    } = store;
    running.shutdown().await;

    // What a PUT that died after writing its data file (before its metadata) leaves: a new data
    // file, and a metadata write that never reached its rename.
    let h = key_hash("doc");
    let shard = data.join("shared").join(&h[..2]);
    std::fs::write(
        shard.join(format!("{h}.00ff00ff00ff00ff.data")),
        pattern(77, 9),
    )
    .expect("new data file");
    std::fs::write(shard.join(".meta-half"), b"{\"key\":\"doc\",\"si").expect("half meta");
    std::fs::write(data.join(".tmp/in-upload"), pattern(1000, 1)).expect("staging file");

    let restarted = s3share_store::StoreServer::start(options.clone())
        .await
        .expect("restart");
    let conn = support::conn_of(&restarted);
    let got = conn
        .client()
        .get_object()
        .bucket("shared")
        .key("doc")
        .send()
        .await
        .expect("the old object is there");
    let etag = got.e_tag().unwrap_or_default().trim_matches('"').to_owned();
    let body = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(body.as_ref(), old.as_slice());
    assert_eq!(etag, hex::encode(md5::Md5::digest(&old)));
    let mut left: Vec<String> = std::fs::read_dir(&shard)
        .expect("shard")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left.len(),
        2,
        "only the object's two files remain: {left:?}"
    );
    assert_eq!(
        std::fs::read_dir(data.join(".tmp")).expect("tmp").count(),
        0
    );

    // A new PUT after the restart replaces it whole and leaves no old data file behind.
    let new = pattern(20_000, 6);
    put(&conn, "doc", &new).await;
    assert_eq!(std::fs::read_dir(&shard).expect("shard").count(), 2);
    drop(dir);
}

#[test]
fn a_store_killed_while_writing_restarts_with_whole_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let bodies: Vec<Vec<u8>> = (0..4u64)
        .map(|i| pattern(1_000 + 150_000 * i as usize, i + 11))
        .collect();
    let expected: std::collections::HashSet<String> = bodies
        .iter()
        .map(|b| hex::encode(md5::Md5::digest(b)))
        .collect();
    for round in 0..3u64 {
        let store = child(&home, &data, None);
        let conn = Arc::new(store.conn());
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let conn = conn.clone();
                let bodies = bodies.clone();
                rt.spawn(async move {
                    for n in 0.. {
                        let body = &bodies[(n + w) % bodies.len()];
                        let key = format!("k{}", n % 3);
                        if conn
                            .client()
                            .put_object()
                            .bucket("shared")
                            .key(key)
                            .body(body.clone().into())
                            .send()
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + 120 * round));
        store.kill();
        for w in writers {
            let _ = rt.block_on(w);
        }
        let store = child(&home, &data, None);
        let conn = store.conn();
        rt.block_on(async {
            for k in 0..3 {
                let got = conn
                    .client()
                    .get_object()
                    .bucket("shared")
                    .key(format!("k{k}"))
                    .send()
                    .await;
                let Ok(got) = got else { continue };
                let etag = got.e_tag().unwrap_or_default().trim_matches('"').to_owned();
                let length = got.content_length().unwrap_or(-1);
                let body = got.body.collect().await.expect("body").into_bytes();
                let md5 = hex::encode(md5::Md5::digest(&body));
                assert_eq!(md5, etag, "round {round}: k{k} is torn");
                assert_eq!(i64::try_from(body.len()).ok(), Some(length));
                assert!(expected.contains(&md5), "round {round}: k{k} holds a mix");
            }
        });
        store.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_on_empty_and_short_objects_answer_as_s3() {
    let store = TestServer::start().await;
    let conn = store.conn();
    put(&conn, "empty", b"").await;
    put(&conn, "ten", b"0123456789").await;
    let empty = presigned_get(&conn, "empty", None).await;
    let ten = presigned_get(&conn, "ten", None).await;
    let get = async |url: &str, range: &str| {
        let resp = http()
            .get(url)
            .header("range", range)
            .send()
            .await
            .expect("get");
        let status = resp.status().as_u16();
        let content_range = resp
            .headers()
            .get("content-range")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let body = resp.bytes().await.expect("body");
        (status, content_range, body.len())
    };
    assert_eq!(get(&empty, "bytes=-1").await, (200, None, 0));
    let (status, range, _) = get(&empty, "bytes=0-0").await;
    assert_eq!((status, range.as_deref()), (416, Some("bytes */0")));
    assert_eq!(
        get(&ten, "bytes=-100").await,
        (206, Some("bytes 0-9/10".to_owned()), 10)
    );
    assert_eq!(
        get(&ten, "bytes=-1").await,
        (206, Some("bytes 9-9/10".to_owned()), 1)
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let store = TestServer::start().await;
    put(&store.conn(), "private/name.txt", b"secret-ish").await;
    let root = store.store.data_dir().to_owned();
    let mut stack = vec![root.clone()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
        for e in std::fs::read_dir(&dir).expect("read") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
        }
    }
    assert_eq!(
        files, 4,
        "one data file, one metadata file, the folder's lock, the address it serves at"
    );
}

#[test]
fn accepting_backs_off_when_out_of_file_descriptors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = child(
        &dir.path().join("home"),
        &dir.path().join("data"),
        Some(&["prlimit", "--nofile=32:32", "--"]),
    );
    let addr = store.endpoint.trim_start_matches("http://").to_owned();
    let held: Vec<std::net::TcpStream> = (0..64)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    assert!(held.len() > 32, "the kernel queued the connections");
    std::thread::sleep(Duration::from_millis(200));
    let before = store.cpu_ticks();
    std::thread::sleep(Duration::from_millis(1500));
    let used = store.cpu_ticks() - before;
    // Spinning on accept would burn a whole core: ~150 ticks in 1.5 s.
    assert!(
        used < 40,
        "the store used {used} clock ticks while it could not accept"
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(1200));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(store.conn().client().head_bucket().bucket("shared").send())
        .expect("the store answers again");
}

/// The HTTP status an SDK call came back with.
fn status<T, E>(
    r: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e.raw_response().map_or(0, |r| r.status().as_u16()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_reads_answer_412_and_304_as_s3_does() {
    let store = TestServer::start().await;
    let conn = store.conn();
    put(&conn, "c.txt", b"conditional").await;
    let client = conn.client();
    let head = client
        .head_object()
        .bucket("shared")
        .key("c.txt")
        .send()
        .await
        .expect("head");
    let etag = head.e_tag().expect("etag").to_owned();
    let get = || client.get_object().bucket("shared").key("c.txt");
    let head = || client.head_object().bucket("shared").key("c.txt");
    assert_eq!(status(get().if_match(&etag).send().await), 200);
    assert_eq!(status(get().if_match("\"other\"").send().await), 412);
    assert_eq!(status(get().if_none_match(&etag).send().await), 304);
    assert_eq!(status(get().if_none_match("\"other\"").send().await), 200);
    assert_eq!(status(head().if_match("\"other\"").send().await), 412);
    assert_eq!(status(head().if_none_match(&etag).send().await), 304);
    let past = aws_smithy_types::DateTime::from_secs(1_000_000_000);
    let future = aws_smithy_types::DateTime::from_secs(4_000_000_000);
    assert_eq!(status(get().if_modified_since(past).send().await), 200);
    assert_eq!(status(get().if_modified_since(future).send().await), 304);
    assert_eq!(status(get().if_unmodified_since(past).send().await), 412);
    // If-Match holding wins over a failing If-Unmodified-Since; a failing If-None-Match wins
    // over a holding If-Modified-Since.
    assert_eq!(
        status(get().if_match(&etag).if_unmodified_since(past).send().await),
        200
    );
    assert_eq!(
        status(
            get()
                .if_none_match(&etag)
                .if_modified_since(past)
                .send()
                .await
        ),
        304
    );
    // A 304 carries no body, and the ETag.
    let url = presigned_get(&conn, "c.txt", None).await;
    let resp = http()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 304);
    assert_eq!(
        resp.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    assert!(resp.bytes().await.expect("body").is_empty());
}
