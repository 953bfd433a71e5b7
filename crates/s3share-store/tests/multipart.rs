//! Multipart uploads in the embedded store, held to S3's behaviour: part sizes and numbers,
//! each part's ETag checked at Complete, nothing visible before it, `If-None-Match: *`, ListParts paged,
//! uploads that survive a restart.

use s3share_testkit as support;

use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use md5::Digest as _;
use support::{TestServer, pattern, sha256};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one upload's whole life, step by step, reads best in one place"
)]
async fn the_store_keeps_multipart_uploads_as_s3_does() {
    let store = TestServer::start().await;
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
    let TestServer {
        store: running,
        dir,
    } = store;
    let options = s3share_store::StoreOptions {
        data_dir: running.data_dir().to_owned(),
        port: 0,
        credentials: running.credentials().clone(),
        region: "us-east-1".into(),
        extras: s3share_store::StoreExtras::default(),
    };
    running.shutdown().await;
    let restarted = s3share_store::StoreServer::start(options)
        .await
        .expect("restart");
    let conn = support::conn_of(&restarted);
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
