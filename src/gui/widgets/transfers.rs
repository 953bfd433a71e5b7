//! The transfers panel: one row per file with progress, speed, ETA, and what can be done.

use crate::engine::base::wording::human_size;
use crate::engine::transfer::resume::UploadState;
use crate::gui::backend::{Clash, TransferId};
use crate::gui::state::{TransferState, Transfers};

/// What the user asked of a transfer row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferAction {
    Cancel(TransferId),
    /// Stop an upload, keeping what it sent.
    Pause(TransferId),
    /// Start again (after a failure, a cancel or a pause; an upload in parts resumes).
    Retry(TransferId),
    /// Go on with the unfinished upload at this index of the list.
    ResumeUnfinished(usize),
    /// Abort the unfinished upload at this index on the server and forget it.
    DiscardUnfinished(usize),
    /// A name clash answered: Replace or Keep both.
    Resolve(TransferId, Clash),
    Skip(TransferId),
    ClearFinished,
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per transfer state, each a few widgets"
)]
pub fn transfers_ui(
    ui: &mut egui::Ui,
    transfers: &Transfers,
    unfinished: &[UploadState],
) -> Vec<TransferAction> {
    let mut actions = Vec::new();
    for (i, u) in unfinished.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.label("⏸");
            let name = u.path.file_name().map_or_else(
                || u.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            ui.label(egui::RichText::new(name).strong())
                .on_hover_text(format!("{} → {}", u.path.display(), u.object()));
            ui.label(format!(
                "Unfinished upload: {} of {} sent",
                human_size(u.bytes_done()),
                human_size(u.size)
            ));
            if ui.small_button("Resume").clicked() {
                actions.push(TransferAction::ResumeUnfinished(i));
            }
            if ui
                .small_button("Discard")
                .on_hover_text("Abort it on the server (its parts cost storage) and forget it")
                .clicked()
            {
                actions.push(TransferAction::DiscardUnfinished(i));
            }
        });
    }
    ui.horizontal(|ui| {
        ui.strong("Transfers");
        let active = transfers.active();
        if active > 0 {
            ui.label(format!("{active} in progress"));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if transfers.rows.iter().any(|t| t.state.finished())
                && ui.button("Clear finished").clicked()
            {
                actions.push(TransferAction::ClearFinished);
            }
        });
    });
    egui::ScrollArea::vertical()
        .id_salt("transfers")
        .auto_shrink([false, true])
        .max_height(160.0)
        .show(ui, |ui| {
            for t in transfers.rows.iter().rev() {
                let id = t.planned.id;
                ui.horizontal(|ui| {
                    let arrow = if t.planned.download.is_some() {
                        "⬇"
                    } else {
                        "⬆"
                    };
                    ui.label(arrow);
                    ui.allocate_ui_with_layout(
                        egui::vec2(220.0, 18.0),
                        egui::Layout::left_to_right(egui::Align::Center),
                        |ui| {
                            ui.set_min_width(220.0);
                            ui.add(egui::Label::new(t.name()).truncate())
                                .on_hover_text(t.planned.object.to_string());
                        },
                    );
                    match &t.state {
                        TransferState::Waiting => {
                            ui.weak("Waiting…");
                            if ui.small_button("Cancel").clicked() {
                                actions.push(TransferAction::Cancel(id));
                            }
                        }
                        TransferState::Running => {
                            ui.add(
                                egui::ProgressBar::new(t.fraction())
                                    .desired_width(180.0)
                                    .text(format!(
                                        "{} of {}",
                                        human_size(t.progress.done),
                                        human_size(t.progress.total)
                                    )),
                            );
                            ui.label(t.rate_text());
                            if t.pausable() && ui.small_button("Pause").clicked() {
                                actions.push(TransferAction::Pause(id));
                            }
                            if ui.small_button("Cancel").clicked() {
                                actions.push(TransferAction::Cancel(id));
                            }
                        }
                        TransferState::Paused => {
                            ui.weak(format!(
                                "Paused at {} of {}",
                                human_size(t.progress.done),
                                human_size(t.progress.total)
                            ));
                            if ui.small_button("Resume").clicked() {
                                actions.push(TransferAction::Retry(id));
                            }
                            if ui.small_button("Cancel").clicked() {
                                actions.push(TransferAction::Cancel(id));
                            }
                        }
                        TransferState::Done => {
                            let text = match &t.link {
                                Some(_) => format!(
                                    "✔ Done, {} — link copied",
                                    human_size(t.progress.total)
                                ),
                                None => format!("✔ Done, {}", human_size(t.progress.total)),
                            };
                            ui.label(text);
                        }
                        TransferState::Exists => {
                            ui.colored_label(
                                crate::gui::widgets::share_dialog::AMBER,
                                "A file with this name is already there.",
                            );
                            if ui.small_button("Replace").clicked() {
                                actions.push(TransferAction::Resolve(id, Clash::Replace));
                            }
                            if ui.small_button("Keep both").clicked() {
                                actions.push(TransferAction::Resolve(id, Clash::KeepBoth));
                            }
                            if ui.small_button("Skip").clicked() {
                                actions.push(TransferAction::Skip(id));
                            }
                        }
                        TransferState::Failed(e) => {
                            ui.colored_label(
                                ui.visuals().error_fg_color,
                                format!("✖ {}", e.message()),
                            )
                            .on_hover_text(e.detail().unwrap_or_default());
                            if ui.small_button("Retry").clicked() {
                                actions.push(TransferAction::Retry(id));
                            }
                        }
                        TransferState::Cancelled => {
                            ui.weak("Cancelled");
                            if ui.small_button("Retry").clicked() {
                                actions.push(TransferAction::Retry(id));
                            }
                        }
                        TransferState::Skipped => {
                            ui.weak("Skipped");
                        }
                    }
                });
            }
        });
    actions
}
