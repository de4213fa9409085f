//! The Socket Lab window (eframe/egui). It never touches a socket: it sends commands to engine
//! sessions and draws what their events say.

pub mod icon;

/// Opens the window and runs until it is closed.
pub fn run() -> eframe::Result<()> {
    eframe::run_native(
        "Socket Lab",
        eframe::NativeOptions {
            viewport: icon::with_app_identity(egui::ViewportBuilder::default()),
            ..Default::default()
        },
        Box::new(|_cc| Ok(Box::new(Placeholder))),
    )
}

struct Placeholder;

impl eframe::App for Placeholder {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ui.label("Socket Lab");
    }
}
