//! A folder of 100,000 objects opened in the app: from the click on the folder to its first
//! rows on screen, and the frame time while the rest of the listing streams in and the view
//! scrolls through it. The embedded store serves it over a real socket (seeded straight into
//! its folder); the app runs in the `egui_kittest` harness (no GPU), each frame its whole UI
//! pass plus tessellation. Goals: first rows ≤ 300 ms, frames ≤ 4 ms during the load.
//!   cargo bench --bench listing            (ROWS=100000 RUNS=3)

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use s3share::gui::app::App;
use s3share::gui::backend::{Backend, BackendOptions, ConnectTarget};
use s3share_engine::client::config::Config;
use s3share_store::{StoreOptions, StoreServer, seed_objects};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One opening of the folder: time to the first rows, frame times while loading, time to the
/// whole listing, and frame times of the same scrolling once it is loaded (the same frames
/// without the store and the backend busy on the two cores).
struct Opened {
    first_rows: Duration,
    loading: Vec<Duration>,
    whole: Duration,
    loaded: Vec<Duration>,
}

/// Scroll event `n`: a few screens down (up for the second hundred of each two), End now and
/// then.
fn scroll(harness: &mut Harness<'_, App>, n: usize) {
    harness.event(egui::Event::PointerMoved(egui::pos2(640.0, 400.0)));
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, if n % 200 < 100 { -2000.0 } else { 2000.0 }),
        modifiers: egui::Modifiers::default(),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    if n % 10 == 5 {
        harness.key_press(egui::Key::End);
    }
}

fn open_once(store: &StoreServer, rows: usize) -> Opened {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let backend =
        Backend::new(BackendOptions::in_folder(rt.handle().clone(), dir.path()).expect("options"));
    let conn = s3share_testkit::conn_of(store);
    let app = App::new(
        backend,
        Config::default(),
        ConnectTarget::Prepared(Arc::new(conn)),
        false,
    );
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    let frame = |harness: &mut Harness<'_, App>| {
        let t = Instant::now();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        std::hint::black_box(harness.ctx.tessellate(shapes, ppp));
        t.elapsed()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let wait_for = |harness: &mut Harness<'_, App>, what: &str, done: &dyn Fn(&App) -> bool| {
        while !done(harness.state()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            frame(harness);
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait_for(&mut harness, "the bucket's root", &|app| {
        app.listing().is_some_and(|l| l.prefix.is_empty() && l.done)
    });
    frame(&mut harness);
    harness.get_by_label("big/").hover();
    frame(&mut harness);

    // The click, then frames as the app draws them until the first object is on screen.
    harness.get_by_label("big/").click();
    let clicked = Instant::now();
    let first_name = format!("{:06}.txt", 0);
    loop {
        frame(&mut harness);
        if harness.query_by_label(&first_name).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the first rows"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let first_rows = clicked.elapsed();

    // The rest streams in while the view scrolls down through it.
    let mut loading = Vec::new();
    let mut n = 0usize;
    while !harness.state().listing().is_some_and(|l| l.done) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the whole listing"
        );
        // Down only (and End now and then, which asks for more as a person reaching the
        // bottom does).
        scroll(&mut harness, n % 100);
        n += 1;
        loading.push(frame(&mut harness));
        // A display's pace, not a busy loop: the backend shares the two cores.
        std::thread::sleep(Duration::from_millis(4));
    }
    let whole = clicked.elapsed();
    let mut loaded = Vec::new();
    for n in 0..loading.len().max(100) {
        scroll(&mut harness, n);
        loaded.push(frame(&mut harness));
        std::thread::sleep(Duration::from_millis(4));
    }
    let listing = harness.state().listing().expect("listing");
    assert_eq!(listing.rows.len(), rows, "every object listed");
    let names: Vec<&str> = listing
        .view
        .iter()
        .map(|&i| listing.rows[i as usize].name.as_str())
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "rows in S3's order by name"
    );
    Opened {
        first_rows,
        loading,
        whole,
        loaded,
    }
}

/// "median a ms, p95 b ms, max c ms" of sorted `times`.
fn spread(times: &[Duration]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1]),
    )
}

fn main() {
    let rows = env_number("ROWS", 100_000);
    let runs = env_number("RUNS", 3);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let seeded = Instant::now();
    let body = b"x".as_slice();
    seed_objects(
        &data,
        "shared",
        (0..rows).map(|i| (format!("big/{i:06}.txt"), body)),
    )
    .expect("seed");
    let seeded = seeded.elapsed();
    let infra = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let store = infra
        .block_on(StoreServer::start(StoreOptions {
            data_dir: data,
            port: 0,
            credentials: s3share_store::credentials::generate().expect("credentials"),
            region: "us-east-1".into(),
            extras: s3share_store::StoreExtras::default(),
        }))
        .expect("store");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{rows} objects seeded in {:.1} s", seeded.as_secs_f64());
    let mut firsts = Vec::new();
    let (mut loading, mut loaded) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let mut o = open_once(&store, rows);
        o.loading.sort();
        o.loaded.sort();
        println!(
            "run {run}: first rows {:.0} ms; whole listing {:.2} s; {} frames while loading: {}; loaded: {}",
            ms(o.first_rows),
            o.whole.as_secs_f64(),
            o.loading.len(),
            spread(&o.loading),
            spread(&o.loaded),
        );
        firsts.push(o.first_rows);
        loading.extend(o.loading);
        loaded.extend(o.loaded);
    }
    firsts.sort();
    loading.sort();
    loaded.sort();
    println!(
        "{rows} objects, {runs} runs: first rows best {:.0} ms, median {:.0} ms (goal ≤ 300 ms); {} frames while loading: {} (goal ≤ 4 ms); the same scrolling once loaded: {}",
        ms(firsts[0]),
        ms(firsts[firsts.len() / 2]),
        loading.len(),
        spread(&loading),
        spread(&loaded),
    );
    if cfg!(debug_assertions) {
        println!("(a debug build: run `cargo bench --bench listing` for meaningful numbers)");
    }
    drop(store);
}
