//! The share dialog: expiry, real lifetime, download name, the link, Copy, QR code, link check;
//! for a folder or several objects, one link to a share page.

use std::time::SystemTime;

use super::expiry_picker::{ExpiryPicker, expiry_picker_ui};
use crate::engine::base::s3uri::PAGES_PREFIX;
use crate::engine::base::wording::expires_line;
use crate::engine::{PageRequest, S3Uri, ShareLink, ShareRequest};
use crate::gui::backend::ShareJob;
use crate::gui::state::Loadable;

/// Amber, readable on light and dark backgrounds.
pub const AMBER: egui::Color32 = egui::Color32::from_rgb(0xd9, 0x8a, 0x00);

pub struct ShareDialog {
    pub object: S3Uri,
    /// Shared as one page listing these (a folder, or several objects); empty for one object.
    pub page: Vec<S3Uri>,
    pub picker: ExpiryPicker,
    pub download_name: String,
    /// Which signing the shown link belongs to (older answers are ignored).
    pub ticket: u64,
    pub link: Loadable<ShareLink>,
    pub check: Loadable<()>,
    /// The bucket is public: the object can be fetched without a link.
    pub public_bucket: bool,
    qr: Option<(String, QrImage)>,
}

/// What the user asked of the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareDialogAction {
    /// Sign again (expiry or name changed).
    Sign,
    Copy,
    Close,
}

impl ShareDialog {
    pub fn new(object: S3Uri, picker: ExpiryPicker) -> Self {
        Self {
            object,
            page: Vec::new(),
            picker,
            download_name: String::new(),
            ticket: 0,
            link: Loadable::Idle,
            check: Loadable::Idle,
            public_bucket: false,
            qr: None,
        }
    }

    /// The dialog for one link to a page listing `items` (folders and objects of one bucket).
    pub fn for_page(items: Vec<S3Uri>, picker: ExpiryPicker) -> Self {
        let first = items.first().cloned().unwrap_or_else(|| S3Uri::new("", ""));
        let mut d = Self::new(first, picker);
        d.page = items;
        d
    }

    /// What to sign now, or why not (an invalid custom expiry).
    pub fn request(&self) -> Option<ShareJob> {
        let expires = self.picker.value().ok()?;
        if !self.page.is_empty() {
            return Some(ShareJob::Page(PageRequest {
                items: self.page.clone(),
                expires,
                now: None,
            }));
        }
        let name = self.download_name.trim();
        Some(ShareJob::Link(ShareRequest {
            object: self.object.clone(),
            expires,
            download_name: (!name.is_empty()).then(|| name.to_owned()),
            now: None,
        }))
    }

    /// What the link gives access to, in a line.
    fn subject(&self) -> String {
        match self.page.as_slice() {
            [] => self.object.to_string(),
            [one] => format!("{one} (every file in it)"),
            [first, ..] => format!("{} items in s3://{}/", self.page.len(), first.bucket),
        }
    }
}

/// The amber note when temporary credentials end the link early, naming the real time.
pub fn cut_short_note(link: &ShareLink) -> Option<String> {
    link.cut_short().then(|| {
        crate::engine::base::wording::cut_short_note(
            link.signed_at,
            link.signed_at + link.requested.duration(),
            link.credentials_expire_at.unwrap_or(link.expires_at),
        )
    })
}

/// Draw the dialog; returns what the user asked.
pub fn share_dialog_ui(
    ctx: &egui::Context,
    dialog: &mut ShareDialog,
    now: SystemTime,
) -> Option<ShareDialogAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::unique("share-dialog")).show(ctx, |ui| {
        ui.set_width(520.0);
        let page = !dialog.page.is_empty();
        ui.heading(if page { "Share as one page" } else { "Share a link" });
        ui.label(egui::RichText::new(dialog.subject()).monospace())
            .on_hover_text(if page {
                "One link to a page in the bucket listing each file with its own link; all end together"
            } else {
                "The object the link gives access to"
            });
        if page {
            ui.label(
                egui::RichText::new(format!(
                    "The page is written to {PAGES_PREFIX} in the bucket and deleted once it has expired."
                ))
                .weak(),
            );
        }
        if dialog.public_bucket {
            ui.colored_label(
                AMBER,
                "⚠ This bucket is public: anyone can fetch this object without a link. A link works, but is not needed.",
            );
        }
        ui.add_space(8.0);

        ui.label(egui::RichText::new("Link lifetime").strong());
        let picked = expiry_picker_ui(ui, &mut dialog.picker) && dialog.picker.value().is_ok();
        if picked && !page {
            action = Some(ShareDialogAction::Sign);
        }
        if page && make_page_button(ui, dialog) {
            action = Some(ShareDialogAction::Sign);
        }
        match &dialog.link {
            Loadable::Ready(link) => {
                ui.label(expires_line(now, link.expires_at));
                if let Some(note) = cut_short_note(link) {
                    ui.colored_label(AMBER, format!("⚠ {note}"));
                }
                if let Some(cut) = link.policy_cut_warning() {
                    ui.colored_label(AMBER, format!("⚠ The link ends early: {cut}."));
                }
                for note in &link.policy_notes {
                    ui.colored_label(AMBER, format!("⚠ The bucket policy: {note}."));
                }
            }
            Loadable::Loading => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Signing…");
                });
            }
            Loadable::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.message());
            }
            Loadable::Idle => {}
        }
        ui.add_space(8.0);

        if !page {
            ui.horizontal(|ui| {
                let label = ui.label("Download name");
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(&mut dialog.download_name)
                            .hint_text(dialog.object.file_name())
                            .desired_width(300.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("The file name the recipient's browser saves (optional)");
                if edit.lost_focus() {
                    action = Some(ShareDialogAction::Sign);
                }
            });
            ui.add_space(8.0);
        }

        if let Some(a) = link_section(ui, dialog) {
            action = Some(a);
        }
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button("Close").clicked() {
                action = Some(ShareDialogAction::Close);
            }
        });
    });
    if modal.should_close() {
        action = Some(ShareDialogAction::Close);
    }
    action
}

/// A page is an object written into the bucket and a live link: made when asked (this button),
/// not on every change of lifetime. True when clicked.
fn make_page_button(ui: &mut egui::Ui, dialog: &ShareDialog) -> bool {
    if matches!(dialog.link, Loadable::Loading) {
        return false;
    }
    let label = if matches!(dialog.link, Loadable::Ready(_)) {
        "Make a new page with this lifetime"
    } else {
        "Make the page"
    };
    ui.add_enabled(dialog.picker.value().is_ok(), egui::Button::new(label))
        .clicked()
}

/// The link, Copy, the link check and the QR code, once a link is signed.
fn link_section(ui: &mut egui::Ui, dialog: &mut ShareDialog) -> Option<ShareDialogAction> {
    let Loadable::Ready(link) = &dialog.link else {
        return None;
    };
    let mut action = None;
    {
        let url = link.url();
        ui.horizontal(|ui| {
            let label = ui.label("Link");
            let mut shown = url;
            ui.add(
                egui::TextEdit::singleline(&mut shown)
                    .desired_width(360.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
            if ui
                .add(egui::Button::new("Copy").min_size(egui::vec2(64.0, 0.0)))
                .on_hover_text("Copy the link to the clipboard")
                .clicked()
            {
                action = Some(ShareDialogAction::Copy);
            }
        });
        ui.add_space(4.0);
        match &dialog.check {
            Loadable::Loading => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Checking the link…");
                });
            }
            Loadable::Ready(()) => {
                ui.colored_label(
                    egui::Color32::from_rgb(0x2e, 0x9e, 0x4f),
                    "✔ Checked: the link works",
                );
            }
            Loadable::Failed(e) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("✖ The link does not work: {}", e.message()),
                );
            }
            Loadable::Idle => {}
        }
        ui.add_space(8.0);
        let url = url.to_owned();
        let qr = match &dialog.qr {
            Some((for_url, image)) if *for_url == url => Some(image),
            _ => {
                dialog.qr = QrImage::new(&url).map(|image| (url, image));
                dialog.qr.as_ref().map(|(_, image)| image)
            }
        };
        match qr {
            Some(image) => {
                ui.vertical_centered(|ui| image.ui(ui, 220.0));
            }
            None => {
                ui.weak("The link is too long for a QR code.");
            }
        }
    }
    action
}

/// A QR code as dark/light modules.
pub struct QrImage {
    width: usize,
    dark: Vec<bool>,
}

impl QrImage {
    pub fn new(text: &str) -> Option<Self> {
        // Low error correction: links are long, and screens are clean.
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
            .ok()?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Some(Self { width, dark })
    }

    /// Paint it `size` points wide with a quiet zone, black on white whatever the theme.
    pub fn ui(&self, ui: &mut egui::Ui, size: f32) -> egui::Response {
        let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, egui::Color32::WHITE);
        let quiet = 4.0;
        let module = size / (self.width as f32 + 2.0 * quiet);
        let origin = rect.min + egui::vec2(quiet * module, quiet * module);
        for (i, dark) in self.dark.iter().enumerate() {
            if *dark {
                let (x, y) = ((i % self.width) as f32, (i / self.width) as f32);
                let min = origin + egui::vec2(x * module, y * module);
                painter.rect_filled(
                    egui::Rect::from_min_size(min, egui::vec2(module, module)),
                    0.0,
                    egui::Color32::BLACK,
                );
            }
        }
        response.on_hover_text("Scan to open the link on a phone")
    }
}
