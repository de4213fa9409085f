//! The four network subcommands: each starts one engine session and runs an event loop that
//! prints every event, feeds the data to send with flow control, and ends on the session's
//! `Stopped` event.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::ArgMatches;
use crossbeam_channel::{Receiver, bounded, never, select};

use super::console::{Console, Role};
use super::data::{self, Framing, STREAM_CHUNK};
use super::traffic::print_sequence_report;
use super::{
    ClientTlsArgs, Failure, Outgoing, OutputMode, ServerArgs, ServerTlsArgs, TcpConnectArgs,
    TcpListenArgs, UdpListenArgs, UdpSendArgs, alpn, auto_reply, bind_address, host, port, reply,
};
use crate::engine::generator::{SequenceCheck, StreamSequenceCheck};
use crate::engine::payload::EMPTY_STREAM_SEND;
use crate::engine::services::{PortUse, Protocol};
use crate::engine::tls::DEFAULT_HANDSHAKE_TIMEOUT;
use crate::engine::{
    self, CaptureConfig, EngineError, Event, EventKind, Op, Payload, ServerIdentity, Session,
    TcpClientCommand, TcpClientConfig, TcpServerCommand, TcpServerConfig, TlsClientSettings,
    TlsServerSettings, TlsStep, UdpClientConfig, UdpCommand, UdpServerConfig,
};

/// Most bytes handed to the session and not yet reported sent. It keeps memory bounded while
/// streaming from a fast source into a slow peer, and is far below what the session's queues
/// hold, so a send is never refused for lack of room.
const MAX_IN_FLIGHT_BYTES: usize = 64 * STREAM_CHUNK;
/// Most messages handed to the session and not yet reported sent (the session's command queue
/// and a connection's write queue hold 256 each).
const MAX_IN_FLIGHT_MESSAGES: usize = 64;
/// Exit code after a second Ctrl-C, which stops at once instead of cleanly (128 + SIGINT, as
/// shells report it).
const EXIT_FORCED: i32 = 130;
/// How soon a server looks again at messages that are still held somewhere after their last
/// event (see [`Broadcast`]).
const RECHECK: Duration = Duration::from_millis(10);

type Input = Receiver<Result<Outgoing, Failure>>;

/// The bytes of one message as it goes out now: a template is filled in with the session's next
/// `{seq}` (the engine's replies count on the same numbers).
fn fill<C: Send + 'static>(message: Outgoing, session: &Session<C>) -> Payload {
    match message {
        Outgoing::Bytes(bytes) => bytes,
        Outgoing::Template(template) => Payload::from(session.render_template(&template)),
    }
}

/// Ctrl-C (and, on Unix, SIGTERM / SIGHUP) as a channel the event loop can wait on. A second one
/// exits at once, for a run that does not stop by itself.
pub(super) fn interrupts() -> Receiver<()> {
    let (tx, rx) = bounded(1);
    let mut presses = 0_u32;
    let installed = ctrlc::set_handler(move || {
        presses += 1;
        if presses > 1 {
            eprintln!("stopped at once (second interrupt)");
            std::process::exit(EXIT_FORCED);
        }
        let _ = tx.try_send(());
    });
    if let Err(e) = installed {
        eprintln!("(Ctrl-C will end the program without the final counters: {e})");
    }
    rx
}

/// One subcommand's reaction to events, input and its deadline.
trait Driver {
    type Command: Send + 'static;

    /// After the console has printed an event.
    fn on_event(&mut self, event: &Event, session: &Session<Self::Command>, console: &mut Console);

    /// Messages to send, while the driver is ready to take one.
    fn input(&self) -> Option<&Input> {
        None
    }

    /// One message from [`Driver::input`], or `None` when the input has ended.
    fn on_input(
        &mut self,
        _message: Option<Result<Outgoing, Failure>>,
        _session: &Session<Self::Command>,
        _console: &mut Console,
    ) {
    }

    /// When [`Driver::on_deadline`] should run.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// The deadline has passed.
    fn on_deadline(&mut self, _session: &Session<Self::Command>) {}

    /// After each turn of the loop, once the turn's event has been dropped.
    fn settle(&mut self, _session: &Session<Self::Command>, _console: &mut Console) {}
}

/// Runs a session to its `Stopped` event, then prints the counters.
fn drive<D: Driver>(
    session: &Session<D::Command>,
    driver: &mut D,
    console: &mut Console,
) -> Result<(), Failure> {
    let interrupts = interrupts();
    let no_input: Input = never();
    let mut stop_asked = false;
    loop {
        let input = driver.input().unwrap_or(&no_input);
        let timer = driver.deadline().map_or_else(never, crossbeam_channel::at);
        select! {
            recv(session.events()) -> event => {
                let Ok(event) = event else { break };
                console.event(&event);
                driver.on_event(&event, session, console);
                if matches!(event.kind, EventKind::Stopped { .. }) {
                    break;
                }
            },
            recv(input) -> message => driver.on_input(message.ok(), session, console),
            recv(timer) -> _ => driver.on_deadline(session),
            recv(interrupts) -> _ => session.stop(),
        }
        driver.settle(session, console);
        if !stop_asked && (console.stdout_closed() || console.result().is_err()) {
            // Nobody reads the output any more, or something already failed: end cleanly.
            stop_asked = true;
            session.stop();
        }
        if session.events().is_empty() {
            console.flush();
        }
    }
    console.finish(&session.counters());
    console.result()
}

/// Hands messages to a session in order, never more than the in-flight limits, and learns from
/// the session's events when each has gone out. Nothing is dropped: a message the session could
/// not queue is held and offered again when an earlier one completes.
struct Outbox<C> {
    input: Input,
    wrap: fn(Payload) -> C,
    /// Sizes of the messages handed over and not yet completed, oldest first.
    in_flight: VecDeque<usize>,
    in_flight_bytes: usize,
    held: Option<Payload>,
    input_ended: bool,
}

impl<C: Send + 'static> Outbox<C> {
    fn new(input: Input, wrap: fn(Payload) -> C) -> Self {
        Outbox {
            input,
            wrap,
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            held: None,
            input_ended: false,
        }
    }

    fn wants_more(&self) -> bool {
        !self.input_ended
            && self.held.is_none()
            && self.in_flight.len() < MAX_IN_FLIGHT_MESSAGES
            && self.in_flight_bytes < MAX_IN_FLIGHT_BYTES
    }

    /// Every message has been read, sent and reported.
    fn finished(&self) -> bool {
        self.input_ended && self.in_flight.is_empty() && self.held.is_none()
    }

    fn offer(&mut self, message: Payload, session: &Session<C>) -> Result<(), EngineError> {
        let len = message.len();
        match session.send((self.wrap)(message.clone())) {
            Ok(()) => {
                self.in_flight.push_back(len);
                self.in_flight_bytes += len;
                Ok(())
            }
            Err(EngineError::QueueFull { .. }) if !self.in_flight.is_empty() => {
                self.held = Some(message);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The oldest message has gone out (or failed, which the console reports).
    fn completed(&mut self, session: &Session<C>) -> Result<(), EngineError> {
        if let Some(len) = self.in_flight.pop_front() {
            self.in_flight_bytes -= len;
        }
        match self.held.take() {
            Some(message) => self.offer(message, session),
            None => Ok(()),
        }
    }

    /// Takes one message from the input (or its end).
    fn take(
        &mut self,
        message: Option<Result<Outgoing, Failure>>,
        session: &Session<C>,
        console: &mut Console,
    ) {
        match message {
            None => self.input_ended = true,
            Some(Ok(message)) => {
                let payload = fill(message, session);
                if let Err(e) = self.offer(payload, session) {
                    self.input_ended = true;
                    console.fail(&Failure::engine(&e));
                }
            }
            Some(Err(failure)) => {
                self.input_ended = true;
                console.fail(&failure);
            }
        }
    }

    fn input(&self) -> Option<&Input> {
        self.wants_more().then_some(&self.input)
    }
}

fn check_capture(server: &ServerArgs, per_client: bool) -> Result<Option<CaptureConfig>, Failure> {
    let Some(path) = &server.capture else {
        return Ok(None);
    };
    let capture = CaptureConfig {
        path: path.clone(),
        overwrite: server.overwrite,
    };
    // The engine checks again when it starts; checking here makes a bad path bad usage (exit 2).
    capture
        .check(per_client)
        .map_err(|e| Failure::usage(e.plain_sentence()))?;
    Ok(Some(capture))
}

// ---------------------------------------------------------------------------------------------
// tcp-connect

struct TcpConnect {
    outbox: Outbox<TcpClientCommand>,
    /// Over TLS, data waits for the handshake: it is sent once the connection is established.
    tls: bool,
    /// Whole sends handed to the session at once (see [`data::whole_sends`]), instead of the
    /// outbox's stream of chunks: those not queued yet, and how many are not finished.
    whole: Option<WholeSends>,
    connected: bool,
    shutdown: bool,
    wait: Option<Duration>,
    sends_done_at: Option<Instant>,
    peer_finished: bool,
    close_asked: bool,
}

/// Sends that go to the session as whole commands, each finished by its own event (`Sent` for
/// bytes, the final `FileSend` for a file, or the error that refused it).
struct WholeSends {
    unsent: VecDeque<TcpClientCommand>,
    unfinished: usize,
}

impl WholeSends {
    /// Queues what fits in the session's command queue; the rest waits for a finished send.
    fn queue(&mut self, session: &Session<TcpClientCommand>, console: &mut Console) {
        while let Some(command) = self.unsent.pop_front() {
            match session.send(command.clone()) {
                Ok(()) => {}
                Err(EngineError::QueueFull { .. }) if self.unfinished > self.unsent.len() + 1 => {
                    self.unsent.push_front(command);
                    return;
                }
                Err(e) => {
                    console.fail(&Failure::engine(&e));
                    self.unsent.clear();
                    self.unfinished = 0;
                    return;
                }
            }
        }
    }

    fn finished(&self) -> bool {
        self.unfinished == 0
    }
}

impl TcpConnect {
    /// True once every message has been sent (or refused, which the console reports).
    fn all_sent(&self) -> bool {
        self.outbox.finished() && self.whole.as_ref().is_none_or(WholeSends::finished)
    }

    /// Data may go out now (connected, and over TLS the handshake done).
    fn established(&mut self, session: &Session<TcpClientCommand>, console: &mut Console) {
        self.connected = true;
        if let Some(whole) = self.whole.as_mut() {
            whole.queue(session, console);
        }
    }

    /// One whole send has finished: queue the next ones.
    fn whole_finished(&mut self, session: &Session<TcpClientCommand>, console: &mut Console) {
        if let Some(whole) = self.whole.as_mut() {
            whole.unfinished = whole.unfinished.saturating_sub(1);
            whole.queue(session, console);
        }
    }

    fn close(&mut self, session: &Session<TcpClientCommand>) {
        if !self.close_asked {
            self.close_asked = true;
            let _ = session.send(TcpClientCommand::Close);
        }
    }

    /// Moves on once everything is sent: half-close if asked, close if the peer is done too.
    fn progress(&mut self, session: &Session<TcpClientCommand>) {
        if !self.connected || self.sends_done_at.is_some() || !self.all_sent() {
            return;
        }
        self.sends_done_at = Some(Instant::now());
        if self.shutdown {
            let _ = session.send(TcpClientCommand::ShutdownWrite);
        }
        if self.peer_finished {
            self.close(session);
        }
    }
}

impl Driver for TcpConnect {
    type Command = TcpClientCommand;

    fn on_event(&mut self, event: &Event, session: &Session<TcpClientCommand>, c: &mut Console) {
        match &event.kind {
            EventKind::Connected { .. } if !self.tls => self.established(session, c),
            EventKind::Tls(tls) if matches!(tls.step, TlsStep::Established { .. }) => {
                self.established(session, c);
            }
            EventKind::Sent { echo: false, .. } if self.whole.is_some() => {
                self.whole_finished(session, c);
            }
            EventKind::FileSend(file) if file.is_final() => self.whole_finished(session, c),
            EventKind::Error(EngineError::FileSend(_)) => self.whole_finished(session, c),
            EventKind::Sent { echo: false, .. } => {
                if let Err(e) = self.outbox.completed(session) {
                    c.fail(&Failure::engine(&e));
                }
            }
            EventKind::PeerFinished { .. } => {
                self.peer_finished = true;
                if self.sends_done_at.is_some() {
                    self.close(session);
                }
            }
            _ => {}
        }
        self.progress(session);
    }

    fn input(&self) -> Option<&Input> {
        if self.connected {
            self.outbox.input()
        } else {
            None
        }
    }

    fn on_input(
        &mut self,
        message: Option<Result<Outgoing, Failure>>,
        session: &Session<TcpClientCommand>,
        console: &mut Console,
    ) {
        self.outbox.take(message, session, console);
        self.progress(session);
    }

    fn deadline(&self) -> Option<Instant> {
        match (self.sends_done_at, self.wait) {
            (Some(done), Some(wait)) if !self.close_asked => Some(done + wait),
            _ => None,
        }
    }

    fn on_deadline(&mut self, session: &Session<TcpClientCommand>) {
        self.close(session);
    }
}

/// `tcp-connect HOST PORT`.
pub(crate) fn tcp_connect(
    args: &TcpConnectArgs,
    matches: Option<&ArgMatches>,
) -> Result<(), Failure> {
    let host = host(&args.host)?;
    let port = port(&args.port, Protocol::Tcp, PortUse::Connect)?;
    let sources = data::sources(&args.data, &args.text, matches)?;
    data::refuse_empty_stream_sends(&sources)?;
    let mut config = TcpClientConfig::new(host, port);
    config.local = args.local;
    args.common.refuse_framing_with_tls(args.tls.tls)?;
    config.framing = args.common.framing()?;
    if let Some(timeout) = args.timeout {
        if timeout.is_zero() {
            return Err(Failure::usage(
                "--timeout must be more than 0 seconds (for example 0.5).",
            ));
        }
        config.connect_timeout = timeout;
    }
    config.tls = client_tls(&args.tls, args.timeout, &config.host)?;
    let mut console = Console::new(&args.common, Role::TcpClient);
    let config_tls = config.tls.is_some();
    let whole = data::whole_sends(&sources).map(|commands| WholeSends {
        unfinished: commands.len(),
        unsent: commands.into(),
    });
    // With whole sends the outbox has nothing to read: its input ends at once.
    let input = if whole.is_some() {
        data::spawn_reader(Vec::new(), Framing::Stream)
    } else {
        data::spawn_reader(sources, Framing::Stream)
    };
    let session = engine::tcp_client::start(config, engine::noop_waker());
    let mut driver = TcpConnect {
        whole,
        outbox: Outbox::new(input, TcpClientCommand::Send),
        tls: config_tls,
        connected: false,
        shutdown: args.shutdown,
        wait: args.wait,
        sends_done_at: None,
        peer_finished: false,
        close_asked: false,
    };
    drive(&session, &mut driver, &mut console)
}

/// `--tls ...` of `tcp-connect` as engine settings, checked (files, server name) before any
/// connection is made, so a file problem is bad input (exit 2).
fn client_tls(
    args: &ClientTlsArgs,
    timeout: Option<Duration>,
    host: &str,
) -> Result<Option<TlsClientSettings>, Failure> {
    if !args.tls {
        return Ok(None);
    }
    let settings = TlsClientSettings {
        ca_file: args.ca.clone(),
        server_name: args.sni.clone(),
        alpn: alpn(&args.alpn)?,
        accept_any_certificate: args.insecure,
        handshake_timeout: timeout.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT),
    };
    settings.check(host).map_err(|e| Failure::engine(&e))?;
    Ok(Some(settings))
}

/// `--tls ...` of `tcp-listen` as engine settings, with the files checked.
fn server_tls(args: &ServerTlsArgs) -> Result<Option<TlsServerSettings>, Failure> {
    if !args.tls {
        return Ok(None);
    }
    let identity = match (&args.cert, &args.key, args.self_signed) {
        (Some(cert), Some(key), false) => ServerIdentity::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        (None, None, true) => ServerIdentity::SelfSigned,
        _ => {
            return Err(Failure::usage(
                "--tls needs the server's certificate: give --cert FILE and --key FILE, or --self-signed to generate one.",
            ));
        }
    };
    if let Some(path) = &args.save_cert
        && path.exists()
    {
        return Err(Failure::usage(format!(
            "--save-cert: the file {} already exists, and Socket Lab does not replace files silently. Choose another name, or remove it first.",
            path.display()
        )));
    }
    let settings = TlsServerSettings {
        identity,
        client_ca: args.client_ca.clone(),
        alpn: alpn(&args.alpn)?,
        handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
    };
    // Files are checked now, so a bad one is bad input (exit 2); a generated certificate is
    // made again when the server starts (it takes a millisecond).
    settings.check().map_err(|e| Failure::engine(&e))?;
    Ok(Some(settings))
}

/// Writes a generated certificate for `--save-cert`, never over an existing file.
fn save_certificate(path: &std::path::Path, pem: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(pem.as_bytes()));
    match written {
        Ok(()) => {
            eprintln!("saved the certificate to {}", path.display());
            Ok(())
        }
        Err(e) => Err(Failure::usage(format!(
            "--save-cert: could not write {} ({}).",
            path.display(),
            engine::error::file_reason(&e)
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// tcp-listen

/// What a TCP server sends to all its clients (`--send`, `--hex`, `--file`, `--send -`).
///
/// One `SendToAll` reaches a number of clients the CLI cannot know in advance, so a message counts
/// as delivered when nothing holds it any more: every client's writer, and the `Sent` events this
/// loop has read and dropped, share the one allocation. The engine's last reference may go a moment
/// after the last event, so while messages are outstanding the loop also looks again every
/// [`RECHECK`] (and not at all when nothing is being sent). Input is only taken while a client is
/// connected, so nothing is sent to nobody.
struct Broadcast {
    input: Input,
    in_flight: VecDeque<Payload>,
    in_flight_bytes: usize,
    held: Option<Payload>,
    input_ended: bool,
}

impl Broadcast {
    fn wants_more(&self) -> bool {
        !self.input_ended
            && self.held.is_none()
            && self.in_flight.len() < MAX_IN_FLIGHT_MESSAGES
            && self.in_flight_bytes < MAX_IN_FLIGHT_BYTES
    }

    fn offer(
        &mut self,
        message: Payload,
        session: &Session<TcpServerCommand>,
    ) -> Result<(), EngineError> {
        let len = message.len();
        match session.send(TcpServerCommand::SendToAll(message.clone())) {
            Ok(()) => {
                self.in_flight.push_back(message);
                self.in_flight_bytes += len;
                Ok(())
            }
            // Replies share the queue; wait for room instead of dropping.
            Err(EngineError::QueueFull { .. }) => {
                self.held = Some(message);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets delivered messages and offers a held one again.
    fn settle(&mut self, session: &Session<TcpServerCommand>) -> Result<(), EngineError> {
        while self
            .in_flight
            .front()
            .is_some_and(|m| std::sync::Arc::strong_count(m) == 1)
        {
            if let Some(done) = self.in_flight.pop_front() {
                self.in_flight_bytes -= done.len();
            }
        }
        match self.held.take() {
            Some(message) => self.offer(message, session),
            None => Ok(()),
        }
    }
}

struct TcpListen {
    /// `--sequence`: every received byte goes through the stream check.
    sequence: Option<StreamSequenceCheck>,
    save_cert: Option<std::path::PathBuf>,
    reply: Option<Payload>,
    once: bool,
    stop_asked: bool,
    broadcast: Option<Broadcast>,
    clients: u64,
}

impl Driver for TcpListen {
    type Command = TcpServerCommand;

    fn on_event(&mut self, event: &Event, session: &Session<TcpServerCommand>, c: &mut Console) {
        if let Some(check) = self.sequence.as_mut() {
            match &event.kind {
                EventKind::Received { conn, peer, data } => {
                    check.observe(*conn, *peer, data, event.at);
                }
                EventKind::Disconnected { conn, .. } => check.closed(*conn),
                _ => {}
            }
        }
        match &event.kind {
            EventKind::Tls(tls) => {
                if let TlsStep::ServerCertificate {
                    generated_pem: Some(pem),
                    ..
                } = &tls.step
                    && let Some(path) = self.save_cert.take()
                    && let Err(failure) = save_certificate(&path, pem)
                {
                    c.fail(&failure);
                }
            }
            EventKind::Connected { .. } => self.clients += 1,
            EventKind::Received { conn, .. } => {
                if let Some(reply) = &self.reply
                    && let Err(e) = session.send(TcpServerCommand::SendTo(*conn, reply.clone()))
                {
                    // One client outrunning its replies must not stop the server for the others.
                    eprintln!("No reply to client {conn}: {}", e.plain_sentence());
                }
            }
            // The server closes a client once it has finished sending, as most servers do. The
            // close goes through the command queue, behind any reply to the client's last data.
            EventKind::PeerFinished { conn, .. } => {
                let _ = session.send(TcpServerCommand::Disconnect(*conn));
            }
            EventKind::Disconnected { .. } if !self.once || self.stop_asked => {
                self.clients = self.clients.saturating_sub(1);
            }
            EventKind::Disconnected { reason, .. } => {
                self.clients = self.clients.saturating_sub(1);
                self.stop_asked = true;
                if let engine::CloseReason::Failed(e) = reason {
                    // With --once the one client is the whole run, so its failure is the result.
                    c.fail(&Failure::engine(e));
                }
                session.stop();
            }
            _ => {}
        }
    }

    fn input(&self) -> Option<&Input> {
        let broadcast = self.broadcast.as_ref()?;
        (self.clients > 0 && !self.stop_asked && broadcast.wants_more()).then_some(&broadcast.input)
    }

    fn on_input(
        &mut self,
        message: Option<Result<Outgoing, Failure>>,
        session: &Session<TcpServerCommand>,
        console: &mut Console,
    ) {
        let Some(broadcast) = self.broadcast.as_mut() else {
            return;
        };
        match message {
            None => broadcast.input_ended = true,
            Some(Ok(message)) => {
                let payload = fill(message, session);
                if let Err(e) = broadcast.offer(payload, session) {
                    broadcast.input_ended = true;
                    eprintln!("{}", e.plain_sentence());
                }
            }
            Some(Err(failure)) => {
                broadcast.input_ended = true;
                console.fail(&failure);
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let broadcast = self.broadcast.as_ref()?;
        (!broadcast.in_flight.is_empty() || broadcast.held.is_some())
            .then(|| Instant::now() + RECHECK)
    }

    fn settle(&mut self, session: &Session<TcpServerCommand>, _: &mut Console) {
        if let Some(broadcast) = self.broadcast.as_mut()
            && let Err(e) = broadcast.settle(session)
        {
            broadcast.input_ended = true;
            eprintln!("{}", e.plain_sentence());
        }
    }
}

/// `tcp-listen PORT`.
pub(crate) fn tcp_listen(
    args: &TcpListenArgs,
    matches: Option<&ArgMatches>,
) -> Result<(), Failure> {
    let server = &args.server;
    let sources = data::sources(&args.data, &server.text, matches)?;
    data::refuse_empty_stream_sends(&sources)?;
    let tcp_reply = reply(server)?;
    let empty_reply = server.reply.as_deref() == Some("")
        && server.text.line_ending.ending().bytes().is_empty()
        && server.text.append_checksum.is_none();
    if empty_reply || tcp_reply.as_ref().is_some_and(|r| r.is_empty()) {
        return Err(Failure::usage(format!("--reply: {EMPTY_STREAM_SEND}")));
    }
    let mut config = TcpServerConfig {
        bind: bind_address(&server.bind)?,
        port: port(&server.port, Protocol::Tcp, PortUse::Bind)?,
        max_clients: args.max_clients as usize,
        auto_reply: auto_reply(server)?,
        close_when_client_finishes: false,
        capture: check_capture(server, true)?,
        framing: {
            server.common.refuse_framing_with_tls(args.tls.tls)?;
            server.common.framing()?
        },
        tls: server_tls(&args.tls)?.map(Box::new),
        ..TcpServerConfig::default()
    };
    let broadcast = (!sources.is_empty()).then(|| Broadcast {
        input: data::spawn_reader(sources, Framing::Stream),
        in_flight: VecDeque::new(),
        in_flight_bytes: 0,
        held: None,
        input_ended: false,
    });
    let mut driver = TcpListen {
        sequence: server.sequence.then(StreamSequenceCheck::new),
        save_cert: args.tls.save_cert.clone(),
        reply: tcp_reply,
        once: args.once,
        stop_asked: false,
        broadcast,
        clients: 0,
    };
    let mut console = Console::new(&server.common, Role::TcpServer);
    // Raw and no output need no event per read: the readers write standard output themselves,
    // which is what keeps up with socat. `--reply` answers each read, `--sequence` checks each
    // one, and framing shows messages, so those keep their events.
    if driver.reply.is_none() && driver.sequence.is_none() && !config.framing.framing.is_on() {
        match server.common.output {
            OutputMode::Raw => {
                config.output = console.raw_output();
                config.data_events = config.output.is_none();
            }
            OutputMode::None => config.data_events = false,
            OutputMode::Text | OutputMode::Hex | OutputMode::Json => {}
        }
    }
    let session = engine::tcp_server::start(config, engine::noop_waker());
    let result = drive(&session, &mut driver, &mut console);
    if let Some(check) = &driver.sequence {
        print_sequence_report(&check.summary(), &server.common, check.skipped_bytes());
    }
    result
}

// ---------------------------------------------------------------------------------------------
// udp-send

struct UdpSend {
    outbox: Outbox<UdpCommand>,
    ready: bool,
    wait: Duration,
    sends_done_at: Option<Instant>,
    stop_asked: bool,
}

impl UdpSend {
    fn progress(&mut self) {
        if self.ready && self.sends_done_at.is_none() && self.outbox.finished() {
            self.sends_done_at = Some(Instant::now());
        }
    }
}

/// True for the error of a datagram send (rather than of a receive).
fn is_send_error(e: &EngineError) -> bool {
    matches!(e.op(), Some(Op::Send | Op::SendTo))
}

impl Driver for UdpSend {
    type Command = UdpCommand;

    fn on_event(&mut self, event: &Event, session: &Session<UdpCommand>, c: &mut Console) {
        let completed = match &event.kind {
            EventKind::Ready { .. } => {
                self.ready = true;
                false
            }
            EventKind::DatagramSent { .. } => true,
            EventKind::Error(e) => is_send_error(e),
            _ => false,
        };
        if completed && let Err(e) = self.outbox.completed(session) {
            c.fail(&Failure::engine(&e));
        }
        self.progress();
    }

    fn input(&self) -> Option<&Input> {
        if self.ready {
            self.outbox.input()
        } else {
            None
        }
    }

    fn on_input(
        &mut self,
        message: Option<Result<Outgoing, Failure>>,
        session: &Session<UdpCommand>,
        console: &mut Console,
    ) {
        self.outbox.take(message, session, console);
        self.progress();
    }

    fn deadline(&self) -> Option<Instant> {
        self.sends_done_at
            .filter(|_| !self.stop_asked)
            .map(|done| done + self.wait)
    }

    fn on_deadline(&mut self, session: &Session<UdpCommand>) {
        self.stop_asked = true;
        session.stop();
    }
}

/// `udp-send HOST PORT`.
pub(crate) fn udp_send(args: &UdpSendArgs, matches: Option<&ArgMatches>) -> Result<(), Failure> {
    args.common.refuse_framing_for_udp()?;
    let host = host(&args.host)?;
    let port = port(&args.port, Protocol::Udp, PortUse::Connect)?;
    let sources = data::sources(&args.data, &args.text, matches)?;
    data::refuse_files_too_big_for_a_datagram(&sources)?;
    let mut config = UdpClientConfig::new(host, port);
    config.local = args.local;
    config.connect = args.connect;
    config.broadcast = args.broadcast;
    config.multicast = super::multicast::send_options(args, &config.host)?;
    let mut console = Console::new(&args.common, Role::UdpClient);
    let input = data::spawn_reader(sources, Framing::Datagrams);
    let session = engine::udp::start_client(config, engine::noop_waker());
    let mut driver = UdpSend {
        outbox: Outbox::new(input, UdpCommand::Send),
        ready: false,
        wait: args.wait,
        sends_done_at: None,
        stop_asked: false,
    };
    drive(&session, &mut driver, &mut console)
}

// ---------------------------------------------------------------------------------------------
// udp-listen

struct UdpListen {
    reply: Option<Payload>,
    count: Option<u64>,
    handled: u64,
    replies_in_flight: u64,
    count_reached: bool,
    stop_asked: bool,
}

impl UdpListen {
    fn reply_to(&mut self, peer: SocketAddr, session: &Session<UdpCommand>) {
        let Some(reply) = &self.reply else { return };
        match session.send(UdpCommand::SendTo(peer, reply.clone())) {
            Ok(()) => self.replies_in_flight += 1,
            // A flood can outrun the replies; say so rather than pretend they went out.
            Err(e) => eprintln!("No reply to {peer}: {}", e.plain_sentence()),
        }
    }
}

impl Driver for UdpListen {
    type Command = UdpCommand;

    fn on_event(&mut self, event: &Event, session: &Session<UdpCommand>, _: &mut Console) {
        match &event.kind {
            EventKind::Datagrams(batch) => {
                for d in batch.iter() {
                    self.reply_to(d.peer, session);
                }
                // Count what this loop has handled, not the engine's counter: the counter runs
                // ahead of the events, and a datagram counted but not yet handled would get no
                // reply before the stop.
                self.handled += batch.len() as u64;
                if self.count.is_some_and(|count| self.handled >= count) {
                    self.count_reached = true;
                }
            }
            // Datagrams the engine could not queue still count towards --count.
            EventKind::NotShown { datagrams, .. } => {
                self.handled += datagrams;
                if self.count.is_some_and(|count| self.handled >= count) {
                    self.count_reached = true;
                }
            }
            EventKind::DatagramSent { .. } => {
                self.replies_in_flight = self.replies_in_flight.saturating_sub(1);
            }
            EventKind::Error(e) if is_send_error(e) => {
                self.replies_in_flight = self.replies_in_flight.saturating_sub(1);
            }
            _ => {}
        }
        // Stop only once the replies to the last datagrams have gone out.
        if self.count_reached && self.replies_in_flight == 0 && !self.stop_asked {
            self.stop_asked = true;
            session.stop();
        }
    }
}

/// `udp-listen PORT`.
pub(crate) fn udp_listen(
    args: &UdpListenArgs,
    matches: Option<&ArgMatches>,
) -> Result<(), Failure> {
    let server = &args.server;
    server.common.refuse_framing_for_udp()?;
    let sequence = server.sequence.then(SequenceCheck::new);
    let groups = super::multicast::joins(args, matches)?;
    let bind_given = matches
        .is_some_and(|m| m.value_source("bind") == Some(clap::parser::ValueSource::CommandLine));
    let bind = super::multicast::bind_for_groups(bind_address(&server.bind)?, bind_given, &groups)?;
    let config = UdpServerConfig {
        bind,
        port: port(&server.port, Protocol::Udp, PortUse::Bind)?,
        reuse_address: !groups.is_empty(),
        silence_after: args.silence,
        groups,
        auto_reply: auto_reply(server)?,
        capture: check_capture(server, false)?,
        sequence_check: sequence.clone(),
        ..UdpServerConfig::default()
    };
    let mut driver = UdpListen {
        reply: reply(server)?,
        count: args.count,
        handled: 0,
        replies_in_flight: 0,
        count_reached: false,
        stop_asked: false,
    };
    let mut console = Console::new(&server.common, Role::UdpServer);
    let session = engine::udp::start_server(config, engine::noop_waker());
    let result = drive(&session, &mut driver, &mut console);
    if let Some(check) = &sequence {
        print_sequence_report(&check.summary(), &server.common, 0);
    }
    result
}
