//! The app: `logic` drains the backend's events into state (every frame, and also while the
//! window is hidden, so transfers and share-on-drop links never wait for a repaint); `ui` only
//! draws, and turns what widgets return into `Command`s.

mod logic;
mod ui;

use std::collections::HashMap;

use super::backend::{Backend, Command, ConnectTarget};
use super::state::{Listing, Loadable, Toast, Transfers};
use super::widgets::connections::AddConnectionForm;
use super::widgets::links::LinksView;
use super::widgets::posture::PolicyView;
use super::widgets::request::RequestForm;
use super::widgets::settings::{SettingsDraft, theme_preference};
use super::widgets::share_dialog::ShareDialog;
use crate::engine::client::aws_files::ProfileInfo;
use crate::engine::client::config::Config;
use crate::engine::transfer::resume::UploadState;
use crate::engine::trust::posture::Posture;
use crate::engine::{BucketInfo, ConnectionSettings, Expiry, S3Uri};

/// The banner shown on the embedded store.
pub const LOCAL_BANNER: &str =
    "Local store on this computer — links work only here. Add a connection to share from S3.";

/// How many backend events one pass handles; a burst (listing pages, progress) is spread over
/// passes so a frame stays short.
const EVENTS_PER_FRAME: usize = 64;

/// The connection in use.
struct Current {
    label: String,
    local: bool,
    settings: ConnectionSettings,
    state: Loadable<()>,
}

pub struct App {
    backend: Backend,
    config: Config,
    current: Current,
    env_credentials: bool,
    profiles: Vec<ProfileInfo>,
    buckets: Loadable<Vec<BucketInfo>>,
    listing: Option<Listing>,
    next_generation: u64,
    /// Where to go once connected (the last location, or a bucket given at start).
    pending_location: Option<S3Uri>,
    /// Files given at start, uploaded into the first folder opened.
    opened_files: Vec<std::path::PathBuf>,
    transfers: Transfers,
    /// Uploads an earlier run left unfinished on this connection: Resume or Discard.
    unfinished: Vec<UploadState>,
    /// Each bucket's exposure, read when it is first opened.
    postures: HashMap<String, Loadable<Posture>>,
    /// The bucket whose exposure details are shown.
    posture_open: Option<String>,
    policy_view: Option<PolicyView>,
    links_view: Option<LinksView>,
    request_form: Option<RequestForm>,
    next_batch: u64,
    share: Option<ShareDialog>,
    next_ticket: u64,
    toasts: Vec<Toast>,
    confirm_delete: Option<Vec<S3Uri>>,
    new_folder: Option<String>,
    add_connection: Option<AddConnectionForm>,
    settings: Option<SettingsDraft>,
    window_size: Option<[f32; 2]>,
    context_set: bool,
    /// The height of the transfers panel (toasts go above it).
    bottom_inset: f32,
}

impl App {
    /// Start connecting to `start`; `env_credentials` says whether the environment holds AWS keys
    /// (offered in the picker).
    pub fn new(
        mut backend: Backend,
        config: Config,
        start: ConnectTarget,
        env_credentials: bool,
    ) -> Self {
        let label = start.label();
        let pending_location = config
            .app
            .last_location
            .as_deref()
            .filter(|_| config.app.last_connection.as_deref() == Some(label.as_str()))
            .and_then(|l| l.parse::<S3Uri>().ok());
        backend.execute(Command::LoadProfiles);
        let mut app = Self {
            backend,
            config,
            current: Current {
                label,
                local: false,
                settings: ConnectionSettings::default(),
                state: Loadable::Idle,
            },
            env_credentials,
            profiles: Vec::new(),
            buckets: Loadable::Idle,
            listing: None,
            next_generation: 1,
            pending_location,
            opened_files: Vec::new(),
            transfers: Transfers::default(),
            unfinished: Vec::new(),
            postures: HashMap::new(),
            posture_open: None,
            policy_view: None,
            links_view: None,
            request_form: None,
            next_batch: 1,
            share: None,
            next_ticket: 1,
            toasts: Vec::new(),
            confirm_delete: None,
            new_folder: None,
            add_connection: None,
            settings: None,
            window_size: None,
            context_set: false,
            bottom_inset: 0.0,
        };
        app.connect(start);
        app
    }

    /// The expiry new links get.
    pub fn default_expiry(&self) -> Expiry {
        self.config
            .default_expiry
            .as_deref()
            .and_then(|e| e.parse().ok())
            .unwrap_or_default()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Show `listing` as if it had been listed (benchmarks: a million rows without a server).
    pub fn set_listing(&mut self, listing: Listing) {
        self.listing = Some(listing);
    }

    pub fn listing(&self) -> Option<&Listing> {
        self.listing.as_ref()
    }

    pub fn transfers(&self) -> &Transfers {
        &self.transfers
    }

    /// The Active links view, when open.
    pub fn links_view(&self) -> Option<&LinksView> {
        self.links_view.as_ref()
    }

    /// A bucket's exposure as read.
    pub fn posture(&self, bucket: &str) -> Option<&Loadable<Posture>> {
        self.postures.get(bucket)
    }

    /// Uploads an earlier run left unfinished, offered to resume.
    pub fn unfinished_uploads(&self) -> &[UploadState] {
        &self.unfinished
    }

    /// The messages shown in the corner now.
    pub fn toasts(&self) -> impl Iterator<Item = &str> {
        self.toasts.iter().map(|t| t.text.as_str())
    }

    /// Is the share dialog open, and its state.
    pub fn share_dialog(&self) -> Option<&ShareDialog> {
        self.share.as_ref()
    }

    pub fn connection_label(&self) -> &str {
        &self.current.label
    }

    pub fn is_connected(&self) -> bool {
        self.current.state.ready().is_some()
    }

    /// The window's title: what desktop tools find it by.
    pub fn title(&self) -> String {
        format!("s3share — {}", self.current.label)
    }

    /// One frame as the harness runs it: the logic, then the UI.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.logic(&ui.ctx().clone());
        self.ui(ui);
    }

    /// Events in: every backend event that arrived, at most `EVENTS_PER_FRAME` at a time (the
    /// rest wait for the next pass, which is asked for at once). No drawing, no input.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.context_set {
            self.backend.set_context(ctx);
            ctx.set_theme(theme_preference(self.config.app.theme));
            self.context_set = true;
        }
        let events = self.backend.poll(EVENTS_PER_FRAME);
        if events.len() == EVENTS_PER_FRAME {
            ctx.request_repaint();
        }
        for event in events {
            self.handle(ctx, event);
        }
    }

    /// Save what the app remembers (window size, location); called as the window closes.
    pub fn save_on_exit(&mut self) {
        if let Some(size) = self.window_size {
            self.config.app.window_size = Some(size);
        }
        self.backend
            .execute(Command::SaveConfig(self.config.clone()));
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        App::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.save_on_exit();
    }
}
