//! A bucket's exposure as a badge beside it (green Private, red Public, grey Unknown), its
//! facts on click, and the least-privilege signer policy with Copy.

use crate::engine::S3Uri;
use crate::engine::trust::policy::{SignerNeeds, policy_notes, signer_policy};
use crate::engine::trust::posture::{Posture, Verdict};
use crate::gui::state::Loadable;

pub const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2e, 0x9e, 0x4f);
pub const RED: egui::Color32 = egui::Color32::from_rgb(0xd3, 0x2f, 0x2f);
pub const GREY: egui::Color32 = egui::Color32::from_rgb(0x78, 0x90, 0x9c);

/// The badge for a posture (or its loading), as a small button; clicked → details.
pub fn badge(ui: &mut egui::Ui, posture: &Loadable<Posture>) -> egui::Response {
    let (text, color, hover) = match posture {
        Loadable::Ready(p) => match &p.verdict {
            Verdict::Private => (
                "🔒 Private",
                GREEN,
                "Nothing makes this bucket's objects public. Click for the facts.".to_owned(),
            ),
            Verdict::Public(why) => (
                "⚠ Public",
                RED,
                format!(
                    "Objects here are public: {}. Click for the facts.",
                    why.join("; ")
                ),
            ),
            Verdict::Unknown => (
                "? Unknown",
                GREY,
                "The server does not say whether this bucket is public. Click for what it says."
                    .to_owned(),
            ),
        },
        Loadable::Loading => ("…", GREY, "Reading the bucket's exposure".to_owned()),
        Loadable::Failed(e) => ("? Unknown", GREY, e.message().to_owned()),
        Loadable::Idle => ("? Unknown", GREY, "Not read yet".to_owned()),
    };
    ui.add(
        egui::Button::new(
            egui::RichText::new(text)
                .color(egui::Color32::WHITE)
                .small()
                .strong(),
        )
        .fill(color)
        .corner_radius(8.0),
    )
    .on_hover_text(hover)
}

/// What the user asked of the posture window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostureAction {
    Close,
    /// Open the signer-policy view for this bucket.
    SignerPolicy,
    Reload,
}

/// The facts of one bucket's exposure.
pub fn posture_window(
    ctx: &egui::Context,
    bucket: &str,
    posture: &Loadable<Posture>,
) -> Option<PostureAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("posture-window")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.horizontal(|ui| {
            ui.heading(format!("Exposure of s3://{bucket}"));
            badge(ui, posture);
        });
        ui.add_space(6.0);
        match posture {
            Loadable::Ready(p) => {
                if let Verdict::Public(why) = &p.verdict {
                    ui.colored_label(RED, format!("Public: {}.", why.join("; ")));
                    ui.label("Anyone can fetch these objects without a link; sharing still works, but a link is not needed.");
                    ui.add_space(4.0);
                }
                egui::Grid::new("posture-facts").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    for f in &p.facts {
                        ui.strong(f.name);
                        if f.warning {
                            ui.colored_label(super::share_dialog::AMBER, format!("⚠ {}", f.value));
                        } else {
                            ui.label(&f.value);
                        }
                        ui.end_row();
                    }
                });
                ui.add_space(6.0);
                ui.weak("Read only: s3share never changes these settings.");
            }
            Loadable::Loading => {
                ui.spinner();
            }
            Loadable::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.message());
            }
            Loadable::Idle => {}
        }
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button("Signer policy…").on_hover_text("The least-privilege IAM policy a signer needs").clicked() {
                action = Some(PostureAction::SignerPolicy);
            }
            if ui.button("Read again").clicked() {
                action = Some(PostureAction::Reload);
            }
            if ui.button("Close").clicked() {
                action = Some(PostureAction::Close);
            }
        });
    });
    if modal.should_close() {
        action = Some(PostureAction::Close);
    }
    action
}

/// The signer-policy view: for which prefix, with which needs.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub location: S3Uri,
    pub needs: SignerNeeds,
}

/// What the user asked of the signer-policy view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAction {
    Copy(String),
    Close,
}

pub fn policy_window(ctx: &egui::Context, view: &mut PolicyView) -> Option<PolicyAction> {
    let mut action = None;
    let json = serde_json::to_string_pretty(&signer_policy(&view.location, view.needs))
        .unwrap_or_default();
    let modal = egui::Modal::new(egui::Id::unique("policy-window")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading("Signer policy");
        ui.label(format!(
            "Attach this to a dedicated IAM user or role that signs links for {}: it may read exactly these objects, nothing else.",
            view.location
        ));
        ui.horizontal(|ui| {
            ui.checkbox(&mut view.needs.upload, "Uploads and upload requests");
            ui.checkbox(&mut view.needs.browse, "Browsing the prefix");
        });
        for note in policy_notes(&view.location, view.needs) {
            let text = note.trim_start_matches("warning: ").trim_start_matches("note: ");
            if note.starts_with("warning") {
                ui.colored_label(super::share_dialog::AMBER, format!("⚠ {text}"));
            } else {
                ui.weak(text);
            }
        }
        let mut shown = json.as_str();
        egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut shown)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
        });
        ui.horizontal(|ui| {
            if ui.button("Copy").clicked() {
                action = Some(PolicyAction::Copy(json.clone()));
            }
            if ui.button("Close").clicked() {
                action = Some(PolicyAction::Close);
            }
        });
    });
    if modal.should_close() {
        action = Some(PolicyAction::Close);
    }
    action
}
