//! Finding the store that already serves a folder: at the address it recorded beside its lock
//! (any port), and only if it answers to the user's own credentials.

mod support;

use s3share_store::{StoreExtras, StoreOptions};

/// `s3share local` on a free port (not 9000), in its own process, on `dir/data` with its home
/// `dir/home`; and the options another s3share of the same user would start with.
fn running_store(dir: &std::path::Path) -> (support::ChildServer, StoreOptions) {
    let (home, data) = (dir.join("home"), dir.join("data"));
    let running = support::child_store(&home, &data, &[], None);
    let key = s3share_store::credentials::load_or_create(
        &home.join(".config/s3share/local-store-credentials.toml"),
    )
    .expect("the store's credentials");
    (running, options(&data, key))
}

fn options(data: &std::path::Path, credentials: s3share_core::AccessKey) -> StoreOptions {
    StoreOptions {
        data_dir: data.to_owned(),
        port: 9,
        credentials,
        region: "us-east-1".into(),
        extras: StoreExtras::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_s3share_uses_the_store_already_serving_its_folder_on_any_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, opts) = running_store(dir.path());
    let data = opts.data_dir.clone();
    let (started, conn) = s3share::local::start_or_reuse(opts)
        .await
        .expect("reuses the running store");
    assert!(started.is_none(), "no second store on the same folder");
    assert_eq!(
        conn.settings().endpoint.as_deref(),
        Some(running.endpoint.as_str())
    );
    assert!(conn.is_local_store());
    s3share_engine::client::browse::list_buckets(&conn)
        .await
        .expect("it answers");

    // Someone else's keys: the store does not answer to them, so it is not theirs to use.
    let stranger = s3share_store::credentials::generate().expect("keys");
    let refused = s3share::local::start_or_reuse(options(&data, stranger))
        .await
        .expect_err("not this user's store");
    assert!(
        refused
            .message()
            .contains("Another s3share store is using this folder"),
        "{refused}"
    );
    assert!(
        refused
            .detail()
            .is_some_and(|d| d.contains("did not answer")),
        "{refused:?}"
    );
    drop(running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_serving_store_stops_a_window_using_it_takes_it_over_on_the_same_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, opts) = running_store(dir.path());
    let data = opts.data_dir.clone();
    let (started, conn) = s3share::local::start_or_reuse(opts.clone())
        .await
        .expect("reuses the running store");
    assert!(started.is_none());
    support::put(&conn, "kept.txt", b"made while the first served").await;
    let link = support::presigned_get(&conn, "kept.txt", None).await;

    // While it serves, nothing is taken over.
    assert!(s3share_store::folder_served(&data));
    let early = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        s3share::local::take_over(&opts),
    )
    .await;
    assert!(early.is_err(), "took over a store that still serves");

    // The first closes (its window, `s3share local`): the second serves the folder, on the
    // port the first served on, so its connection — and links made earlier — go on.
    let waiting = tokio::spawn({
        let opts = opts.clone();
        async move { s3share::local::take_over(&opts).await }
    });
    drop(running);
    let store = tokio::time::timeout(std::time::Duration::from_secs(20), waiting)
        .await
        .expect("taken over in time")
        .expect("the task");
    assert_eq!(
        store.endpoint_url(),
        conn.settings().endpoint.clone().expect("endpoint")
    );
    let body = support::http().get(&link).send().await.expect("GET");
    assert_eq!(body.status(), 200);
    assert_eq!(
        body.bytes().await.expect("body").as_ref(),
        b"made while the first served"
    );
}
