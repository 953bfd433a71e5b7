//! "Request files…": a prefix, a largest size, an optional content type and an expiry; then
//! the `curl` command to send (Copy) and a web page with the upload form (Save page…).

use super::expiry_picker::{ExpiryPicker, expiry_picker_ui};
use crate::engine::S3Uri;
use crate::engine::base::wording::{parse_size, size_as_chosen};
use crate::engine::links::request::{RequestFolder, RequestSpec, UploadRequestForm};
use crate::gui::state::Loadable;

pub struct RequestForm {
    /// `s3://bucket/prefix/`, as typed.
    pub prefix: String,
    pub max_size: String,
    pub content_type: String,
    pub picker: ExpiryPicker,
    /// Files land in a folder of the request's own (recommended), or straight in the prefix.
    pub own_folder: bool,
    /// Straight in the bucket's root: allowed only when this is ticked too.
    pub whole_bucket: bool,
    pub made: Loadable<UploadRequestForm>,
    /// Why the inputs do not make a request.
    pub error: Option<String>,
    /// The service of the connection, when it takes no POST uploads (Cloudflare R2).
    pub refused_by: Option<&'static str>,
}

impl RequestForm {
    pub fn new(prefix: &S3Uri, picker: ExpiryPicker) -> Self {
        Self {
            prefix: prefix.to_string(),
            max_size: "100MB".into(),
            content_type: String::new(),
            picker,
            own_folder: true,
            whole_bucket: false,
            made: Loadable::Idle,
            error: None,
            refused_by: None,
        }
    }

    /// The request the inputs ask for, or what is wrong with them.
    pub fn spec(&self) -> Result<RequestSpec, String> {
        let prefix: S3Uri = self
            .prefix
            .trim()
            .parse()
            .map_err(|e: crate::engine::Error| e.message().to_owned())?;
        let max_size = parse_size(&self.max_size).map_err(|e| e.message().to_owned())?;
        let expires = self.picker.value().map_err(|e| e.message().to_owned())?;
        let t = self.content_type.trim();
        Ok(RequestSpec {
            prefix,
            max_size,
            content_type: (!t.is_empty()).then(|| t.to_owned()),
            expires,
            folder: if self.own_folder {
                RequestFolder::Own
            } else {
                RequestFolder::Prefix {
                    whole_bucket: self.whole_bucket,
                }
            },
        })
    }
}

/// What the user asked.
#[derive(Debug, Clone)]
pub enum RequestAction {
    Create(RequestSpec),
    CopyCommand(String),
    /// Copy the link to the upload page in the bucket.
    CopyPageLink(String),
    SavePage(String),
    Close,
}

pub fn request_window(ctx: &egui::Context, form: &mut RequestForm) -> Option<RequestAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("request-window")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading("Request files");
        ui.label("Anyone with the request can upload files, under their own names, into the folder below: nothing else, nothing larger, not after it expires.");
        ui.add_space(6.0);
        egui::Grid::new("request-grid").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let l = ui.label("Into");
            ui.add(egui::TextEdit::singleline(&mut form.prefix).desired_width(360.0)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Largest file");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut form.max_size).hint_text("500B, 1KB, 100MB, 2GiB").desired_width(120.0))
                    .labelled_by(l.id);
                if let Ok(bytes) = parse_size(&form.max_size) {
                    ui.weak(size_as_chosen(bytes));
                }
            });
            ui.end_row();
            let l = ui.label("Content type");
            ui.add(egui::TextEdit::singleline(&mut form.content_type).hint_text("any (or image/png)").desired_width(200.0))
                .labelled_by(l.id);
            ui.end_row();
        });
        folder_choice_ui(ui, form);
        ui.label(egui::RichText::new("Works for").strong());
        expiry_picker_ui(ui, &mut form.picker);
        if let Some(e) = &form.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.add_space(6.0);
        if let Some(service) = form.refused_by {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{service} does not take browser-form (POST) uploads (it answers 501): an upload request cannot work on this connection."),
            );
        }
        if ui.add_enabled(form.refused_by.is_none(), egui::Button::new("Create request")).clicked() {
            match form.spec() {
                Ok(spec) => {
                    form.error = None;
                    action = Some(RequestAction::Create(spec));
                }
                Err(e) => form.error = Some(e),
            }
        }
        match &form.made {
            Loadable::Ready(made) => {
                if let Some(a) = made_ui(ui, made) {
                    action = Some(a);
                }
            }
            Loadable::Loading => {
                ui.spinner();
            }
            Loadable::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.message());
            }
            Loadable::Idle => {}
        }
        ui.separator();
        if ui.button("Close").clicked() {
            action = Some(RequestAction::Close);
        }
    });
    if modal.should_close() {
        action = Some(RequestAction::Close);
    }
    action
}

/// Where the request's files land: a folder of its own (the default), or — said plainly what
/// that allows — the folder itself.
fn folder_choice_ui(ui: &mut egui::Ui, form: &mut RequestForm) {
    ui.checkbox(&mut form.own_folder, "A folder of its own for this request (recommended)")
        .on_hover_text("Files land in a new folder below the one chosen, named by the date and a random part, so recipients can replace nothing already there");
    if !form.own_folder {
        let at_root = form
            .prefix
            .trim()
            .trim_start_matches("s3://")
            .trim_end_matches('/')
            .split_once('/')
            .is_none();
        ui.colored_label(
            super::share_dialog::AMBER,
            if at_root {
                "⚠ Files land straight in the bucket: anyone with the request can replace any object in it, and every link to that object then serves their file."
            } else {
                "⚠ Files land straight in this folder: anyone with the request can replace any object in it, and every link to that object then serves their file."
            },
        );
        if at_root {
            ui.checkbox(
                &mut form.whole_bucket,
                "I allow replacing any object in the bucket",
            );
        }
    }
}

/// A request made: what it allows, the command, the page link, and their buttons.
fn made_ui(ui: &mut egui::Ui, made: &UploadRequestForm) -> Option<RequestAction> {
    let mut action = None;
    ui.add_space(6.0);
    ui.label(made.summary());
    let reach = made.reach();
    if made.folder == RequestFolder::Own {
        ui.weak(reach);
    } else {
        ui.colored_label(super::share_dialog::AMBER, format!("⚠ {reach}"));
    }
    if made.cut_short {
        ui.colored_label(
            super::share_dialog::AMBER,
            format!("⚠ {}", crate::engine::base::wording::REQUEST_CUT_SHORT),
        );
    }
    let command = made.curl_command();
    let mut shown = command.as_str();
    ui.add(
        egui::TextEdit::multiline(&mut shown)
            .font(egui::TextStyle::Monospace)
            .desired_rows(3)
            .desired_width(f32::INFINITY),
    );
    ui.weak("The recipient replaces <FILE> with their file's path.");
    if let Some(note) = &made.page_note {
        ui.colored_label(super::share_dialog::AMBER, format!("⚠ {note}"));
    }
    ui.horizontal(|ui| {
        if let Some((_, page)) = &made.page
            && ui
                .button("Copy page link")
                .on_hover_text("A link to the upload page (in the bucket, ending with the request): send it, the recipient opens it in a browser")
                .clicked()
        {
            action = Some(RequestAction::CopyPageLink(page.url().to_owned()));
        }
        if ui.button("Copy command").clicked() {
            action = Some(RequestAction::CopyCommand(command.clone()));
        }
        if ui.button("Save page…").on_hover_text("A web page with the upload form, to send").clicked() {
            action = Some(RequestAction::SavePage(made.html_page()));
        }
    });
    action
}
