//! Active links: every link made, newest first, with when it was made, a countdown, Copy,
//! Check, Open, Renew (an expired link made again) and Forget, and how to kill each before it
//! expires; a filter for people with hundreds.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::engine::S3Uri;
use crate::engine::links::register::{LinkKind, LinkRecord};
use crate::gui::state::Loadable;

/// The view's state.
#[derive(Debug, Default)]
pub struct LinksView {
    pub records: Loadable<Vec<LinkRecord>>,
    /// Check results by entry id.
    pub checks: HashMap<String, Loadable<()>>,
    pub show_expired: bool,
    /// The entry whose revocation steps are open.
    pub revoke: Option<String>,
    /// Only entries whose object contains this (case-insensitive).
    pub filter: String,
}

/// What the user asked of the view.
#[derive(Debug, Clone)]
pub enum LinksAction {
    Copy(LinkRecord),
    Check(LinkRecord),
    Open(String),
    /// Share the same object again, for as long as it was asked the first time, and copy it.
    Renew(LinkRecord),
    Forget(String),
    DeleteObject(S3Uri),
    Reload,
    Close,
}

pub fn links_window(
    ctx: &egui::Context,
    view: &mut LinksView,
    now: SystemTime,
) -> Vec<LinksAction> {
    let mut actions = Vec::new();
    let modal = egui::Modal::new(egui::Id::unique("links-window")).show(ctx, |ui| {
        ui.set_width(760.0);
        ui.horizontal(|ui| {
            ui.heading("Active links");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("⟳").on_hover_text("Read the register again").clicked() {
                    actions.push(LinksAction::Reload);
                }
                ui.checkbox(&mut view.show_expired, "Show expired");
            });
        });
        ui.weak("Every link made here or by the command line. A link works until it expires, while its signer may read the object.");
        ui.add_space(6.0);
        // Taken out while drawn (rows change the rest of the view), put back after.
        let records = std::mem::take(&mut view.records);
        match &records {
            Loadable::Ready(records) => {
                ui.horizontal(|ui| {
                    let label = ui.label("Filter links");
                    ui.add(
                        egui::TextEdit::singleline(&mut view.filter)
                            .hint_text("bucket or name containing…")
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                });
                let shown = shown_links(records, &view.filter, view.show_expired, now);
                if shown.is_empty() {
                    ui.weak(if view.filter.is_empty() {
                        "No live links."
                    } else {
                        "No links match."
                    });
                } else {
                    ui.weak(format!(
                        "{} of {} {}, newest first",
                        shown.len(),
                        records.len(),
                        if records.len() == 1 { "link" } else { "links" }
                    ));
                }
                egui::ScrollArea::vertical().max_height(420.0).show(ui, |ui| {
                    for r in shown {
                        link_row(ui, r, records, view, now, &mut actions);
                        ui.separator();
                    }
                });
            }
            Loadable::Loading => {
                ui.spinner();
            }
            Loadable::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.message());
            }
            Loadable::Idle => {}
        }
        view.records = records;
        ui.add_space(6.0);
        if ui.button("Close").clicked() {
            actions.push(LinksAction::Close);
        }
    });
    if modal.should_close() {
        actions.push(LinksAction::Close);
    }
    actions
}

fn link_row(
    ui: &mut egui::Ui,
    r: &LinkRecord,
    all: &[LinkRecord],
    view: &mut LinksView,
    now: SystemTime,
    actions: &mut Vec<LinksAction>,
) {
    let live = r.is_live(now);
    ui.horizontal(|ui| {
        let kind = match r.kind {
            LinkKind::Link => "🔗",
            LinkKind::Request => "⬆ request",
            LinkKind::Page => "📄 page",
        };
        ui.label(kind);
        ui.add(
            egui::Label::new(egui::RichText::new(r.object().to_string()).monospace()).truncate(),
        )
        .on_hover_text(r.object().to_string());
    });
    ui.horizontal(|ui| {
        let lifetime = r.lifetime_text(now);
        if live {
            ui.label(lifetime);
        } else {
            ui.weak(lifetime);
        }
        ui.weak(format!("· made {}", made_text(r, now)));
        ui.weak(format!("· signed by {}", r.signer.label()));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            row_buttons(ui, r, live, view, actions);
        });
    });
    match view.checks.get(&r.id) {
        Some(Loadable::Loading) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking…");
            });
        }
        Some(Loadable::Ready(())) => {
            ui.colored_label(super::posture::GREEN, "✔ The link works");
        }
        Some(Loadable::Failed(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("✖ {}", e.message()));
        }
        Some(Loadable::Idle) | None => {}
    }
    if view.revoke.as_deref() == Some(r.id.as_str()) {
        ui.indent("revoke", |ui| {
            ui.strong("To kill this link before it expires:");
            for step in r.how_to_revoke(all, now) {
                ui.label(format!("• {step}"));
            }
            if r.kind == LinkKind::Link
                && ui
                    .button("Delete the object…")
                    .on_hover_text("Asks first")
                    .clicked()
            {
                actions.push(LinksAction::DeleteObject(r.object()));
            }
        });
    }
}

/// A row's buttons, right to left.
fn row_buttons(
    ui: &mut egui::Ui,
    r: &LinkRecord,
    live: bool,
    view: &mut LinksView,
    actions: &mut Vec<LinksAction>,
) {
    if ui
        .small_button("Forget")
        .on_hover_text("Drop it from the register (the link keeps working)")
        .clicked()
    {
        actions.push(LinksAction::Forget(r.id.clone()));
    }
    if r.kind == LinkKind::Link
        && !live
        && ui
            .small_button("Renew")
            .on_hover_text("Share the object again for as long, and copy the new link")
            .clicked()
    {
        actions.push(LinksAction::Renew(r.clone()));
    }
    if r.kind == LinkKind::Link && live {
        if ui
            .small_button("Open")
            .on_hover_text("Open the link in the browser")
            .clicked()
        {
            actions.push(LinksAction::Open(r.url.clone()));
        }
        if ui
            .small_button("Check")
            .on_hover_text("Fetch one byte through the link")
            .clicked()
        {
            actions.push(LinksAction::Check(r.clone()));
        }
        if ui
            .small_button("Copy")
            .on_hover_text("Copy the link again")
            .clicked()
        {
            actions.push(LinksAction::Copy(r.clone()));
        }
    }
    let open = view.revoke.as_deref() == Some(r.id.as_str());
    if live
        && ui
            .small_button(if open { "Hide" } else { "Revoke…" })
            .clicked()
    {
        view.revoke = if open { None } else { Some(r.id.clone()) };
    }
}

/// The entries shown: live ones (or all), whose bucket and key contain `filter`
/// (case-insensitive), newest first.
pub fn shown_links<'a>(
    records: &'a [LinkRecord],
    filter: &str,
    show_expired: bool,
    now: SystemTime,
) -> Vec<&'a LinkRecord> {
    let filter = filter.trim().to_lowercase();
    let mut shown: Vec<&LinkRecord> = records
        .iter()
        .filter(|r| show_expired || r.is_live(now))
        .filter(|r| filter.is_empty() || r.object().to_string().to_lowercase().contains(&filter))
        .collect();
    shown.sort_by(|a, b| b.created_unix.cmp(&a.created_unix).then(a.id.cmp(&b.id)));
    shown
}

/// When a link was made, as the browser shows modification times.
fn made_text(r: &LinkRecord, now: SystemTime) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(r.created_unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    crate::engine::base::wording::format_modified(time::OffsetDateTime::from(now), at)
}
