//! The Socket Lab window (eframe/egui). It never touches a socket: it sends commands to engine
//! sessions and draws what their events say.
//!
//! - [`app`]: the eframe App, its persisted [`app::Settings`], bounded draining per frame.
//! - [`tabs`]: one view model per role (TCP client and server, UDP client and server), and Lookup.
//! - [`widgets`]: validated fields, the message editor, the data log, the transcript.
//! - [`text`]: every user-visible string; [`text_teach`] those of the teaching features.
//! - Teaching: the Lookup tab ([`tabs::lookup`]), the demos ([`demos`]) and the Learn tab with the
//!   "TCP or UDP?" guide ([`guide`]), presentation mode and the menus ([`presentation`]); the
//!   explained transcript, step checklist, sequence diagram and chunks-or-lines view live in
//!   [`widgets`].

pub mod activity;
pub mod app;
pub mod demos;
pub mod dialogs;
pub mod guide;
pub mod icon;
pub mod presentation;
pub mod tabs;
pub mod text;
pub mod text_teach;
pub mod widgets;

pub use app::{Settings, SocketLabApp, TabId};

/// Opens the window and runs until it is closed. Settings are restored from the last run.
pub fn run() -> eframe::Result<()> {
    let options = eframe::NativeOptions {
        viewport: icon::with_app_identity(egui::ViewportBuilder::default())
            .with_title(text::APP_TITLE)
            .with_inner_size([1200.0, 800.0])
            .with_min_inner_size([720.0, 480.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        text::APP_TITLE,
        options,
        Box::new(|cc| {
            let settings: Settings = cc
                .storage
                .and_then(|storage| eframe::get_value(storage, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(SocketLabApp::new(settings)))
        }),
    )
}
