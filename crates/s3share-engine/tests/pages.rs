//! Share pages against the embedded store: one link for a folder of hostile names or a
//! selection, the page listing exactly its objects, every link on it returning its bytes and
//! ending with the page's, the register entry checked, and expired pages deleted.

use s3share_testkit as support;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use s3share_engine::base::signing::query_param;
use s3share_engine::links::page::{PAGES_PREFIX, PageRequest};
use s3share_engine::links::register::LinkKind;
use s3share_engine::{ErrorKind, S3Uri};
use support::{TestServer, http};

/// Keys that break pages written carelessly: markup, quotes, entities, a right-to-left
/// override, URL syntax, emoji, the last code point, and depth.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>.txt",
    "a\"b'c&amp;d.txt",
    "report\u{202e}fdp.exe",
    "sp ace+plus%20#?.txt",
    "emoji 😀/x.txt",
    "deep/er/\u{10ffff}.bin",
];

async fn put(store: &TestServer, key: &str, body: &[u8]) {
    support::put(&store.conn(), key, body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_hostile_names_is_one_page_that_lists_exactly_it() {
    let store = TestServer::start().await;
    let mut expected = BTreeMap::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        let body = format!("body {i} of {name}");
        put(&store, &format!("folder/{name}"), body.as_bytes()).await;
        expected.insert((*name).to_owned(), body);
    }
    // Beside the folder, a longer name that starts like it, a marker and an earlier page: none
    // of them may appear.
    put(&store, "folder-other/outside.txt", b"no").await;
    put(&store, "folder/empty/", b"").await;
    put(&store, "outside.txt", b"no").await;

    let session = store.recording_session();
    let page = session
        .share_page(&PageRequest {
            items: vec![S3Uri::new("shared", "folder/")],
            expires: "15m".parse().expect("expiry"),
            now: None,
        })
        .await
        .expect("share page");
    assert!(page.link.object_uri.key.starts_with(PAGES_PREFIX));
    assert_eq!(page.files.len(), HOSTILE.len());
    assert_eq!(page.title, "folder");

    let resp = http()
        .get(page.link.url())
        .send()
        .await
        .expect("fetch page");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    let html = resp.text().await.expect("page text");
    assert!(!html.contains("<script"), "a name escaped its escaping");
    assert!(html.contains("default-src 'none'"), "scripts are off");
    let listed = support::page_rows(&html);
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    let wanted: Vec<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(names, wanted, "exactly the folder, in key order");

    let page_date = query_param(page.link.url(), "X-Amz-Date");
    for (name, href) in &listed {
        // Every link ends with the page's: same signing time, same lifetime.
        assert_eq!(query_param(href, "X-Amz-Date"), page_date, "{name}");
        assert_eq!(query_param(href, "X-Amz-Expires").as_deref(), Some("900"));
        let resp = http().get(href).send().await.expect("fetch file");
        assert_eq!(resp.status(), 200, "{name}");
        let disposition = resp
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            disposition.starts_with("attachment"),
            "{name}: {disposition}"
        );
        assert_eq!(resp.text().await.expect("body"), expected[name]);
    }

    // One register entry, with its files; Check checks the page and every link on it.
    let links = session.links().await.expect("register");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].kind, LinkKind::Page);
    assert_eq!(links[0].fields.len(), HOSTILE.len());
    session.check_link(&links[0]).await.expect("all links work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_is_one_page_and_its_names_are_below_their_common_folder() {
    let store = TestServer::start().await;
    put(&store, "q3/a/one.txt", b"one").await;
    put(&store, "q3/b/two.txt", b"two").await;
    put(&store, "q3/c/three.txt", b"three").await;
    let page = store
        .recording_session()
        .share_page(&PageRequest {
            items: vec![
                S3Uri::new("shared", "q3/b/two.txt"),
                S3Uri::new("shared", "q3/a/one.txt"),
                S3Uri::new("shared", "q3/a/one.txt"),
            ],
            expires: "1h".parse().expect("expiry"),
            now: None,
        })
        .await
        .expect("share page");
    let names: Vec<&str> = page.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a/one.txt", "b/two.txt"], "each once, nothing else");
    assert_eq!(page.title, "2 files from q3");
    assert_eq!(page.summary(), "2 files, 6 B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_refuse_what_they_cannot_list_before_writing_anything() {
    let store = TestServer::start().await;
    put(&store, "a.txt", b"a").await;
    let session = store.recording_session();
    let page = |items: Vec<S3Uri>| PageRequest {
        items,
        expires: "15m".parse().expect("expiry"),
        now: None,
    };
    let empty = session
        .share_page(&page(vec![S3Uri::new("shared", "nothing-here/")]))
        .await
        .expect_err("an empty folder");
    assert_eq!(empty.kind(), ErrorKind::NotFound);
    assert!(
        empty.message().contains("Nothing to share"),
        "{}",
        empty.message()
    );
    let two_buckets = session
        .share_page(&page(vec![
            S3Uri::new("shared", "a.txt"),
            S3Uri::new("other", "b.txt"),
        ]))
        .await
        .expect_err("two buckets");
    assert!(
        two_buckets.message().contains("one bucket"),
        "{}",
        two_buckets.message()
    );
    let missing = session
        .share_page(&page(vec![
            S3Uri::new("shared", "a.txt"),
            S3Uri::new("shared", "gone.txt"),
        ]))
        .await
        .expect_err("a missing object");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let listed = store
        .conn()
        .client()
        .list_objects_v2()
        .bucket("shared")
        .prefix(PAGES_PREFIX)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(0), "no page was written");
    assert!(session.links().await.expect("register").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_pages_are_deleted_once_and_live_ones_stay() {
    let store = TestServer::start().await;
    put(&store, "f/a.txt", b"a").await;
    let session = store.recording_session();
    let make = |now: Option<SystemTime>| PageRequest {
        items: vec![S3Uri::new("shared", "f/")],
        expires: "1h".parse().expect("expiry"),
        now,
    };
    let old = session
        .share_page(&make(Some(
            SystemTime::now() - Duration::from_secs(2 * 3600),
        )))
        .await
        .expect("an old page");
    let live = session.share_page(&make(None)).await.expect("a live page");
    assert_eq!(session.prune_pages().await.expect("prune"), 1);
    let sdk = store.conn().client();
    let exists = |key: String| {
        let sdk = sdk.clone();
        async move {
            sdk.head_object()
                .bucket("shared")
                .key(key)
                .send()
                .await
                .is_ok()
        }
    };
    assert!(
        !exists(old.link.object_uri.key.clone()).await,
        "the expired page is gone"
    );
    assert!(
        exists(live.link.object_uri.key.clone()).await,
        "the live page stays"
    );
    assert!(exists("f/a.txt".to_owned()).await, "the files stay");
    assert_eq!(session.prune_pages().await.expect("prune again"), 0, "once");
}
