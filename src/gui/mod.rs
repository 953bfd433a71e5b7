//! The desktop app. For now a window that names the connection and points at the CLI; the
//! browser, drag-in sharing and share dialog are built on the same engine next.

use crate::cli::GlobalArgs;

/// Open the window and run until it is closed.
pub fn run(global: &GlobalArgs) -> anyhow::Result<()> {
    let label = global
        .endpoint
        .clone()
        .or_else(|| global.profile.as_ref().map(|p| format!("profile {p}")))
        .unwrap_or_else(|| "AWS (default credentials)".into());
    let title = format!("s3share — {label}");
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_inner_size([640.0, 360.0]),
        ..Default::default()
    };
    eframe::run_native(
        "s3share",
        options,
        Box::new(|_cc| Ok(Box::new(Placeholder))),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

struct Placeholder;

impl eframe::App for Placeholder {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("s3share");
            ui.label("The desktop app is being built. Meanwhile the command line does it all:");
            ui.monospace("s3share share s3://bucket/key --expires 15m");
            ui.monospace("s3share --help");
        });
    }
}
