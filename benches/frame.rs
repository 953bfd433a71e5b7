//! Frame time with 1,000,000 rows loaded: the app's whole UI pass plus tessellation, while
//! scrolling through the table, in the `egui_kittest` harness (no GPU). Goal: under 4 ms.
//!   cargo bench --bench frame

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use s3share::gui::app::App;
use s3share::gui::backend::{Backend, BackendOptions, ConnectTarget};
use s3share::gui::state::Listing;
use s3share_engine::client::config::Config;
use s3share_engine::{Entry, ObjectInfo};

const ROWS: usize = 1_000_000;
const FRAMES: usize = 300;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let backend =
        Backend::new(BackendOptions::in_folder(rt.handle().clone(), dir.path()).expect("options"));
    let mut app = App::new(backend, Config::default(), ConnectTarget::Local, false);
    let mut listing = Listing::new(1, "shared".into(), "big/".into(), usize::MAX);
    let now = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    for page in 0..ROWS / 1000 {
        let entries = (0..1000)
            .map(|i| {
                let n = page * 1000 + i;
                Entry::Object(ObjectInfo {
                    key: format!("big/photo-{n:07}.jpg"),
                    size: (n as u64 * 7919) % 50_000_000,
                    last_modified: Some(now),
                    storage_class: Some("STANDARD".into()),
                    ..ObjectInfo::default()
                })
            })
            .collect::<Vec<_>>();
        listing.add_page(entries, page + 1 < ROWS / 1000);
    }
    listing.done = true;
    listing.more = false;
    let load = started.elapsed();
    app.set_listing(listing);

    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    // Let the connection settle so its frames are not counted.
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let center = egui::pos2(640.0, 400.0);
    let mut times = Vec::with_capacity(FRAMES);
    for frame in 0..FRAMES {
        // Scroll a few screens per frame, and jump with End/Home now and then.
        harness.event(egui::Event::PointerMoved(center));
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -2000.0),
            modifiers: egui::Modifiers::default(),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        if frame % 100 == 50 {
            harness.key_press(egui::Key::End);
        }
        let t = Instant::now();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        let meshes = harness.ctx.tessellate(shapes, ppp);
        std::hint::black_box(meshes);
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1);
    println!(
        "frame time, {ROWS} rows loaded, {FRAMES} scrolling frames: mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, max {:.2} ms (building the rows: {:.0} ms)",
        ms(mean),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1]),
        ms(load),
    );
    if cfg!(debug_assertions) {
        println!("(a debug build: run `cargo bench --bench frame` for meaningful numbers)");
    }
}
