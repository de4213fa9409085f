//! [`Role`]: only what differs between the kinds of session. Everything else is
//! [`super::SessionTab`]'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use egui::Ui;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AppRequest, CommonSettings, Phase, SessionKind};
use crate::engine::log_store::LogStore;
use crate::engine::{ConnId, CounterSnapshot, Event, Session, Waker};
use crate::gui::activity::Activity;
use crate::gui::widgets::payload_editor::Outgoing;
use crate::gui::widgets::periodic::{PeriodicAction, repeat_on};
use crate::gui::workspace::SessionSettings;

/// What the user asked a session of role `R` for.
pub enum Request<R: Role> {
    /// Open the socket with this configuration.
    Start(R::Config),
    /// Close or stop (the role decides how).
    Stop,
    /// Something only this role has (a server's per-client buttons, echo …).
    Role(R::Action),
    /// Something from the composer under the log (send, repeat, send a file).
    Compose(Composed),
}

/// What the shared composer asks for; the role turns it into its engine commands.
#[derive(Debug, Clone)]
pub enum Composed {
    /// Send this message (bytes, or a template the session fills in).
    Send(Outgoing),
    /// Start or stop the periodic send.
    Repeat(PeriodicAction),
    /// Send a file (UDP: in datagrams of this size, pausing this long after each).
    SendFile {
        /// The file.
        path: PathBuf,
        /// UDP only: datagram size and pause.
        udp: Option<(usize, Duration)>,
    },
    /// Cancel the files being sent.
    CancelFile,
}

/// Why the composer's parts cannot send now (`None`: they can).
#[derive(Debug, Clone, Default)]
pub struct SendRules {
    /// Saved messages.
    pub blocked: Option<String>,
    /// The editor's Send (an empty stream message, a datagram too big …).
    pub editor: Option<String>,
    /// The periodic send.
    pub repeat: Option<String>,
    /// The file send.
    pub file: Option<String>,
    /// UDP: the file send's target family (`Some(None)`: not known yet); TCP: `None`.
    pub file_target: Option<Option<SocketAddr>>,
}

/// What a role may touch while it carries out a request.
pub struct Ctx<'a, C: Send + 'static> {
    /// The engine session, while one runs.
    pub session: &'a mut Option<Session<C>>,
    /// Log, transcript, counters, error.
    pub activity: &'a mut Activity,
    /// Where the session is.
    pub phase: &'a mut Phase,
    /// Wakes the window when the session has news.
    pub waker: &'a Waker,
}

impl<C: Clone + Send + 'static> Ctx<'_, C> {
    /// Makes `session` the running one (the previous one, if any, is stopped and joined).
    pub fn begin(&mut self, session: Session<C>) {
        *self.session = None;
        self.activity.starting();
        *self.phase = Phase::Starting;
        *self.session = Some(session);
    }

    /// Hands a command to the running session; one it cannot take is reported in the log.
    pub fn command(&mut self, command: C) {
        if let Some(session) = self.session.as_ref()
            && let Err(e) = session.send(command)
        {
            self.activity.command_failed(&e);
        }
    }

    /// Asks the session to stop (its `Stopped` event ends it).
    pub fn stop(&mut self) {
        if let Some(session) = self.session.as_ref() {
            session.stop();
            *self.phase = Phase::Stopping;
        }
    }

    /// Starts or stops the periodic send of `make(data)`.
    pub fn repeat(&mut self, action: PeriodicAction, make: impl FnOnce(Outgoing) -> C) {
        if let Some(session) = self.session.as_mut()
            && let Err(e) = repeat_on(session, action, make)
        {
            self.activity.command_failed(&e);
        }
    }
}

/// What differs between the kinds of session: their configuration and commands, the fields and
/// buttons of their connection bar, the area between bar and composer (nothing, the client
/// table, the reply-to field), and how the composer's sends become commands.
pub trait Role: Default + Sized + 'static {
    /// Everything the session remembers (the role's fields and the [`CommonSettings`]).
    type Settings: Clone + Default + PartialEq + Serialize + DeserializeOwned + 'static;
    /// The engine's command type for this kind of session.
    type Command: Clone + Send + 'static;
    /// The engine configuration a start needs.
    type Config: Clone;
    /// The role's own requests.
    type Action;

    /// Which kind this is.
    const KIND: SessionKind;
    /// The kind as the transcript's explanations know it.
    const EXPLAIN: crate::engine::explain::Role;
    /// The state word while opening (`Connecting…`).
    const STARTING: &'static str;
    /// Counters count datagrams rather than reads and writes.
    const DATAGRAMS: bool;
    /// The empty log's guidance before anything runs.
    const EMPTY_LOG: &'static str;
    /// A stop the user asked for leaves the session idle (a TCP client instead says "closed").
    const REQUESTED_STOP_IS_IDLE: bool = true;

    /// The shared part of the settings.
    fn common(settings: &Self::Settings) -> &CommonSettings;
    /// The shared part of the settings.
    fn common_mut(settings: &mut Self::Settings) -> &mut CommonSettings;
    /// The settings as a workspace record holds them.
    fn wrap(settings: Self::Settings) -> SessionSettings;
    /// The address the session talks to or listens on, as typed (for its title).
    fn address(settings: &Self::Settings) -> String;
    /// The configuration the settings make, or every invalid field's sentence (no drawing).
    fn validate(settings: &Self::Settings) -> Result<Self::Config, Vec<String>>;
    /// Starts an engine session; its queue may hold a quarter of `log`'s budget.
    fn start(config: Self::Config, log: &LogStore, waker: &Waker) -> Session<Self::Command>;

    /// A start is under way: forget the previous session's view state.
    fn starting(&mut self, settings: &mut Self::Settings);
    /// The last word on the configuration just before the session starts (after
    /// [`Role::starting`]): a role that keeps a handle on part of it (a sequence check) takes it
    /// here.
    fn prepare(&mut self, _settings: &Self::Settings, _config: &mut Self::Config) {}
    /// Where this kind's traffic generator sends (`None`: the kind has none).
    fn generator_target(
        _config: &Self::Config,
    ) -> Option<crate::gui::widgets::generator::GeneratorTarget> {
        None
    }
    /// Folds the role's part of an event (the shared part is already done).
    fn apply(
        &mut self,
        event: &Event,
        phase: &mut Phase,
        activity: &mut Activity,
        settings: &mut Self::Settings,
    );
    /// Reads what the running session shows besides events (a server's clients).
    fn observe_session(&mut self, _session: &Session<Self::Command>) {}
    /// The state word while running (`Connected`, `Listening`).
    fn running_words(&self) -> &'static str;
    /// Local and peer address for the status line.
    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (None, None)
    }
    /// A server's bound address (shown with Copy and "Open a client to this server").
    fn served(&self) -> Option<SocketAddr> {
        None
    }
    /// The connection whose sequence diagram is shown (`None`: the newest).
    fn sequence_conn(&self) -> Option<ConnId> {
        None
    }

    /// The address and port fields and the main buttons (`config`: what the fields make now).
    fn bar_ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut Self::Settings,
        phase: &Phase,
        running: bool,
        config: Option<&Self::Config>,
    ) -> Option<Request<Self>>;
    /// The socket options and the role's other tools (parsed by [`Role::validate`] when hidden).
    fn options_ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut Self::Settings,
        running: bool,
    ) -> Option<Self::Action>;
    /// The role's tools beyond socket options (a server's capture and reply rules).
    fn extra_tools_ui(
        &mut self,
        _ui: &mut Ui,
        _settings: &mut Self::Settings,
        _running: bool,
    ) -> Option<Self::Action> {
        None
    }
    /// Notes beside the counters (half-closed, datagrams not listed).
    fn notes_ui(&self, _ui: &mut Ui, _phase: &Phase, _counters: &CounterSnapshot) {}
    /// What sits between the status and the log: a server's clients, a reply target.
    /// `tile_height` is the whole session's height, for what should fold away when it is short.
    fn target_ui(
        &mut self,
        _ui: &mut Ui,
        _settings: &mut Self::Settings,
        _running: bool,
        _tile_height: f32,
    ) -> Option<Self::Action> {
        None
    }
    /// Why the composer cannot send now.
    fn send_rules(&self, settings: &Self::Settings, phase: &Phase, running: bool) -> SendRules;
    /// Turns a composer request into commands (`config`: the fields' configuration, for a UDP
    /// client's send that opens the socket first).
    fn compose(
        &mut self,
        composed: Composed,
        config: Option<Self::Config>,
        ctx: &mut Ctx<'_, Self::Command>,
    );
    /// Carries out the role's own request.
    fn perform(
        &mut self,
        action: Self::Action,
        settings: &mut Self::Settings,
        ctx: &mut Ctx<'_, Self::Command>,
    );
    /// Close or stop.
    fn stop(&mut self, ctx: &mut Ctx<'_, Self::Command>) {
        ctx.stop();
    }
    /// Something the session's own area asks of the window (`Open a client to this server`).
    fn app_request(&self, addr: SocketAddr) -> Option<AppRequest> {
        let client = match Self::KIND {
            SessionKind::TcpServer => SessionKind::TcpClient,
            SessionKind::UdpServer => SessionKind::UdpClient,
            _ => return None,
        };
        Some(AppRequest::OpenClientTo(client, addr))
    }
}
