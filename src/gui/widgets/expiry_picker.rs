//! Preset chips (5 min … 7 days) and a custom amount + unit.

use std::time::Duration;

use crate::engine::{Error, Expiry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Minutes,
    Hours,
    Days,
}

impl Unit {
    const ALL: [Self; 3] = [Self::Minutes, Self::Hours, Self::Days];

    fn seconds(self) -> u64 {
        match self {
            Self::Minutes => 60,
            Self::Hours => 3600,
            Self::Days => 86_400,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::Days => "days",
        }
    }
}

/// The picker's state: a preset, or the custom amount being typed.
#[derive(Debug, Clone)]
pub struct ExpiryPicker {
    pub preset: Option<Expiry>,
    pub amount: String,
    pub unit: Unit,
}

impl ExpiryPicker {
    pub fn new(initial: Expiry) -> Self {
        let mut picker = Self {
            preset: None,
            amount: String::new(),
            unit: Unit::Minutes,
        };
        picker.set(initial);
        picker
    }

    /// Show `e`: as its chip when it is a preset, else as the custom amount.
    pub fn set(&mut self, e: Expiry) {
        if Expiry::PRESETS.contains(&e) {
            self.preset = Some(e);
            self.amount.clear();
        } else {
            self.preset = None;
            self.set_custom_from(e);
        }
    }

    /// The chosen expiry, or why the custom one is not valid.
    pub fn value(&self) -> Result<Expiry, Error> {
        if let Some(p) = self.preset {
            return Ok(p);
        }
        let amount: f64 = self
            .amount
            .trim()
            .replace(',', ".")
            .parse()
            .map_err(|_| Error::invalid("Type a number, then pick minutes, hours or days"))?;
        if !amount.is_finite() || amount <= 0.0 {
            return Err(Error::invalid("The link must live at least 1 second"));
        }
        let secs = (amount * self.unit.seconds() as f64).round();
        if secs > Expiry::MAX.as_secs() as f64 {
            return Err(Error::invalid(
                "Links live at most 7 days (the limit of S3 signatures)",
            ));
        }
        Expiry::new(Duration::from_secs(secs.max(1.0) as u64))
    }
}

/// Short chip text: "5 min", "15 min", "1 h", "1 day", "7 days".
pub fn chip_label(e: Expiry) -> String {
    crate::engine::base::wording::format_compact_words(e.duration())
}

/// Draw the picker; true when the choice changed.
pub fn expiry_picker_ui(ui: &mut egui::Ui, picker: &mut ExpiryPicker) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        for p in Expiry::PRESETS {
            let selected = picker.preset == Some(p);
            if ui.selectable_label(selected, chip_label(p)).clicked() && !selected {
                picker.preset = Some(p);
                changed = true;
            }
        }
        ui.separator();
        let custom = picker.preset.is_none();
        if ui.selectable_label(custom, "Custom").clicked() && !custom {
            let current = picker.value().unwrap_or_default();
            picker.preset = None;
            picker.set_custom_from(current);
            changed = true;
        }
    });
    if picker.preset.is_none() {
        ui.horizontal(|ui| {
            let label = ui.label("Lifetime");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut picker.amount)
                        .desired_width(60.0)
                        .hint_text("amount"),
                )
                .labelled_by(label.id);
            changed |= edit.changed();
            egui::ComboBox::from_id_salt("expiry-unit")
                .selected_text(picker.unit.label())
                .show_ui(ui, |ui| {
                    for u in Unit::ALL {
                        changed |= ui
                            .selectable_value(&mut picker.unit, u, u.label())
                            .changed();
                    }
                });
        });
        if let Err(e) = picker.value() {
            ui.colored_label(ui.visuals().error_fg_color, e.message());
        }
    }
    changed
}

impl ExpiryPicker {
    fn set_custom_from(&mut self, e: Expiry) {
        let secs = e.as_secs();
        let unit = Unit::ALL
            .into_iter()
            .rev()
            .find(|u| secs.is_multiple_of(u.seconds()))
            .unwrap_or(Unit::Minutes);
        self.unit = unit;
        self.amount = if secs.is_multiple_of(unit.seconds()) {
            (secs / unit.seconds()).to_string()
        } else {
            let text = format!("{:.2}", secs as f64 / unit.seconds() as f64);
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_custom_values() {
        let mut p = ExpiryPicker::new(Expiry::DEFAULT);
        assert_eq!(p.preset, Some(Expiry::DEFAULT));
        p.preset = None;
        p.amount = "2".into();
        p.unit = Unit::Hours;
        assert_eq!(p.value().map(Expiry::as_secs).ok(), Some(7200));
        p.amount = "8".into();
        p.unit = Unit::Days;
        assert!(p.value().is_err(), "over 7 days");
        p.amount = "zero".into();
        assert!(p.value().is_err());
        let odd = Expiry::new(Duration::from_secs(90 * 60)).expect("90 min");
        let q = ExpiryPicker::new(odd);
        assert_eq!((q.amount.as_str(), q.unit), ("90", Unit::Minutes));
        assert_eq!(chip_label(Expiry::PRESETS[3]), "1 day");
    }
}
