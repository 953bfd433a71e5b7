//! Share links against the embedded store: bytes, expiry, tampering, download names, the real
//! lifetime under temporary credentials, the bucket's real region, and the link check.

use s3share_testkit as support;

use std::time::{Duration, SystemTime};

use s3share_engine::base::signing::query_param;
use s3share_engine::links::check::verify;
use s3share_engine::links::share::share;
use s3share_engine::transfer::TransferProgress;
use s3share_engine::transfer::upload::single::upload_single as upload;
use s3share_engine::transfer::upload::{ChecksumAlgorithm, UploadRequest};
use s3share_engine::{ErrorKind, Expiry, S3Uri, ShareRequest};
use support::{TestServer, http, pattern, sha256};

async fn put(store: &TestServer, key: &str, bytes: &[u8]) -> S3Uri {
    let path = store.scratch().join("upload.bin");
    std::fs::write(&path, bytes).expect("write");
    let object = S3Uri::new("shared", key);
    let req = UploadRequest {
        path,
        object: object.clone(),
        overwrite: true,
        checksum: ChecksumAlgorithm::Crc32c,
    };
    upload(&store.conn(), &req, &TransferProgress::new())
        .await
        .expect("upload");
    object
}

fn request(object: &S3Uri, expires: &str) -> ShareRequest {
    ShareRequest {
        object: object.clone(),
        expires: expires.parse().expect("expiry"),
        download_name: None,
        now: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_fetches_the_same_bytes_with_a_plain_http_client() {
    let store = TestServer::start().await;
    let bytes = pattern(300_000, 7);
    let object = put(&store, "docs/report.pdf", &bytes).await;
    let link = share(&store.conn(), &request(&object, "15m"))
        .await
        .expect("share");
    assert_eq!(
        query_param(link.url(), "X-Amz-Expires").as_deref(),
        Some("900")
    );
    let resp = http().get(link.url()).send().await.expect("fetch");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("application/pdf")
    );
    let body = resp.bytes().await.expect("body");
    assert_eq!(sha256(&body), sha256(&bytes));
    verify(&store.conn(), &link)
        .await
        .expect("the link checks out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_tampered_links_are_refused() {
    let store = TestServer::start().await;
    let object = put(&store, "a.txt", b"hello").await;
    let conn = store.conn();

    let mut old = request(&object, "1h");
    old.now = Some(SystemTime::now() - Duration::from_secs(2 * 3600));
    let expired = share(&conn, &old).await.expect("signing an old link works");
    assert_eq!(
        http()
            .get(expired.url())
            .send()
            .await
            .expect("fetch")
            .status(),
        403
    );
    let err = verify(&conn, &expired)
        .await
        .expect_err("expired link fails the check");
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert!(err.message().contains("expired"), "{err}");

    let good = share(&conn, &request(&object, "15m")).await.expect("share");
    let tampered = [
        good.url().replace("X-Amz-Expires=900", "X-Amz-Expires=901"),
        good.url().replace("/shared/a.txt", "/shared/b.txt"),
        flip_last_char(good.url()),
    ];
    for url in tampered {
        assert_ne!(url, good.url());
        let status = http().get(&url).send().await.expect("fetch").status();
        assert_eq!(status, 403, "a tampered link must be refused");
    }
    assert_eq!(
        http().get(good.url()).send().await.expect("fetch").status(),
        200
    );
}

/// The same link with the signature's last hex digit changed.
fn flip_last_char(url: &str) -> String {
    let (head, last) = url.split_at(url.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_name_comes_back_as_content_disposition() {
    let store = TestServer::start().await;
    let object = put(&store, "reports/q3-final-v2.pdf", b"%PDF-1.7").await;
    let mut req = request(&object, "2h");
    req.download_name = Some("Q3 résumé.pdf".into());
    let link = share(&store.conn(), &req).await.expect("share");
    let resp = http().get(link.url()).send().await.expect("fetch");
    assert_eq!(resp.status(), 200);
    let cd = resp
        .headers()
        .get("content-disposition")
        .expect("header")
        .to_str()
        .expect("ascii");
    assert_eq!(
        cd,
        "attachment; filename=\"Q3 r_sum_.pdf\"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.pdf"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_cut_the_link_short_and_say_so() {
    let store = TestServer::start().await;
    let object = put(&store, "t.txt", b"temporary").await;
    let creds_expiry = SystemTime::now() + Duration::from_secs(600);
    let conn = store.conn_with_temporary_credentials(creds_expiry);
    let link = share(&conn, &request(&object, "1h")).await.expect("share");
    assert!(link.cut_short());
    assert_eq!(link.expires_at, creds_expiry);
    assert_eq!(link.requested, "1h".parse::<Expiry>().expect("1h"));
    let warning = link.cut_short_warning().expect("a warning");
    assert!(
        warning.contains("asked to last 1 hour (until ")
            && warning.contains("stops working in 10 minutes (at "),
        "{warning}"
    );
    assert_eq!(
        query_param(link.url(), "X-Amz-Security-Token").as_deref(),
        Some("session-token-from-sts")
    );
    assert!(
        link.describe().contains("in 10 minutes"),
        "{}",
        link.describe()
    );
    assert_eq!(
        http().get(link.url()).send().await.expect("fetch").status(),
        200
    );

    let long_lived = share(&store.conn(), &request(&object, "1h"))
        .await
        .expect("share");
    assert!(!long_lived.cut_short());
    assert!(long_lived.cut_short_warning().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_signed_for_the_buckets_real_region() {
    // The store lives in eu-west-2; the connection is configured for us-east-1 and must learn
    // the real region from the 301's x-amz-bucket-region header.
    let store = TestServer::start_in_region("eu-west-2").await;
    let mut settings = store.connection_settings();
    settings.region = Some("us-east-1".into());
    let conn = s3share_engine::Connection::with_access_key(
        settings,
        store.store.credentials(),
        "us-east-1",
    )
    .expect("connection");
    assert_eq!(
        conn.bucket_region("shared").await.expect("region"),
        "eu-west-2"
    );

    let path = store.scratch().join("r.txt");
    std::fs::write(&path, b"regional").expect("write");
    let object = S3Uri::new("shared", "r.txt");
    let req = UploadRequest {
        path,
        object: object.clone(),
        overwrite: false,
        checksum: ChecksumAlgorithm::Sha256,
    };
    upload(&conn, &req, &TransferProgress::new())
        .await
        .expect("upload signed for eu-west-2");
    let link = share(&conn, &request(&object, "5m")).await.expect("share");
    let credential = query_param(link.url(), "X-Amz-Credential").expect("credential");
    assert!(
        credential.contains("/eu-west-2/s3/aws4_request"),
        "{credential}"
    );
    assert_eq!(
        http()
            .get(link.url())
            .send()
            .await
            .expect("fetch")
            .text()
            .await
            .expect("text"),
        "regional"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_checks_the_object_and_clock() {
    let store = TestServer::start().await;
    let conn = store.conn();
    let missing = share(&conn, &request(&S3Uri::new("shared", "nope.txt"), "15m"))
        .await
        .expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(
        missing.message().contains("s3://shared/nope.txt"),
        "{missing}"
    );
    let no_bucket = share(&conn, &request(&S3Uri::new("nosuchbucket", "x"), "15m"))
        .await
        .expect_err("no bucket");
    assert_eq!(no_bucket.kind(), ErrorKind::NotFound);
    assert!(
        no_bucket.message().contains("No such bucket"),
        "{no_bucket}"
    );

    // A link signed by a clock an hour fast is refused for skew, and the check says so.
    let object = put(&store, "c.txt", b"clock").await;
    let mut skewed = request(&object, "15m");
    skewed.now = Some(SystemTime::now() + Duration::from_secs(3600));
    let link = share(&conn, &skewed).await.expect("share");
    let err = verify(&conn, &link).await.expect_err("skewed");
    assert_eq!(err.kind(), ErrorKind::ClockSkew, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_links_longer_than_seven_days() {
    let store = TestServer::start().await;
    let object = put(&store, "w.txt", b"week").await;
    let link = share(&store.conn(), &request(&object, "7d"))
        .await
        .expect("share");
    assert_eq!(
        http().get(link.url()).send().await.expect("fetch").status(),
        200
    );
    // Re-sign by hand with 8 days: the client never makes such a link, and the store, like S3,
    // must not honour one.
    let creds = store.conn().signing_credentials().await.expect("creds");
    let addr = store.conn().object_address("shared", "w.txt", "us-east-1");
    let input = support::presign_input("GET", &addr, &[]);
    let eight_days =
        s3share_engine::base::signing::presign_with_raw_expiry(&creds, &input, 8 * 86_400);
    assert_eq!(
        http()
            .get(eight_days.url())
            .send()
            .await
            .expect("fetch")
            .status(),
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_makes_an_expired_link_again_for_as_long_on_its_own_connection_only() {
    let store = TestServer::start().await;
    let object = put(&store, "minutes.txt", b"minutes").await;
    let session = store.session();
    let mut old = request(&object, "1h");
    old.now = Some(SystemTime::now() - Duration::from_secs(2 * 3600));
    let expired = session.share(&old).await.expect("signed in the past");
    let record = expired.record().into_record();
    assert!(!record.is_live(SystemTime::now()));

    let renewed = session.renew(&record).await.expect("renewed");
    assert_ne!(renewed.url(), expired.url());
    assert_eq!(
        query_param(renewed.url(), "X-Amz-Expires").as_deref(),
        Some("3600"),
        "as long as was asked the first time"
    );
    let resp = http().get(renewed.url()).send().await.expect("fetch");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.expect("body").as_ref(), b"minutes");

    // The same bucket and key on another endpoint are another object: not renewed here.
    let mut elsewhere = record.clone();
    elsewhere.endpoint = "aws".into();
    let err = session
        .renew(&elsewhere)
        .await
        .expect_err("another endpoint");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("made on aws"), "{err}");
}
