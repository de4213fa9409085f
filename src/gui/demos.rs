//! One-click demos: each starts real sessions on loopback inside the app and plays a short
//! scripted scene, reporting every socket call (with its explanation) on the client's or the
//! server's side, and ending with what it showed.
//!
//! A scene runs on a thread of its own and drives the engine with its blocking helpers
//! (`wait_for` with a timeout), so the script reads top to bottom like the story it tells and the
//! window never waits: lines come back through a bounded channel, each followed by a wake-up.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use egui::{RichText, ScrollArea, Ui};

use crate::engine::explain::explain_event;
use crate::engine::lookup::addr_info;
use crate::engine::{
    Event, EventKind, Payload, Session, StopReason, TcpClientCommand, TcpClientConfig, TcpOptions,
    TcpServerCommand, TcpServerConfig, UdpClientConfig, UdpCommand, UdpServerConfig, Waker,
    noop_waker, tcp_client, tcp_server, udp,
};
use crate::gui::activity::{close_text, failure};
use crate::gui::text_teach as tt;
use crate::gui::widgets::{error_banner, guidance};

/// Longest one step of a scene may wait for the engine.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the "nothing is listening" scene listens for a reply that will not come.
const SILENCE: Duration = Duration::from_millis(400);
/// Lines a scene may report; a scene writes a few dozen, so this only guards against a runaway.
const MAX_LINES: usize = 1024;

pub use crate::gui::demo_id::DemoId;

mod lossy;
mod who_waits;

/// Which side of the scene a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client's socket.
    Client,
    /// The server's socket.
    Server,
    /// The narrator: what happened and what it means.
    Note,
}

/// One line of a scene.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLine {
    /// Whose line it is.
    pub side: Side,
    /// The call (or the note).
    pub text: String,
    /// What the call does, in plain words.
    pub explanation: Option<String>,
    /// True when the call failed.
    pub failed: bool,
}

/// What a scene showed, in numbers the caption talks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// TCP: sends by the client, reads by the server, bytes both ways.
    StreamReads {
        /// Sends.
        sends: usize,
        /// Server reads that returned data.
        reads: usize,
        /// Bytes sent.
        sent_bytes: usize,
        /// Bytes read.
        read_bytes: usize,
    },
    /// UDP: datagrams sent and received.
    DatagramReads {
        /// Datagrams sent.
        sends: usize,
        /// Datagrams received.
        receives: usize,
    },
    /// The server saw end-of-stream and the client still got its reply.
    HalfClose {
        /// `recv` returned 0 at the server.
        server_saw_end: bool,
        /// Bytes the client received after it stopped sending.
        reply_bytes: usize,
    },
    /// The local port of each connection.
    LocalPorts(Vec<u16>),
    /// Nothing listening: what each attempt gave.
    NothingListening {
        /// TCP connect was refused.
        tcp_refused: bool,
        /// An unconnected UDP socket heard nothing back.
        udp_silent: bool,
        /// A connected UDP socket was told "refused".
        udp_connected_refused: bool,
    },
    /// The datagram size limit.
    DatagramLimit {
        /// The largest datagram arrived whole (its size).
        largest_received: Option<usize>,
        /// One byte more was refused.
        one_more_refused: bool,
    },
    /// The addresses getaddrinfo gave, one per row.
    Addresses(Vec<IpAddr>),
    /// The kernel's TCP states each side went through while the client closed first (empty
    /// where the system's table cannot be read).
    CloseStates {
        /// The client's side (it closed first).
        closer: Vec<crate::engine::tcp_state::TcpState>,
        /// The server's side.
        other: Vec<crate::engine::tcp_state::TcpState>,
    },
    /// The same numbered messages over a lossy UDP relay and over TCP through a relay.
    LossyVsReliable {
        /// Messages sent each way.
        sent: u32,
        /// Datagrams that arrived.
        udp_received: u32,
        /// The numbers that did not.
        udp_missing: Vec<u32>,
        /// Lines that arrived over TCP.
        tcp_received: u32,
        /// They came 1, 2, 3 … without a gap.
        tcp_in_order: bool,
    },
}

enum Update {
    Line(DemoLine),
    Result(String),
    Fact(Fact),
    Done(Result<(), String>),
}

/// A demo that runs (or ran): its lines, facts and end.
pub struct DemoRun {
    /// Which demo.
    pub id: DemoId,
    /// Its lines so far.
    pub lines: Vec<DemoLine>,
    /// What it showed so far.
    pub facts: Vec<Fact>,
    /// What it showed, in sentences (shown above the lines, so they are seen at a glance).
    pub results: Vec<String>,
    /// `None` while running; then how it ended.
    pub finished: Option<Result<(), String>>,
    updates: Receiver<Update>,
}

impl DemoRun {
    /// Starts `id` on its own thread; `waker` redraws the window after each line.
    pub fn start(id: DemoId, waker: &Waker) -> Self {
        let (tx, rx) = bounded(MAX_LINES);
        let script = Script {
            tx: tx.clone(),
            waker: Arc::clone(waker),
        };
        let spawned = thread::Builder::new()
            .name(format!("demo {}", id.title()))
            .spawn(move || {
                let result = match id {
                    DemoId::Stream => stream(&script),
                    DemoId::HalfClose => half_close(&script),
                    DemoId::OwnPort => own_port(&script),
                    DemoId::NothingListening => nothing_listening(&script),
                    DemoId::DatagramSize => datagram_size(&script),
                    DemoId::OneName => one_name(&script),
                    DemoId::WhoWaits => who_waits::who_waits(&script),
                    DemoId::LossyUdp => lossy::lossy(&script),
                };
                let _ = script.tx.try_send(Update::Done(result));
                (script.waker)();
            });
        if let Err(e) = spawned {
            let _ = tx.try_send(Update::Done(Err(tt::demo_thread_failed(&e.to_string()))));
        }
        DemoRun {
            id,
            lines: Vec::new(),
            facts: Vec::new(),
            results: Vec::new(),
            finished: None,
            updates: rx,
        }
    }

    /// Takes what the scene reported. Never blocks.
    pub fn poll(&mut self) {
        while let Ok(update) = self.updates.try_recv() {
            match update {
                Update::Line(line) => self.lines.push(line),
                Update::Fact(fact) => self.facts.push(fact),
                Update::Result(text) => self.results.push(text),
                Update::Done(result) => self.finished = Some(result),
            }
        }
    }

    /// True while the scene plays.
    pub fn is_running(&self) -> bool {
        self.finished.is_none()
    }

    /// Draws the scene: caption, lines in two columns' worth of indentation, and the end.
    pub fn ui(&self, ui: &mut Ui, explain: bool) {
        ui.heading(self.id.title());
        guidance(ui, self.id.caption());
        ui.add_space(4.0);
        match &self.finished {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(tt::DEMO_RUNNING);
                });
            }
            Some(Ok(())) => {}
            Some(Err(e)) => error_banner(ui, e),
        }
        let strong = ui.visuals().strong_text_color();
        if !self.results.is_empty() {
            ui.label(RichText::new(tt::DEMO_RESULTS).strong());
            for result in &self.results {
                ui.add(
                    egui::Label::new(RichText::new(format!("•  {result}")).color(strong)).wrap(),
                );
            }
        }
        ui.separator();
        let weak = ui.visuals().weak_text_color();
        let error = ui.visuals().error_fg_color;
        ScrollArea::vertical()
            .id_salt("demo-lines")
            .auto_shrink(false)
            .stick_to_bottom(true)
            .show(ui, |ui| {
                for line in &self.lines {
                    match line.side {
                        Side::Note => {
                            ui.add_space(2.0);
                            ui.add(
                                egui::Label::new(RichText::new(&line.text).color(strong)).wrap(),
                            );
                        }
                        side => {
                            let who = if side == Side::Client {
                                tt::DEMO_CLIENT
                            } else {
                                tt::DEMO_SERVER
                            };
                            let mut text =
                                RichText::new(format!("{who:<7} {}", line.text)).monospace();
                            if line.failed {
                                text = text.color(error);
                            }
                            ui.add(egui::Label::new(text).wrap());
                            if explain && let Some(why) = &line.explanation {
                                ui.add(
                                    egui::Label::new(
                                        RichText::new(format!("        {}", tt::explained(why)))
                                            .monospace()
                                            .color(weak),
                                    )
                                    .wrap(),
                                );
                            }
                        }
                    }
                }
            });
    }
}

/// The scene's pen: reports lines and facts to the window.
struct Script {
    tx: Sender<Update>,
    waker: Waker,
}

impl Script {
    fn send(&self, update: Update) {
        // The window drains every frame and a scene writes a few dozen lines; a full channel
        // means the window is gone, and then nobody is reading anyway.
        let _ = self.tx.try_send(update);
        (self.waker)();
    }

    fn note(&self, text: impl Into<String>) {
        self.send(Update::Line(DemoLine {
            side: Side::Note,
            text: text.into(),
            explanation: None,
            failed: false,
        }));
    }

    fn call(&self, side: Side, text: String, explanation: Option<String>) {
        self.send(Update::Line(DemoLine {
            side,
            text,
            explanation,
            failed: false,
        }));
    }

    /// A sentence saying what the scene showed: in the lines, and in the results at the top.
    fn result(&self, text: String) {
        self.note(text.clone());
        self.send(Update::Result(text));
    }

    fn fact(&self, fact: Fact) {
        self.send(Update::Fact(fact));
    }

    /// Reports an event as a call on `side`, if it stands for one.
    fn event(&self, side: Side, event: &Event) {
        let Some(text) = event.kind.transcript_line() else {
            return;
        };
        let failed = matches!(&event.kind, EventKind::Call(c) if c.outcome.is_err());
        self.send(Update::Line(DemoLine {
            side,
            text,
            explanation: explain_event(&event.kind),
            failed,
        }));
    }

    /// Waits for the event `want` picks on `session`, reporting every call on the way.
    fn wait<C: Send + 'static, T>(
        &self,
        side: Side,
        session: &Session<C>,
        what: &str,
        mut want: impl FnMut(&EventKind) -> Option<T>,
    ) -> Result<T, String> {
        let mut found = None;
        session.wait_for(
            STEP_TIMEOUT,
            |e| {
                found = want(&e.kind);
                found.is_some()
            },
            |e| self.event(side, e),
        );
        found.ok_or_else(|| tt::demo_timed_out(what))
    }

    /// Reports whatever `session` has already said, waiting at most `for_at_most`.
    fn settle<C: Send + 'static>(&self, side: Side, session: &Session<C>, for_at_most: Duration) {
        session.wait_for(for_at_most, |_| false, |e| self.event(side, e));
    }
}

fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// A UDP server bound on loopback and a client aimed at it: the two sides of the UDP demos.
fn udp_pair(
    script: &Script,
) -> Result<(Session<UdpCommand>, Session<UdpCommand>, SocketAddr), String> {
    let server = udp::start_server(
        UdpServerConfig {
            bind: loopback(),
            ..UdpServerConfig::default()
        },
        noop_waker(),
    );
    let addr = script.wait(Side::Server, &server, tt::DEMO_WAIT_BIND, |k| match k {
        EventKind::Ready { local, .. } => Some(*local),
        _ => None,
    })?;
    let client = udp::start_client(
        UdpClientConfig::new(addr.ip().to_string(), addr.port()),
        noop_waker(),
    );
    Ok((server, client, addr))
}

fn payload(text: &str) -> Payload {
    Payload::from(text.as_bytes())
}

fn listening(kind: &EventKind) -> Option<SocketAddr> {
    match kind {
        EventKind::Listening { local } => Some(*local),
        _ => None,
    }
}

fn tcp_server_on_loopback(
    script: &Script,
    keep_open_after_fin: bool,
) -> Result<(crate::engine::TcpServer, SocketAddr), String> {
    let config = TcpServerConfig {
        bind: loopback(),
        port: 0,
        close_when_client_finishes: !keep_open_after_fin,
        ..TcpServerConfig::default()
    };
    let server = tcp_server::start(config, noop_waker());
    let addr = script.wait(Side::Server, &server, tt::DEMO_WAIT_LISTEN, listening)?;
    Ok((server, addr))
}

fn connected(kind: &EventKind) -> Option<(SocketAddr, SocketAddr)> {
    match kind {
        EventKind::Connected { local, peer, .. } => Some((*local, *peer)),
        _ => None,
    }
}

fn stream(script: &Script) -> Result<(), String> {
    let (server, addr) = tcp_server_on_loopback(script, false)?;
    let mut config = TcpClientConfig::new(addr.ip().to_string(), addr.port());
    // Nagle's algorithm on, as in most programs: small writes may travel together.
    config.options = TcpOptions {
        nodelay: false,
        ..TcpOptions::default()
    };
    let client = tcp_client::start(config, noop_waker());
    script.wait(Side::Client, &client, tt::DEMO_WAIT_CONNECT, connected)?;
    script.wait(Side::Server, &server, tt::DEMO_WAIT_ACCEPT, connected)?;
    let messages = ["one;", "two;", "three;"];
    for message in messages {
        client
            .send(TcpClientCommand::Send(payload(message)))
            .map_err(|e| e.plain_sentence())?;
    }
    let sent_bytes: usize = messages.iter().map(|m| m.len()).sum();
    let mut sends = 0;
    while sends < messages.len() {
        script.wait(Side::Client, &client, tt::DEMO_WAIT_SEND, |k| {
            matches!(k, EventKind::Sent { .. }).then_some(())
        })?;
        sends += 1;
    }
    let (mut reads, mut read_bytes) = (0, 0);
    while read_bytes < sent_bytes {
        let n = script.wait(Side::Server, &server, tt::DEMO_WAIT_RECEIVE, |k| match k {
            EventKind::Received { data, .. } => Some(data.len()),
            _ => None,
        })?;
        reads += 1;
        read_bytes += n;
    }
    script.fact(Fact::StreamReads {
        sends,
        reads,
        sent_bytes,
        read_bytes,
    });
    script.result(tt::stream_result(sends, reads, read_bytes));
    drop(client);
    drop(server);

    script.note(tt::DEMO_STREAM_UDP_PART);
    let (server, client, _) = udp_pair(script)?;
    for message in messages {
        client
            .send(UdpCommand::Send(payload(message)))
            .map_err(|e| e.plain_sentence())?;
    }
    let mut sent = 0;
    while sent < messages.len() {
        script.wait(Side::Client, &client, tt::DEMO_WAIT_SEND, |k| {
            matches!(k, EventKind::DatagramSent { .. }).then_some(())
        })?;
        sent += 1;
    }
    let mut receives = 0;
    while receives < messages.len() {
        receives += script.wait(Side::Server, &server, tt::DEMO_WAIT_RECEIVE, |k| match k {
            EventKind::Datagrams(batch) => Some(batch.len()),
            _ => None,
        })?;
    }
    script.fact(Fact::DatagramReads {
        sends: sent,
        receives,
    });
    script.result(tt::datagram_result(sent, receives));
    Ok(())
}

fn half_close(script: &Script) -> Result<(), String> {
    let (server, addr) = tcp_server_on_loopback(script, true)?;
    let client = tcp_client::start(
        TcpClientConfig::new(addr.ip().to_string(), addr.port()),
        noop_waker(),
    );
    script.wait(Side::Client, &client, tt::DEMO_WAIT_CONNECT, connected)?;
    let conn = script.wait(Side::Server, &server, tt::DEMO_WAIT_ACCEPT, |k| match k {
        EventKind::Connected { conn, .. } => Some(*conn),
        _ => None,
    })?;
    let send = |c| client.send(c).map_err(|e| e.plain_sentence());
    send(TcpClientCommand::Send(payload("question?")))?;
    send(TcpClientCommand::ShutdownWrite)?;
    script.wait(Side::Client, &client, tt::DEMO_WAIT_SHUTDOWN, |k| {
        matches!(k, EventKind::WriteShutdown { .. }).then_some(())
    })?;
    script.note(tt::DEMO_HALF_CLOSE_SENT_FIN);
    script.wait(Side::Server, &server, tt::DEMO_WAIT_END, |k| {
        matches!(k, EventKind::PeerFinished { .. }).then_some(())
    })?;
    script.note(tt::DEMO_HALF_CLOSE_SERVER_SAW_END);
    let reply = payload("answer!");
    server
        .send(TcpServerCommand::SendTo(conn, Arc::clone(&reply)))
        .map_err(|e| e.plain_sentence())?;
    server
        .send(TcpServerCommand::Disconnect(conn))
        .map_err(|e| e.plain_sentence())?;
    // The server's send first, then the client's receive: the lines stay in the order things
    // happened, although they come from two sessions.
    script.wait(Side::Server, &server, tt::DEMO_WAIT_SEND, |k| {
        matches!(k, EventKind::Sent { .. }).then_some(())
    })?;
    let reply_bytes = script.wait(Side::Client, &client, tt::DEMO_WAIT_RECEIVE, |k| match k {
        EventKind::Received { data, .. } => Some(data.len()),
        _ => None,
    })?;
    script.settle(Side::Server, &server, Duration::from_millis(100));
    script.wait(Side::Client, &client, tt::DEMO_WAIT_END, |k| {
        matches!(k, EventKind::PeerFinished { .. }).then_some(())
    })?;
    script.fact(Fact::HalfClose {
        server_saw_end: true,
        reply_bytes,
    });
    script.result(tt::half_close_result(reply_bytes));
    Ok(())
}

fn own_port(script: &Script) -> Result<(), String> {
    let (server, addr) = tcp_server_on_loopback(script, false)?;
    let mut ports = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let client = tcp_client::start(
            TcpClientConfig::new(addr.ip().to_string(), addr.port()),
            noop_waker(),
        );
        let (local, _) = script.wait(Side::Client, &client, tt::DEMO_WAIT_CONNECT, connected)?;
        let (_, peer) = script.wait(Side::Server, &server, tt::DEMO_WAIT_ACCEPT, connected)?;
        script.note(tt::own_port_line(ports.len() + 1, local, peer, addr));
        ports.push(local.port());
        // Kept open so the second connection is made while the first still exists.
        clients.push(client);
    }
    script.fact(Fact::LocalPorts(ports.clone()));
    script.result(tt::own_port_result(&ports, addr.port()));
    Ok(())
}

/// A loopback port with nothing listening on it: one the system just handed out and took back.
fn unused_port() -> Result<u16, String> {
    let probe = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|s| s.local_addr())
        .map_err(|e| tt::demo_no_free_port(&e.to_string()))?;
    Ok(probe.port())
}

fn nothing_listening(script: &Script) -> Result<(), String> {
    let port = unused_port()?;
    let target = SocketAddr::new(loopback(), port);
    script.note(tt::nothing_listening_tcp(target));
    let client = tcp_client::start(
        TcpClientConfig::new(target.ip().to_string(), port),
        noop_waker(),
    );
    let reason = script.wait(Side::Client, &client, tt::DEMO_WAIT_END, |k| match k {
        EventKind::Stopped { reason } => Some(match reason {
            StopReason::ConnectionEnded(r) => close_text(r),
            other => failure(other).map_or_else(
                || other.to_string(),
                crate::engine::EngineError::plain_sentence,
            ),
        }),
        _ => None,
    })?;
    let tcp_refused = reason.to_lowercase().contains("refused");
    script.note(tt::said(&reason));

    script.note(tt::nothing_listening_udp(target));
    let client = udp::start_client(
        UdpClientConfig::new(target.ip().to_string(), port),
        noop_waker(),
    );
    client
        .send(UdpCommand::Send(payload("anyone?")))
        .map_err(|e| e.plain_sentence())?;
    script.wait(Side::Client, &client, tt::DEMO_WAIT_SEND, |k| {
        matches!(k, EventKind::DatagramSent { .. }).then_some(())
    })?;
    let mut heard = false;
    client.wait_for(
        SILENCE,
        |e| matches!(e.kind, EventKind::Datagrams(_) | EventKind::Error(_)),
        |e| {
            heard |= matches!(e.kind, EventKind::Datagrams(_) | EventKind::Error(_));
            script.event(Side::Client, e);
        },
    );
    let udp_silent = !heard;
    script.note(tt::udp_silence(udp_silent));
    drop(client);

    script.note(tt::nothing_listening_udp_connected(target));
    let mut config = UdpClientConfig::new(target.ip().to_string(), port);
    config.connect = true;
    let client = udp::start_client(config, noop_waker());
    script.wait(Side::Client, &client, tt::DEMO_WAIT_BIND, |k| {
        matches!(k, EventKind::Ready { .. }).then_some(())
    })?;
    client
        .send(UdpCommand::Send(payload("anyone?")))
        .map_err(|e| e.plain_sentence())?;
    let refusal = script.wait(Side::Client, &client, tt::DEMO_WAIT_REFUSED, |k| match k {
        EventKind::Error(e) => Some(e.plain_sentence()),
        _ => None,
    })?;
    let udp_connected_refused = refusal.to_lowercase().contains("refused");
    script.note(tt::said(&refusal));
    script.fact(Fact::NothingListening {
        tcp_refused,
        udp_silent,
        udp_connected_refused,
    });
    script.result(tt::DEMO_NOTHING_LISTENING_RESULT.to_owned());
    Ok(())
}

fn datagram_size(script: &Script) -> Result<(), String> {
    let (server, client, addr) = udp_pair(script)?;
    let (limit, _) = udp::max_payload(&addr);
    script.note(tt::datagram_try(limit));
    client
        .send(UdpCommand::Send(Payload::from(vec![b'x'; limit])))
        .map_err(|e| e.plain_sentence())?;
    script.wait(Side::Client, &client, tt::DEMO_WAIT_SEND, |k| {
        matches!(k, EventKind::DatagramSent { .. }).then_some(())
    })?;
    let largest = script.wait(Side::Server, &server, tt::DEMO_WAIT_RECEIVE, |k| match k {
        EventKind::Datagrams(batch) => batch.iter().map(|d| d.data.len()).max(),
        _ => None,
    })?;
    script.result(tt::datagram_arrived(largest));

    script.note(tt::datagram_try(limit + 1));
    client
        .send(UdpCommand::Send(Payload::from(vec![b'x'; limit + 1])))
        .map_err(|e| e.plain_sentence())?;
    let refusal = script.wait(Side::Client, &client, tt::DEMO_WAIT_REFUSED, |k| match k {
        EventKind::Error(e) => Some(e.plain_sentence()),
        EventKind::DatagramSent { .. } => Some(String::new()),
        _ => None,
    })?;
    let one_more_refused = !refusal.is_empty();
    if one_more_refused {
        script.result(tt::datagram_refused(limit + 1, &refusal));
    }
    script.fact(Fact::DatagramLimit {
        largest_received: Some(largest),
        one_more_refused,
    });
    script.note(tt::DEMO_DATAGRAM_RESULT);
    Ok(())
}

fn one_name(script: &Script) -> Result<(), String> {
    let name = "localhost";
    script.note(tt::one_name_asking(name));
    let rows = addr_info(name, 0, None).map_err(|e| e.plain_sentence())?;
    // The call and its rows in monospace, as the client's: the resolver is asked by the client.
    script.call(
        Side::Client,
        tt::getaddrinfo_call(name, None, None, rows.len()),
        Some(tt::DEMO_GETADDRINFO_WHY.to_owned()),
    );
    let mut addresses = Vec::new();
    for row in &rows {
        script.call(
            Side::Client,
            tt::one_name_row(row.family.name(), &row.kind.name(), row.addr.ip()),
            None,
        );
        addresses.push(row.addr.ip());
    }
    let mut distinct = addresses.clone();
    distinct.sort();
    distinct.dedup();
    script.fact(Fact::Addresses(addresses));
    script.result(tt::one_name_result(&distinct));
    Ok(())
}
