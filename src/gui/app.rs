//! The window: a menu bar, then every session, Lookup and Learn as panes of an `egui_tiles`
//! layout (tabs that can be dragged side by side or stacked, and resized). The sessions are one
//! `Vec<Box<dyn Tab>>`: polling, drawing and saving are loops over it. `logic` drains every
//! session within one shared frame budget, round-robin; the persisted state is [`AppState`],
//! kept apart from the run-time handles (see `DESIGN.md`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::Waker;
use crate::gui::guide::LearnView;
use crate::gui::presentation::ViewSettings;
use crate::gui::roles::{self, TcpClient, UdpClient};
use crate::gui::session::{
    AppRequest, FrameBudget, Role, SessionKind, SessionTab, Tab, from_record,
};
use crate::gui::tabs::lookup::LookupTab;
use crate::gui::text as t;
use crate::gui::workspace::files::WorkspaceFiles;
use crate::gui::workspace::{AppState, SessionRecord, WORKSPACE_VERSION, Workspace};

mod menus;
mod panes;

pub use menus::{FileAction, Layout};
use panes::{Ask, Panes};

/// What a tile of the layout shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pane {
    /// The session with this id.
    Session(u64),
    /// Name and service lookups.
    Lookup,
    /// Demos and the "TCP or UDP?" guide.
    Learn,
}

/// The id of the tile tree (egui keeps its drag state under it).
fn tree_id() -> egui::Id {
    egui::Id::unique("socketlab-tiles")
}

/// The Socket Lab window's state.
pub struct SocketLabApp {
    /// Every session, in the order they were opened.
    pub sessions: Vec<Box<dyn Tab>>,
    /// How the sessions, Lookup and Learn are laid out.
    pub tree: egui_tiles::Tree<Pane>,
    /// Lookup tab.
    pub lookup: LookupTab,
    /// Demos and guide.
    pub learn: LearnView,
    /// Zoom and theme, as last applied.
    pub view: ViewSettings,
    /// The workspace file the sessions belong to, the recent files, the Save/Open dialog, the
    /// settings store and the notices.
    pub files: WorkspaceFiles,
    /// A close that waits for the user to confirm: the session, and the log rows it would lose
    /// (counted once, when the close was asked for).
    pub confirm_close: Option<(u64, crate::gui::session::Unsaved)>,
    /// The session being renamed and the name typed so far.
    pub renaming: Option<(u64, String)>,
    /// The session of each kind shown last.
    last_shown: std::collections::HashMap<SessionKind, u64>,
    next_id: u64,
    poll_from: usize,
    start_all_pending: bool,
    /// An end signal was seen and the settings saved; the window is closing.
    ending: bool,
    view_applied: bool,
    waker: Option<Waker>,
    cursor: crate::gui::theme::CursorBlink,
}

impl SocketLabApp {
    /// A window with this state and nothing running: one stopped session per saved record.
    pub fn new(state: AppState) -> Self {
        let mut app = SocketLabApp {
            sessions: Vec::new(),
            tree: egui_tiles::Tree::empty(tree_id()),
            lookup: LookupTab::new(state.workspace.lookup.clone()),
            learn: LearnView::default(),
            view: state.view,
            files: WorkspaceFiles::new(&state, None, None),
            confirm_close: None,
            renaming: None,
            last_shown: std::collections::HashMap::new(),
            next_id: 1,
            poll_from: 0,
            start_all_pending: false,
            ending: false,
            view_applied: false,
            waker: None,
            cursor: crate::gui::theme::CursorBlink::default(),
        };
        app.load(state.workspace);
        app
    }

    /// What to remember: every session's record, the layout, the view.
    pub fn state(&self) -> AppState {
        let mut state = AppState {
            version: WORKSPACE_VERSION,
            workspace: Workspace {
                version: WORKSPACE_VERSION,
                sessions: self.sessions.iter().map(|s| s.record()).collect(),
                layout: serde_json::to_value(&self.tree).ok(),
                lookup: self.lookup.settings.clone(),
            },
            workspace_path: None,
            recent: Vec::new(),
            view: self.view,
        };
        self.files.complete(&mut state);
        state
    }

    /// Saves the settings to the store now (at the window's end, at eframe's autosave, and when
    /// the system asks the program to end); a failure is told in the notice line.
    pub fn save_settings(&mut self) {
        let state = self.state();
        if let Err(sentence) = self.files.save_settings(&state) {
            self.files.tell(sentence);
        }
    }

    /// Stops every running session (joining its threads) and shows `workspace` instead.
    pub fn replace_workspace(&mut self, workspace: Workspace) {
        for session in &mut self.sessions {
            session.stop_and_join();
        }
        self.sessions.clear();
        self.confirm_close = None;
        self.renaming = None;
        self.lookup = LookupTab::new(workspace.lookup.clone());
        self.load(workspace);
    }

    fn load(&mut self, workspace: Workspace) {
        let mut seen = std::collections::HashSet::new();
        for record in workspace.sessions {
            // Ids must be unique (the layout and widget ids use them); a duplicate gets a new one.
            let record = if seen.insert(record.id) {
                record
            } else {
                SessionRecord {
                    id: workspace_max_id(&seen) + 1,
                    ..record
                }
            };
            seen.insert(record.id);
            self.sessions.push(from_record(record));
        }
        self.next_id = workspace_max_id(&seen) + 1;
        self.tree = workspace
            .layout
            .and_then(|value| serde_json::from_value::<egui_tiles::Tree<Pane>>(value).ok())
            .filter(|tree| self.layout_fits(tree))
            .unwrap_or_else(|| self.stacked_tree());
    }

    /// True if `tree` shows exactly this window's sessions, Lookup and Learn, once each.
    fn layout_fits(&self, tree: &egui_tiles::Tree<Pane>) -> bool {
        let mut panes: Vec<Pane> = tree
            .tiles
            .tiles()
            .filter_map(|tile| match tile {
                egui_tiles::Tile::Pane(pane) => Some(*pane),
                egui_tiles::Tile::Container(_) => None,
            })
            .collect();
        panes.sort_by_key(pane_order);
        let mut wanted = self.all_panes();
        wanted.sort_by_key(pane_order);
        tree.root.is_some() && panes == wanted
    }

    /// Lookup and Learn first (they stay put, like pinned tabs), then the sessions in order.
    fn all_panes(&self) -> Vec<Pane> {
        let mut panes = vec![Pane::Lookup, Pane::Learn];
        panes.extend(self.sessions.iter().map(|s| Pane::Session(s.id())));
        panes
    }

    /// Every pane as tabs of one stack, the first session shown.
    fn stacked_tree(&self) -> egui_tiles::Tree<Pane> {
        let mut tree = egui_tiles::Tree::new_tabs(tree_id(), self.all_panes());
        if let Some(first) = self.sessions.first() {
            let pane = Pane::Session(first.id());
            tree.make_active(|_, tile| matches!(tile, egui_tiles::Tile::Pane(p) if *p == pane));
        }
        tree
    }

    /// Starts every session whose fields are valid and that is not running: the servers first,
    /// so that a client of the same workspace aimed at one finds it listening.
    pub fn start_all(&mut self) {
        let Some(waker) = self.waker.clone() else {
            // No frame yet, so no waker to repaint with: start on the first frame.
            self.start_all_pending = true;
            return;
        };
        for servers in [true, false] {
            for session in &mut self.sessions {
                if session.kind().is_client() != servers {
                    session.start(&waker);
                }
            }
        }
    }

    /// Opens a new, stopped session of `kind` with default settings and shows it.
    pub fn new_session(&mut self, kind: SessionKind) -> u64 {
        self.add_session(kind.default_settings(), None)
    }

    fn add_session(
        &mut self,
        settings: crate::gui::workspace::SessionSettings,
        name: Option<String>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.sessions
            .push(from_record(SessionRecord { id, name, settings }));
        self.add_pane(Pane::Session(id));
        id
    }

    /// Puts `pane` into the stack that shows the active tab (or the root) and shows it.
    fn add_pane(&mut self, pane: Pane) {
        let tile = self.tree.tiles.insert_pane(pane);
        let target = self.active_stack().or(self.tree.root);
        if let Some(egui_tiles::Tile::Container(container)) =
            target.and_then(|id| self.tree.tiles.get_mut(id))
        {
            container.add_child(tile);
        } else {
            let mut children: Vec<_> = self.tree.root.into_iter().collect();
            children.push(tile);
            self.tree.root = Some(self.tree.tiles.insert_tab_tile(children));
        }
        self.focus(pane);
    }

    /// The tab container whose active tab is the visible session the user last worked in.
    fn active_stack(&self) -> Option<egui_tiles::TileId> {
        self.tree.active_tiles().into_iter().find(|id| {
            matches!(self.tree.tiles.get(*id), Some(egui_tiles::Tile::Container(c))
                if c.kind() == egui_tiles::ContainerKind::Tabs)
        })
    }

    /// Shows `pane` (makes it the active tab of its stack).
    pub fn focus(&mut self, pane: Pane) {
        self.tree
            .make_active(|_, tile| matches!(tile, egui_tiles::Tile::Pane(p) if *p == pane));
    }

    /// The session shown in front, if a session is (the first visible one).
    pub fn active_session(&self) -> Option<&dyn Tab> {
        self.tree
            .active_tiles()
            .into_iter()
            .find_map(|id| match self.tree.tiles.get(id) {
                Some(egui_tiles::Tile::Pane(Pane::Session(sid))) => self.session(*sid),
                _ => None,
            })
    }

    /// True if `pane` is drawn now (it is the active tab of a visible stack).
    pub fn is_visible(&self, pane: Pane) -> bool {
        self.tree
            .active_tiles()
            .into_iter()
            .any(|id| self.tree.tiles.get_pane(&id) == Some(&pane))
    }

    /// The session with this id.
    pub fn session(&self, id: u64) -> Option<&dyn Tab> {
        self.sessions
            .iter()
            .find(|s| s.id() == id)
            .map(AsRef::as_ref)
    }

    fn session_mut(&mut self, id: u64) -> Option<&mut Box<dyn Tab>> {
        self.sessions.iter_mut().find(|s| s.id() == id)
    }

    /// Every session of role `R`, in the order they were opened.
    pub fn sessions_of<R: Role>(&self) -> impl Iterator<Item = &SessionTab<R>> {
        self.sessions
            .iter()
            .filter_map(|s| s.as_any().downcast_ref::<SessionTab<R>>())
    }

    /// The session with this id if it has role `R`.
    pub fn session_as<R: Role>(&self, id: u64) -> Option<&SessionTab<R>> {
        self.session(id)?.as_any().downcast_ref()
    }

    /// The session with this id if it has role `R`.
    pub fn session_as_mut<R: Role>(&mut self, id: u64) -> Option<&mut SessionTab<R>> {
        self.session_mut(id)?.as_any_mut().downcast_mut()
    }

    /// Closes a session: asks first if its log holds rows no export has saved, else closes at
    /// once.
    pub fn request_close(&mut self, id: u64) {
        let Some(unsaved) = self.session(id).map(Tab::unsaved) else {
            return;
        };
        if unsaved.rows > 0 {
            self.confirm_close = Some((id, unsaved));
        } else {
            self.close_session(id);
        }
    }

    /// Closes a session without asking: stops it, joins its threads, removes its tab.
    pub fn close_session(&mut self, id: u64) {
        if let Some(index) = self.sessions.iter().position(|s| s.id() == id) {
            let mut session = self.sessions.remove(index);
            session.stop_and_join();
        }
        if let Some(tile) = self.tree.tiles.find_pane(&Pane::Session(id)) {
            self.tree.remove_recursively(tile);
        }
        if self.confirm_close.is_some_and(|(asked, _)| asked == id) {
            self.confirm_close = None;
        }
    }

    /// Opens a copy of a session (its settings and name, stopped, empty log) beside it.
    pub fn duplicate(&mut self, id: u64) -> Option<u64> {
        let record = self.session(id)?.record();
        let name = record.name.map(|n| t::copy_name(&n));
        Some(self.add_session(record.settings, name))
    }

    /// Shows a client session aimed at `addr`: an idle one already aimed there, else a new one.
    pub fn open_client_to(&mut self, kind: SessionKind, addr: std::net::SocketAddr) -> u64 {
        let host = roles::reachable_host(addr);
        let port = addr.port().to_string();
        let reusable = self.sessions.iter().find_map(|s| {
            let aimed = match kind {
                SessionKind::TcpClient => s
                    .as_any()
                    .downcast_ref::<SessionTab<TcpClient>>()
                    .is_some_and(|c| c.settings.host == host && c.settings.port == port),
                SessionKind::UdpClient => s
                    .as_any()
                    .downcast_ref::<SessionTab<UdpClient>>()
                    .is_some_and(|c| c.settings.host == host && c.settings.port == port),
                _ => false,
            };
            (aimed && !s.is_running()).then(|| s.id())
        });
        let id = reusable.unwrap_or_else(|| {
            let id = self.new_session(kind);
            if let Some(c) = self.session_as_mut::<TcpClient>(id) {
                c.settings.host.clone_from(&host);
                c.settings.port.clone_from(&port);
            }
            if let Some(c) = self.session_as_mut::<UdpClient>(id) {
                c.settings.host.clone_from(&host);
                c.settings.port.clone_from(&port);
            }
            id
        });
        self.focus(Pane::Session(id));
        id
    }

    /// Takes waiting engine events from every session within one frame budget, starting with a
    /// different session each frame so none is starved, and asks for another frame if some are
    /// left. Never blocks.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if self.files.end.is_raised() && !self.ending {
            // The system asked us to end (SIGTERM at logout, Ctrl+C in the terminal): save
            // first, then close as the window's close button would.
            self.ending = true;
            self.save_settings();
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let mut budget = FrameBudget::new();
        let mut more = false;
        let count = self.sessions.len();
        if count > 0 {
            let start = self.poll_from % count;
            self.poll_from = (start + 1) % count;
            for offset in 0..count {
                more |= self.sessions[(start + offset) % count].poll(&mut budget);
            }
        }
        more |= self.lookup.poll();
        self.learn.poll();
        if more {
            ctx.request_repaint();
        }
    }

    fn waker(&mut self, ctx: &egui::Context) -> Waker {
        let waker = self.waker.get_or_insert_with(|| {
            let ctx = ctx.clone();
            Arc::new(move || ctx.request_repaint())
        });
        Arc::clone(waker)
    }

    /// Draws the window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let waker = self.waker(ui.ctx());
        self.apply_view(ui.ctx());
        self.cursor.update(ui.ctx());
        if std::mem::take(&mut self.start_all_pending) {
            self.start_all();
        }
        if let Some(action) = menus::shortcuts(ui.ctx(), self.active_kind()) {
            self.file_action(action, ui.ctx());
        }
        egui::Panel::top("menu-bar").show(ui, |ui| {
            let picked = menus::menu_bar(ui, self);
            for action in picked {
                self.file_action(action, ui.ctx());
            }
        });
        // The tiles draw their own tab bars and edges; a wide margin around them would only
        // take rows from the logs.
        let tiles_frame =
            egui::Frame::central_panel(ui.style()).inner_margin(egui::Margin::same(2));
        let asks = egui::CentralPanel::default()
            .frame(tiles_frame)
            .show(ui, |ui| {
                let mut panes = Panes {
                    sessions: &mut self.sessions,
                    lookup: &mut self.lookup,
                    learn: &mut self.learn,
                    waker: &waker,
                    asks: Vec::new(),
                };
                self.tree.ui(&mut panes, ui);
                panes.asks
            })
            .inner;
        for ask in asks {
            self.answer(ask, &waker);
        }
        self.remember_shown();
        menus::dialogs(ui.ctx(), self);
        self.workspace_dialogs(ui.ctx());
        // Ctrl + and Ctrl - zoom through egui itself; remember where they left it.
        self.view.remember_zoom(ui.ctx().zoom_factor());
    }

    fn remember_shown(&mut self) {
        for tile in self.tree.active_tiles() {
            if let Some(Pane::Session(id)) = self.tree.tiles.get_pane(&tile)
                && let Some(kind) = self.session(*id).map(Tab::kind)
            {
                self.last_shown.insert(kind, *id);
            }
        }
    }

    /// The session of this kind the user looked at last, if it is still open.
    pub fn last_shown(&self, kind: SessionKind) -> Option<u64> {
        self.last_shown
            .get(&kind)
            .copied()
            .filter(|id| self.session(*id).is_some())
    }

    fn active_kind(&self) -> Option<SessionKind> {
        self.active_session().map(Tab::kind)
    }

    fn answer(&mut self, ask: Ask, waker: &Waker) {
        match ask {
            Ask::App(AppRequest::OpenClientTo(kind, addr)) => {
                self.open_client_to(kind, addr);
            }
            Ask::Close(id) => self.request_close(id),
            Ask::Rename(id) => {
                let name = self.session(id).map(Tab::title).unwrap_or_default();
                self.renaming = Some((id, name));
            }
            Ask::Duplicate(id) => {
                self.duplicate(id);
            }
            Ask::Demo(demo) => {
                self.learn.start(demo, waker);
                self.focus(Pane::Learn);
            }
        }
    }

    /// Carries out a File menu item or its shortcut.
    pub fn file_action(&mut self, action: FileAction, ctx: &egui::Context) {
        match action {
            FileAction::NewSession(kind) => {
                self.new_session(kind);
            }
            FileAction::StartAll => self.start_all(),
            FileAction::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            FileAction::Layout(layout) => self.apply_layout(layout),
            FileAction::Demo(demo) => {
                let waker = self.waker(ctx);
                self.answer(Ask::Demo(demo), &waker);
            }
            FileAction::SaveWorkspace => {
                let workspace = self.state().workspace;
                self.files.save(&workspace);
            }
            FileAction::SaveWorkspaceAs => self.files.save_as(),
            FileAction::OpenWorkspace => self.files.ask_open(),
            FileAction::OpenRecent(path) => self.open_workspace(&path),
        }
    }

    /// The Save/Open dialog and the notice line; loads the workspace a confirmed Open read.
    fn workspace_dialogs(&mut self, ctx: &egui::Context) {
        let current = self.state().workspace;
        if let Some(workspace) = self.files.ui(ctx, &current) {
            self.replace_workspace(workspace);
        }
    }

    /// Opens the workspace in `path` (the command line's file or a Recent item), asking first
    /// when the sessions open now have unsaved changes.
    pub fn open_workspace(&mut self, path: &std::path::Path) {
        let current = self.state().workspace;
        if let Some(workspace) = self.files.open_checked(path, &current) {
            self.replace_workspace(workspace);
        }
    }

    /// Gives the session a name (empty: back to role and address).
    pub fn rename(&mut self, id: u64, name: &str) {
        if let Some(session) = self.session_mut(id) {
            session.rename(Some(name.to_owned()));
        }
    }

    /// Prepares a context before its first frame: readable theme colours and the fonts' fallback
    /// (see [`crate::gui::theme::install`]).
    pub fn setup_context(ctx: &egui::Context) {
        crate::gui::theme::install(ctx);
    }

    /// Applies the remembered zoom and theme once, on the first frame.
    fn apply_view(&mut self, ctx: &egui::Context) {
        if !self.view_applied {
            self.view_applied = true;
            self.view.apply(ctx);
        }
    }
}

/// The highest id in `ids` (0 when empty).
fn workspace_max_id(ids: &std::collections::HashSet<u64>) -> u64 {
    ids.iter().copied().max().unwrap_or(0)
}

/// Sort key for comparing pane sets.
fn pane_order(pane: &Pane) -> (u8, u64) {
    match pane {
        Pane::Session(id) => (0, *id),
        Pane::Lookup => (1, 0),
        Pane::Learn => (2, 0),
    }
}

impl eframe::App for SocketLabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        SocketLabApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    /// Settings go to Socket Lab's own `settings.json` (see [`crate::gui::workspace::store`]);
    /// eframe's storage keeps only the window's size and position.
    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        self.save_settings();
    }
}

impl Drop for SocketLabApp {
    fn drop(&mut self) {
        // Each session's handle joins its threads when dropped; do it in a known order.
        for session in &mut self.sessions {
            session.stop_and_join();
        }
    }
}
