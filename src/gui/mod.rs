//! The desktop app: a browser over the engine, drag in to share, the share dialog.
//!
//! `backend` is the only road to the engine (commands in, events out); `state` is what the UI
//! shows; `widgets` draw it and return what the user asked; `app` ties them together.

pub mod app;
pub mod backend;
pub mod state;
pub mod widgets;

use crate::engine::ConnectionSettings;
use crate::engine::client::aws_files::AwsFiles;
use crate::engine::{base::paths::Paths, client::config::Config};
use app::App;
use backend::{Backend, BackendOptions, ConnectTarget};

/// The window icon (the PNG in `assets/`).
const ICON_PNG: &[u8] = include_bytes!("../../assets/icon-64.png");

/// Open the window and run until it is closed. `requested` is where the command line (or the
/// environment) asks to connect; an endpoint or profile in it wins over the last connection.
/// `opened` are files given on the command line (what a file manager's "Open with" passes):
/// they are uploaded, as if dropped, once a folder is open.
pub fn run(requested: ConnectionSettings, opened: Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let paths = Paths::for_user()?;
    let config = match Config::load(&paths.config_file()) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("settings not loaded, starting with defaults: {e}");
            Config::default()
        }
    };
    let aws_files = AwsFiles::for_user();
    let env_credentials = crate::engine::client::connection::env_credentials();
    // The AWS files are read for this only when nothing else decides where to start.
    let start = start_target(requested, &config, || {
        crate::engine::client::connection::aws_configured(aws_files.as_ref())
    });
    let runtime = crate::engine::ops::runtime()?;
    let backend = Backend::new(BackendOptions::for_user(
        runtime.handle().clone(),
        &paths,
        aws_files,
    )?);
    let size = config.app.window_size.unwrap_or([1000.0, 640.0]);
    let mut app = App::new(backend, config, start, env_credentials);
    app.upload_when_open(opened);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(app.title())
        .with_app_id("s3share")
        .with_inner_size(size)
        .with_min_inner_size([640.0, 400.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => tracing::warn!("window icon not loaded: {e}"),
    }
    let (system, warning) = crate::desktop::window_system(|name| std::env::var_os(name));
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    tracing::debug!("window system: {system:?}");
    let options = eframe::NativeOptions {
        viewport,
        event_loop_builder: on_window_system(system),
        ..Default::default()
    };
    let result = eframe::run_native("s3share", options, Box::new(|_cc| Ok(Box::new(app))))
        .map_err(|e| anyhow::anyhow!("could not open the window: {e}"));
    // Let the last settings write finish, then stop the store and the transfers.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// The hook that makes winit open the window on `system`.
fn on_window_system(system: crate::desktop::WindowSystem) -> Option<eframe::EventLoopBuilderHook> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        use crate::desktop::WindowSystem;
        use winit::platform::wayland::EventLoopBuilderExtWayland as _;
        use winit::platform::x11::EventLoopBuilderExtX11 as _;
        match system {
            WindowSystem::Default => None,
            WindowSystem::X11 => Some(Box::new(|builder| {
                builder.with_x11();
            })),
            WindowSystem::Wayland => Some(Box::new(|builder| {
                builder.with_wayland();
            })),
        }
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        let _ = system;
        None
    }
}

/// What to connect to first: what the command line says; else the connection used last; else
/// AWS when any credentials or profile are `configured` (asked last); else the local store.
pub fn start_target(
    requested: ConnectionSettings,
    config: &Config,
    configured: impl FnOnce() -> bool,
) -> ConnectTarget {
    if requested.endpoint.is_some() || requested.profile.is_some() {
        return ConnectTarget::Settings(requested);
    }
    if let Some(last) = config.app.last_connection.as_deref() {
        if last == backend::LOCAL_LABEL {
            return ConnectTarget::Local;
        }
        if let Some(saved) = config.connections.iter().find(|c| c.label() == last) {
            return ConnectTarget::Settings(saved.clone());
        }
        if let Some(profile) = last.strip_prefix("profile ") {
            return ConnectTarget::Settings(ConnectionSettings {
                profile: Some(profile.to_owned()),
                ..Default::default()
            });
        }
    }
    if configured() {
        ConnectTarget::Settings(requested)
    } else {
        ConnectTarget::Local
    }
}
