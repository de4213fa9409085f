//! The Socket Lab window (eframe/egui). It never touches a socket: it sends commands to engine
//! sessions and draws what their events say.
//!
//! - [`app`]: the eframe App: menus, the tile layout of every session, one drain budget per frame;
//!   its persisted state is [`workspace::AppState`].
//! - [`session`]: what every session has and the frame it is drawn in, once for all kinds;
//!   [`roles`]: what a TCP client, TCP server, UDP client and UDP server do differently.
//! - [`tabs`]: the Lookup tab.
//! - [`widgets`]: validated fields, the message editor, the data log, the transcript.
//! - [`text`]: every user-visible string; [`text_teach`] those of the teaching features;
//!   [`text_tools`] those of the device-testing tools (framing, templates, rules, scripts,
//!   generator).
//! - Teaching: the Lookup tab ([`tabs::lookup`]), the demos ([`demos`]) and the Learn tab with the
//!   "TCP or UDP?" guide ([`guide`]), presentation mode and the menus ([`presentation`]); the
//!   explained transcript, step checklist, sequence diagram and chunks-or-lines view live in
//!   [`widgets`].

pub mod activity;
pub mod app;
pub mod clock;
pub mod demo_id;
pub mod demos;
pub mod dialogs;
pub mod guide;
pub mod icon;
pub mod memory;
pub mod presentation;
pub mod roles;
pub mod session;
pub mod tabs;
pub mod text;
pub mod text_groups;
pub mod text_teach;
pub mod text_tls;
pub mod text_tools;
pub mod theme;
pub mod widgets;
pub mod workspace;

pub use app::{Pane, SocketLabApp};
pub use workspace::AppState;

/// Set (to anything) to have the window print [`FIRST_FRAME_LINE`] once its first frame has been
/// painted, and then close: the start-up benchmark (`benches/engine/startup.rs`) times process
/// start to that line. Not a user setting, so not a command-line flag.
pub const FIRST_FRAME_ENV: &str = "SOCKETLAB_EXIT_AFTER_FIRST_FRAME";

/// What the window prints under [`FIRST_FRAME_ENV`].
pub const FIRST_FRAME_LINE: &str = "socketlab: first frame painted";

/// The window, and under [`FIRST_FRAME_ENV`] the probe that reports the first painted frame.
struct Window {
    app: SocketLabApp,
    /// Frames begun so far while probing; `None` when not probing.
    probe_frames: Option<u32>,
}

impl eframe::App for Window {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        if let Some(frames) = &mut self.probe_frames {
            // eframe paints a frame after its `ui`; the next frame's `logic` starts only once
            // that painting (and the buffer swap) is done, so the first frame is on screen now.
            if *frames == 1 {
                println!("{FIRST_FRAME_LINE}");
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            *frames += 1;
        }
        eframe::App::logic(&mut self.app, ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.probe_frames.is_some() {
            // Without traffic an idle window paints no second frame; ask for one.
            ui.ctx().request_repaint();
        }
        eframe::App::ui(&mut self.app, ui, frame);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::App::save(&mut self.app, storage);
    }
}

/// Opens the window and runs until it is closed. Settings are restored from the last run (see
/// [`workspace::store`]); `open` is a workspace file to open at once (`socketlab lab.socketlab`,
/// a double click in a file manager). A file that cannot be opened is said in the window, next
/// to its path, and the last sessions are shown instead.
pub fn run(open: Option<std::path::PathBuf>) -> eframe::Result<()> {
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
        Box::new(move |cc| {
            let mut store = workspace::SettingsStore::for_this_user();
            let loaded = store.as_mut().map(workspace::SettingsStore::load);
            let (state, notice) = match loaded {
                Some(loaded) => (loaded.state, loaded.notice),
                None => (
                    AppState::default(),
                    Some(text::NO_SETTINGS_FOLDER.to_owned()),
                ),
            };
            let probe_frames = std::env::var_os(FIRST_FRAME_ENV).map(|_| 0);
            SocketLabApp::setup_context(&cc.egui_ctx);
            let mut app = SocketLabApp::new(state);
            let state = app.state();
            app.files = workspace::files::WorkspaceFiles::new(&state, store, notice);
            let ctx = cc.egui_ctx.clone();
            let wake = move || ctx.request_repaint();
            if let Err(problem) =
                workspace::ending::install(&app.files.end, wake, workspace::ending::GRACE)
            {
                app.files.tell(problem);
            }
            if let Some(path) = open {
                app.open_workspace(&path);
            }
            Ok(Box::new(Window { app, probe_frames }))
        }),
    )
}
