//! Engine benchmarks: every figure is measured together with a raw-socket baseline in the same
//! run and reported as a ratio (see `BENCHMARKS.md`).
//!
//! - `cargo bench --bench engine` — the full suite (release build); prints a Markdown table.
//! - `cargo test --bench engine` — the quick mode: the same code on small sizes, checking only
//!   that every byte and datagram is accounted for (no timing is judged). CI runs this.
//! - `... -- --item udp-receive` — one item only.
//!
//! Each item runs in a fresh child process of this binary, so memory and CPU figures belong to
//! that item alone.

#[cfg(target_os = "linux")]
mod consumer;
#[cfg(target_os = "linux")]
mod frame_time;
#[cfg(target_os = "linux")]
mod framing;
#[cfg(target_os = "linux")]
mod generator_send;
#[cfg(target_os = "linux")]
mod idle;
#[cfg(target_os = "linux")]
mod many_clients;
#[cfg(target_os = "linux")]
mod peers;
#[cfg(target_os = "linux")]
mod ping_pong;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod sessions;
#[cfg(target_os = "linux")]
mod startup;
#[cfg(target_os = "linux")]
mod sys;
#[cfg(target_os = "linux")]
mod tcp_receive;
#[cfg(target_os = "linux")]
mod udp_receive;

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// The full sizes (1 GiB, 1,000,000 datagrams, 10,000 clients, ...); otherwise small
    /// sizes that take seconds even in a debug build.
    pub full: bool,
}

#[cfg(target_os = "linux")]
mod suite {
    use std::net::SocketAddr;
    use std::process::{Command, ExitCode, Stdio};
    use std::time::{Duration, Instant};

    use socketlab::engine::{EventKind, Session, StopReason};

    use super::report::{self, Row};
    use super::{
        Mode, frame_time, framing, generator_send, idle, many_clients, peers, ping_pong, sessions,
        startup, sys, tcp_receive, udp_receive,
    };

    type ItemFn = fn(Mode) -> Result<(), String>;

    /// The items, by the name `--item` takes, with their issue number.
    const ITEMS: [(&str, u8, ItemFn); 13] = [
        ("tcp-receive", 1, tcp_receive::run),
        ("udp-receive", 2, udp_receive::run),
        ("many-clients", 3, many_clients::run),
        ("ping-pong", 4, ping_pong::run),
        ("frame-time", 5, frame_time::run),
        ("idle", 6, idle::run),
        ("startup", 7, startup::run),
        ("framing", 8, framing::run),
        ("generator-send", 9, generator_send::run),
        ("socat-tcp-receive", 10, peers::run_receive),
        ("socat-tcp-send", 11, peers::run_send),
        ("udp-vs-peers", 12, peers::run_udp),
        ("sessions", 13, sessions::run),
    ];

    /// Waits for a server's `Listening` or a UDP socket's `Ready`; returns the bound address.
    pub fn wait_bound<C: Send + 'static>(session: &Session<C>) -> Result<SocketAddr, String> {
        let event = session
            .wait_for(
                Duration::from_secs(10),
                |e| {
                    matches!(
                        e.kind,
                        EventKind::Listening { .. }
                            | EventKind::Ready { .. }
                            | EventKind::Stopped { .. }
                    )
                },
                |_| {},
            )
            .ok_or("the session did not start within 10 s")?;
        match event.kind {
            EventKind::Listening { local } | EventKind::Ready { local, .. } => Ok(local),
            EventKind::Stopped { reason } => Err(format!("the session could not start: {reason}")),
            _ => Err("unexpected event".to_owned()),
        }
    }

    /// Stops a session and checks that it ended the ordinary way: `Stopped` (requested) within
    /// 10 s, with no error on the way (a worker that failed while stopping is a bug too).
    pub fn stop_cleanly<C: Send + 'static>(session: &Session<C>) -> Result<(), String> {
        session.stop();
        let mut errors = Vec::new();
        let end = session
            .wait_for(
                Duration::from_secs(10),
                |e| matches!(e.kind, EventKind::Stopped { .. }),
                |e| {
                    if let EventKind::Error(error) = &e.kind {
                        errors.push(error.to_string());
                    }
                },
            )
            .ok_or("the session did not stop within 10 s")?;
        match end.kind {
            EventKind::Stopped {
                reason: StopReason::Requested,
            } if errors.is_empty() => Ok(()),
            EventKind::Stopped { reason } => Err(format!(
                "the session ended with \"{reason}\" and errors {errors:?}"
            )),
            _ => Err("unexpected event".to_owned()),
        }
    }

    /// Runs one item in this process.
    fn run_item(name: &str, mode: Mode) -> ExitCode {
        let Some((_, _, run)) = ITEMS.iter().find(|(n, _, _)| *n == name) else {
            eprintln!("no such item: {name}");
            return ExitCode::from(2);
        };
        match run(mode) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{name}: FAILED: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// Runs every item in its own child process and prints the table.
    fn run_all(mode: Mode) -> ExitCode {
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                eprintln!("cannot find this benchmark's own executable: {e}");
                return ExitCode::FAILURE;
            }
        };
        let started = Instant::now();
        let load_before = sys::load_average();
        let mut rows = Vec::new();
        let mut failed = Vec::new();
        for (name, number, _) in ITEMS {
            eprintln!("item {number} ({name})...");
            let mut command = Command::new(&exe);
            command.args(["--item", name]);
            if mode.full {
                command.arg("--full");
            }
            let output = command.stderr(Stdio::inherit()).output();
            match output {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    rows.extend(text.lines().filter_map(Row::parse));
                    if !out.status.success() {
                        failed.push(name);
                    }
                }
                Err(e) => {
                    eprintln!("{name}: could not start: {e}");
                    failed.push(name);
                }
            }
        }
        rows.sort_by_key(|r| r.item);
        let kind = if mode.full {
            "full (release build)"
        } else {
            "quick (small sizes; figures are not meaningful)"
        };
        println!(
            "Mode: {kind}. Machine: {}. Load average (1 min) {load_before:.1} at the start, \
             {:.1} at the end.\n",
            sys::machine(),
            sys::load_average()
        );
        println!("{}", report::table(&rows));
        eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            eprintln!("FAILED items: {}", failed.join(", "));
            ExitCode::FAILURE
        }
    }

    /// Parses the arguments and runs.
    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; `cargo test` passes nothing (or a test filter).
        let mode = Mode {
            full: args.iter().any(|a| a == "--bench" || a == "--full"),
        };
        // The clients of item 3, in a process of their own.
        if let Some(i) = args.iter().position(|a| a == "--clients-of") {
            let addr = args.get(i + 1).and_then(|a| a.parse().ok());
            let clients = args.get(i + 2).and_then(|n| n.parse().ok());
            if let (Some(addr), Some(clients)) = (addr, clients) {
                return many_clients::client_process(addr, clients);
            }
            eprintln!("--clients-of needs ADDRESS:PORT and a number of clients");
            return ExitCode::from(2);
        }
        match args.iter().position(|a| a == "--item") {
            Some(i) => {
                if let Some(name) = args.get(i + 1) {
                    run_item(name, mode)
                } else {
                    eprintln!(
                        "--item needs a name: {}",
                        ITEMS.map(|(n, _, _)| n).join(", ")
                    );
                    ExitCode::from(2)
                }
            }
            None => run_all(mode),
        }
    }
}

#[cfg(target_os = "linux")]
pub use suite::{stop_cleanly, wait_bound};

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    suite::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    // The figures come from /proc (memory, CPU time, UDP drops).
    eprintln!("the engine benchmarks run on Linux only");
}
