//! Running a script: a worker thread of its own drives one engine session (a TCP client, a TCP
//! server waiting for its first client, or a UDP socket) through the steps, and reports every
//! step and every byte over a bounded channel, as every engine session does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, select};

use super::parse::put_in_variables;
use super::{Action, Expect, MAX_PENDING_BYTES, Matcher, Protocol, Script, SendBody, Step, Target};
use crate::engine::event::{ConnId, Event, EventKind, Payload, StopReason};
use crate::engine::framing::Piece;
use crate::engine::payload::{to_hex, to_visible_text};
use crate::engine::session::Waker;
use crate::engine::tcp_client::{self, TcpClient, TcpClientCommand, TcpClientConfig};
use crate::engine::tcp_server::{self, TcpServer, TcpServerCommand, TcpServerConfig};
use crate::engine::template::{GroupRef, Template, TemplateState};
use crate::engine::udp::{self, UdpClientConfig, UdpCommand, UdpServerConfig, UdpSession};

/// Events a run may have waiting for its reader; the worker waits (and still obeys Stop) when
/// the reader falls this far behind.
const EVENT_QUEUE: usize = 1024;
/// How much of the data a failure shows ("arrived instead: …").
const SHOWN_BYTES: usize = 64;
/// The entry a step's own failure carries until [`Runner::steps`] names the step.
const OWN_STEP: usize = usize::MAX;
/// How long a send may take to be confirmed written before the step fails.
const SEND_CONFIRM: Duration = Duration::from_secs(10);

/// How a run begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// Carry out every step.
    Run,
    /// Connect, then wait for [`ScriptCommand::Step`] (one step) or [`ScriptCommand::Run`].
    Paused,
}

/// What a run can be told while it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCommand {
    /// Carry out the rest without pausing.
    Run,
    /// Carry out the next step, then pause again.
    Step,
    /// Stop now: the step under way ends as stopped, the connection is closed.
    Stop,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    /// The step, as an index into [`Script::entries`].
    pub entry: usize,
    /// Which pass of each enclosing `repeat` it was in (outermost first: pass, of how many).
    pub passes: Vec<(u64, u64)>,
    /// How long it took.
    pub elapsed: Duration,
    /// What it did (`Ok`), or why it failed.
    pub result: Result<String, StepFailure>,
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The sentence: what was expected, and what happened.
    pub sentence: String,
    /// The bytes that arrived instead, when some did (at most the first 64 are kept).
    pub arrived: Option<Vec<u8>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed {
        /// Steps carried out.
        steps: u64,
    },
    /// A step failed; the run stopped there.
    Failed {
        /// The step, as an index into [`Script::entries`].
        entry: usize,
        /// Steps carried out, the failed one included.
        steps: u64,
        /// The failure.
        failure: StepFailure,
    },
    /// The connection (or the listening socket) could not be set up.
    NotConnected {
        /// Why, as a sentence naming the address.
        sentence: String,
    },
    /// Stopped on request.
    Stopped {
        /// Steps carried out before.
        steps: u64,
    },
}

/// What a run reports.
#[derive(Debug, Clone)]
pub enum ScriptEvent {
    /// The script listens here (the real port when port 0 was asked for).
    Listening {
        /// The bound address.
        local: SocketAddr,
    },
    /// The peer is known: connected (TCP), or the socket is ready / the first datagram came.
    Connected {
        /// Our address.
        local: SocketAddr,
        /// Theirs.
        peer: SocketAddr,
    },
    /// The run waits for Step or Run before this step.
    Paused {
        /// The step it will carry out next.
        entry: usize,
    },
    /// A step begins.
    StepStarted {
        /// The step.
        entry: usize,
    },
    /// A step ended.
    StepFinished(StepResult),
    /// Bytes went out.
    Sent {
        /// Exactly what was written.
        data: Payload,
    },
    /// Bytes came in (one read or one datagram).
    Received {
        /// Exactly what arrived.
        data: Vec<u8>,
    },
    /// The run is over; nothing follows.
    Finished(Outcome),
}

/// A running script: send it commands, read its events; dropping it stops it and waits for its
/// thread.
pub struct ScriptRun {
    commands: Sender<ScriptCommand>,
    events: Receiver<ScriptEvent>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptRun {
    /// Tells the run something; ignored once it has finished.
    pub fn command(&self, command: ScriptCommand) {
        let _ = self.commands.send(command);
    }

    /// The run's events, in order; the channel closes after [`ScriptEvent::Finished`].
    pub fn events(&self) -> &Receiver<ScriptEvent> {
        &self.events
    }
}

impl Drop for ScriptRun {
    fn drop(&mut self) {
        let _ = self.commands.send(ScriptCommand::Stop);
        // The worker may be waiting to hand over an event: empty the queue so it sees Stop.
        while self.events.try_recv().is_ok() {}
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts `script` in a worker thread; `waker` is called after every event.
pub fn start(script: Arc<Script>, mode: StartMode, waker: Waker) -> std::io::Result<ScriptRun> {
    let (command_tx, command_rx) = bounded(64);
    let (event_tx, event_rx) = bounded(EVENT_QUEUE);
    let thread = std::thread::Builder::new()
        .name("script".into())
        .spawn(move || {
            let mut runner = Runner {
                script: Arc::clone(&script),
                commands: command_rx,
                events: event_tx,
                waker,
                mode,
                credit: 0,
                link: None,
                inbox: Inbox::default(),
                templates: TemplateState::default(),
                variables: HashMap::new(),
                captures: Captures::default(),
                executed: 0,
                sent: 0,
                local: None,
                link_closed: false,
            };
            let outcome = runner.run();
            runner.close();
            runner.emit(ScriptEvent::Finished(outcome));
        })?;
    Ok(ScriptRun {
        commands: command_tx,
        events: event_rx,
        thread: Some(thread),
    })
}

/// The engine session a run talks through.
enum Link {
    TcpClient(TcpClient),
    TcpServer {
        server: TcpServer,
        conn: Option<ConnId>,
    },
    Udp {
        session: UdpSession,
        /// The peer: the target (client) or the first sender (server).
        peer: Option<SocketAddr>,
        /// A client, connected to its target: `Send` needs no address.
        client: bool,
    },
}

impl Link {
    fn events(&self) -> &Receiver<Event> {
        match self {
            Link::TcpClient(c) => c.events(),
            Link::TcpServer { server, .. } => server.events(),
            Link::Udp { session, .. } => session.events(),
        }
    }
}

/// What arrived and no `expect` has taken yet.
#[derive(Default)]
struct Inbox {
    /// The stream's bytes (TCP without framing).
    stream: Vec<u8>,
    /// Whole messages (framing on, or datagrams).
    messages: VecDeque<Inbound>,
    /// Bytes held in `stream` and `messages`.
    held: usize,
    /// The peer finished sending (FIN), or the connection ended; why, as words.
    ended: Option<String>,
    /// Datagrams from senders other than the peer, which no step looks at.
    ignored: u64,
}

enum Inbound {
    Message(Vec<u8>),
    /// Bytes the framer set aside: a message over the maximum, or one the end cut short.
    Cut {
        piece: Piece,
        bytes: Vec<u8>,
    },
}

/// The groups the last regular-expression `expect` captured.
#[derive(Default)]
struct Captures {
    groups: Vec<Option<Vec<u8>>>,
    names: HashMap<String, usize>,
}

/// Why the steps stopped.
enum Halt {
    Failed(usize, StepFailure),
    Stopped,
}

struct Runner {
    script: Arc<Script>,
    commands: Receiver<ScriptCommand>,
    events: Sender<ScriptEvent>,
    waker: Waker,
    mode: StartMode,
    /// Steps the user allowed in step mode.
    credit: u32,
    link: Option<Link>,
    inbox: Inbox,
    templates: TemplateState,
    variables: HashMap<String, Vec<u8>>,
    captures: Captures,
    executed: u64,
    /// Writes the engine has confirmed.
    sent: u64,
    local: Option<SocketAddr>,
    /// The engine session's event channel has closed: only commands and timers can wake us.
    link_closed: bool,
}

/// Something a wait was interrupted by.
enum Wake {
    Event,
    Timeout,
    Stop,
}

impl Runner {
    fn emit(&self, event: ScriptEvent) {
        // A reader that went away stops the run at its next wait (the command channel closes).
        let _ = self.events.send(event);
        (self.waker)();
    }

    fn run(&mut self) -> Outcome {
        if let Err(outcome) = self.connect() {
            return outcome;
        }
        let script = Arc::clone(&self.script);
        let mut passes = Vec::new();
        match self.steps(&script.steps, &mut passes) {
            Ok(()) => Outcome::Passed {
                steps: self.executed,
            },
            Err(Halt::Failed(entry, failure)) => Outcome::Failed {
                entry,
                steps: self.executed,
                failure,
            },
            Err(Halt::Stopped) => Outcome::Stopped {
                steps: self.executed,
            },
        }
    }

    /// Starts the engine session for the script's target; also says how long to wait for a peer.
    fn open_link(&self) -> (Link, Duration) {
        let script = &self.script;
        let timeout = script.timeout;
        match &script.target {
            Target::Connect {
                protocol: Protocol::Tcp,
                host,
                port,
            } => {
                let config = TcpClientConfig {
                    connect_timeout: timeout,
                    framing: script.framing.clone(),
                    ..TcpClientConfig::new(host.clone(), *port)
                };
                (
                    Link::TcpClient(tcp_client::start(config, Arc::clone(&self.waker))),
                    timeout.saturating_mul(2),
                )
            }
            Target::Connect {
                protocol: Protocol::Udp,
                host,
                port,
            } => {
                let config = UdpClientConfig {
                    connect: true,
                    ..UdpClientConfig::new(host.clone(), *port)
                };
                let session = udp::start_client(config, Arc::clone(&self.waker));
                (
                    Link::Udp {
                        session,
                        peer: None,
                        client: true,
                    },
                    timeout,
                )
            }
            Target::Listen {
                protocol: Protocol::Tcp,
                address,
                wait,
            } => {
                let config = TcpServerConfig {
                    bind: address.ip(),
                    port: address.port(),
                    max_clients: 1,
                    close_when_client_finishes: false,
                    framing: script.framing.clone(),
                    ..TcpServerConfig::default()
                };
                let server = tcp_server::start(config, Arc::clone(&self.waker));
                (Link::TcpServer { server, conn: None }, *wait)
            }
            Target::Listen {
                protocol: Protocol::Udp,
                address,
                wait,
            } => {
                let config = UdpServerConfig {
                    bind: address.ip(),
                    port: address.port(),
                    ..UdpServerConfig::default()
                };
                let session = udp::start_server(config, Arc::clone(&self.waker));
                (
                    Link::Udp {
                        session,
                        peer: None,
                        client: false,
                    },
                    *wait,
                )
            }
        }
    }

    /// Sets up the link and waits until there is a peer to talk to.
    fn connect(&mut self) -> Result<(), Outcome> {
        let script = Arc::clone(&self.script);
        let (link, wait) = self.open_link();
        self.link = Some(link);
        let deadline = Instant::now() + wait;
        loop {
            if self.has_peer() {
                return Ok(());
            }
            if let Some(why) = &self.inbox.ended {
                return Err(Outcome::NotConnected {
                    sentence: why.clone(),
                });
            }
            match self.wait_until(Some(deadline)) {
                Wake::Event => {}
                Wake::Stop => return Err(Outcome::Stopped { steps: 0 }),
                Wake::Timeout => {
                    let whom = match &script.target {
                        Target::Connect { host, port, .. } => {
                            format!("no connection to {host}:{port}")
                        }
                        Target::Listen { protocol, .. } => {
                            let at = self.local.map_or(String::new(), |l| format!(" on {l}"));
                            match protocol {
                                Protocol::Tcp => format!("no client connected{at}"),
                                Protocol::Udp => format!("no datagram arrived{at}"),
                            }
                        }
                    };
                    return Err(Outcome::NotConnected {
                        sentence: format!("{whom} within {} ms.", wait.as_millis()),
                    });
                }
            }
        }
    }

    fn has_peer(&self) -> bool {
        match &self.link {
            Some(Link::TcpClient(_)) => self.local.is_some(),
            Some(Link::TcpServer { conn, .. }) => conn.is_some(),
            Some(Link::Udp { peer, client, .. }) => {
                // A UDP listener knows its peer from the first datagram.
                peer.is_some() && (*client || !self.inbox.messages.is_empty())
            }
            None => false,
        }
    }

    /// Closes the connection politely and waits for the engine session to end.
    fn close(&mut self) {
        match self.link.take() {
            Some(Link::TcpClient(client)) => {
                let _ = client.send(TcpClientCommand::Close);
                drop(client);
            }
            Some(Link::TcpServer { server, conn }) => {
                if let Some(conn) = conn {
                    let _ = server.send(TcpServerCommand::Disconnect(conn));
                }
                drop(server);
            }
            Some(Link::Udp { session, .. }) => drop(session),
            None => {}
        }
    }

    /// Waits for one engine event or command, up to `deadline`, and takes it in.
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let event = {
            let Some(link) = &self.link else {
                return Wake::Stop;
            };
            let events = if self.link_closed {
                crossbeam_channel::never()
            } else {
                link.events().clone()
            };
            let timer = timeout.map_or_else(crossbeam_channel::never, crossbeam_channel::after);
            select! {
                recv(events) -> event => event.ok(),
                recv(self.commands) -> command => match command {
                    Ok(ScriptCommand::Stop) | Err(_) => return Wake::Stop,
                    Ok(ScriptCommand::Run) => {
                        self.mode = StartMode::Run;
                        return Wake::Event;
                    }
                    Ok(ScriptCommand::Step) => {
                        self.credit = self.credit.saturating_add(1);
                        return Wake::Event;
                    }
                },
                recv(timer) -> _ => return Wake::Timeout,
            }
        };
        if let Some(event) = event {
            self.take_in(event);
        } else {
            // The session's channel closed: it has ended (its Stopped came first).
            self.link_closed = true;
            self.inbox
                .ended
                .get_or_insert_with(|| "the session ended".into());
        }
        Wake::Event
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one match over the engine's event kinds, each arm a line or two"
    )]
    fn take_in(&mut self, event: Event) {
        match event.kind {
            EventKind::Listening { local } => {
                self.local = Some(local);
                self.emit(ScriptEvent::Listening { local });
            }
            EventKind::Ready { local, peer } => {
                self.local = Some(local);
                if let Some(Link::Udp {
                    peer: p,
                    client: true,
                    ..
                }) = &mut self.link
                {
                    *p = peer;
                    if let Some(peer) = peer {
                        self.emit(ScriptEvent::Connected { local, peer });
                    }
                } else {
                    self.emit(ScriptEvent::Listening { local });
                }
            }
            EventKind::Connected { conn, local, peer } => {
                let ours = match &mut self.link {
                    Some(Link::TcpClient(_)) => true,
                    Some(Link::TcpServer { conn: c, .. }) if c.is_none() => {
                        *c = Some(conn);
                        true
                    }
                    _ => false,
                };
                if ours {
                    self.local = Some(local);
                    self.emit(ScriptEvent::Connected { local, peer });
                }
            }
            EventKind::Received { conn, data, .. } if self.is_ours(conn) => {
                self.inbox.stream.extend_from_slice(&data);
                self.inbox.held += data.len();
                self.emit(ScriptEvent::Received {
                    data: data.to_vec(),
                });
            }
            EventKind::Messages { conn, batch, .. } if self.is_ours(conn) => {
                for message in batch.iter() {
                    let body = message.body().to_vec();
                    self.inbox.held += message.bytes.len();
                    self.inbox.messages.push_back(match message.piece {
                        Piece::Message => Inbound::Message(body),
                        piece => Inbound::Cut {
                            piece,
                            bytes: message.bytes.to_vec(),
                        },
                    });
                }
                if let Some(read) = batch.read() {
                    self.emit(ScriptEvent::Received {
                        data: read.to_vec(),
                    });
                }
            }
            EventKind::Datagrams(batch) => {
                for datagram in batch.iter() {
                    let local = self.local;
                    let mut first = None;
                    let ours = match &mut self.link {
                        Some(Link::Udp { peer, .. }) => {
                            if let Some(p) = peer {
                                *p == datagram.peer
                            } else {
                                *peer = Some(datagram.peer);
                                first = Some(datagram.peer);
                                true
                            }
                        }
                        _ => false,
                    };
                    if let (Some(peer), Some(local)) = (first, local) {
                        self.emit(ScriptEvent::Connected { local, peer });
                    }
                    if ours {
                        self.inbox.held += datagram.data.len();
                        self.inbox
                            .messages
                            .push_back(Inbound::Message(datagram.data.to_vec()));
                        self.emit(ScriptEvent::Received {
                            data: datagram.data.to_vec(),
                        });
                    } else {
                        self.inbox.ignored += 1;
                    }
                }
            }
            EventKind::Sent { conn, data, .. } if self.is_ours(conn) => {
                self.sent += 1;
                self.emit(ScriptEvent::Sent { data });
            }
            EventKind::DatagramSent { data, .. } => {
                self.sent += 1;
                self.emit(ScriptEvent::Sent { data });
            }
            EventKind::PeerFinished { conn, .. } if self.is_ours(conn) => {
                self.inbox
                    .ended
                    .get_or_insert_with(|| "the peer finished sending (FIN)".into());
            }
            EventKind::Disconnected { conn, reason, .. } if self.is_ours(conn) => {
                self.inbox.ended.get_or_insert_with(|| reason.to_string());
            }
            EventKind::Error(e) => {
                // A UDP client learns of an absent peer from ICMP, as an error of a later call.
                if matches!(self.link, Some(Link::Udp { .. })) {
                    self.inbox.ended.get_or_insert_with(|| e.plain_sentence());
                }
            }
            EventKind::Stopped { reason } => {
                let why = match reason {
                    StopReason::Failed(e) => e.plain_sentence(),
                    StopReason::ConnectionEnded(r) => r.to_string(),
                    StopReason::Requested => "the session was stopped".into(),
                };
                self.inbox.ended.get_or_insert(why);
            }
            _ => {}
        }
    }

    fn is_ours(&self, conn: ConnId) -> bool {
        match &self.link {
            Some(Link::TcpClient(_)) => true,
            Some(Link::TcpServer { conn: c, .. }) => *c == Some(conn),
            _ => false,
        }
    }

    fn steps(&mut self, steps: &[Step], passes: &mut Vec<(u64, u64)>) -> Result<(), Halt> {
        for step in steps {
            self.gate(step.entry)?;
            self.emit(ScriptEvent::StepStarted { entry: step.entry });
            self.executed += 1;
            let began = Instant::now();
            let result = match &step.action {
                Action::Repeat { count, steps } => {
                    for pass in 1..=*count {
                        passes.push((pass, *count));
                        let inner = self.steps(steps, passes);
                        passes.pop();
                        inner?;
                    }
                    Ok(format!("{count} passes"))
                }
                Action::Send(body) => self.send(body),
                Action::Expect(expect) => self.expect(expect),
                Action::Wait(time) => self.wait(*time),
                Action::Set { name, group } => self.set(name, group),
            };
            let (report, halt) = match result {
                Ok(detail) => (Ok(detail), None),
                Err(Halt::Stopped) => (
                    Err(StepFailure {
                        sentence: "stopped".into(),
                        arrived: None,
                    }),
                    Some(Halt::Stopped),
                ),
                Err(Halt::Failed(OWN_STEP, failure)) => (
                    Err(failure.clone()),
                    Some(Halt::Failed(step.entry, failure)),
                ),
                // A step inside this repeat failed and has reported it; the repeat fails with it.
                Err(Halt::Failed(entry, failure)) => (
                    Err(StepFailure {
                        sentence: format!(
                            "the step on line {} failed.",
                            self.script.entries[entry].line
                        ),
                        arrived: None,
                    }),
                    Some(Halt::Failed(entry, failure)),
                ),
            };
            let finished = StepResult {
                entry: step.entry,
                passes: passes.clone(),
                elapsed: began.elapsed(),
                result: report,
            };
            self.emit(ScriptEvent::StepFinished(finished));
            if let Some(halt) = halt {
                return Err(halt);
            }
        }
        Ok(())
    }

    /// In step mode: waits until the user allows the next step.
    fn gate(&mut self, entry: usize) -> Result<(), Halt> {
        if self.mode == StartMode::Run {
            return Ok(());
        }
        if self.credit == 0 {
            self.emit(ScriptEvent::Paused { entry });
        }
        while self.mode == StartMode::Paused && self.credit == 0 {
            if let Wake::Stop = self.wait_until(None) {
                return Err(Halt::Stopped);
            }
        }
        self.credit = self.credit.saturating_sub(1);
        Ok(())
    }

    fn fail(entry: usize, sentence: String, arrived: Option<&[u8]>) -> Halt {
        Halt::Failed(
            entry,
            StepFailure {
                sentence,
                arrived: arrived.map(|a| a[..a.len().min(SHOWN_BYTES)].to_vec()),
            },
        )
    }

    fn send(&mut self, body: &SendBody) -> Result<String, Halt> {
        let bytes = match body {
            SendBody::Template(t) => self.templates.render(t),
            SendBody::WithVariables { source, checksum } => {
                let names: HashSet<String> = self.variables.keys().cloned().collect();
                let filled = put_in_variables(source, &|n| self.variables.get(n).cloned(), &names);
                let template = Template::parse(&filled)
                    .map_err(|e| Self::fail(OWN_STEP, e.to_string(), None))?
                    .with_checksum(*checksum);
                self.templates.render(&template)
            }
        };
        let payload = Payload::from(bytes.as_slice());
        let sent = match &self.link {
            Some(Link::TcpClient(c)) => c.send(TcpClientCommand::Send(payload)),
            Some(Link::TcpServer {
                server,
                conn: Some(conn),
            }) => server.send(TcpServerCommand::SendTo(*conn, payload)),
            Some(Link::Udp {
                session,
                peer: Some(peer),
                client,
            }) => {
                if let Err(e) = udp::check_datagram_size(*peer, bytes.len()) {
                    return Err(Self::fail(OWN_STEP, e.plain_sentence(), None));
                }
                session.send(if *client {
                    UdpCommand::Send(payload)
                } else {
                    UdpCommand::SendTo(*peer, payload)
                })
            }
            _ => {
                return Err(Self::fail(
                    OWN_STEP,
                    "there is no peer to send to.".into(),
                    None,
                ));
            }
        };
        if let Err(e) = sent {
            return Err(Self::fail(OWN_STEP, e.plain_sentence(), None));
        }
        let before = self.sent;
        let deadline = Instant::now() + SEND_CONFIRM;
        while self.sent == before {
            if let Some(why) = &self.inbox.ended
                && self.link_is_over()
            {
                return Err(Self::fail(
                    OWN_STEP,
                    format!("the {} bytes could not be sent: {why}.", bytes.len()),
                    None,
                ));
            }
            match self.wait_until(Some(deadline)) {
                Wake::Event => {}
                Wake::Stop => return Err(Halt::Stopped),
                Wake::Timeout => {
                    return Err(Self::fail(
                        OWN_STEP,
                        format!(
                            "the {} bytes were not written within {} s: the peer is not reading.",
                            bytes.len(),
                            SEND_CONFIRM.as_secs()
                        ),
                        None,
                    ));
                }
            }
        }
        Ok(format!("sent {} bytes: {}", bytes.len(), show(&bytes)))
    }

    /// True when nothing more can be sent or received: the connection or session ended (a
    /// peer's FIN alone still lets us send).
    fn link_is_over(&self) -> bool {
        self.inbox
            .ended
            .as_deref()
            .is_some_and(|why| !why.contains("(FIN)"))
            || self.link.as_ref().is_some_and(|l| match l {
                Link::TcpClient(c) => c.is_finished(),
                Link::TcpServer { server, .. } => server.is_finished(),
                Link::Udp { session, .. } => session.is_finished(),
            })
    }

    fn wait(&mut self, time: Duration) -> Result<String, Halt> {
        let deadline = Instant::now() + time;
        loop {
            self.check_held()?;
            match self.wait_until(Some(deadline)) {
                Wake::Event => {}
                Wake::Timeout => return Ok(format!("waited {} ms", time.as_millis())),
                Wake::Stop => return Err(Halt::Stopped),
            }
        }
    }

    fn check_held(&self) -> Result<(), Halt> {
        if self.inbox.held > MAX_PENDING_BYTES {
            return Err(Self::fail(
                OWN_STEP,
                format!(
                    "more than {MAX_PENDING_BYTES} bytes arrived that no expect took; the run stops rather than drop any."
                ),
                Some(&self.inbox.stream),
            ));
        }
        Ok(())
    }

    fn set(&mut self, name: &str, group: &GroupRef) -> Result<String, Halt> {
        let index = match group {
            GroupRef::Index(i) => Some(*i),
            GroupRef::Name(n) => self.captures.names.get(n).copied(),
        };
        let value = index
            .and_then(|i| self.captures.groups.get(i))
            .and_then(Clone::clone);
        let Some(value) = value else {
            return Err(Self::fail(
                OWN_STEP,
                "the group took no part in the last match, so there is no value to keep.".into(),
                None,
            ));
        };
        let detail = format!("{name} = {}", show(&value));
        self.variables.insert(name.to_string(), value);
        Ok(detail)
    }

    fn expect(&mut self, expect: &Expect) -> Result<String, Halt> {
        let deadline = Instant::now() + expect.timeout;
        let framed =
            self.script.framing.framing.is_on() || self.script.target.protocol() == Protocol::Udp;
        loop {
            self.check_held()?;
            let verdict = if framed {
                self.match_message(&expect.matcher)
            } else {
                self.match_stream(&expect.matcher)
            };
            if let Some(verdict) = verdict {
                return verdict;
            }
            // Events come in order: once the end is in, every byte before it has been seen.
            if self.inbox.ended.is_some() {
                let why = self.inbox.ended.clone().unwrap_or_default();
                let (had, arrived) = self.leftover();
                return Err(Self::fail(
                    OWN_STEP,
                    format!(
                        "expected {}, but {why} first{had}.",
                        describe(&expect.matcher)
                    ),
                    arrived.as_deref(),
                ));
            }
            match self.wait_until(Some(deadline)) {
                Wake::Event => {}
                Wake::Stop => return Err(Halt::Stopped),
                Wake::Timeout => {
                    let (had, arrived) = self.leftover();
                    let sentence = if arrived.is_some() {
                        format!(
                            "expected {} within {} ms{had}.",
                            describe(&expect.matcher),
                            expect.timeout.as_millis()
                        )
                    } else {
                        format!(
                            "expected {} within {} ms; nothing arrived.",
                            describe(&expect.matcher),
                            expect.timeout.as_millis()
                        )
                    };
                    return Err(Self::fail(OWN_STEP, sentence, arrived.as_deref()));
                }
            }
        }
    }

    /// What arrived that no step took, for a failure sentence.
    fn leftover(&self) -> (String, Option<Vec<u8>>) {
        if !self.inbox.stream.is_empty() {
            let s = &self.inbox.stream;
            return (
                format!("; arrived instead ({} bytes): {}", s.len(), show(s)),
                Some(s.clone()),
            );
        }
        (String::new(), None)
    }

    /// With messages: the next one must match.
    fn match_message(&mut self, matcher: &Matcher) -> Option<Result<String, Halt>> {
        if let Matcher::End = matcher {
            // As on a stream: the messages before the end are taken, counted and passed.
            self.inbox.ended.as_ref()?;
            let rest = self.inbox.messages.len();
            let bytes: usize = self
                .inbox
                .messages
                .drain(..)
                .map(|m| match m {
                    Inbound::Message(b) | Inbound::Cut { bytes: b, .. } => b.len(),
                })
                .sum();
            self.inbox.held = 0;
            return Some(Ok(if rest == 0 {
                "the peer finished sending".to_string()
            } else {
                format!("the peer finished sending after {rest} more messages ({bytes} bytes)")
            }));
        }
        let inbound = self.inbox.messages.pop_front()?;
        let message = match inbound {
            Inbound::Message(m) => m,
            Inbound::Cut { piece, bytes } => {
                self.inbox.held = self.inbox.held.saturating_sub(bytes.len());
                let what = match piece {
                    Piece::Discarded => {
                        "bytes the framing discarded (a message over the maximum size)"
                    }
                    _ => "the start of a message that never finished",
                };
                return Some(Err(Self::fail(
                    OWN_STEP,
                    format!(
                        "expected {}; arrived instead {} ({} bytes): {}.",
                        describe(matcher),
                        what,
                        bytes.len(),
                        show(&bytes)
                    ),
                    Some(&bytes),
                )));
            }
        };
        self.inbox.held = self.inbox.held.saturating_sub(message.len());
        let is_match = match matcher {
            Matcher::Equals(p) => message == *p,
            Matcher::Contains(p) => memchr::memmem::find(&message, p).is_some(),
            Matcher::StartsWith(p) => message.starts_with(p),
            Matcher::EndsWith(p) => message.ends_with(p),
            Matcher::Regex(r) => match r.regex().captures(&message) {
                Some(c) => {
                    self.keep_captures(r.regex(), &c);
                    true
                }
                None => false,
            },
            Matcher::Hex(p) => p.matches(&message),
            Matcher::End => false,
        };
        Some(if is_match {
            Ok(format!(
                "received a message of {} bytes: {}",
                message.len(),
                show(&message)
            ))
        } else {
            Err(Self::fail(
                OWN_STEP,
                format!(
                    "expected {}; arrived instead a message of {} bytes: {}.",
                    describe(matcher),
                    message.len(),
                    show(&message)
                ),
                Some(&message),
            ))
        })
    }

    /// On a bare stream: look for the pattern in what has arrived, take the bytes through it.
    fn match_stream(&mut self, matcher: &Matcher) -> Option<Result<String, Halt>> {
        let buf = &self.inbox.stream;
        let take = match matcher {
            Matcher::Equals(p) | Matcher::StartsWith(p) => {
                let n = buf.len().min(p.len());
                if buf[..n] != p[..n] {
                    return Some(Err(self.mismatch(matcher)));
                }
                (buf.len() >= p.len()).then_some(p.len())
            }
            Matcher::Contains(p) | Matcher::EndsWith(p) => {
                memchr::memmem::find(buf, p).map(|at| at + p.len())
            }
            Matcher::Regex(r) => {
                let found = r.regex().captures(buf).map(|c| {
                    let groups: Vec<Option<Vec<u8>>> =
                        c.iter().map(|g| g.map(|m| m.as_bytes().to_vec())).collect();
                    (c.get(0).map_or(0, |m| m.end()), groups)
                });
                found.map(|(end, groups)| {
                    self.keep_groups(r.regex(), groups);
                    end
                })
            }
            Matcher::Hex(p) => {
                let n = buf.len().min(p.bytes.len());
                let fits = p.bytes[..n]
                    .iter()
                    .zip(&buf[..n])
                    .all(|(want, got)| want.is_none_or(|w| w == *got));
                if !fits {
                    return Some(Err(self.mismatch(matcher)));
                }
                if buf.len() < p.bytes.len() {
                    None
                } else if p.open_end {
                    Some(buf.len())
                } else {
                    Some(p.bytes.len())
                }
            }
            Matcher::End => {
                // "Read to the end": what came before the FIN is taken and shown, not dropped.
                self.inbox.ended.as_ref()?;
                let rest: Vec<u8> = std::mem::take(&mut self.inbox.stream);
                self.inbox.held = self.inbox.held.saturating_sub(rest.len());
                return Some(Ok(if rest.is_empty() {
                    "the peer finished sending".to_string()
                } else {
                    format!(
                        "the peer finished sending after {} more bytes: {}",
                        rest.len(),
                        show(&rest)
                    )
                }));
            }
        }?;
        let taken: Vec<u8> = self.inbox.stream.drain(..take).collect();
        self.inbox.held = self.inbox.held.saturating_sub(taken.len());
        Some(Ok(format!(
            "received {} bytes: {}",
            taken.len(),
            show(&taken)
        )))
    }

    fn mismatch(&self, matcher: &Matcher) -> Halt {
        let buf = &self.inbox.stream;
        Self::fail(
            OWN_STEP,
            format!(
                "expected {}; arrived instead ({} bytes): {}.",
                describe(matcher),
                buf.len(),
                show(buf)
            ),
            Some(buf),
        )
    }

    fn keep_captures(&mut self, regex: &regex::bytes::Regex, captures: &regex::bytes::Captures) {
        let groups = captures
            .iter()
            .map(|g| g.map(|m| m.as_bytes().to_vec()))
            .collect();
        self.keep_groups(regex, groups);
    }

    fn keep_groups(&mut self, regex: &regex::bytes::Regex, groups: Vec<Option<Vec<u8>>>) {
        self.captures.groups = groups;
        self.captures.names = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
            .collect();
    }
}

/// What a matcher waits for, in words.
fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Equals(p) => format!("exactly {}", show(p)),
        Matcher::Contains(p) => format!("data containing {}", show(p)),
        Matcher::StartsWith(p) => format!("data starting with {}", show(p)),
        Matcher::EndsWith(p) => format!("data ending with {}", show(p)),
        Matcher::Regex(r) => format!("data matching /{}/", r.source()),
        Matcher::Hex(p) => format!("bytes like {p}"),
        Matcher::End => "the peer to finish sending (FIN)".into(),
    }
}

/// Bytes for a sentence: as text when they are printable, else as hex; long ones cut with the
/// count of the rest.
fn show(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let printable = cut
        .iter()
        .all(|b| (0x20..0x7f).contains(b) || matches!(b, b'\r' | b'\n' | b'\t'));
    let mut out = if printable {
        format!("\"{}\"", to_visible_text(cut, SHOWN_BYTES))
    } else {
        to_hex(cut)
    };
    if bytes.len() > cut.len() {
        let _ = write!(out, " … ({} more bytes)", bytes.len() - cut.len());
    }
    out
}
