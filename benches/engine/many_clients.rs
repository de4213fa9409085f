//! Item 3: thousands of plain clients connect to one engine server at once; each sends 1 KiB
//! and reads its echo back. Reports the time of each phase and the server process's memory. The
//! clients run in a child process (this benchmark again, `--clients-of ADDR N`), so each process
//! holds one end of every connection.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socketlab::engine::{EventKind, Session, TcpServerCommand, TcpServerConfig, tcp_server};

use crate::consumer::{Drain, Flow, consume, waker};
use crate::report::Row;
use crate::{Mode, sys};

/// Bytes each client sends and expects back.
const MESSAGE: usize = 1024;
/// Client-side threads; each drives its share of the sockets one after another, so up to this
/// many connects are in flight at once during the storm.
const CLIENT_THREADS: usize = 8;
/// Longest any phase may take.
const PHASE_LIMIT: Duration = Duration::from_mins(2);
/// The target for the server's memory (issue 18: 10,000 clients within 250 MiB).
const RSS_LIMIT_MIB: f64 = 250.0;
/// A connect that took this long was retried by the kernel (the first SYN retransmission comes
/// after 1 s): its SYN was dropped, which is what a full listen queue does.
const RETRIED: Duration = Duration::from_millis(900);

/// The listen backlog the kernel grants when asked for `asked`: it caps it at
/// `net.core.somaxconn` (4096 by default).
fn granted_backlog(asked: usize) -> usize {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(asked, |cap| cap.min(asked))
}

/// A message that names its client, so a crossed or partial echo is caught.
fn message(client: usize) -> Vec<u8> {
    let tag = format!("client {client:05} ");
    tag.bytes().cycle().take(MESSAGE).collect()
}

/// Waits until `ready` holds, polling the session's counters; false after [`PHASE_LIMIT`].
fn wait_until(ready: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PHASE_LIMIT;
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    ready()
}

/// Runs `work` on each share of the clients in its own thread; collects results in order.
fn per_share<T: Send>(
    shares: Vec<Vec<(usize, TcpStream)>>,
    work: impl Fn(Vec<(usize, TcpStream)>) -> Result<T, String> + Sync,
) -> Result<Vec<T>, String> {
    thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| s.spawn(|| work(share)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a client thread panicked".to_owned())?
            })
            .collect()
    })
}

/// The clients' side, in a process of its own (`--clients-of ADDR N`), so that each process
/// holds one end of every connection and 10,000 of them fit an open-file limit of 20,000. It
/// obeys one line at a time on standard input (`connect`, `echo`, `close`) and answers each
/// with one line on standard output (`connected`, `echoed K`, `closed`), or `failed: WHY`.
pub fn client_process(addr: SocketAddr, clients: usize) -> std::process::ExitCode {
    let wanted = clients as u64 + 64;
    if let Err(e) = sys::raise_open_files(wanted) {
        println!("failed: {e}");
        return std::process::ExitCode::FAILURE;
    }
    match obey(addr, clients) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn obey(addr: SocketAddr, clients: usize) -> Result<(), String> {
    let mut lines = std::io::stdin().lines();
    let mut next = |want: &str| -> Result<(), String> {
        match lines.next() {
            Some(Ok(line)) if line == want => Ok(()),
            other => Err(format!("expected \"{want}\", got {other:?}")),
        }
    };
    let say = |line: &str| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    next("connect")?;
    let (shares, slowest, retried) = connect_all(addr, clients)?;
    say(&format!(
        "connected; slowest {} ms; {retried} retried",
        slowest.as_millis()
    ));
    next("echo")?;
    let results = per_share(shares, |mut share| {
        for (i, stream) in &mut share {
            stream
                .write_all(&message(*i))
                .map_err(|e| format!("client {i}: send: {e}"))?;
        }
        let mut back = vec![0_u8; MESSAGE];
        let mut echoed = 0;
        for (i, stream) in &mut share {
            stream
                .read_exact(&mut back)
                .map_err(|e| format!("client {i}: reading the echo: {e}"))?;
            if back == message(*i) {
                echoed += 1;
            }
        }
        Ok((echoed, share))
    })?;
    let echoed: usize = results.iter().map(|(n, _)| n).sum();
    say(&format!("echoed {echoed}"));
    next("close")?;
    drop(results);
    say("closed");
    Ok(())
}

/// The clients' sockets, by share.
type Shares = Vec<Vec<(usize, TcpStream)>>;

/// The connect storm: [`CLIENT_THREADS`] threads connect their shares one after another.
/// Returns the sockets, the slowest connect, and how many connects the kernel had to retry.
fn connect_all(addr: SocketAddr, clients: usize) -> Result<(Shares, Duration, usize), String> {
    let ids: Vec<Vec<usize>> = (0..CLIENT_THREADS)
        .map(|t| (t..clients).step_by(CLIENT_THREADS).collect())
        .collect();
    thread::scope(|s| {
        let handles: Vec<_> = ids
            .into_iter()
            .map(|ids| {
                s.spawn(move || {
                    let mut slowest = Duration::ZERO;
                    let share = ids
                        .into_iter()
                        .map(|i| {
                            let began = Instant::now();
                            let stream = TcpStream::connect(addr)
                                .map_err(|e| format!("client {i}: connect({addr}): {e}"))?;
                            slowest = slowest.max(began.elapsed());
                            stream
                                .set_read_timeout(Some(PHASE_LIMIT))
                                .map_err(|e| e.to_string())?;
                            Ok((i, stream, began.elapsed()))
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    Ok::<_, String>(share)
                })
            })
            .collect();
        let timed = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a client thread panicked".to_owned())?
            })
            .collect::<Result<Vec<_>, String>>()?;
        let took = || timed.iter().flatten().map(|(_, _, took)| *took);
        let slowest = took().max().unwrap_or_default();
        let retried = took().filter(|t| *t >= RETRIED).count();
        let shares = timed
            .into_iter()
            .map(|share| share.into_iter().map(|(i, s, _)| (i, s)).collect())
            .collect();
        Ok((shares, slowest, retried))
    })
}

/// The client process, driven line by line from here.
struct Clients {
    child: Child,
    to: ChildStdin,
    from: Lines<BufReader<ChildStdout>>,
}

impl Clients {
    fn start(addr: SocketAddr, clients: usize) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("this benchmark's path: {e}"))?;
        let mut child = Command::new(exe)
            .args(["--clients-of", &addr.to_string(), &clients.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the client process: {e}"))?;
        let (Some(to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the client process has no pipes".to_owned());
        };
        Ok(Clients {
            child,
            to,
            from: BufReader::new(from).lines(),
        })
    }

    /// Sends one order and returns the answer line (its end is bounded by the phases' own
    /// timeouts in the client process).
    fn order(&mut self, what: &str, answer: &str) -> Result<String, String> {
        writeln!(self.to, "{what}")
            .and_then(|()| self.to.flush())
            .map_err(|e| format!("the client process: {e}"))?;
        match self.from.next() {
            Some(Ok(line)) if line.starts_with(answer) => Ok(line),
            Some(Ok(line)) => Err(format!("the client process: {line}")),
            other => Err(format!("the client process ended: {other:?}")),
        }
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Figures {
    /// Listen-queue overflows and drops the kernel counted during the connect storm (machine
    /// wide: another program's listener counts too).
    overflows: u64,
    /// The client process's account of the storm: `slowest N ms; K retried`.
    storm: String,
    connect: Duration,
    echo: Duration,
    close: Duration,
    echoed: usize,
    rss_before: f64,
    rss_connected: f64,
    rss_peak: f64,
    server_threads: usize,
}

fn drive(
    server: &Session<TcpServerCommand>,
    addr: SocketAddr,
    clients: usize,
) -> Result<Figures, String> {
    let mut peers = Clients::start(addr, clients)?;
    let rss_before = sys::rss_mib();
    let threads_before = sys::threads().len();
    let overflows_before = sys::listen_overflows();
    let start = Instant::now();
    let storm = peers
        .order("connect", "connected")?
        .trim_start_matches("connected; ")
        .to_owned();
    if !wait_until(|| server.counters().clients_active == clients as u64) {
        return Err(format!(
            "only {} of {clients} clients became active on the server",
            server.counters().clients_active
        ));
    }
    let connect = start.elapsed();
    let overflows = sys::listen_overflows().saturating_sub(overflows_before);
    let rss_connected = sys::rss_mib();
    let server_threads = sys::threads().len().saturating_sub(threads_before);

    let start = Instant::now();
    let answer = peers.order("echo", "echoed ")?;
    let echo = start.elapsed();
    let rss_peak = sys::peak_rss_mib();
    let echoed = answer
        .trim_start_matches("echoed ")
        .parse()
        .map_err(|e| format!("the client process said \"{answer}\": {e}"))?;

    let start = Instant::now();
    peers.order("close", "closed")?;
    if !wait_until(|| server.counters().clients_active == 0) {
        return Err(format!(
            "{} clients were still open on the server after the clients closed",
            server.counters().clients_active
        ));
    }
    let close = start.elapsed();
    Ok(Figures {
        overflows,
        storm,
        connect,
        echo,
        close,
        echoed,
        rss_before,
        rss_connected,
        rss_peak,
        server_threads,
    })
}

/// How many clients to measure: the number, or as many as the open-file limit allows
/// when it cannot be raised (a sandbox without `CAP_SYS_RESOURCE`), saying so.
fn clients_that_fit(mode: Mode) -> Result<usize, String> {
    let asked: usize = if mode.full { 10_000 } else { 200 };
    // This process holds the server's end of every connection (one descriptor each); the
    // clients' ends are in a process of their own, which raises its own limit.
    let wanted = asked as u64 + 256;
    let limit = sys::raise_open_files(wanted)?;
    // Where the hard limit cannot be raised (a sandbox without CAP_SYS_RESOURCE), as many as
    // fit are measured and the row says so.
    let clients = if limit < wanted {
        let fit = limit.saturating_sub(256) as usize;
        eprintln!(
            "  the open-file limit is {limit} and cannot be raised: {wanted} are needed for \
             {asked} clients, measuring {fit}"
        );
        fit
    } else {
        asked
    };
    if clients < asked / 2 {
        return Err(format!(
            "the open-file limit is {limit}, {wanted} are needed (raise the hard limit)"
        ));
    }
    Ok(clients)
}

/// Runs item 3 and emits its row. Fails if any client's echo is missing or wrong.
pub fn run(mode: Mode) -> Result<(), String> {
    let clients = clients_that_fit(mode)?;
    sys::reset_peak_rss();
    let (waker, wake) = waker();
    let config = TcpServerConfig {
        max_clients: clients,
        echo: true,
        backlog: i32::try_from(clients).unwrap_or(i32::MAX),
        ..TcpServerConfig::default()
    };
    let server = tcp_server::start(config, waker);
    let addr = crate::wait_bound(&server)?;
    let stop = AtomicBool::new(false);
    let (figures, events) = thread::scope(|s| {
        // The window's part: drain the server's events once per frame the whole time.
        let consumer = s.spawn(|| {
            let mut events = 0_u64;
            consume(
                &server,
                &wake,
                Drain::PerFrame,
                Instant::now() + 4 * PHASE_LIMIT,
                |event| {
                    events += 1;
                    if matches!(event.kind, EventKind::Stopped { .. }) {
                        Flow::Done
                    } else {
                        Flow::More
                    }
                },
                || {
                    if stop.load(Ordering::Acquire) {
                        Flow::Done
                    } else {
                        Flow::More
                    }
                },
            );
            events
        });
        let figures = drive(&server, addr, clients);
        stop.store(true, Ordering::Release);
        (figures, consumer.join().unwrap_or(0))
    });
    let f = figures?;
    let start = Instant::now();
    drop(server);
    let stop_time = start.elapsed();
    let per_conn_kib = (f.rss_connected - f.rss_before) * 1024.0 / clients as f64;
    let backlog = granted_backlog(clients);
    // What the row leaves out.
    eprintln!(
        "  {clients} clients: stop {:.3} s; RSS {:.1} MiB before, {:.1} MiB connected; \
         {events} events drained",
        stop_time.as_secs_f64(),
        f.rss_before,
        f.rss_connected,
    );
    let all = f.echoed == clients;
    Row {
        item: 3,
        what: format!(
            "{clients} concurrent TCP clients (in a process of their own, {CLIENT_THREADS} \
             threads) on one engine server (echo on), each sending 1 KiB and reading it back; \
             the owner drains per frame"
        ),
        baseline: None,
        engine: format!(
            "{} of {clients} echoed exactly; connect all {:.2} s (backlog {backlog}; connects: \
             {}; {} listen-queue overflows machine-wide), echo all {:.2} s, close all {:.2} s; \
             peak RSS {:.0} MiB ({per_conn_kib:.1} KiB per connection, {} threads)",
            f.echoed,
            f.connect.as_secs_f64(),
            f.storm,
            f.overflows,
            f.echo.as_secs_f64(),
            f.close.as_secs_f64(),
            f.rss_peak,
            f.server_threads,
        ),
        ratio: None,
        target: format!(
            "all echoed; no refusals or retried connects (listen-queue overflows); RSS ≤ \
             {RSS_LIMIT_MIB:.0} MiB"
        ),
        met: Some(all && f.overflows == 0 && f.rss_peak <= RSS_LIMIT_MIB),
    }
    .emit();
    if all {
        Ok(())
    } else {
        Err(format!(
            "only {} of {clients} echoes came back intact",
            f.echoed
        ))
    }
}
