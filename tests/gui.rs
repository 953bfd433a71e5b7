//! The desktop app driven through `egui_kittest` (AccessKit labels and roles), against the
//! embedded store on 127.0.0.1:0. Waiting is bounded `step_until`, never a fixed sleep.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use s3share::gui::app::{App, LOCAL_BANNER};
use s3share::gui::backend::{Backend, BackendOptions, ConnectTarget};
use s3share::gui::state::{Listing, Loadable, TransferState};
use s3share_engine::Connection;
use s3share_engine::base::signing::query_param;
use s3share_engine::client::config::Config;
use s3share_engine::transfer::TransferSettings;
use s3share_store::{StoreOptions, StoreServer, seed_objects};
use support::{Faults, Proxy, TestServer, pattern, put};

/// The app in a harness, the runtime its work runs on, and what it copied.
struct Gui {
    harness: Harness<'static, App>,
    copied: Vec<String>,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

impl Gui {
    fn start(rt: tokio::runtime::Runtime, start: impl FnOnce(&Path) -> ConnectTarget) -> Self {
        Self::start_with(rt, None, start)
    }

    /// As `start`, with these transfer settings (small parts, a state folder kept elsewhere).
    fn start_with(
        rt: tokio::runtime::Runtime,
        transfers: Option<TransferSettings>,
        start: impl FnOnce(&Path) -> ConnectTarget,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options =
            BackendOptions::in_folder(rt.handle().clone(), dir.path()).expect("options");
        if let Some(t) = transfers {
            options.transfers = t;
        }
        let backend = Backend::new(options);
        let target = start(dir.path());
        let app = App::new(backend, Config::default(), target, false);
        let harness = Harness::builder()
            .with_size([1100.0, 720.0])
            .build_ui_state(|ui, app: &mut App| app.show(ui), app);
        Self {
            harness,
            copied: Vec::new(),
            rt,
            dir,
        }
    }

    /// On an already running store, through `conn`.
    fn on(rt: tokio::runtime::Runtime, conn: Connection) -> Self {
        Self::start(rt, |_| ConnectTarget::Prepared(Arc::new(conn)))
    }

    fn app(&self) -> &App {
        self.harness.state()
    }

    fn step(&mut self) {
        self.harness.step();
        for c in &self.harness.output().platform_output.commands {
            if let egui::OutputCommand::CopyText(text) = c {
                self.copied.push(text.clone());
            }
        }
    }

    /// Step until `done` holds, for at most 60 s.
    fn step_until(&mut self, what: &str, mut done: impl FnMut(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.step();
            if done(self.app()) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            // Background work answers through the channel; give it a moment between frames.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn listed(&mut self, prefix: &str) {
        self.step_until(&format!("the listing of {prefix:?}"), |app| {
            app.listing().is_some_and(|l| l.prefix == prefix && l.done)
        });
        // One more frame draws the rows that arrived.
        self.step();
    }

    /// Open Active links and wait until its register shows `n` entries.
    fn open_links(&mut self, n: usize) {
        self.click("🔗 Links");
        self.step_until("the register", |app| {
            app.links_view()
                .and_then(|v| v.records.ready())
                .is_some_and(|r| r.len() == n)
        });
        self.step();
    }

    /// Step until the app copies something, for at most 30 s, and take it.
    fn next_copied(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.copied.is_empty() {
            assert!(Instant::now() < deadline, "nothing was copied");
            self.step();
            std::thread::sleep(Duration::from_millis(5));
        }
        self.copied.remove(0)
    }

    /// Is the widget labelled `label` disabled?
    fn disabled(&self, label: &str) -> bool {
        self.harness
            .get_by_label(label)
            .accesskit_node()
            .is_disabled()
    }

    /// Hover as a pointer does first, click, then two frames: one that reacts, one that shows
    /// the result.
    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).hover();
        self.step();
        self.harness.get_by_label(label).click();
        self.step();
        self.step();
    }
}

fn names(listing: &Listing) -> Vec<String> {
    listing
        .view
        .iter()
        .map(|&i| listing.rows[i as usize].name.clone())
        .collect()
}

fn listing(app: &App) -> &Listing {
    app.listing().expect("a listing")
}

/// A file dropped on the window, as winit hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_files(gui: &mut Gui, paths: &[PathBuf]) {
    for p in paths {
        gui.harness
            .input_mut()
            .dropped_files
            .push(Arc::new(Dropped(p.clone())));
    }
    gui.step();
}

fn fetch(rt: &tokio::runtime::Runtime, url: &str) -> (u16, Vec<u8>) {
    rt.block_on(async {
        let resp = reqwest::get(url).await.expect("GET the link");
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body").to_vec())
    })
}

#[test]
fn first_run_opens_the_local_store_with_its_banner() {
    let mut gui = Gui::start(runtime(), |_| ConnectTarget::Local);
    gui.listed("");
    let app = gui.app();
    assert_eq!(app.title(), "s3share — Local store");
    assert!(app.is_connected());
    assert_eq!(listing(app).bucket, "shared");
    assert!(
        gui.harness.query_by_label_contains(LOCAL_BANNER).is_some(),
        "the banner shows"
    );
    assert!(
        gui.harness
            .query_by_label_contains("This folder is empty")
            .is_some()
    );
    // The store's data stayed in the app's folder.
    assert!(gui.dir.path().join("local-store/shared").is_dir());
}

#[test]
fn navigate_by_rows_and_breadcrumbs_sort_and_filter() {
    let rt = runtime();
    let store = rt.block_on(TestServer::start());
    let conn = store.conn();
    rt.block_on(async {
        put(&conn, "docs/sub/deep.txt", b"deep").await;
        put(&conn, "docs/readme.md", b"read me").await;
        put(&conn, "big.bin", &[7u8; 5000]).await;
        put(&conn, "a small.txt", b"12").await;
    });
    let mut gui = Gui::on(rt, store.conn());
    gui.listed("");
    assert_eq!(
        names(listing(gui.app())),
        ["docs/", "a small.txt", "big.bin"]
    );

    gui.click("docs/");
    gui.listed("docs/");
    assert_eq!(names(listing(gui.app())), ["sub/", "readme.md"]);
    gui.click("sub/");
    gui.listed("docs/sub/");
    assert_eq!(names(listing(gui.app())), ["deep.txt"]);

    // Breadcrumbs: up one level, then to the bucket.
    gui.click("docs");
    gui.listed("docs/");
    gui.click("shared");
    gui.listed("");

    // Sort by size, then reverse; folders stay on top.
    gui.click("Size");
    assert_eq!(
        names(listing(gui.app())),
        ["docs/", "a small.txt", "big.bin"]
    );
    gui.click("Size ⏶");
    assert_eq!(
        names(listing(gui.app())),
        ["docs/", "big.bin", "a small.txt"]
    );
    gui.click("Name");
    assert_eq!(
        names(listing(gui.app())),
        ["docs/", "a small.txt", "big.bin"]
    );

    // Filter by typing.
    let filter = gui.harness.get_by_label("Filter");
    filter.focus();
    gui.step();
    gui.harness.get_by_label("Filter").type_text("SMALL");
    gui.step();
    assert_eq!(names(listing(gui.app())), ["a small.txt"]);
    assert!(listing(gui.app()).summary().contains("(1 shown)"));

    // Keyboard: select the row and open it with Enter (an object opens the share dialog).
    gui.harness.get_by_label("a small.txt").click();
    gui.step();
    assert_eq!(listing(gui.app()).selected_rows().len(), 1);
    gui.harness.key_press(egui::Key::Enter);
    gui.step_until("the share dialog", |app| app.share_dialog().is_some());
}

#[test]
fn dropping_two_files_uploads_both_and_copies_two_working_links() {
    let mut gui = Gui::start(runtime(), |_| ConnectTarget::Local);
    gui.listed("");
    let files = gui.dir.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    let a = files.join("a report.pdf");
    let b = files.join("b é+#.txt");
    let (body_a, body_b) = (pattern(300_000, 1), pattern(1234, 2));
    std::fs::write(&a, &body_a).expect("write");
    std::fs::write(&b, &body_b).expect("write");

    drop_files(&mut gui, &[a, b]);
    gui.step_until("both uploads and their listing", |app| {
        let rows = &listing(app).rows;
        rows.iter().any(|r| r.name == "a report.pdf") && rows.iter().any(|r| r.name == "b é+#.txt")
    });
    let copied = gui.copied.last().expect("the links were copied").clone();
    let links: Vec<&str> = copied.lines().collect();
    assert_eq!(links.len(), 2, "one link per line: {} lines", links.len());
    for (link, body) in links.iter().zip([&body_a, &body_b]) {
        assert_eq!(query_param(link, "X-Amz-Expires").as_deref(), Some("900"));
        let (status, got) = fetch(&gui.rt, link);
        assert_eq!(status, 200);
        assert_eq!(&got, body);
    }
    let toast = gui.app().toasts().next().expect("a toast").to_owned();
    assert!(
        toast.starts_with("2 links copied — they expire in 15 min ("),
        "{toast}"
    );
    assert!(
        gui.app()
            .transfers()
            .rows
            .iter()
            .all(|t| matches!(t.state, TransferState::Done))
    );
}

#[test]
fn share_dialog_copies_a_one_day_link_that_works() {
    let rt = runtime();
    let store = rt.block_on(TestServer::start());
    let conn = store.conn();
    rt.block_on(put(&conn, "report.txt", b"the report"));
    let mut gui = Gui::on(rt, store.conn());
    gui.listed("");
    // A selected row puts Share… on the toolbar, one click away.
    gui.harness.get_by_label("report.txt").click();
    gui.step();
    gui.step();
    gui.click("Share…");
    gui.step_until("the link check", |app| {
        app.share_dialog()
            .is_some_and(|d| d.check.ready().is_some())
    });
    assert!(gui.harness.query_by_label_contains("Expires ").is_some());
    gui.click("1 day");
    gui.step_until("the one-day link checked", |app| {
        app.share_dialog().is_some_and(|d| {
            d.link
                .ready()
                .is_some_and(|l| l.requested.as_secs() == 86_400)
                && d.check.ready().is_some()
        })
    });
    assert!(
        gui.harness
            .query_by_label_contains("✔ Checked: the link works")
            .is_some()
    );
    gui.click("Copy");
    let url = gui.copied.last().expect("copied").clone();
    assert_eq!(query_param(&url, "X-Amz-Expires").as_deref(), Some("86400"));
    let (status, body) = fetch(&gui.rt, &url);
    assert_eq!((status, body.as_slice()), (200, b"the report".as_slice()));
    assert!(
        gui.app()
            .toasts()
            .any(|t| t.starts_with("Link copied — expires in 1 day ("))
    );
}

#[test]
fn two_selected_rows_share_as_one_page_whose_link_lists_both() {
    let rt = runtime();
    let store = rt.block_on(TestServer::start());
    let conn = store.conn();
    rt.block_on(async {
        put(&conn, "a & b.txt", b"first").await;
        put(&conn, "c.txt", b"second").await;
    });
    let mut gui = Gui::on(rt, store.conn());
    gui.listed("");
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    gui.step();
    gui.click("Share as one page (2)…");
    gui.step();
    assert!(
        gui.app()
            .share_dialog()
            .is_some_and(|d| d.link.ready().is_none()),
        "nothing is written before the person asks"
    );
    gui.click("Make the page");
    gui.step_until("the page's link checked", |app| {
        app.share_dialog()
            .is_some_and(|d| d.check.ready().is_some())
    });
    assert!(gui.harness.query_by_label("Share as one page").is_some());
    assert!(
        gui.harness.query_by_label("Download name").is_none(),
        "a page keeps each file's name"
    );
    gui.click("Copy");
    let url = gui.copied.last().expect("copied").clone();
    let (status, page) = fetch(&gui.rt, &url);
    assert_eq!(status, 200);
    let page = String::from_utf8(page).expect("html");
    assert!(
        page.contains("<bdi>a &amp; b.txt</bdi>") && page.contains("<bdi>c.txt</bdi>"),
        "{page}"
    );
}

#[test]
fn share_dialog_warns_when_the_credentials_expire_first() {
    let rt = runtime();
    let store = rt.block_on(TestServer::start());
    rt.block_on(put(&store.conn(), "t.txt", b"temporary"));
    let creds_expiry = SystemTime::now() + Duration::from_secs(600);
    let conn = store.conn_with_temporary_credentials(creds_expiry);
    let mut gui = Gui::on(rt, conn);
    gui.listed("");
    gui.harness.get_by_label("t.txt").click();
    gui.step();
    gui.harness.key_press(egui::Key::Enter);
    gui.step_until("the signed link", |app| {
        app.share_dialog().is_some_and(|d| d.link.ready().is_some())
    });
    gui.step();
    let now = time::OffsetDateTime::from(SystemTime::now());
    let at =
        s3share_engine::base::wording::format_clock(now, time::OffsetDateTime::from(creds_expiry));
    let warning = format!("This link stops working at {at}, not ");
    assert!(
        gui.harness.query_by_label_contains(&warning).is_some(),
        "the amber warning names {at}"
    );
    let link = gui
        .app()
        .share_dialog()
        .and_then(|d| d.link.ready())
        .expect("link");
    assert_eq!(link.expires_at, creds_expiry);
}

#[test]
fn a_failing_upload_says_why_and_offers_retry_and_cancel_stops_a_large_one() {
    let mut gui = Gui::start(runtime(), |_| ConnectTarget::Local);
    gui.listed("");
    // A named pipe: it has a name and a place, but no bytes to send.
    let pipe = gui.dir.path().join("pipe.bin");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    drop_files(&mut gui, &[pipe]);
    gui.step_until("the failure", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Failed(_)))
    });
    gui.step();
    assert!(
        gui.harness
            .query_by_label_contains("✖ Not a regular file:")
            .is_some()
    );
    gui.click("Retry");
    gui.step_until("the retry to fail again", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Failed(_)))
    });

    // A large (sparse) file: cancel while it runs; nothing is left behind.
    let big = gui.dir.path().join("big.iso");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(2 << 30).expect("2 GiB sparse");
    drop(f);
    drop_files(&mut gui, &[big]);
    gui.step_until("the large upload to run", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| t.name() == "big.iso" && matches!(t.state, TransferState::Running))
    });
    gui.step();
    let cancel = gui.harness.get_by_label("Cancel");
    cancel.click();
    gui.step_until("the cancel", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| t.name() == "big.iso" && matches!(t.state, TransferState::Cancelled))
    });
    gui.harness.key_press(egui::Key::F5);
    gui.listed("");
    assert!(
        !listing(gui.app()).rows.iter().any(|r| r.name == "big.iso"),
        "a cancelled upload leaves no object"
    );
}

#[test]
fn a_prefix_of_100000_objects_shows_rows_before_the_listing_ends() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let body = b"x".as_slice();
    seed_objects(
        &data,
        "shared",
        (0..100_000).map(|i| (format!("big/{i:06}.txt"), body)),
    )
    .expect("seed");
    let store = rt
        .block_on(StoreServer::start(StoreOptions {
            data_dir: data,
            port: 0,
            credentials: s3share_store::credentials::generate().expect("credentials"),
            region: "us-east-1".into(),
            extras: s3share_store::StoreExtras::default(),
        }))
        .expect("store");
    let conn = support::conn_of(&store);
    let mut gui = Gui::start(rt, |_| ConnectTarget::Prepared(Arc::new(conn)));
    gui.listed("");
    gui.click("big/");
    gui.step_until("the first rows", |app| {
        app.listing()
            .is_some_and(|l| l.prefix == "big/" && !l.rows.is_empty())
    });
    let first = listing(gui.app());
    assert!(!first.done, "rows show before the listing ends");
    assert!(first.rows.len() < 100_000);
    gui.step();
    assert!(
        gui.harness.query_by_label("000000.txt").is_some(),
        "the first row is drawn"
    );

    // Sorting by size needs the whole level: it loads to the end, with the count.
    gui.click("Size");
    gui.step_until("the whole listing", |app| listing(app).done);
    let l = listing(gui.app());
    assert_eq!(l.rows.len(), 100_000);
    assert!(
        l.summary().starts_with("100,000 objects"),
        "{}",
        l.summary()
    );
    drop(gui);
    drop(store);
}

#[test]
fn a_paused_upload_in_parts_resumes_and_a_restart_offers_the_unfinished_one() {
    // The store and a slow link to it outlive both app sessions.
    let infra = runtime();
    let store = infra.block_on(TestServer::start());
    let proxy = infra.block_on(Proxy::start(
        &store.store.endpoint_url(),
        Faults {
            upstream_rate: Some(4 * 1024 * 1024),
            ..Faults::default()
        },
    ));
    let state = tempfile::tempdir().expect("state dir");
    let settings = TransferSettings {
        multipart_threshold: 8 << 20,
        part_size: 5 << 20,
        parallel: 1,
        retries: 3,
        state_dir: Some(state.path().to_owned()),
        download_state_dir: None,
    };
    let bytes = pattern(14 << 20, 77);
    let file = state.path().join("holiday.mov");
    std::fs::write(&file, &bytes).expect("write");
    let session = |settings: TransferSettings| {
        let conn = support::conn_to(&proxy.endpoint(), store.store.credentials());
        Gui::start_with(runtime(), Some(settings), |_| {
            ConnectTarget::Prepared(Arc::new(conn))
        })
    };

    let mut gui = session(settings.clone());
    gui.listed("");
    drop_files(&mut gui, std::slice::from_ref(&file));
    gui.step_until("the first part", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| t.progress.parts_done >= 1)
    });
    gui.click("Pause");
    gui.step_until("the pause", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Paused))
    });
    gui.step();
    assert!(gui.harness.query_by_label_contains("Paused at").is_some());
    // Resume in the same session, then pause again and quit: the next session offers it.
    gui.click("Resume");
    gui.step_until("it to run again", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Running) && t.progress.resumed > 0)
    });
    gui.click("Pause");
    gui.step_until("the second pause", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Paused))
    });
    drop(gui);

    let mut gui = session(settings);
    gui.listed("");
    gui.step_until("the unfinished upload", |app| {
        app.unfinished_uploads().len() == 1
    });
    gui.step();
    assert!(
        gui.harness
            .query_by_label_contains("Unfinished upload:")
            .is_some()
    );
    gui.click("Resume");
    gui.step_until("the resumed upload to finish", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Done))
    });
    let resumed = gui.app().transfers().rows[0].progress.resumed;
    assert!(resumed >= 5 << 20, "it went on from {resumed} bytes");
    let (body, etag) = infra.block_on(async {
        let got = store
            .conn()
            .client()
            .get_object()
            .bucket("shared")
            .key("holiday.mov")
            .send()
            .await
            .expect("get");
        let etag = got.e_tag().unwrap_or_default().to_owned();
        (got.body.collect().await.expect("body").into_bytes(), etag)
    });
    assert_eq!(support::sha256(&body), support::sha256(&bytes));
    assert!(etag.trim_matches('"').ends_with("-3"), "{etag}");
    assert!(gui.app().unfinished_uploads().is_empty());
}

#[test]
fn active_links_lists_a_dropped_files_link_and_copies_it_again() {
    let mut gui = Gui::start(runtime(), |_| ConnectTarget::Local);
    gui.listed("");
    // The bucket's exposure shows beside it.
    gui.step_until("the posture", |app| {
        app.posture("shared").and_then(Loadable::ready).is_some()
    });
    gui.step();
    assert!(gui.harness.query_by_label_contains("Private").is_some());
    let file = gui.dir.path().join("minutes.txt");
    std::fs::write(&file, b"minutes of the meeting").expect("write");
    drop_files(&mut gui, &[file]);
    gui.step_until("the link on the clipboard", |app| {
        app.transfers()
            .rows
            .iter()
            .any(|t| matches!(t.state, TransferState::Done))
    });
    gui.step();
    let link = gui.copied.last().expect("the link was copied").clone();

    gui.open_links(1);
    assert!(
        gui.harness
            .query_by_label_contains("s3://shared/minutes.txt")
            .is_some()
    );
    assert!(
        gui.harness
            .query_by_label_contains("expires in 15 minutes")
            .is_some()
    );
    gui.copied.clear();
    gui.click("Copy");
    assert_eq!(
        gui.copied.last(),
        Some(&link),
        "Copy puts the same link back"
    );
    gui.click("Check");
    gui.step_until("the check", |app| {
        app.links_view()
            .is_some_and(|v| v.checks.values().any(|c| c.ready().is_some()))
    });
    gui.step();
    assert!(
        gui.harness
            .query_by_label_contains("The link works")
            .is_some()
    );
    gui.click("Revoke…");
    assert!(
        gui.harness
            .query_by_label_contains("Delete or move the object")
            .is_some()
    );
    // Escape closes the view.
    gui.harness.key_press(egui::Key::Escape);
    gui.step();
    gui.step();
    assert!(gui.app().links_view().is_none());
}

#[test]
fn ctrl_c_copies_links_and_a_dialog_leaves_the_window_behind_it_inert() {
    let rt = runtime();
    let store = rt.block_on(TestServer::start());
    let conn = store.conn();
    rt.block_on(async {
        put(&conn, "older.txt", b"first").await;
        put(&conn, "newer.txt", b"second").await;
    });
    let mut gui = Gui::on(rt, store.conn());
    gui.listed("");

    // Ctrl+C with one row selected: the link Copy link makes; with both, one per line.
    gui.harness.get_by_label("older.txt").click();
    gui.step();
    gui.harness.event(egui::Event::Copy);
    let one = gui.next_copied();
    assert_eq!(one.lines().count(), 1);
    assert_eq!(fetch(&gui.rt, &one), (200, b"first".to_vec()));
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    gui.step();
    gui.harness.event(egui::Event::Copy);
    let both = gui.next_copied();
    let mut bodies: Vec<Vec<u8>> = both.lines().map(|l| fetch(&gui.rt, l).1).collect();
    bodies.sort();
    assert_eq!(bodies, [b"first".to_vec(), b"second".to_vec()]);

    // With the Links view open, the toolbar behind it is disabled, and its shortcuts too.
    assert!(!gui.disabled("Copy link"));
    gui.open_links(3);
    assert!(
        gui.disabled("Copy link"),
        "the toolbar's Copy link stays live behind the dialog"
    );
    gui.copied.clear();
    gui.harness.event(egui::Event::Copy);
    gui.step();
    gui.step();
    assert!(gui.copied.is_empty(), "Ctrl+C reached the browser behind");

    // Newest first, with a count; the filter narrows them.
    assert!(
        gui.harness
            .query_by_label_contains("3 of 3 links, newest first")
            .is_some()
    );
    gui.harness.get_by_label("Filter links").focus();
    gui.step();
    gui.harness.get_by_label("Filter links").type_text("NEWER");
    gui.step();
    gui.step();
    assert!(
        gui.harness
            .query_by_label_contains("1 of 3 links, newest first")
            .is_some()
    );
    assert!(
        gui.harness
            .query_by_label_contains("s3://shared/older.txt")
            .is_none()
    );

    // Escape closes it, and the window behind is live again.
    gui.harness.key_press(egui::Key::Escape);
    gui.step();
    assert!(gui.app().links_view().is_none());
    assert!(!gui.disabled("Copy link"));
    gui.click("🔗 Links");
    assert!(gui.app().links_view().is_some());
}
