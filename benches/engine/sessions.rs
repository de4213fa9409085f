//! Item 13 (issue 19): many sessions in one window. The real `SocketLabApp` runs headless at
//! 1280 × 800 points with 20 sessions open: 5 TCP server/client pairs on loopback, each client
//! sending 100 messages per second that its server echoes; one UDP server that a raw sender feeds
//! 100,000 datagrams per second; 9 sessions that are never started. Three tiles are visible side
//! by side (the first pair's server and client, and the UDP server); the other 17 panes are tabs
//! behind the first.
//!
//! Two figures: the frame time (as item 5 times it: `logic` + `ui` + tessellation) while all of
//! that runs, and then idle — the same 20 sessions, the pairs still connected and the UDP server
//! still bound, nothing sent — counting the frames the window would paint, the repaints it is
//! asked for, and the engine threads' wake-ups and CPU.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use egui::Vec2;
use socketlab::engine::{Payload, Waker};
use socketlab::gui::roles::{TcpClient, TcpServer, UdpServer};
use socketlab::gui::session::{Composed, Phase, Request, SessionKind, SessionTab, Tab};
use socketlab::gui::widgets::payload_editor::Outgoing;
use socketlab::gui::widgets::periodic::PeriodicAction;
use socketlab::gui::workspace::Workspace;
use socketlab::gui::{AppState, Pane, SocketLabApp};

use crate::frame_time::{PacedSender, run_frame};
use crate::report::{Row, quantile};
use crate::{Mode, sys};

/// The window's size in points: the 1280 × 800.
const SCREEN: Vec2 = Vec2::new(1280.0, 800.0);
/// A 60 Hz frame, as in item 5.
const FRAME: Duration = Duration::from_micros(16_667);
/// The target of the issue for p99.
const TARGET_P99: Duration = Duration::from_millis(16);
/// TCP server/client pairs.
const PAIRS: usize = 5;
/// Sessions open in all.
const SESSIONS: usize = 20;
/// Each client's sending interval: 100 messages per second.
const MESSAGE_EVERY: Duration = Duration::from_millis(10);
/// Longest wait for sessions to start, stop or catch up.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// What to run, by mode.
struct Sizes {
    /// How long the traffic runs while frames are timed.
    traffic: Duration,
    /// Datagrams per second from the raw sender.
    udp_rate: u64,
    /// How long the idle measurement lasts.
    idle: Duration,
}

impl Sizes {
    fn for_mode(mode: Mode) -> Self {
        if mode.full {
            Sizes {
                traffic: Duration::from_secs(10),
                udp_rate: 100_000,
                idle: Duration::from_secs(5),
            }
        } else {
            Sizes {
                traffic: Duration::from_secs(1),
                udp_rate: 5_000,
                idle: Duration::from_secs(1),
            }
        }
    }

    /// Messages each client sends: 100 per second for the traffic's length.
    fn messages(&self) -> u64 {
        (self.traffic.as_millis() / MESSAGE_EVERY.as_millis()) as u64
    }
}

/// The message pair `i`'s client sends, naming the pair so crossed streams would show.
fn message(pair: usize) -> Vec<u8> {
    format!("pair {pair}: hello from the client\n").into_bytes()
}

/// One TCP server session and the client session aimed at it.
#[derive(Debug, Clone, Copy)]
struct Pair {
    server: u64,
    client: u64,
}

/// The headless window and what it counts.
struct Window {
    ctx: egui::Context,
    app: SocketLabApp,
    started: Instant,
    waker: Waker,
    /// Repaint requests (the waker's and the window's own), as eframe's loop would get them.
    repaints: Arc<AtomicU64>,
}

impl Window {
    fn new() -> Self {
        let app = SocketLabApp::new(AppState {
            workspace: Workspace {
                sessions: Vec::new(),
                ..Workspace::default()
            },
            ..AppState::default()
        });
        let ctx = egui::Context::default();
        SocketLabApp::setup_context(&ctx);
        let repaints = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&repaints);
        ctx.set_request_repaint_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let waker_ctx = ctx.clone();
        Window {
            ctx,
            app,
            started: Instant::now(),
            waker: Arc::new(move || waker_ctx.request_repaint()),
            repaints,
        }
    }

    /// One frame; how long it took and when it asks for the next (`Duration::MAX`: never).
    fn frame(&mut self) -> (Duration, Duration) {
        run_frame(&self.ctx, &mut self.app, self.started, SCREEN)
    }

    fn server(&mut self, id: u64) -> Result<&mut SessionTab<TcpServer>, String> {
        self.app
            .session_as_mut::<TcpServer>(id)
            .ok_or_else(|| format!("session {id} is not a TCP server"))
    }

    fn client(&mut self, id: u64) -> Result<&mut SessionTab<TcpClient>, String> {
        self.app
            .session_as_mut::<TcpClient>(id)
            .ok_or_else(|| format!("session {id} is not a TCP client"))
    }

    fn udp(&mut self, id: u64) -> Result<&mut SessionTab<UdpServer>, String> {
        self.app
            .session_as_mut::<UdpServer>(id)
            .ok_or_else(|| format!("session {id} is not a UDP server"))
    }

    /// Runs frames (5 ms apart) until `done` holds; an error naming `what` after
    /// [`SETTLE_LIMIT`] or when `done` itself fails.
    fn until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&mut Self) -> Result<bool, String>,
    ) -> Result<(), String> {
        let by = Instant::now() + SETTLE_LIMIT;
        loop {
            self.frame();
            if done(self)? {
                return Ok(());
            }
            if Instant::now() > by {
                return Err(format!("{what}: not within {SETTLE_LIMIT:?}"));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Fails if a session ended by an error or shows one.
fn check_phase(phase: &Phase, error: Option<&String>, who: &str) -> Result<(), String> {
    if let Phase::Closed { reason, .. } = phase {
        return Err(format!("{who} closed: {reason}"));
    }
    match error {
        Some(error) => Err(format!("{who} shows an error: {error}")),
        None => Ok(()),
    }
}

/// Opens the 20 sessions and lays out three of them side by side.
fn open_sessions(window: &mut Window) -> Result<(Vec<Pair>, u64), String> {
    let app = &mut window.app;
    let mut pairs = Vec::new();
    for _ in 0..PAIRS {
        let server = app.new_session(SessionKind::TcpServer);
        let client = app.new_session(SessionKind::TcpClient);
        pairs.push(Pair { server, client });
    }
    let udp = app.new_session(SessionKind::UdpServer);
    // The rest are never started, as a saved workspace's sessions are until their button.
    let idle_kinds = [
        SessionKind::TcpClient,
        SessionKind::TcpServer,
        SessionKind::UdpClient,
    ];
    while app.sessions.len() < SESSIONS {
        let kind = idle_kinds[app.sessions.len() % idle_kinds.len()];
        app.new_session(kind);
    }
    let first = pairs.first().ok_or("no pair was opened")?;
    let shown = [first.server, first.client, udp];
    let mut tiles = egui_tiles::Tiles::default();
    let mut behind = vec![tiles.insert_pane(Pane::Session(first.server))];
    for session in &app.sessions {
        if !shown.contains(&session.id()) {
            behind.push(tiles.insert_pane(Pane::Session(session.id())));
        }
    }
    behind.push(tiles.insert_pane(Pane::Lookup));
    behind.push(tiles.insert_pane(Pane::Learn));
    let client_pane = tiles.insert_pane(Pane::Session(first.client));
    let udp_pane = tiles.insert_pane(Pane::Session(udp));
    let columns = vec![
        tiles.insert_tab_tile(behind),
        tiles.insert_tab_tile(vec![client_pane]),
        tiles.insert_tab_tile(vec![udp_pane]),
    ];
    let root = tiles.insert_horizontal_tile(columns);
    // The window's own tree id, so egui keeps drag state where the app expects it.
    app.tree = egui_tiles::Tree::new(app.tree.id(), root, tiles);
    for id in shown {
        app.focus(Pane::Session(id));
    }
    Ok((pairs, udp))
}

/// Starts the servers (echo on, port 0), then each client aimed at its server, then the UDP
/// server; returns the UDP server's address.
fn start_sessions(window: &mut Window, pairs: &[Pair], udp: u64) -> Result<SocketAddr, String> {
    let waker = Arc::clone(&window.waker);
    for pair in pairs {
        let server = window.server(pair.server)?;
        server.settings.bind = Ipv4Addr::LOCALHOST.to_string();
        "0".clone_into(&mut server.settings.port);
        server.settings.echo = true;
        if !Tab::start(server, &waker) {
            return Err(format!("TCP server {} did not start", pair.server));
        }
    }
    let udp_server = window.udp(udp)?;
    udp_server.settings.bind = Ipv4Addr::LOCALHOST.to_string();
    "0".clone_into(&mut udp_server.settings.port);
    if !Tab::start(udp_server, &waker) {
        return Err("the UDP server did not start".to_owned());
    }
    let mut listening = Vec::new();
    for pair in pairs {
        let id = pair.server;
        window.until("a TCP server listening", |w| {
            let s = w.server(id)?;
            check_phase(&s.phase, s.activity.error.as_ref(), "a TCP server")?;
            Ok(s.role.listening.is_some())
        })?;
        listening.push(window.server(id)?.role.listening);
    }
    for (pair, addr) in pairs.iter().zip(listening) {
        let addr = addr.ok_or("a TCP server has no address")?;
        let client = window.client(pair.client)?;
        client.settings.host = addr.ip().to_string();
        client.settings.port = addr.port().to_string();
        if !Tab::start(client, &waker) {
            return Err(format!("TCP client {} did not start", pair.client));
        }
    }
    for pair in pairs {
        let id = pair.client;
        window.until("a TCP client connecting", |w| {
            let c = w.client(id)?;
            check_phase(&c.phase, c.activity.error.as_ref(), "a TCP client")?;
            Ok(c.phase == Phase::Running)
        })?;
    }
    let mut bound = None;
    window.until("the UDP server binding", |w| {
        let s = w.udp(udp)?;
        check_phase(&s.phase, s.activity.error.as_ref(), "the UDP server")?;
        bound = s.role.bound;
        Ok(bound.is_some())
    })?;
    bound.ok_or_else(|| "the UDP server has no address".to_owned())
}

/// Checks that every byte each client sent reached its server, came back, and is in both logs'
/// totals and both sessions' counters.
fn pair_accounted(
    window: &mut Window,
    pair: usize,
    ids: Pair,
    expected: u64,
) -> Result<bool, String> {
    let server = window.server(ids.server)?;
    check_phase(
        &server.phase,
        server.activity.error.as_ref(),
        "a TCP server",
    )?;
    let (s_counters, s_totals) = (server.activity.counters, server.activity.log.totals());
    let client = window.client(ids.client)?;
    check_phase(
        &client.phase,
        client.activity.error.as_ref(),
        "a TCP client",
    )?;
    let (c_counters, c_totals) = (client.activity.counters, client.activity.log.totals());
    let figures = [
        ("client sent", c_counters.bytes_out),
        ("client's log, out", c_totals.bytes_out),
        ("server received", s_counters.bytes_in),
        ("server's log, in", s_totals.bytes_in),
        ("server echoed", s_counters.bytes_out),
        ("server's log, out", s_totals.bytes_out),
        ("client received", c_counters.bytes_in),
        ("client's log, in", c_totals.bytes_in),
    ];
    if let Some((what, n)) = figures.iter().find(|(_, n)| *n > expected) {
        return Err(format!(
            "pair {pair}: {what} {n} bytes, more than the {expected} sent"
        ));
    }
    Ok(figures.iter().all(|(_, n)| *n == expected))
}

/// The pair accounting as one line, for an error.
fn pair_figures(window: &mut Window, ids: Pair) -> String {
    let server = window.server(ids.server).map(|s| s.activity.counters);
    let client = window.client(ids.client).map(|c| c.activity.counters);
    match (server, client) {
        (Ok(s), Ok(c)) => format!(
            "client out {} / in {}, server in {} / out {}",
            c.bytes_out, c.bytes_in, s.bytes_in, s.bytes_out
        ),
        _ => "sessions missing".to_owned(),
    }
}

/// What the idle measurement saw.
struct Idle {
    seconds: f64,
    settle_frames: usize,
    frames: u64,
    repaints: u64,
    wakeups: u64,
    woke: Vec<String>,
    cpu: Duration,
    threads: usize,
}

/// Lets the window settle, then watches it for `length` as eframe's loop would: a frame is
/// painted only when one was asked for (a repaint request, or the delay the last frame gave).
fn measure_idle(window: &mut Window, length: Duration) -> Idle {
    let mut settle_frames = 0;
    let settle_by = Instant::now() + SETTLE_LIMIT;
    let mut next_due = loop {
        let before = window.repaints.load(Ordering::Relaxed);
        let (_, delay) = window.frame();
        settle_frames += 1;
        thread::sleep(Duration::from_millis(20));
        if delay == Duration::MAX && window.repaints.load(Ordering::Relaxed) == before {
            break None;
        }
        if Instant::now() > settle_by {
            // Not settling is a result too: the idle figures below then show the frames.
            break Some(Instant::now() + delay.min(SETTLE_LIMIT));
        }
    };
    let before = sys::threads();
    let mut seen = window.repaints.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut frames = 0_u64;
    let mut repaints = 0_u64;
    while start.elapsed() < length {
        // This thread stands in for the window's event loop; its own polling is not counted.
        thread::sleep(Duration::from_millis(10));
        let now = window.repaints.load(Ordering::Relaxed);
        let asked = now != seen;
        repaints += now - seen;
        if asked || next_due.is_some_and(|due| Instant::now() >= due) {
            frames += 1;
            let (_, delay) = window.frame();
            next_due = (delay != Duration::MAX).then(|| Instant::now() + delay);
            seen = window.repaints.load(Ordering::Relaxed);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let after = sys::threads();
    let sys::Activity { cpu, wakeups, woke } = sys::others_between(&before, &after);
    Idle {
        seconds,
        settle_frames,
        frames,
        repaints,
        wakeups,
        woke,
        cpu,
        threads: after.len().saturating_sub(1),
    }
}

/// Stops every running session through its own Stop and checks that each ends without error.
fn stop_all(window: &mut Window) -> Result<(), String> {
    let waker = Arc::clone(&window.waker);
    for pair_client in window
        .app
        .sessions_of::<TcpClient>()
        .map(|c| c.id)
        .collect::<Vec<_>>()
    {
        if let Ok(client) = window.client(pair_client)
            && client.is_running()
        {
            client.perform(Request::Stop, &waker);
        }
    }
    window.until("the clients closing", |w| {
        Ok(w.app.sessions_of::<TcpClient>().all(|c| !c.is_running()))
    })?;
    let servers: Vec<u64> = window
        .app
        .sessions_of::<TcpServer>()
        .map(|s| s.id)
        .collect();
    for id in servers {
        let server = window.server(id)?;
        if server.is_running() {
            server.perform(Request::Stop, &waker);
        }
    }
    let udp: Vec<u64> = window
        .app
        .sessions_of::<UdpServer>()
        .map(|s| s.id)
        .collect();
    for id in udp {
        let server = window.udp(id)?;
        if server.is_running() {
            server.perform(Request::Stop, &waker);
        }
    }
    window.until("every session stopping", |w| {
        Ok(w.app.sessions.iter().all(|s| !s.is_running()))
    })?;
    for session in &window.app.sessions {
        if session.dot() == socketlab::gui::session::Dot::Error {
            return Err(format!("{} ended by an error", session.title()));
        }
    }
    Ok(())
}

/// Runs the item.
#[allow(
    clippy::too_many_lines,
    reason = "a measurement (or a test) is one script from setup to check; split, it would read worse"
)]
pub fn run(mode: Mode) -> Result<(), String> {
    let sizes = Sizes::for_mode(mode);
    let mut window = Window::new();
    let (pairs, udp) = open_sessions(&mut window)?;
    let udp_addr = start_sessions(&mut window, &pairs, udp)?;
    let running = window
        .app
        .sessions
        .iter()
        .filter(|s| s.is_running())
        .count();
    // A few frames to settle fonts and layout caches before timing.
    for _ in 0..10 {
        window.frame();
    }

    let messages = sizes.messages();
    let waker = Arc::clone(&window.waker);
    for (i, pair) in pairs.iter().enumerate() {
        window.client(pair.client)?.perform(
            Request::Compose(Composed::Repeat(PeriodicAction::Start {
                data: Outgoing::Bytes(Payload::from(message(i))),
                interval: MESSAGE_EVERY,
                count: Some(messages),
            })),
            &waker,
        );
    }
    let sender = PacedSender::start(udp_addr, sizes.udp_rate);
    let traffic_start = Instant::now();
    let mut frame_times = Vec::new();
    while traffic_start.elapsed() < sizes.traffic {
        let frame_start = Instant::now();
        frame_times.push(window.frame().0);
        if let Some(rest) = FRAME.checked_sub(frame_start.elapsed()) {
            thread::sleep(rest);
        }
    }
    let traffic_seconds = traffic_start.elapsed().as_secs_f64();
    let sent = sender.finish()?;

    // Every message echoed and counted, every datagram counted or dropped by the kernel; frames
    // keep running (untimed) until that is so.
    let by = Instant::now() + SETTLE_LIMIT;
    let mut tcp_done = false;
    let (counted, drops) = loop {
        window.frame();
        tcp_done = tcp_done || {
            let mut all = true;
            for (i, pair) in pairs.iter().enumerate() {
                let expected = messages * message(i).len() as u64;
                all &= pair_accounted(&mut window, i, *pair, expected)?;
            }
            all
        };
        let counted = window.udp(udp)?.activity.log.totals().pieces_in;
        let drops = sys::udp_drops(udp_addr).unwrap_or(0);
        if (tcp_done && counted + drops >= sent) || Instant::now() > by {
            break (counted, drops);
        }
        thread::sleep(Duration::from_millis(5));
    };
    if !tcp_done {
        let figures: Vec<String> = pairs
            .iter()
            .map(|p| pair_figures(&mut window, *p))
            .collect();
        return Err(format!(
            "TCP bytes unaccounted for: each pair should show {messages} messages both ways; {}",
            figures.join("; ")
        ));
    }
    let udp_counters = window.udp(udp)?.activity.counters;
    if counted + drops != sent || counted != udp_counters.datagrams_in {
        return Err(format!(
            "datagrams unaccounted for: sent {sent}, in the log's totals {counted} (engine \
             counted {}), kernel drops {drops}",
            udp_counters.datagrams_in
        ));
    }
    if frame_times.is_empty() {
        return Err("no frame was timed".into());
    }

    let idle = measure_idle(&mut window, sizes.idle);
    let still_running = window
        .app
        .sessions
        .iter()
        .filter(|s| s.is_running())
        .count();
    if still_running != running {
        return Err(format!(
            "{running} sessions ran before the idle time, {still_running} after it"
        ));
    }
    stop_all(&mut window)?;

    let mut micros: Vec<u64> = frame_times.iter().map(|d| d.as_micros() as u64).collect();
    micros.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    let (p50, p99, max) = (
        quantile(&micros, 0.5),
        quantile(&micros, 0.99),
        quantile(&micros, 1.0),
    );
    let udp_rate = sent as f64 / traffic_seconds;
    let tcp_messages = messages * PAIRS as u64;
    eprintln!(
        "  idle {:.1} s after {} settling frames: {} frames, {} repaint requests, {} engine \
         threads, CPU {:.6} s, {} wake-ups {:?}",
        idle.seconds,
        idle.settle_frames,
        idle.frames,
        idle.repaints,
        idle.threads,
        idle.cpu.as_secs_f64(),
        idle.wakeups,
        idle.woke
    );
    Row {
        item: 13,
        what: format!(
            "The window with {SESSIONS} sessions (1280 × 800, headless; 3 tiles side by side): \
             {PAIRS} TCP server/client pairs, each client sending 100 messages/s that its server \
             echoes, and a UDP server fed {:.0} datagrams/s of 64 B by a raw sender, for \
             {traffic_seconds:.1} s ({running} sessions running); timed: logic + ui + \
             tessellation per frame",
            sizes.udp_rate as f64
        ),
        baseline: None,
        engine: format!(
            "{} frames: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {tcp_messages} messages echoed \
             exactly (every byte in both counters and both logs); {udp_rate:.0} datagrams/s \
             arrived, {counted} counted + {drops} kernel drops = {sent} sent",
            micros.len(),
            ms(p50),
            ms(p99),
            ms(max),
        ),
        ratio: None,
        target: "p99 ≤ 16 ms; every byte and datagram accounted for".to_owned(),
        met: Some(Duration::from_micros(p99) <= TARGET_P99),
    }
    .emit();
    Row {
        item: 13,
        what: format!(
            "Idle {:.0} s: the same {SESSIONS} sessions, {running} of them connected or bound, \
             nothing sent ({} engine threads); the window paints only when asked, as eframe does",
            idle.seconds, idle.threads
        ),
        baseline: None,
        engine: format!(
            "{} frames painted, {} repaint requests; {:.6} CPU s of the engine threads; {} \
             engine-thread wake-ups",
            idle.frames,
            idle.repaints,
            idle.cpu.as_secs_f64(),
            idle.wakeups
        ),
        ratio: None,
        target: "0 frames, 0 wake-ups, ≈ 0 % CPU".to_owned(),
        met: Some(idle.frames == 0 && idle.repaints == 0 && idle.wakeups == 0),
    }
    .emit();
    Ok(())
}
