//! The menu bar (File, New, Layout, Demos, View), the window's shortcuts, and the two small
//! dialogs (confirm closing a session with a log, rename a session).

use egui::{Key, KeyboardShortcut, Modifiers};

use super::{Pane, SocketLabApp};
use crate::gui::demos::DemoId;
use crate::gui::presentation;
use crate::gui::roles::{TcpClient, TcpServer};
use crate::gui::session::{SessionKind, SessionTab, Tab};
use crate::gui::text as t;

/// Ctrl+T (Cmd+T): a new session.
pub const NEW_SESSION_SHORTCUT: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND, Key::T);
/// Ctrl+S (Cmd+S): save the workspace.
pub const SAVE_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// Ctrl+O (Cmd+O): open a workspace.
pub const OPEN_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
/// Ctrl+Q (Cmd+Q): quit.
pub const QUIT_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);

/// A layout preset of the Layout menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Every tab in one stack, one shown at a time.
    OneAtATime,
    /// A TCP server and a TCP client on the same address, next to each other.
    ServerAndClient,
}

/// What the File menu (and the other menus) asked for; the window carries it out in
/// [`SocketLabApp::file_action`].
///
/// The workspace store adds its items here (Save workspace, Open workspace, Recent): a variant
/// each, drawn in [`file_menu_workspace_items`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAction {
    /// Open a new session of this kind.
    NewSession(SessionKind),
    /// Start every session whose fields are valid.
    StartAll,
    /// Close the window (settings are saved).
    Quit,
    /// Apply a layout preset.
    Layout(Layout),
    /// Start a demo in the Learn tab.
    Demo(DemoId),
    /// Save the workspace to its file (the dialog when it has none).
    SaveWorkspace,
    /// Save the workspace to a file chosen in the dialog.
    SaveWorkspaceAs,
    /// Open a workspace file chosen in the dialog.
    OpenWorkspace,
    /// Open this recent workspace file.
    OpenRecent(std::path::PathBuf),
}

/// Draws the menu bar; returns what was picked.
pub fn menu_bar(ui: &mut egui::Ui, app: &mut SocketLabApp) -> Vec<FileAction> {
    let mut picked = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.strong(t::APP_TITLE);
        ui.separator();
        ui.menu_button(t::MENU_FILE, |ui| {
            ui.menu_button(t::NEW_SESSION, |ui| new_items(ui, &mut picked));
            if ui
                .button(t::START_ALL)
                .on_hover_text(t::START_ALL_HINT)
                .clicked()
            {
                picked.push(FileAction::StartAll);
                ui.close();
            }
            file_menu_workspace_items(ui, app, &mut picked);
            ui.separator();
            let quit =
                egui::Button::new(t::QUIT).shortcut_text(ui.ctx().format_shortcut(&QUIT_SHORTCUT));
            if ui.add(quit).clicked() {
                picked.push(FileAction::Quit);
                ui.close();
            }
        });
        ui.menu_button(t::MENU_NEW, |ui| new_items(ui, &mut picked))
            .response
            .on_hover_text(t::MENU_NEW_HINT);
        ui.menu_button(t::MENU_LAYOUT, |ui| {
            for (layout, label, hint) in [
                (Layout::OneAtATime, t::LAYOUT_ONE, t::LAYOUT_ONE_HINT),
                (Layout::ServerAndClient, t::LAYOUT_PAIR, t::LAYOUT_PAIR_HINT),
            ] {
                if ui.button(label).on_hover_text(hint).clicked() {
                    picked.push(FileAction::Layout(layout));
                    ui.close();
                }
            }
        });
        if let Some(demo) = presentation::menus(ui, &mut app.view) {
            picked.push(FileAction::Demo(demo));
        }
    });
    picked
}

/// The File menu's workspace items: Save (Ctrl+S), Save as…, Open… (Ctrl+O) and Recent.
pub fn file_menu_workspace_items(
    ui: &mut egui::Ui,
    app: &SocketLabApp,
    picked: &mut Vec<FileAction>,
) {
    ui.separator();
    let items = [
        (
            FileAction::SaveWorkspace,
            t::SAVE_WORKSPACE,
            Some(&SAVE_SHORTCUT),
        ),
        (FileAction::SaveWorkspaceAs, t::SAVE_WORKSPACE_AS, None),
        (
            FileAction::OpenWorkspace,
            t::OPEN_WORKSPACE,
            Some(&OPEN_SHORTCUT),
        ),
    ];
    for (action, label, shortcut) in items {
        let mut button = egui::Button::new(label);
        if let Some(shortcut) = shortcut {
            button = button.shortcut_text(ui.ctx().format_shortcut(shortcut));
        }
        if ui.add(button).clicked() {
            picked.push(action);
            ui.close();
        }
    }
    ui.add_enabled_ui(!app.files.recent.is_empty(), |ui| {
        ui.menu_button(t::RECENT_WORKSPACES, |ui| {
            for path in &app.files.recent {
                if ui.button(path.display().to_string()).clicked() {
                    picked.push(FileAction::OpenRecent(path.clone()));
                    ui.close();
                }
            }
        });
    });
}

fn new_items(ui: &mut egui::Ui, picked: &mut Vec<FileAction>) {
    for kind in SessionKind::ALL {
        let mut button = egui::Button::new(kind.label());
        if kind == SessionKind::TcpClient {
            button = button.shortcut_text(ui.ctx().format_shortcut(&NEW_SESSION_SHORTCUT));
        }
        if ui.add(button).on_hover_text(kind.hint()).clicked() {
            picked.push(FileAction::NewSession(kind));
            ui.close();
        }
    }
}

/// The window's shortcuts: Ctrl+T opens a session of the kind shown (a TCP client when none is),
/// Ctrl+Q quits.
pub fn shortcuts(ctx: &egui::Context, shown: Option<SessionKind>) -> Option<FileAction> {
    ctx.input_mut(|i| {
        if i.consume_shortcut(&QUIT_SHORTCUT) {
            Some(FileAction::Quit)
        } else if i.consume_shortcut(&SAVE_SHORTCUT) {
            Some(FileAction::SaveWorkspace)
        } else if i.consume_shortcut(&OPEN_SHORTCUT) {
            Some(FileAction::OpenWorkspace)
        } else if i.consume_shortcut(&NEW_SESSION_SHORTCUT) {
            Some(FileAction::NewSession(
                shown.unwrap_or(SessionKind::TcpClient),
            ))
        } else {
            None
        }
    })
}

/// The confirm-close and rename dialogs, while one is open.
pub fn dialogs(ctx: &egui::Context, app: &mut SocketLabApp) {
    if let Some((id, unsaved)) = app.confirm_close {
        let (title, running) = app
            .session(id)
            .map(|s| (s.title(), s.is_running()))
            .unwrap_or_default();
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("confirm-close")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading(t::close_session_title(&title));
            ui.add(egui::Label::new(t::close_session_loses(&unsaved, running)).wrap());
            ui.horizontal(|ui| {
                if ui.button(t::CLOSE_SESSION).clicked() {
                    answer = Some(true);
                }
                if ui.button(t::CANCEL).clicked() {
                    answer = Some(false);
                }
            });
        });
        if modal.should_close() && answer.is_none() {
            answer = Some(false);
        }
        match answer {
            Some(true) => app.close_session(id),
            Some(false) => app.confirm_close = None,
            None => {}
        }
    }
    if let Some((id, mut name)) = app.renaming.take() {
        let mut done = None;
        let modal = egui::Modal::new(egui::Id::unique("rename-session")).show(ctx, |ui| {
            ui.heading(t::RENAME_TITLE);
            let label = ui.label(t::SESSION_NAME);
            let edit = ui.add(egui::TextEdit::singleline(&mut name).desired_width(320.0));
            let edit = edit.labelled_by(label.id);
            edit.request_focus();
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.horizontal(|ui| {
                if ui.button(t::RENAME).clicked() || entered {
                    done = Some(true);
                }
                if ui.button(t::CANCEL).clicked() {
                    done = Some(false);
                }
            });
        });
        if modal.should_close() && done.is_none() {
            done = Some(false);
        }
        match done {
            Some(true) => app.rename(id, &name),
            Some(false) => {}
            None => app.renaming = Some((id, name)),
        }
    }
}

impl SocketLabApp {
    /// Lays the tabs out as `layout` says.
    pub fn apply_layout(&mut self, layout: Layout) {
        match layout {
            Layout::OneAtATime => {
                let shown = self.active_session().map(Tab::id);
                self.tree = self.stacked_tree();
                if let Some(id) = shown {
                    self.focus(Pane::Session(id));
                }
            }
            Layout::ServerAndClient => {
                let (server, client) = self.server_and_client();
                self.side_by_side(server, client);
            }
        }
    }

    /// A TCP server and a TCP client on the same address: the shown server (or the first one,
    /// or a new one) and an idle client aimed at it (or a new one).
    fn server_and_client(&mut self) -> (u64, u64) {
        let shown = self
            .active_session()
            .filter(|s| s.kind() == SessionKind::TcpServer)
            .map(Tab::id);
        let server = shown
            .or_else(|| self.sessions_of::<TcpServer>().next().map(|s| s.id))
            .unwrap_or_else(|| self.new_session(SessionKind::TcpServer));
        let (host, port) = self
            .session_as::<TcpServer>(server)
            .map(|s| (s.settings.bind.clone(), s.settings.port.clone()))
            .unwrap_or_default();
        let host = host
            .parse()
            .map(|ip| crate::gui::roles::reachable_host(std::net::SocketAddr::new(ip, 0)))
            .unwrap_or(host);
        let aimed = |c: &&SessionTab<TcpClient>| c.settings.host == host && c.settings.port == port;
        let client = self
            .sessions_of::<TcpClient>()
            .filter(aimed)
            .find(|c| !c.is_running())
            .or_else(|| self.sessions_of::<TcpClient>().find(aimed))
            .map(|c| c.id);
        let client = client.unwrap_or_else(|| {
            let id = self.new_session(SessionKind::TcpClient);
            if let Some(c) = self.session_as_mut::<TcpClient>(id) {
                c.settings.host.clone_from(&host);
                c.settings.port.clone_from(&port);
            }
            id
        });
        (server, client)
    }

    /// `left` and `right` next to each other; every other tab stacks behind `left`.
    fn side_by_side(&mut self, left: u64, right: u64) {
        let mut tiles = egui_tiles::Tiles::default();
        let mut left_stack = vec![tiles.insert_pane(Pane::Session(left))];
        for pane in self.all_panes() {
            if pane != Pane::Session(left) && pane != Pane::Session(right) {
                left_stack.push(tiles.insert_pane(pane));
            }
        }
        let right_stack = vec![tiles.insert_pane(Pane::Session(right))];
        let left_tabs = tiles.insert_tab_tile(left_stack);
        let right_tabs = tiles.insert_tab_tile(right_stack);
        let root = tiles.insert_horizontal_tile(vec![left_tabs, right_tabs]);
        self.tree = egui_tiles::Tree::new(super::tree_id(), root, tiles);
        self.focus(Pane::Session(left));
        self.focus(Pane::Session(right));
    }
}
