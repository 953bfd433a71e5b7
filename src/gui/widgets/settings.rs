//! The settings dialog: default expiry, share on drop, theme.

use super::expiry_picker::{ExpiryPicker, expiry_picker_ui};
use crate::engine::client::config::{AppSettings, Theme};

/// The settings being edited (applied on Save).
pub struct SettingsDraft {
    pub expiry: ExpiryPicker,
    pub share_on_drop: bool,
    pub theme: Theme,
}

impl SettingsDraft {
    pub fn new(expiry: crate::engine::Expiry, app: &AppSettings) -> Self {
        Self {
            expiry: ExpiryPicker::new(expiry),
            share_on_drop: app.share_on_drop,
            theme: app.theme,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsAction {
    Save,
    Cancel,
}

pub fn settings_ui(ctx: &egui::Context, draft: &mut SettingsDraft) -> Option<SettingsAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("settings")).show(ctx, |ui| {
        ui.set_width(440.0);
        ui.heading("Settings");
        ui.add_space(8.0);
        ui.label(egui::RichText::new("Default link lifetime").strong());
        ui.weak("New links and links copied on drop get this lifetime. Short is safer: anyone holding a link can use it until it expires.");
        expiry_picker_ui(ui, &mut draft.expiry);
        ui.add_space(8.0);
        ui.checkbox(&mut draft.share_on_drop, "Copy a link for each file dropped on the window");
        ui.add_space(8.0);
        ui.label(egui::RichText::new("Theme").strong());
        ui.horizontal(|ui| {
            ui.radio_value(&mut draft.theme, Theme::System, "Follow the system");
            ui.radio_value(&mut draft.theme, Theme::Light, "Light");
            ui.radio_value(&mut draft.theme, Theme::Dark, "Dark");
        });
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            let valid = draft.expiry.value().is_ok();
            if ui.add_enabled(valid, egui::Button::new("Save")).clicked() {
                action = Some(SettingsAction::Save);
            }
            if ui.button("Cancel").clicked() {
                action = Some(SettingsAction::Cancel);
            }
        });
    });
    if modal.should_close() && action.is_none() {
        action = Some(SettingsAction::Cancel);
    }
    action
}

/// egui's name for a theme setting.
pub fn theme_preference(theme: Theme) -> egui::ThemePreference {
    match theme {
        Theme::System => egui::ThemePreference::System,
        Theme::Light => egui::ThemePreference::Light,
        Theme::Dark => egui::ThemePreference::Dark,
    }
}
