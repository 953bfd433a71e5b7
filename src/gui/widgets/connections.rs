//! The connections picker and the "Add connection" form.

use crate::engine::client::aws_files::{NewProfile, ProfileInfo};
use crate::engine::client::presets::{PRESETS, Preset};
use crate::engine::{ConnectionSettings, Error};
use crate::gui::backend::ConnectTarget;
use s3share_core::Secret;

/// One entry of the picker.
#[derive(Debug, Clone)]
pub struct Choice {
    pub label: String,
    pub detail: &'static str,
    pub target: ConnectTarget,
}

/// The local store, the environment's credentials, each profile, each saved connection.
pub fn choices(
    env_credentials: bool,
    profiles: &[ProfileInfo],
    saved: &[ConnectionSettings],
) -> Vec<Choice> {
    let mut out = vec![Choice {
        label: crate::gui::backend::LOCAL_LABEL.into(),
        detail: "on this computer",
        target: ConnectTarget::Local,
    }];
    if env_credentials {
        out.push(Choice {
            label: "Environment credentials".into(),
            detail: "AWS_ACCESS_KEY_ID",
            target: ConnectTarget::Settings(ConnectionSettings::default()),
        });
    }
    for s in saved {
        out.push(Choice {
            label: s.label(),
            detail: "saved",
            target: ConnectTarget::Settings(s.clone()),
        });
    }
    for p in profiles {
        // A saved connection that uses this profile already stands for it.
        if saved
            .iter()
            .any(|s| s.profile.as_deref() == Some(p.name.as_str()))
        {
            continue;
        }
        out.push(Choice {
            label: format!("profile {}", p.name),
            detail: if p.sso { "SSO" } else { "profile" },
            target: ConnectTarget::Settings(ConnectionSettings {
                profile: Some(p.name.clone()),
                ..ConnectionSettings::default()
            }),
        });
    }
    out
}

/// What the user picked.
pub enum Picked {
    Connect(ConnectTarget),
    AddConnection,
}

pub fn picker_ui(
    ui: &mut egui::Ui,
    current: &str,
    choices: impl FnOnce() -> Vec<Choice>,
) -> Option<Picked> {
    let mut picked = None;
    egui::ComboBox::from_id_salt("connection")
        .selected_text(format!("🔌 {current}"))
        .width(220.0)
        .show_ui(ui, |ui| {
            for c in choices() {
                let text = format!("{}  ({})", c.label, c.detail);
                if ui.selectable_label(c.label == current, text).clicked() {
                    picked = Some(Picked::Connect(c.target.clone()));
                }
            }
            ui.separator();
            if ui.button("Add connection…").clicked() {
                picked = Some(Picked::AddConnection);
            }
        })
        .response
        .on_hover_text("Connection");
    picked
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    ExistingProfile,
    AccessKey,
}

/// The "Add connection" form.
pub struct AddConnectionForm {
    /// The service picked, whose template filled the fields.
    pub preset: Option<&'static Preset>,
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub path_style: bool,
    pub source: KeySource,
    pub profile: String,
    pub access_key_id: String,
    pub secret: String,
    pub error: Option<String>,
    pub saving: bool,
}

impl Default for AddConnectionForm {
    fn default() -> Self {
        Self {
            preset: None,
            name: String::new(),
            endpoint: String::new(),
            region: String::new(),
            path_style: false,
            source: KeySource::AccessKey,
            profile: String::new(),
            access_key_id: String::new(),
            secret: String::new(),
            error: None,
            saving: false,
        }
    }
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl AddConnectionForm {
    /// Fill the endpoint, region and addressing from `preset` (the name only if empty).
    pub fn apply(&mut self, preset: &'static Preset) {
        self.preset = Some(preset);
        preset.endpoint.clone_into(&mut self.endpoint);
        preset.region.clone_into(&mut self.region);
        self.path_style = preset.path_style;
        if self.name.trim().is_empty() {
            self.name = preset.name.to_lowercase().replace(' ', "-");
        }
    }

    /// The connection to save and the profile to write, or what is missing.
    pub fn build(&self) -> Result<(ConnectionSettings, Option<NewProfile>), Error> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("Give the connection a name"));
        }
        if let Some(e) = opt(&self.endpoint) {
            if let Some(hole) = Preset::placeholder(&e) {
                return Err(Error::invalid(format!(
                    "Fill in {hole} in the endpoint URL"
                )));
            }
            crate::engine::client::endpoint::Endpoint::parse(&e, false)?;
        }
        if let Some(hole) = Preset::placeholder(&self.region) {
            return Err(Error::invalid(format!("Fill in {hole} in the region")));
        }
        let (profile_name, new_profile) = match self.source {
            KeySource::ExistingProfile => {
                let p =
                    opt(&self.profile).ok_or_else(|| Error::invalid("Pick the profile to use"))?;
                (p, None)
            }
            KeySource::AccessKey => {
                let id = opt(&self.access_key_id)
                    .ok_or_else(|| Error::invalid("Enter the access key ID"))?;
                if self.secret.trim().is_empty() {
                    return Err(Error::invalid("Enter the secret access key"));
                }
                let profile = name.to_owned();
                (
                    profile.clone(),
                    Some(NewProfile {
                        name: profile,
                        region: opt(&self.region),
                        endpoint_url: opt(&self.endpoint),
                        keys: Some((id, Secret::new(self.secret.trim()))),
                    }),
                )
            }
        };
        Ok((
            ConnectionSettings {
                name: Some(name.to_owned()),
                profile: Some(profile_name),
                endpoint: opt(&self.endpoint),
                region: opt(&self.region),
                path_style: self.path_style,
                allow_http: false,
            },
            new_profile,
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    Save,
    Cancel,
}

pub fn add_connection_ui(
    ctx: &egui::Context,
    form: &mut AddConnectionForm,
    profiles: &[ProfileInfo],
) -> Option<FormAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("add-connection")).show(ctx, |ui| {
        ui.set_width(460.0);
        ui.heading("Add connection");
        ui.weak("Keys are written as a new profile to ~/.aws/credentials, as `aws configure` does, so the AWS CLI can use them too. s3share's own settings never hold secrets.");
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let label = ui.label("Service");
            let shown = form.preset.map_or("choose to fill in…", |p| p.name);
            egui::ComboBox::from_id_salt("preset")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for preset in &PRESETS {
                        if ui
                            .selectable_label(form.preset == Some(preset), preset.name)
                            .clicked()
                        {
                            form.apply(preset);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if let Some(p) = form.preset {
            ui.weak(p.note);
        }
        ui.add_space(4.0);
        egui::Grid::new("add-connection-grid")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                let field = |ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str, password: bool| {
                    let l = ui.label(label);
                    ui.add(
                        egui::TextEdit::singleline(value)
                            .hint_text(hint.to_owned())
                            .password(password)
                            .desired_width(280.0),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                };
                field(ui, "Name", &mut form.name, "work-minio", false);
                field(ui, "Endpoint URL", &mut form.endpoint, "empty for AWS; https://minio.example.com", false);
                field(ui, "Region", &mut form.region, "us-east-1", false);
                ui.label("");
                ui.checkbox(&mut form.path_style, "Path-style addressing (MinIO, Ceph, Garage…)");
                ui.end_row();
                ui.label("Credentials");
                ui.horizontal(|ui| {
                    ui.radio_value(&mut form.source, KeySource::AccessKey, "Access key");
                    ui.radio_value(&mut form.source, KeySource::ExistingProfile, "Existing profile");
                });
                ui.end_row();
                match form.source {
                    KeySource::AccessKey => {
                        field(ui, "Access key ID", &mut form.access_key_id, "AKIA…", false);
                        field(ui, "Secret access key", &mut form.secret, "secret", true);
                    }
                    KeySource::ExistingProfile => {
                        ui.label("Profile");
                        egui::ComboBox::from_id_salt("existing-profile")
                            .selected_text(if form.profile.is_empty() { "choose…" } else { form.profile.as_str() })
                            .show_ui(ui, |ui| {
                                for p in profiles {
                                    ui.selectable_value(&mut form.profile, p.name.clone(), &p.name);
                                }
                            });
                        ui.end_row();
                    }
                }
            });
        if let Some(e) = &form.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            if form.saving {
                ui.spinner();
            } else if ui.button("Save and connect").clicked() {
                action = Some(FormAction::Save);
            }
            if ui.button("Cancel").clicked() {
                action = Some(FormAction::Cancel);
            }
        });
    });
    if modal.should_close() && action.is_none() {
        action = Some(FormAction::Cancel);
    }
    action
}
