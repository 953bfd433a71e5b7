//! Drawing: panels, the browser, dialogs and toasts. Widgets return what the user asked; the
//! actions go to `logic`.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::{App, LOCAL_BANNER};
use crate::engine::S3Uri;
use crate::engine::base::wording::expiry_phrase;
use crate::engine::client::presets::Preset;
use crate::engine::trust::policy::SignerNeeds;
use crate::gui::backend::{Command, TrustCommand};
use crate::gui::state::{Listing, Loadable};
use crate::gui::widgets::browser::{self, BrowserAction};
use crate::gui::widgets::connections::{self, AddConnectionForm, FormAction, Picked};
use crate::gui::widgets::expiry_picker::ExpiryPicker;
use crate::gui::widgets::links::{self, LinksAction};
use crate::gui::widgets::posture::{self, PolicyAction, PolicyView, PostureAction};
use crate::gui::widgets::request::{self, RequestAction, RequestForm};
use crate::gui::widgets::settings::{SettingsAction, SettingsDraft, settings_ui, theme_preference};
use crate::gui::widgets::share_dialog::{ShareDialogAction, share_dialog_ui};
use crate::gui::widgets::transfers::transfers_ui;

/// The width of the listing's filter box.
const FILTER_WIDTH: f32 = 200.0;

impl App {
    /// Files dropped on the window go to the current prefix.
    pub(super) fn take_dropped_files(&mut self, ctx: &egui::Context) {
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

    /// Draw the window, and take what the user did in it (drops, F5) as actions.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.take_dropped_files(&ctx);
        if let Some(r) = ctx.input(|i| i.viewport().inner_rect) {
            self.window_size = Some([r.width(), r.height()]);
        }
        // A dialog has the window: what is behind it looks and is inert (its shortcuts too).
        let blocked = self.dialog_open();
        if !blocked && ctx.input(|i| i.key_pressed(egui::Key::F5)) {
            self.refresh();
        }
        let screen = ui.max_rect();
        if blocked {
            ui.disable();
        }
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
        if !self.transfers.rows.is_empty() || !self.unfinished.is_empty() {
            let panel = egui::Panel::bottom("transfers")
                .resizable(true)
                .show(ui, |ui| {
                    let actions = transfers_ui(ui, &self.transfers, &self.unfinished);
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
        if blocked && !self.dialog_open() {
            // The window behind was drawn inert this frame, and egui finds what a click hits
            // among the last frame's widgets (the modal's layer also stays on top until the
            // frame after): draw one more frame now, or the next click lands on the inert
            // window and is lost. A click on Close asks for that frame itself; Escape does not.
            ctx.request_repaint();
        }
        self.draw_toasts(&ctx);
        drop_overlay(&ctx, screen, self.listing.as_ref().map(Listing::location));
    }

    /// Is a dialog open (they are modal)?
    pub(super) fn dialog_open(&self) -> bool {
        self.share.is_some()
            || self.links_view.is_some()
            || self.request_form.is_some()
            || self.posture_open.is_some()
            || self.policy_view.is_some()
            || self.confirm_delete.is_some()
            || self.new_folder.is_some()
            || self.add_connection.is_some()
            || self.settings.is_some()
    }

    pub(super) fn top_bar(&mut self, ui: &mut egui::Ui) {
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
                self.selection_buttons(ui);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("⚙").on_hover_text("Settings").clicked() {
                        self.settings =
                            Some(SettingsDraft::new(self.default_expiry(), &self.config.app));
                    }
                    if let Some(location) = self.listing.as_ref().map(Listing::location)
                        && ui
                            .button("📥 Request files…")
                            .on_hover_text("Let someone upload files into this folder")
                            .clicked()
                    {
                        let mut form = RequestForm::new(
                            &location,
                            ExpiryPicker::new("1d".parse().unwrap_or_default()),
                        );
                        form.refused_by =
                            Preset::refusing_post(self.current.settings.endpoint.as_deref());
                        self.request_form = Some(form);
                    }
                    if ui
                        .button("🔗 Links")
                        .on_hover_text("Every link made: countdowns, Copy, Check, how to revoke")
                        .clicked()
                    {
                        self.open_links();
                    }
                });
            });
            ui.add_space(2.0);
        });
    }

    pub(super) fn central(&mut self, ui: &mut egui::Ui) {
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
        let mut open_posture = None;
        ui.horizontal(|ui| {
            actions.extend(browser::breadcrumbs_ui(ui, listing));
            let bucket = listing.bucket.clone();
            let state = self.postures.get(&bucket).unwrap_or(&Loadable::Idle);
            if posture::badge(ui, state).clicked() {
                open_posture = Some(bucket);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                // Beside the folder it filters, its width its own (the toolbar above changes
                // with the selection).
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut listing.filter)
                        .hint_text("names containing…")
                        .desired_width(FILTER_WIDTH.min(ui.available_width() * 0.4)),
                );
                let label = ui.label("Filter");
                if edit.labelled_by(label.id).changed() {
                    listing.rebuild_view();
                }
                ui.weak(listing.summary());
            });
        });
        actions.extend(browser::browser_ui(ui, listing));
        if open_posture.is_some() {
            self.posture_open = open_posture;
        }
        for a in actions {
            self.browser_action(a);
        }
    }

    /// With rows selected: Share… (one object), Copy link and Download…, one click away.
    fn selection_buttons(&mut self, ui: &mut egui::Ui) {
        let Some(listing) = self.listing.as_ref() else {
            return;
        };
        let objects = browser::selected_objects(listing);
        let items = browser::selected_items(listing);
        if items.is_empty() {
            return;
        }
        ui.separator();
        let mut action = None;
        if let [one] = objects.as_slice()
            && ui
                .button("Share…")
                .on_hover_text("A link with the lifetime you pick")
                .clicked()
        {
            action = Some(BrowserAction::Share(one.clone()));
        }
        if (items.len() > 1 || objects.is_empty())
            && ui
                .button(browser::page_button_label(items.len()))
                .on_hover_text("One link to a page listing every file, each with its own link")
                .clicked()
        {
            action = Some(BrowserAction::SharePage(
                items
                    .iter()
                    .map(|k| S3Uri::new(listing.bucket.clone(), k.clone()))
                    .collect(),
            ));
        }
        if !objects.is_empty()
            && ui
                .button("Copy link")
                .on_hover_text("Links with the default lifetime, on the clipboard (Ctrl+C)")
                .clicked()
        {
            action = Some(BrowserAction::CopyLinks(objects));
        }
        if ui
            .button("Download…")
            .on_hover_text("Download the selection (folders whole)")
            .clicked()
        {
            action = Some(BrowserAction::Download(items));
        }
        if let Some(a) = action {
            self.browser_action(a);
        }
    }

    pub(super) fn dialogs(&mut self, ctx: &egui::Context) {
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
        // Drawn before the delete confirmation, which Active links can ask for: it goes on top.
        self.trust_dialogs(ctx);
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

    pub(super) fn delete_dialog(&mut self, ctx: &egui::Context) {
        if let Some(objects) = self.confirm_delete.take() {
            let mut keep = true;
            let modal = egui::Modal::new(egui::Id::unique("confirm-delete")).show(ctx, |ui| {
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
            // Escape (or a click outside) cancels.
            if keep && !modal.should_close() {
                self.confirm_delete = Some(objects);
            }
        }
    }

    pub(super) fn new_folder_dialog(&mut self, ctx: &egui::Context) {
        if let Some(mut name) = self.new_folder.take() {
            let mut keep = true;
            let modal = egui::Modal::new(egui::Id::unique("new-folder")).show(ctx, |ui| {
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
            if keep && !modal.should_close() {
                self.new_folder = Some(name);
            }
        }
    }

    /// The exposure details, the signer policy, Active links and Request files.
    fn trust_dialogs(&mut self, ctx: &egui::Context) {
        if let Some(bucket) = self.posture_open.clone() {
            let state = self.postures.get(&bucket).unwrap_or(&Loadable::Idle);
            match posture::posture_window(ctx, &bucket, state) {
                Some(PostureAction::Close) => self.posture_open = None,
                Some(PostureAction::Reload) => self.read_posture(&bucket, true),
                Some(PostureAction::SignerPolicy) => {
                    let location = self
                        .listing
                        .as_ref()
                        .filter(|l| l.bucket == bucket)
                        .map_or_else(|| S3Uri::new(bucket.clone(), ""), Listing::location);
                    self.posture_open = None;
                    self.policy_view = Some(PolicyView {
                        location,
                        needs: SignerNeeds::default(),
                    });
                }
                None => {}
            }
        }
        if let Some(mut view) = self.policy_view.take() {
            match posture::policy_window(ctx, &mut view) {
                Some(PolicyAction::Copy(json)) => {
                    ctx.copy_text(json);
                    self.toast("Signer policy copied".into(), false);
                    self.policy_view = Some(view);
                }
                Some(PolicyAction::Close) => {}
                None => self.policy_view = Some(view),
            }
        }
        if let Some(mut view) = self.links_view.take() {
            let now = SystemTime::now();
            // The countdowns move once a second while the view is open, and only then.
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
            let actions = links::links_window(ctx, &mut view, now);
            let mut keep = true;
            for a in actions {
                match a {
                    LinksAction::Copy(r) => {
                        ctx.copy_text(r.url.clone());
                        self.toast(
                            format!(
                                "Link copied — expires {}",
                                expiry_phrase(now, r.expires_at())
                            ),
                            false,
                        );
                    }
                    LinksAction::Check(r) => {
                        view.checks.insert(r.id.clone(), Loadable::Loading);
                        self.backend
                            .execute(Command::Trust(TrustCommand::CheckLink(r)));
                    }
                    LinksAction::Open(url) => self.backend.execute(Command::OpenLink(url)),
                    LinksAction::Renew(r) => self.backend.execute(Command::RenewLink(r)),
                    LinksAction::Forget(id) => {
                        self.backend
                            .execute(Command::Trust(TrustCommand::ForgetLink(id)));
                    }
                    LinksAction::DeleteObject(object) => self.confirm_delete = Some(vec![object]),
                    LinksAction::Reload => {
                        self.backend
                            .execute(Command::Trust(TrustCommand::LoadLinks));
                    }
                    LinksAction::Close => keep = false,
                }
            }
            if keep {
                self.links_view = Some(view);
            }
        }
        if let Some(mut form) = self.request_form.take() {
            match request::request_window(ctx, &mut form) {
                Some(RequestAction::Create(spec)) => {
                    form.made = Loadable::Loading;
                    self.backend
                        .execute(Command::Trust(TrustCommand::MakeRequest(spec)));
                    self.request_form = Some(form);
                }
                Some(RequestAction::CopyCommand(command)) => {
                    ctx.copy_text(command);
                    self.toast("Upload command copied".into(), false);
                    self.request_form = Some(form);
                }
                Some(RequestAction::CopyPageLink(url)) => {
                    ctx.copy_text(url);
                    self.toast("Upload page link copied".into(), false);
                    self.request_form = Some(form);
                }
                Some(RequestAction::SavePage(html)) => {
                    self.backend
                        .execute(Command::Trust(TrustCommand::SaveRequestPage(html)));
                    self.request_form = Some(form);
                }
                Some(RequestAction::Close) => {}
                None => self.request_form = Some(form),
            }
        }
    }

    pub(super) fn draw_toasts(&mut self, ctx: &egui::Context) {
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
                // Never wider than the window (less its margins), and the newest few only.
                let width = (ctx.content_rect().width() - 48.0).clamp(120.0, 420.0);
                let skip = self.toasts.len().saturating_sub(4);
                for t in self.toasts.iter().skip(skip) {
                    let fill = if t.error {
                        ui.visuals().error_fg_color.gamma_multiply(0.25)
                    } else {
                        ui.visuals().extreme_bg_color
                    };
                    egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                        ui.set_max_width(width);
                        ui.add(egui::Label::new(&t.text).wrap());
                    });
                }
            });
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
