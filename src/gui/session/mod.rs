//! One session of the window: what every session has ([`SessionTab`]: the settings shared by all
//! kinds, the activity with its log and transcript, one [`Phase`], the engine handle) and the
//! skeleton drawn once for all of them ([`frame`]). What differs between a TCP client, a TCP
//! server, a UDP client and a UDP server is a [`Role`] (see `src/gui/roles/`).
//!
//! The window keeps its sessions as `Box<dyn Tab>` so that the tab bar, the polling and the
//! drawing are one loop over them (see `DESIGN.md`).

pub mod budget;
pub mod frame;
mod role;

use std::any::Any;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use budget::FrameBudget;
pub use role::{Composed, Ctx, Request, Role, SendRules};

use crate::engine::{Session, Waker};
pub use crate::gui::activity::Unsaved;
use crate::gui::activity::{Activity, default_log_budget_mib, failure, stop_text};
use crate::gui::text as t;
use crate::gui::widgets::file_send::FileSendSettings;
use crate::gui::widgets::payload_editor::EditorSettings;
use crate::gui::widgets::periodic::PeriodicSettings;
use crate::gui::widgets::saved_messages::SavedMessages;
use crate::gui::workspace::{SessionRecord, SessionSettings};

/// The four kinds of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionKind {
    /// Connects to a TCP server.
    TcpClient,
    /// Listens for TCP clients.
    TcpServer,
    /// Sends datagrams to an address.
    UdpClient,
    /// Binds a port and receives datagrams.
    UdpServer,
}

impl SessionKind {
    /// Every kind, in the order the New menu lists them.
    pub const ALL: [SessionKind; 4] = [
        SessionKind::TcpClient,
        SessionKind::TcpServer,
        SessionKind::UdpClient,
        SessionKind::UdpServer,
    ];

    /// The kind's name (`TCP client`).
    pub fn label(self) -> &'static str {
        match self {
            SessionKind::TcpClient => t::TAB_TCP_CLIENT,
            SessionKind::TcpServer => t::TAB_TCP_SERVER,
            SessionKind::UdpClient => t::TAB_UDP_CLIENT,
            SessionKind::UdpServer => t::TAB_UDP_SERVER,
        }
    }

    /// What a session of this kind is for, one sentence.
    pub fn hint(self) -> &'static str {
        match self {
            SessionKind::TcpClient => t::TAB_TCP_CLIENT_HINT,
            SessionKind::TcpServer => t::TAB_TCP_SERVER_HINT,
            SessionKind::UdpClient => t::TAB_UDP_CLIENT_HINT,
            SessionKind::UdpServer => t::TAB_UDP_SERVER_HINT,
        }
    }

    /// True for the kinds that talk to a server (their title points at the address).
    pub fn is_client(self) -> bool {
        matches!(self, SessionKind::TcpClient | SessionKind::UdpClient)
    }

    /// A fresh session record of this kind with default settings.
    pub fn default_settings(self) -> SessionSettings {
        use crate::gui::roles::tcp_client::TcpClientSettings;
        use crate::gui::roles::tcp_server::TcpServerSettings;
        use crate::gui::roles::udp_client::UdpClientSettings;
        use crate::gui::roles::udp_server::UdpServerSettings;
        match self {
            SessionKind::TcpClient => SessionSettings::TcpClient(TcpClientSettings::default()),
            SessionKind::TcpServer => SessionSettings::TcpServer(TcpServerSettings::default()),
            SessionKind::UdpClient => SessionSettings::UdpClient(UdpClientSettings::default()),
            SessionKind::UdpServer => SessionSettings::UdpServer(UdpServerSettings::default()),
        }
    }
}

/// What every session's settings hold besides its role's own fields (kept flat in the saved
/// form, so settings written before sessions existed still read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommonSettings {
    /// The message editor.
    pub editor: EditorSettings,
    /// The periodic send under the editor.
    pub periodic: PeriodicSettings,
    /// Saved messages.
    pub saved: SavedMessages,
    /// Show the log as hex.
    pub hex: bool,
    /// The log's memory budget, MiB.
    pub log_budget_mib: usize,
    /// Send a file.
    pub file: FileSendSettings,
    /// The script panel's file and target.
    pub script: crate::gui::widgets::script_panel::ScriptSettings,
    /// The traffic generator (client kinds).
    pub generator: crate::gui::widgets::generator::GeneratorSettings,
}

impl Default for CommonSettings {
    fn default() -> Self {
        CommonSettings {
            editor: EditorSettings::default(),
            periodic: PeriodicSettings::default(),
            saved: SavedMessages::default(),
            hex: false,
            log_budget_mib: default_log_budget_mib(),
            file: FileSendSettings::default(),
            script: crate::gui::widgets::script_panel::ScriptSettings::default(),
            generator: crate::gui::widgets::generator::GeneratorSettings::default(),
        }
    }
}

/// Where a session is, the same five steps for every kind; the role says what "running" means
/// (connected, listening, bound) and keeps the addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing open.
    Idle,
    /// Opening (resolving, connecting, binding).
    Starting,
    /// Open: connected, listening or bound.
    Running,
    /// Close or stop asked for; waiting for the session to end.
    Stopping,
    /// Over, with the reason; `failed` when it ended by an error.
    Closed {
        /// Why, in plain words.
        reason: String,
        /// True when an error ended it.
        failed: bool,
    },
}

/// The state dot of a session's tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dot {
    /// Nothing open.
    Idle,
    /// Opening, open or closing.
    Running,
    /// Ended by an error.
    Error,
}

impl Dot {
    /// The dot's meaning in words (its tooltip; colour alone is not enough).
    pub fn words(self) -> &'static str {
        match self {
            Dot::Idle => t::STATE_IDLE,
            Dot::Running => t::DOT_RUNNING,
            Dot::Error => t::STATE_FAILED,
        }
    }
}

/// Something a session asks of the window (it cannot do it alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppRequest {
    /// Show a client session aimed at this server (reuse an idle one or open a new one).
    OpenClientTo(SessionKind, SocketAddr),
}

/// A session as the window sees it: one loop draws, polls and saves every one.
pub trait Tab: Any {
    /// The session's id (unique in the window; widget ids derive from it).
    fn id(&self) -> u64;
    /// The kind of session.
    fn kind(&self) -> SessionKind;
    /// The name the user gave it, if any.
    fn name(&self) -> Option<&str>;
    /// Gives it a name (`None`: back to role and address).
    fn rename(&mut self, name: Option<String>);
    /// The tab's title: the user's name, or the kind and address (`TCP client → 127.0.0.1:9000`).
    fn title(&self) -> String;
    /// The state dot.
    fn dot(&self) -> Dot;
    /// True while its engine session runs.
    fn is_running(&self) -> bool;
    /// Takes a share of its waiting events within the frame's budget; true if more are waiting.
    fn poll(&mut self, budget: &mut FrameBudget) -> bool;
    /// Draws the session; returns what it asks of the window.
    fn ui(&mut self, ui: &mut egui::Ui, waker: &Waker) -> Option<AppRequest>;
    /// Starts it if its fields are valid and it is not running; true if it started.
    fn start(&mut self, waker: &Waker) -> bool;
    /// Stops it and waits for its threads to end.
    fn stop_and_join(&mut self);
    /// The log rows closing the session would lose (those no export has written).
    fn unsaved(&self) -> Unsaved;
    /// The session as saved.
    fn record(&self) -> SessionRecord;
    /// For the window and tests to reach the concrete session.
    fn as_any(&self) -> &dyn Any;
    /// For the window and tests to reach the concrete session.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A session of role `R`: what every session has, and the role's own state.
pub struct SessionTab<R: Role> {
    /// Unique in the window.
    pub id: u64,
    /// The user's name for it.
    pub name: Option<String>,
    /// Persisted settings (the role's fields and [`CommonSettings`]).
    pub settings: R::Settings,
    /// The role's view state (addresses, clients, reply target …).
    pub role: R,
    /// Where the session is.
    pub phase: Phase,
    /// Log, transcript, counters, error.
    pub activity: Activity,
    /// The tools drawer beside the log is open.
    pub tools_open: bool,
    /// The socket-calls panel as the user set it (`None`: shown when the tile is wide enough).
    pub calls_shown: Option<bool>,
    /// Whether the socket-calls panel was shown in the last frame.
    pub calls_visible: bool,
    /// The script panel (its run has a connection of its own).
    pub script: crate::gui::widgets::script_panel::ScriptPanel,
    /// The traffic generator of a client (a session of its own beside this one).
    pub generator: crate::gui::widgets::generator::GeneratorPanel,
    session: Option<Session<R::Command>>,
}

impl<R: Role> SessionTab<R> {
    /// An idle session with these settings.
    pub fn new(id: u64, name: Option<String>, settings: R::Settings) -> Self {
        let mut activity = Activity::for_role(R::EXPLAIN);
        activity.set_log_budget_mib(R::common(&settings).log_budget_mib);
        SessionTab {
            id,
            name,
            settings,
            role: R::default(),
            phase: Phase::Idle,
            activity,
            tools_open: false,
            calls_shown: None,
            calls_visible: true,
            script: crate::gui::widgets::script_panel::ScriptPanel::default(),
            generator: crate::gui::widgets::generator::GeneratorPanel::default(),
            session: None,
        }
    }

    /// True while an engine session runs.
    pub fn is_running(&self) -> bool {
        self.session.is_some()
    }

    /// The engine session, while one runs.
    pub fn session(&self) -> Option<&Session<R::Command>> {
        self.session.as_ref()
    }

    /// Folds one engine event into the view: the shared part, then the role's.
    pub fn apply(&mut self, event: &crate::engine::Event) {
        self.activity.record(event);
        if let crate::engine::EventKind::Stopped { reason } = &event.kind {
            self.phase = if R::REQUESTED_STOP_IS_IDLE
                && matches!(reason, crate::engine::StopReason::Requested)
            {
                Phase::Idle
            } else {
                Phase::Closed {
                    reason: stop_text(reason),
                    failed: failure(reason).is_some(),
                }
            };
        }
        self.role.apply(
            event,
            &mut self.phase,
            &mut self.activity,
            &mut self.settings,
        );
    }

    /// Takes waiting events within `budget`; true if more are waiting.
    pub fn poll(&mut self, budget: &mut FrameBudget) -> bool {
        let script_more = self.script.poll(budget, &mut self.activity)
            | self.generator.poll(budget, &mut self.activity);
        let Some(session) = &self.session else {
            return script_more;
        };
        let polled = self.activity.poll_session(session, budget);
        if !polled.ended {
            self.role.observe_session(session);
        }
        for event in &polled.events {
            self.apply(event);
        }
        if polled.ended {
            self.session = None;
        }
        polled.more || script_more
    }

    /// Carries out what the user asked for.
    pub fn perform(&mut self, request: Request<R>, waker: &Waker) {
        let mut ctx = Ctx {
            session: &mut self.session,
            activity: &mut self.activity,
            phase: &mut self.phase,
            waker,
        };
        match request {
            Request::Start(mut config) => {
                self.role.starting(&mut self.settings);
                self.role.prepare(&self.settings, &mut config);
                let session = R::start(config, &ctx.activity.log, waker);
                ctx.begin(session);
            }
            Request::Stop => self.role.stop(&mut ctx),
            Request::Role(action) => self.role.perform(action, &mut self.settings, &mut ctx),
            Request::Compose(Composed::CancelFile) => {
                if let Some(session) = ctx.session.as_ref() {
                    session.cancel_file_sends();
                }
            }
            Request::Compose(composed) => {
                let config = R::validate(&self.settings).ok();
                self.role.compose(composed, config, &mut ctx);
            }
        }
    }

    fn state_text(&self) -> (String, crate::gui::widgets::Tone) {
        use crate::gui::widgets::Tone;
        match &self.phase {
            Phase::Idle => (t::STATE_IDLE.to_owned(), Tone::Idle),
            Phase::Starting => (R::STARTING.to_owned(), Tone::Busy),
            Phase::Running => (self.role.running_words().to_owned(), Tone::Good),
            Phase::Stopping => (t::STATE_CLOSING.to_owned(), Tone::Busy),
            Phase::Closed { failed: true, .. } => (t::STATE_FAILED.to_owned(), Tone::Bad),
            Phase::Closed { reason, .. } => (t::closed_because(reason), Tone::Idle),
        }
    }
}

impl<R: Role> Tab for SessionTab<R> {
    fn id(&self) -> u64 {
        self.id
    }

    fn kind(&self) -> SessionKind {
        R::KIND
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn rename(&mut self, name: Option<String>) {
        self.name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    }

    fn title(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => t::session_title(
                R::KIND.label(),
                R::KIND.is_client(),
                &R::address(&self.settings),
            ),
        }
    }

    fn dot(&self) -> Dot {
        match (&self.phase, self.is_running()) {
            (Phase::Closed { failed: true, .. }, false) => Dot::Error,
            (_, true) => Dot::Running,
            _ => Dot::Idle,
        }
    }

    fn is_running(&self) -> bool {
        SessionTab::is_running(self)
    }

    fn poll(&mut self, budget: &mut FrameBudget) -> bool {
        SessionTab::poll(self, budget)
    }

    fn ui(&mut self, ui: &mut egui::Ui, waker: &Waker) -> Option<AppRequest> {
        frame::session_ui(self, ui, waker)
    }

    fn start(&mut self, waker: &Waker) -> bool {
        if self.is_running() {
            return false;
        }
        let Ok(config) = R::validate(&self.settings) else {
            return false;
        };
        self.perform(Request::Start(config), waker);
        true
    }

    fn stop_and_join(&mut self) {
        self.script.stop_and_join();
        self.generator.stop_and_join();
        if let Some(session) = self.session.take() {
            // Dropping the handle stops the session and joins its threads.
            drop(session);
            self.phase = Phase::Idle;
        }
    }

    fn unsaved(&self) -> Unsaved {
        self.activity.unsaved()
    }

    fn record(&self) -> SessionRecord {
        SessionRecord {
            id: self.id,
            name: self.name.clone(),
            settings: R::wrap(self.settings.clone()),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A live, stopped session for a saved record.
pub fn from_record(record: SessionRecord) -> Box<dyn Tab> {
    use crate::gui::roles::{TcpClient, TcpServer, UdpClient, UdpServer};
    let SessionRecord { id, name, settings } = record;
    match settings {
        SessionSettings::TcpClient(s) => Box::new(SessionTab::<TcpClient>::new(id, name, s)),
        SessionSettings::TcpServer(s) => Box::new(SessionTab::<TcpServer>::new(id, name, s)),
        SessionSettings::UdpClient(s) => Box::new(SessionTab::<UdpClient>::new(id, name, s)),
        SessionSettings::UdpServer(s) => Box::new(SessionTab::<UdpServer>::new(id, name, s)),
    }
}
