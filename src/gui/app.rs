//! The app: drains the backend's events into state, then draws. Widgets return what the user
//! asked; this file turns that into `Command`s.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::backend::{Backend, Clash, Command, ConnectTarget, Event, TransferUpdate};
use super::state::{Listing, Loadable, Toast, Transfer, TransferState, Transfers};
use super::widgets::browser::{self, BrowserAction};
use super::widgets::connections::{self, AddConnectionForm, FormAction, Picked};
use super::widgets::expiry_picker::ExpiryPicker;
use super::widgets::settings::{SettingsAction, SettingsDraft, settings_ui, theme_preference};
use super::widgets::share_dialog::{ShareDialog, ShareDialogAction, share_dialog_ui};
use super::widgets::transfers::{TransferAction, transfers_ui};
use crate::engine::aws_files::ProfileInfo;
use crate::engine::config::Config;
use crate::engine::expiry::{format_clock, format_compact_words};
use crate::engine::{BucketInfo, ConnectionSettings, Error, ErrorKind, Expiry, S3Uri, ShareLink};

/// The banner shown on the embedded store.
pub const LOCAL_BANNER: &str =
    "Local store on this computer — links work only here. Add a connection to share from S3.";

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
    transfers: Transfers,
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
            transfers: Transfers::default(),
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

    /// One frame: events in, then the UI.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.context_set {
            self.backend.set_context(&ctx);
            ctx.set_theme(theme_preference(self.config.app.theme));
            self.context_set = true;
        }
        for event in self.backend.poll() {
            self.handle(&ctx, event);
        }
        self.take_dropped_files(&ctx);
        if let Some(r) = ctx.input(|i| i.viewport().inner_rect) {
            self.window_size = Some([r.width(), r.height()]);
        }
        if ctx.input(|i| i.key_pressed(egui::Key::F5)) {
            self.refresh();
        }
        self.draw(ui);
    }

    /// Save what the app remembers (window size, location); called as the window closes.
    pub fn save_on_exit(&mut self) {
        if let Some(size) = self.window_size {
            self.config.app.window_size = Some(size);
        }
        self.backend
            .execute(Command::SaveConfig(self.config.clone()));
    }

    // ---------------------------------------------------------------------------------------
    // Events

    #[allow(clippy::too_many_lines)] // one arm per event
    fn handle(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Connected {
                label,
                local,
                settings,
                warnings,
            } => {
                self.current = Current {
                    label,
                    local,
                    settings,
                    state: Loadable::Ready(()),
                };
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
                for w in warnings {
                    self.toast(w, true);
                }
                self.listing = None;
                self.buckets = Loadable::Loading;
                self.backend.execute(Command::ListBuckets);
                if let Some(loc) = self.pending_location.take() {
                    self.open(loc.bucket, loc.key);
                }
                if self.config.app.last_connection.as_deref() != Some(self.current.label.as_str()) {
                    self.config.app.last_connection = Some(self.current.label.clone());
                    self.save_config();
                }
            }
            Event::ConnectFailed { label, error } => {
                self.current.label = label;
                self.current.state = Loadable::Failed(self.explain(error));
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
            }
            Event::Buckets(result) => {
                let open_first = self.listing.is_none();
                self.buckets = match result {
                    Ok(list) => {
                        // One bucket (the local store's "shared"): open it, ready for a drop.
                        if open_first && list.len() == 1 {
                            self.open(list[0].name.clone(), String::new());
                        }
                        Loadable::Ready(list)
                    }
                    Err(e) => Loadable::Failed(self.explain(e)),
                };
            }
            Event::ListPage {
                generation,
                entries,
                more,
            } => {
                if let Some(l) = self.listing.as_mut().filter(|l| l.generation == generation) {
                    l.add_page(entries, more);
                }
            }
            Event::ListDone { generation, result } => {
                let error = result.err().map(|e| self.explain(e));
                if let Some(l) = self.listing.as_mut().filter(|l| l.generation == generation) {
                    l.done = true;
                    l.more = false;
                    l.error = error;
                    l.refresh_view(Instant::now());
                }
            }
            Event::Shared { ticket, result } => {
                if let Some(d) = self.share.as_mut().filter(|d| d.ticket == ticket) {
                    match result {
                        Ok(link) => {
                            d.link = Loadable::Ready(link);
                            d.check = Loadable::Loading;
                        }
                        Err(e) => {
                            d.link = Loadable::Failed(e);
                            d.check = Loadable::Idle;
                        }
                    }
                }
            }
            Event::LinkChecked { ticket, result } => {
                if let Some(d) = self.share.as_mut().filter(|d| d.ticket == ticket) {
                    d.check = match result {
                        Ok(()) => Loadable::Ready(()),
                        Err(e) => Loadable::Failed(e),
                    };
                }
            }
            Event::LinksReady(results) => {
                let mut links = Vec::new();
                for r in results {
                    match r {
                        Ok(link) => links.push(link),
                        Err(e) => self.toast(e.message().to_owned(), true),
                    }
                }
                self.copy_links(ctx, &links.iter().collect::<Vec<_>>());
            }
            Event::TransfersPlanned {
                batch,
                share,
                transfers,
                errors,
            } => {
                for e in errors {
                    self.toast(e.message().to_owned(), true);
                }
                if transfers.is_empty() {
                    return;
                }
                for t in transfers {
                    let row = Transfer::new(t, batch, share);
                    self.backend.execute(row.restart(Clash::Ask));
                    self.transfers.rows.push(row);
                }
            }
            Event::Transfer { id, update } => self.transfer_update(ctx, id, update),
            Event::PickCancelled => {}
            Event::Deleted { deleted, errors } => {
                if deleted > 0 {
                    self.toast(
                        format!(
                            "Deleted {deleted} {}",
                            if deleted == 1 { "object" } else { "objects" }
                        ),
                        false,
                    );
                }
                for e in errors {
                    self.toast(e.message().to_owned(), true);
                }
                self.refresh();
            }
            Event::FolderCreated(result) => match result {
                Ok(folder) => self.open(folder.bucket, folder.key),
                Err(e) => self.toast(e.message().to_owned(), true),
            },
            Event::ConfigSaved(result) => {
                if let Err(e) = result {
                    self.toast(format!("Settings not saved: {}", e.message()), true);
                }
            }
            Event::Profiles(result) => match result {
                Ok(p) => self.profiles = p,
                Err(e) => self.toast(
                    format!("Could not read the AWS profiles: {}", e.message()),
                    true,
                ),
            },
            Event::ConnectionAdded(result) => match result {
                Ok(settings) => {
                    self.add_connection = None;
                    self.backend.execute(Command::LoadProfiles);
                    self.connect(ConnectTarget::Settings(settings));
                }
                Err(e) => {
                    if let Some(f) = self.add_connection.as_mut() {
                        f.saving = false;
                        f.error = Some(e.message().to_owned());
                    }
                    // Not saved: take it back out of the settings kept in memory.
                    self.config.connections.pop();
                }
            },
        }
    }

    fn transfer_update(&mut self, ctx: &egui::Context, id: u64, update: TransferUpdate) {
        let Some(t) = self.transfers.get_mut(id) else {
            return;
        };
        let batch = t.batch;
        let mut note = None;
        match update {
            TransferUpdate::Started { object, size } => {
                t.planned.object = object;
                t.state = TransferState::Running;
                if size > 0 {
                    t.total = size;
                }
            }
            TransferUpdate::Progress { done, total } => t.progress(done, total, Instant::now()),
            TransferUpdate::Done { link } => {
                t.state = TransferState::Done;
                t.done = t.total;
                match link {
                    Some(Ok(l)) => t.link = Some(l),
                    Some(Err(e)) => {
                        note = Some(format!("Uploaded, but no link: {}", e.message()));
                    }
                    None => {}
                }
            }
            TransferUpdate::Exists => t.state = TransferState::Exists,
            TransferUpdate::Failed(e) => {
                t.state = TransferState::Failed(self_explain(&self.current, e));
            }
            TransferUpdate::Cancelled => t.state = TransferState::Cancelled,
        }
        let finished = t.state.finished();
        if let Some(note) = note {
            self.toast(note, true);
        }
        if let Some(batch) = batch
            && finished
        {
            self.finish_batch(ctx, batch);
        }
    }

    /// When a batch's last transfer ends: copy its links (one per line) and show what landed.
    fn finish_batch(&mut self, ctx: &egui::Context, batch: u64) {
        let Some((links, landed)) = self.transfers.end_batch(batch) else {
            return;
        };
        if !links.is_empty() {
            self.copy_links(ctx, &links.iter().collect::<Vec<_>>());
        }
        let here = self.listing.as_ref().is_some_and(|l| {
            landed
                .iter()
                .any(|o| o.bucket == l.bucket && o.key.starts_with(&l.prefix))
        });
        if here {
            self.refresh_listing();
        }
    }

    /// Put links on the clipboard, one per line, and say so with the real expiry.
    fn copy_links(&mut self, ctx: &egui::Context, links: &[&ShareLink]) {
        let Some(first) = links.first() else {
            return;
        };
        let text = links.iter().map(|l| l.url()).collect::<Vec<_>>().join("\n");
        ctx.copy_text(text);
        let soonest = links
            .iter()
            .map(|l| l.expires_at)
            .min()
            .unwrap_or(first.expires_at);
        let what = if links.len() == 1 {
            "Link copied — expires".to_owned()
        } else {
            format!("{} links copied — they expire", links.len())
        };
        let mut text = format!("{what} {}", expiry_phrase(SystemTime::now(), soonest));
        if links.iter().any(|l| l.cut_short()) {
            text.push_str(", cut short by temporary credentials");
        }
        self.toast(text, false);
    }

    fn toast(&mut self, text: String, error: bool) {
        let secs = if error { 8 } else { 5 };
        self.toasts.push(Toast {
            text,
            error,
            until: Instant::now() + Duration::from_secs(secs),
        });
    }

    /// Add what a person can do about an error of this connection.
    fn explain(&self, e: Error) -> Error {
        self_explain(&self.current, e)
    }

    // ---------------------------------------------------------------------------------------
    // Actions

    fn connect(&mut self, target: ConnectTarget) {
        self.current.state = Loadable::Loading;
        self.current.local = target.is_local();
        self.current.label = target.label();
        self.buckets = Loadable::Idle;
        self.listing = None;
        self.backend.execute(Command::Connect(target));
    }

    fn open(&mut self, bucket: String, prefix: String) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let keep = self.listing.as_ref().map(|l| (l.sort, l.ascending));
        let mut listing = Listing::new(
            generation,
            bucket.clone(),
            prefix.clone(),
            super::backend::FIRST_ROWS,
        );
        if let Some((sort, ascending)) = keep {
            listing.sort = sort;
            listing.ascending = ascending;
        }
        self.config.app.last_location = Some(listing.location().to_string());
        self.listing = Some(listing);
        self.backend.execute(Command::List {
            generation,
            bucket,
            prefix,
        });
        self.save_config();
    }

    fn refresh_listing(&mut self) {
        if let Some(l) = &self.listing {
            let (bucket, prefix, filter) = (l.bucket.clone(), l.prefix.clone(), l.filter.clone());
            self.open(bucket, prefix);
            if let Some(l) = self.listing.as_mut() {
                l.filter = filter;
            }
        }
    }

    fn refresh(&mut self) {
        if self.is_connected() {
            self.buckets = Loadable::Loading;
            self.backend.execute(Command::ListBuckets);
            self.refresh_listing();
        }
    }

    fn save_config(&mut self) {
        self.backend
            .execute(Command::SaveConfig(self.config.clone()));
    }

    fn open_share(&mut self, object: S3Uri) {
        let mut d = ShareDialog::new(object, ExpiryPicker::new(self.default_expiry()));
        self.sign(&mut d);
        self.share = Some(d);
    }

    fn sign(&mut self, d: &mut ShareDialog) {
        let Some(request) = d.request() else {
            return;
        };
        d.ticket = self.next_ticket;
        self.next_ticket += 1;
        d.link = Loadable::Loading;
        d.check = Loadable::Idle;
        self.backend.execute(Command::Share {
            ticket: d.ticket,
            request,
        });
    }

    /// Files dropped on the window go to the current prefix.
    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let paths: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_owned())
                .collect()
        });
        if !paths.is_empty() {
            self.upload(paths);
        }
    }

    fn upload(&mut self, paths: Vec<PathBuf>) {
        let Some(prefix) = self.listing.as_ref().map(Listing::location) else {
            self.toast(
                "Open a bucket first: files go to the folder shown.".into(),
                true,
            );
            return;
        };
        let (batch, share) = self.new_batch();
        self.backend.execute(Command::Upload {
            batch,
            paths,
            prefix,
            share,
        });
    }

    /// A new upload batch, and the link lifetime its files get when share on drop is on.
    fn new_batch(&mut self) -> (u64, Option<Expiry>) {
        let batch = self.next_batch;
        self.next_batch += 1;
        (
            batch,
            self.config.app.share_on_drop.then(|| self.default_expiry()),
        )
    }

    // ---------------------------------------------------------------------------------------
    // Drawing

    fn draw(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let screen = ui.max_rect();
        self.top_bar(ui);
        if self.current.local {
            egui::Panel::top("banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new(format!("ℹ {LOCAL_BANNER}")).weak());
                    if ui.small_button("Add connection…").clicked() {
                        self.add_connection = Some(AddConnectionForm::default());
                    }
                });
            });
        }
        self.bottom_inset = 0.0;
        if !self.transfers.rows.is_empty() {
            let panel = egui::Panel::bottom("transfers")
                .resizable(true)
                .show(ui, |ui| {
                    let actions = transfers_ui(ui, &self.transfers);
                    for a in actions {
                        self.transfer_action(ui.ctx(), a);
                    }
                });
            self.bottom_inset = panel.response.rect.height();
        }
        egui::Panel::left("buckets")
            .resizable(true)
            .default_size(200.0)
            .min_size(160.0)
            .show(ui, |ui| {
                let current = self.listing.as_ref().map(|l| l.bucket.clone());
                if let Some(BrowserAction::OpenBucket(b)) =
                    browser::buckets_ui(ui, &self.buckets, current.as_deref())
                {
                    self.open(b, String::new());
                }
            });
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));

        self.dialogs(&ctx);
        self.draw_toasts(&ctx);
        drop_overlay(&ctx, screen, self.listing.as_ref().map(Listing::location));
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("top").show(ui, |ui| {
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                // The entries are built only while the list is open.
                let choices = || {
                    connections::choices(
                        self.env_credentials,
                        &self.profiles,
                        &self.config.connections,
                    )
                };
                match connections::picker_ui(ui, &self.current.label, choices) {
                    Some(Picked::Connect(target)) => self.connect(target),
                    Some(Picked::AddConnection) => {
                        self.add_connection = Some(AddConnectionForm::default());
                    }
                    None => {}
                }
                if self.current.state.is_loading() {
                    ui.spinner();
                }
                ui.separator();
                let can_upload = self.listing.is_some();
                if ui
                    .add_enabled(can_upload, egui::Button::new("⬆ Upload…"))
                    .on_hover_text("Choose files to upload to the folder shown")
                    .clicked()
                    && let Some(prefix) = self.listing.as_ref().map(Listing::location)
                {
                    let (batch, share) = self.new_batch();
                    self.backend.execute(Command::PickFiles {
                        batch,
                        prefix,
                        share,
                    });
                }
                if ui.button("⟳").on_hover_text("Refresh (F5)").clicked() {
                    self.refresh();
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("⚙").on_hover_text("Settings").clicked() {
                        self.settings =
                            Some(SettingsDraft::new(self.default_expiry(), &self.config.app));
                    }
                    if let Some(l) = self.listing.as_mut() {
                        let edit = ui.add(
                            egui::TextEdit::singleline(&mut l.filter)
                                .hint_text("names containing…")
                                .desired_width(180.0),
                        );
                        let label = ui.label("Filter");
                        let edit = edit.labelled_by(label.id);
                        if edit.changed() {
                            l.rebuild_view();
                        }
                    }
                });
            });
            ui.add_space(2.0);
        });
    }

    fn central(&mut self, ui: &mut egui::Ui) {
        if let Loadable::Failed(e) = &self.current.state {
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                ui.heading("Could not connect");
                ui.colored_label(ui.visuals().error_fg_color, e.message());
                if let Some(d) = e.detail() {
                    ui.weak(d);
                }
            });
            return;
        }
        let Some(listing) = self.listing.as_mut() else {
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                if self.current.state.is_loading() || self.buckets.is_loading() {
                    ui.spinner();
                } else {
                    ui.weak("Pick a bucket on the left.");
                }
            });
            return;
        };
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            actions.extend(browser::breadcrumbs_ui(ui, listing));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.weak(listing.summary());
            });
        });
        actions.extend(browser::browser_ui(ui, listing));
        for a in actions {
            self.browser_action(a);
        }
    }

    fn browser_action(&mut self, action: BrowserAction) {
        match action {
            BrowserAction::OpenBucket(b) => self.open(b, String::new()),
            BrowserAction::GoTo(prefix) => {
                if let Some(bucket) = self.listing.as_ref().map(|l| l.bucket.clone()) {
                    self.open(bucket, prefix);
                }
            }
            BrowserAction::Share(object) => self.open_share(object),
            BrowserAction::CopyLinks(objects) => {
                let expiry = self.default_expiry();
                self.backend.execute(Command::CopyLinks { objects, expiry });
            }
            BrowserAction::Download(objects) => self.backend.execute(Command::Download { objects }),
            BrowserAction::Delete(objects) => self.confirm_delete = Some(objects),
            BrowserAction::NewFolder => self.new_folder = Some(String::new()),
            BrowserAction::Refresh => self.refresh(),
            BrowserAction::Want(n) => self.backend.execute(Command::WantRows(n)),
        }
    }

    fn transfer_action(&mut self, ctx: &egui::Context, action: TransferAction) {
        match action {
            TransferAction::Cancel(id) => self.backend.execute(Command::Cancel(id)),
            TransferAction::Retry(id) => self.restart(id, Clash::Ask),
            TransferAction::Resolve(id, clash) => self.restart(id, clash),
            TransferAction::Skip(id) => {
                if let Some(t) = self.transfers.get_mut(id) {
                    t.state = TransferState::Skipped;
                    // The batch's links are copied once its last open row ends: maybe this one.
                    if let Some(batch) = t.batch {
                        self.finish_batch(ctx, batch);
                    }
                }
            }
            TransferAction::ClearFinished => self.transfers.clear_finished(),
        }
    }

    fn restart(&mut self, id: u64, clash: Clash) {
        let fresh_batch = self.next_batch;
        if let Some(t) = self.transfers.get_mut(id) {
            if t.batch.is_none() && !t.planned.download {
                // Its batch has ended (its links were copied): a retried upload's link is
                // copied on its own.
                t.batch = Some(fresh_batch);
                self.next_batch += 1;
            }
            t.state = TransferState::Waiting;
            t.done = 0;
            t.speed = 0.0;
            t.speed_mark = None;
            let command = t.restart(clash);
            self.backend.execute(command);
        }
    }

    fn dialogs(&mut self, ctx: &egui::Context) {
        if let Some(mut d) = self.share.take() {
            match share_dialog_ui(ctx, &mut d, SystemTime::now()) {
                Some(ShareDialogAction::Sign) => {
                    self.sign(&mut d);
                    self.share = Some(d);
                }
                Some(ShareDialogAction::Copy) => {
                    if let Loadable::Ready(link) = &d.link {
                        let link = link.clone();
                        self.copy_links(ctx, &[&link]);
                    }
                    self.share = Some(d);
                }
                Some(ShareDialogAction::Close) => {}
                None => self.share = Some(d),
            }
        }
        self.delete_dialog(ctx);
        self.new_folder_dialog(ctx);
        if let Some(mut form) = self.add_connection.take() {
            match connections::add_connection_ui(ctx, &mut form, &self.profiles) {
                Some(FormAction::Save) => match form.build() {
                    Ok((settings, profile)) => {
                        form.saving = true;
                        form.error = None;
                        self.config.connections.push(settings.clone());
                        self.backend.execute(Command::AddConnection {
                            settings,
                            profile,
                            config: self.config.clone(),
                        });
                        self.add_connection = Some(form);
                    }
                    Err(e) => {
                        form.error = Some(e.message().to_owned());
                        self.add_connection = Some(form);
                    }
                },
                Some(FormAction::Cancel) => {}
                None => self.add_connection = Some(form),
            }
        }
        if let Some(mut draft) = self.settings.take() {
            match settings_ui(ctx, &mut draft) {
                Some(SettingsAction::Save) => {
                    if let Ok(e) = draft.expiry.value() {
                        self.config.default_expiry = Some(e.to_string());
                    }
                    self.config.app.share_on_drop = draft.share_on_drop;
                    self.config.app.theme = draft.theme;
                    ctx.set_theme(theme_preference(draft.theme));
                    self.save_config();
                }
                Some(SettingsAction::Cancel) => {}
                None => self.settings = Some(draft),
            }
        }
    }

    fn delete_dialog(&mut self, ctx: &egui::Context) {
        if let Some(objects) = self.confirm_delete.take() {
            let mut keep = true;
            egui::Modal::new(egui::Id::unique("confirm-delete")).show(ctx, |ui| {
                ui.set_width(380.0);
                let n = objects.len();
                ui.heading(if n == 1 {
                    format!("Delete {}?", objects[0].file_name())
                } else {
                    format!("Delete {n} objects?")
                });
                ui.label("This cannot be undone, and links to them stop working.");
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui.button("Delete").clicked() {
                        self.backend.execute(Command::Delete {
                            objects: objects.clone(),
                        });
                        keep = false;
                    }
                    if ui.button("Cancel").clicked() {
                        keep = false;
                    }
                });
            });
            if keep {
                self.confirm_delete = Some(objects);
            }
        }
    }

    fn new_folder_dialog(&mut self, ctx: &egui::Context) {
        if let Some(mut name) = self.new_folder.take() {
            let mut keep = true;
            egui::Modal::new(egui::Id::unique("new-folder")).show(ctx, |ui| {
                ui.heading("New folder");
                let label = ui.label("Name");
                let edit = ui
                    .add(egui::TextEdit::singleline(&mut name).hint_text("folder name"))
                    .labelled_by(label.id);
                edit.request_focus();
                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    if (ui.button("Create").clicked() || enter)
                        && let Some(l) = &self.listing
                    {
                        self.backend.execute(Command::CreateFolder {
                            bucket: l.bucket.clone(),
                            parent: l.prefix.clone(),
                            name: name.clone(),
                        });
                        keep = false;
                    }
                    if ui.button("Cancel").clicked() {
                        keep = false;
                    }
                });
            });
            if keep {
                self.new_folder = Some(name);
            }
        }
    }

    fn draw_toasts(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        self.toasts.retain(|t| t.until > now);
        let Some(next_end) = self.toasts.iter().map(|t| t.until).min() else {
            return;
        };
        // One repaint when the next toast should go: no polling.
        ctx.request_repaint_after(next_end - now);
        egui::Area::new(egui::Id::unique("toasts"))
            // Above the transfers panel, so its buttons stay reachable.
            .anchor(
                egui::Align2::RIGHT_BOTTOM,
                egui::vec2(-16.0, -16.0 - self.bottom_inset),
            )
            .order(egui::Order::Foreground)
            .interactable(false)
            .show(ctx, |ui| {
                for t in &self.toasts {
                    let fill = if t.error {
                        ui.visuals().error_fg_color.gamma_multiply(0.25)
                    } else {
                        ui.visuals().extreme_bg_color
                    };
                    egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                        ui.set_max_width(420.0);
                        ui.label(&t.text);
                    });
                }
            });
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.save_on_exit();
    }
}

/// While files hover over the window: where they will go.
fn drop_overlay(ctx: &egui::Context, screen: egui::Rect, target: Option<S3Uri>) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-overlay"),
    ));
    painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(170));
    let card = egui::Rect::from_center_size(screen.center(), egui::vec2(440.0, 120.0));
    let accent = egui::Color32::from_rgb(0x1f, 0x6f, 0x8b);
    painter.rect(
        card,
        12.0,
        egui::Color32::from_rgb(0x1b, 0x26, 0x2c),
        egui::Stroke::new(2.0, accent),
        egui::StrokeKind::Inside,
    );
    let (title, place) = match target {
        Some(t) => ("Drop to upload to".to_owned(), t.to_string()),
        None => (
            "Open a bucket first".to_owned(),
            "files go to the folder shown".to_owned(),
        ),
    };
    painter.text(
        card.center() - egui::vec2(0.0, 18.0),
        egui::Align2::CENTER_CENTER,
        title,
        egui::FontId::proportional(22.0),
        egui::Color32::WHITE,
    );
    painter.text(
        card.center() + egui::vec2(0.0, 18.0),
        egui::Align2::CENTER_CENTER,
        place,
        egui::FontId::monospace(16.0),
        egui::Color32::from_rgb(0xa8, 0xd8, 0xea),
    );
}

/// "in 15 min (14:05)"
pub fn expiry_phrase(now: SystemTime, at: SystemTime) -> String {
    let left = at.duration_since(now).unwrap_or_default();
    let left = crate::engine::expiry::round_for_people(left);
    format!(
        "in {} ({})",
        format_compact_words(left),
        format_clock(
            time::OffsetDateTime::from(now),
            time::OffsetDateTime::from(at)
        )
    )
}

/// An error with the step a person can take for this connection.
fn self_explain(current: &Current, e: Error) -> Error {
    if e.kind() == ErrorKind::ExpiredCredentials
        && let Some(p) = &current.settings.profile
    {
        let detail = e.detail().unwrap_or_default().to_owned();
        return Error::new(
            ErrorKind::ExpiredCredentials,
            format!("The sign-in session of profile {p} has expired. Run `aws sso login --profile {p}`, then press F5."),
        )
        .with_detail(detail);
    }
    e
}
