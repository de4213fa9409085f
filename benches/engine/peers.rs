//! Items 10–12 (issue 18's items 1–3): the `socketlab` command line side by side with the
//! programs a user would run instead, each a process of its own on loopback, alternating runs (peer, ours, peer, ours, …):
//!
//! - 10: receiving 1 GiB from `socat -u -b 65536 FILE TCP:…` into `socat -u TCP-LISTEN:… -` or
//!   `socketlab tcp-listen --once --output raw`, standard output going to `/dev/null`; then the
//!   same into a file (`socat … > FILE` against `--capture FILE --output none`).
//! - 11: sending a 1 GiB file from standard input into a `socat` listener: `socat -u FILE TCP:…`
//!   against `socketlab tcp-connect … --send - --shutdown < FILE`.
//! - 12: UDP receive at the highest rate one sender offers here: `socketlab udp-listen --output
//!   none` against a `socat` UDP receiver (the same raw sender for both), and against `iperf3 -s`
//!   at the rate `iperf3 -c -u -b 0 -l 64` itself offers. Every datagram must be accounted for:
//!   received (Socket Lab's own counter) + kernel drops (`/proc/net/udp`) = sent.
//!
//! The programs come from the system (`.ci/bench.sh` installs socat and iperf3). Without them the
//! item says it was skipped and why, unless `SOCKETLAB_REQUIRE_PEERS` is set (as in CI), when it
//! fails. Quick mode (`cargo test --bench engine`) runs every comparison on small sizes and
//! checks only that every byte and datagram arrived and was counted; it never judges time.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded, unbounded};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::report::{Row, median, spread};
use crate::udp_receive::Sender;
use crate::{Mode, sys};

/// The program under test, as cargo built it for this benchmark.
const PROGRAM: &str = env!("CARGO_BIN_EXE_socketlab");
/// Set to another `socketlab` binary to measure it instead (an older build, for the "before"
/// figures of a change).
const PROGRAM_ENV: &str = "SOCKETLAB_BENCH_PROGRAM";

/// The `socketlab` binary these items run.
fn program() -> std::ffi::OsString {
    std::env::var_os(PROGRAM_ENV).unwrap_or_else(|| PROGRAM.into())
}
/// How long one run may take before it counts as hung (a debug build under load is slow).
const RUN_LIMIT: Duration = Duration::from_mins(3);
/// Set (to anything) to make a missing socat or iperf3 a failure instead of a skip (CI).
const REQUIRE_ENV: &str = "SOCKETLAB_REQUIRE_PEERS";

/// A child process whose standard error is read line by line on a thread of its own, so a
/// chatty child never blocks on a full pipe and its lines can be waited for with a timeout.
struct Proc {
    name: String,
    pid: Pid,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    exited: Receiver<std::io::Result<ExitStatus>>,
    waiter: Option<JoinHandle<()>>,
    /// The thread that reads standard error: joined after the exit, so the last lines (the
    /// final counters) are in `stderr` before anyone looks.
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Proc {
    fn spawn(name: &str, mut command: Command) -> Result<Self, String> {
        command.stderr(Stdio::piped());
        let mut child: Child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let pid = Pid::from_raw(child.id().cast_signed());
        let stderr = Arc::new(Mutex::new(String::new()));
        let (line_tx, lines) = unbounded();
        let mut reader = None;
        if let Some(pipe) = child.stderr.take() {
            let all = Arc::clone(&stderr);
            reader = Some(thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut all) = all.lock() {
                        all.push_str(&line);
                        all.push('\n');
                    }
                    let _ = line_tx.send(line);
                }
            }));
        }
        let (exit_tx, exited) = bounded(1);
        let waiter = thread::spawn(move || {
            let _ = exit_tx.send(child.wait());
        });
        Ok(Proc {
            name: name.to_owned(),
            pid,
            lines,
            stderr,
            exited,
            waiter: Some(waiter),
            reader,
            status: None,
        })
    }

    /// Waits for a line of standard error that contains `needle`.
    fn wait_line(&self, needle: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .ok_or_else(|| {
                    format!(
                        "{} did not say \"{needle}\" within {limit:?}; it said: {}",
                        self.name,
                        self.stderr_text()
                    )
                })?;
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(line),
                Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "{} ended before saying \"{needle}\": {}",
                        self.name,
                        self.stderr_text()
                    ));
                }
            }
        }
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the process to exit; kills it after `limit`.
    fn wait(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = match self.exited.recv_timeout(limit) {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Err(format!("waiting for {}: {e}", self.name)),
            Err(_) => {
                let _ = kill(self.pid, Signal::SIGKILL);
                return Err(format!(
                    "{} did not finish within {limit:?}; it said: {}",
                    self.name,
                    self.stderr_text()
                ));
            }
        };
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter.join();
        }
        // The pipe ends with the process (none of these programs leaves a child holding it).
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.status = Some(status);
        Ok(status)
    }

    /// Waits for a successful exit.
    fn wait_ok(&mut self, limit: Duration) -> Result<(), String> {
        let status = self.wait(limit)?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} ended with {status}; it said: {}",
                self.name,
                self.stderr_text()
            ))
        }
    }

    fn signal(&self, signal: Signal) {
        if self.status.is_none() {
            let _ = kill(self.pid, signal);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() && self.exited.try_recv().is_err() {
            let _ = kill(self.pid, Signal::SIGKILL);
        }
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter.join();
        }
    }
}

/// True if `program` can be run here (it answers `--version`, or `-V` as socat does).
fn installed(program: &str) -> bool {
    ["--version", "-V"].iter().any(|flag| {
        Command::new(program)
            .arg(flag)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// `Ok(true)` when every program is there; `Ok(false)` (after saying so) when one is missing on
/// a developer's machine; an error when CI asked for them.
fn peers_present(item: &str, programs: &[&str]) -> Result<bool, String> {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(true);
    }
    let why = format!(
        "{item}: skipped: {} not installed (apt-get install {})",
        missing.join(" and "),
        missing.join(" ")
    );
    if std::env::var_os(REQUIRE_ENV).is_some() {
        return Err(why);
    }
    eprintln!("  {why}");
    Ok(false)
}

/// A loopback port nothing listens on now (the peers need a number up front).
fn free_tcp_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn free_udp_port() -> Result<u16, String> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    Ok(socket.local_addr().map_err(|e| e.to_string())?.port())
}

fn dev_null() -> Result<File, String> {
    File::create("/dev/null").map_err(|e| format!("/dev/null: {e}"))
}

/// A scratch folder of this run, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Result<Self, String> {
        let dir =
            std::env::temp_dir().join(format!("socketlab-bench-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    /// A file of `total` bytes (a repeating pattern that is not all zeros).
    fn source(&self, total: u64) -> Result<PathBuf, String> {
        let path = self.0.join("source.bin");
        let mut file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let block: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let mut left = total;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(&block[..n])
                .map_err(|e| format!("{}: {e}", path.display()))?;
            left -= n as u64;
        }
        file.sync_all()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file_len(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A figure from Socket Lab's final summary line (`received 1073741824 bytes in 16384 reads; …`):
/// the number before `unit` after `verb`.
fn summary_figure(stderr: &str, verb: &str, unit: &str) -> Option<u64> {
    let line = stderr.lines().rev().find(|l| l.starts_with("received "))?;
    let rest = line.split(verb).nth(1)?;
    let mut words = rest.split_whitespace();
    let number = words.next()?.parse().ok()?;
    (words.next()?.trim_end_matches([';', ',']).starts_with(unit)).then_some(number)
}

/// Who receives in item 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpReceiver {
    Socat,
    SocketLab,
}

/// Where the receiver puts the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// Standard output to `/dev/null`.
    Null,
    /// A file.
    File,
}

/// What one receive run measured.
struct ReceiveRun {
    seconds: f64,
    /// Socket Lab's own count of `recv` calls (socat has none).
    reads: Option<u64>,
}

/// One item 10 run: `socat` sends `source` (`total` bytes) to the receiver; timed from starting
/// the sender to the receiver's exit, and checked: the sender succeeded, Socket Lab counted every
/// byte, a file receiver's file holds every byte.
fn receive_once(
    who: TcpReceiver,
    sink: Sink,
    source: &Path,
    total: u64,
    scratch: &Scratch,
) -> Result<ReceiveRun, String> {
    let port = free_tcp_port()?;
    let out_file = scratch.0.join("received.bin");
    for old in [&out_file, &scratch.0.join("received-1.bin")] {
        let _ = std::fs::remove_file(old);
    }
    let mut command;
    let written_to;
    match who {
        TcpReceiver::Socat => {
            command = Command::new("socat");
            command.args([
                "-d",
                "-d",
                "-u",
                &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"),
                "-",
            ]);
            match sink {
                Sink::Null => {
                    command.stdout(dev_null()?);
                    written_to = None;
                }
                Sink::File => {
                    let file = File::create(&out_file)
                        .map_err(|e| format!("{}: {e}", out_file.display()))?;
                    command.stdout(file);
                    written_to = Some(out_file.clone());
                }
            }
        }
        TcpReceiver::SocketLab => {
            command = Command::new(program());
            command.args(["tcp-listen", &port.to_string(), "--once"]);
            command.stdout(dev_null()?);
            match sink {
                Sink::Null => {
                    command.args(["--output", "raw"]);
                    written_to = None;
                }
                Sink::File => {
                    command.args(["--output", "none", "--overwrite", "--capture"]);
                    command.arg(&out_file);
                    // One file per client: the first client's is `received-1.bin`.
                    written_to = Some(scratch.0.join("received-1.bin"));
                }
            }
        }
    }
    let mut receiver = Proc::spawn(&format!("{who:?} receiver"), command)?;
    receiver.wait_line("listening on", Duration::from_secs(20))?;
    let start = Instant::now();
    let mut sender_cmd = Command::new("socat");
    sender_cmd
        .args(["-u", "-b", "65536"])
        .arg(source)
        .arg(format!("TCP:127.0.0.1:{port}"))
        .stdout(Stdio::null());
    let mut sender = Proc::spawn("socat sender", sender_cmd)?;
    receiver.wait_ok(RUN_LIMIT)?;
    let seconds = start.elapsed().as_secs_f64();
    sender.wait_ok(Duration::from_secs(20))?;
    let mut reads = None;
    if who == TcpReceiver::SocketLab {
        let said = receiver.stderr_text();
        let counted = summary_figure(&said, "received", "bytes");
        if counted != Some(total) {
            return Err(format!(
                "socketlab counted {counted:?} of {total} bytes; it said: {said}"
            ));
        }
        reads = summary_figure(&said, "bytes in", "read");
    }
    if let Some(f) = written_to {
        let len = file_len(&f)?;
        if len != total {
            return Err(format!(
                "{who:?} wrote {len} of {total} bytes to {}",
                f.display()
            ));
        }
    }
    Ok(ReceiveRun { seconds, reads })
}

/// Item 10 rows.
pub fn run_receive(mode: Mode) -> Result<(), String> {
    if !peers_present("item 10", &["socat"])? {
        return Ok(());
    }
    let (total, reps) = sizes(mode);
    let scratch = Scratch::new("socat-receive")?;
    let source = scratch.source(total)?;
    for sink in [Sink::Null, Sink::File] {
        let mut peer = Vec::new();
        let mut ours = Vec::new();
        let mut ratios = Vec::new();
        let mut reads = Vec::new();
        let load_before = sys::load_average();
        for _ in 0..reps {
            let p = receive_once(TcpReceiver::Socat, sink, &source, total, &scratch)?;
            let o = receive_once(TcpReceiver::SocketLab, sink, &source, total, &scratch)?;
            ratios.push(p.seconds / o.seconds);
            peer.push(p.seconds);
            ours.push(o.seconds);
            if let Some(r) = o.reads {
                reads.push(r as f64);
            }
        }
        let load_after = sys::load_average();
        let (p, o) = (median(&mut peer), median(&mut ours));
        let ratio = p / o;
        let per_read = total as f64 / median(&mut reads).max(1.0) / 1024.0;
        let (peer_cmd, our_cmd) = match sink {
            Sink::Null => (
                "`socat -u TCP-LISTEN:… - > /dev/null`",
                "`tcp-listen --once --output raw > /dev/null`",
            ),
            Sink::File => (
                "`socat -u TCP-LISTEN:… - > FILE`",
                "`tcp-listen --once --capture FILE --output none`",
            ),
        };
        eprintln!(
            "  tcp receive {} → {sink:?}: socat {p:.3} s, socketlab {o:.3} s ({ratio:.2}× socat), \
             {per_read:.0} KiB per read, load {load_before:.1}–{load_after:.1}",
            label(total)
        );
        Row {
            item: 10,
            what: format!(
                "TCP receive, {} from `socat -u -b 65536`: {our_cmd} vs {peer_cmd} (median of \
                 {reps} pairs; load {load_before:.1}–{load_after:.1})",
                label(total)
            ),
            baseline: Some(format!("socat {p:.3} s ({:.1} Gbit/s)", gbit(total, p))),
            engine: format!(
                "{o:.3} s ({:.1} Gbit/s, {per_read:.0} KiB per read)",
                gbit(total, o)
            ),
            ratio: Some(format!("{ratio:.2}× socat{}", spread(&ratios))),
            target: "≥ 1.0× socat".to_owned(),
            met: Some(ratio >= 1.0),
        }
        .emit();
    }
    Ok(())
}

/// Item 11: one run of sending `source` into a `socat` listener, by `socat` or by Socket Lab.
fn send_once(ours: bool, source: &Path, total: u64) -> Result<f64, String> {
    let port = free_tcp_port()?;
    let mut listener_cmd = Command::new("socat");
    listener_cmd
        .args([
            "-d",
            "-d",
            "-u",
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"),
            "-",
        ])
        .stdout(dev_null()?);
    let mut receiver = Proc::spawn("socat receiver", listener_cmd)?;
    receiver.wait_line("listening on", Duration::from_secs(20))?;
    let start = Instant::now();
    let mut sender = if ours {
        let mut c = Command::new(program());
        c.args([
            "tcp-connect",
            "127.0.0.1",
            &port.to_string(),
            "--send",
            "-",
            "--shutdown",
            "--output",
            "none",
        ])
        .stdin(File::open(source).map_err(|e| format!("{}: {e}", source.display()))?)
        .stdout(Stdio::null());
        Proc::spawn("socketlab sender", c)?
    } else {
        let mut c = Command::new("socat");
        c.arg("-u")
            .arg(source)
            .arg(format!("TCP:127.0.0.1:{port}"))
            .stdout(Stdio::null());
        Proc::spawn("socat sender", c)?
    };
    sender.wait_ok(RUN_LIMIT)?;
    receiver.wait_ok(Duration::from_secs(20))?;
    let seconds = start.elapsed().as_secs_f64();
    if ours {
        let said = sender.stderr_text();
        let sent = said
            .lines()
            .rev()
            .find(|l| l.starts_with("received "))
            .and_then(|l| l.split("sent ").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok());
        if sent != Some(total) {
            return Err(format!(
                "socketlab counted {sent:?} of {total} bytes sent; it said: {said}"
            ));
        }
    }
    Ok(seconds)
}

/// Item 11 row.
pub fn run_send(mode: Mode) -> Result<(), String> {
    if !peers_present("item 11", &["socat"])? {
        return Ok(());
    }
    let (total, reps) = sizes(mode);
    let scratch = Scratch::new("socat-send")?;
    let source = scratch.source(total)?;
    let mut peer = Vec::new();
    let mut ours = Vec::new();
    let mut ratios = Vec::new();
    let load_before = sys::load_average();
    for _ in 0..reps {
        let p = send_once(false, &source, total)?;
        let o = send_once(true, &source, total)?;
        ratios.push(p / o);
        peer.push(p);
        ours.push(o);
    }
    let load_after = sys::load_average();
    let (p, o) = (median(&mut peer), median(&mut ours));
    let ratio = p / o;
    eprintln!(
        "  tcp send {} from stdin: socat {p:.3} s, socketlab {o:.3} s ({ratio:.2}× socat), load \
         {load_before:.1}–{load_after:.1}",
        label(total)
    );
    Row {
        item: 11,
        what: format!(
            "TCP send, a {} file into `socat -u TCP-LISTEN:… -`: `tcp-connect --send - --shutdown \
             < FILE` vs `socat -u FILE TCP:…` (median of {reps} pairs; load \
             {load_before:.1}–{load_after:.1})",
            label(total)
        ),
        baseline: Some(format!("socat {p:.3} s ({:.1} Gbit/s)", gbit(total, p))),
        engine: format!("{o:.3} s ({:.1} Gbit/s)", gbit(total, o)),
        ratio: Some(format!("{ratio:.2}× socat{}", spread(&ratios))),
        target: "≥ 1.0× socat".to_owned(),
        met: Some(ratio >= 1.0),
    }
    .emit();
    Ok(())
}

/// What one UDP receiver run measured.
#[derive(Debug, Clone, Copy)]
struct UdpRun {
    sent: u64,
    /// Socket Lab's own count (`None` for a receiver that does not count: socat).
    received: Option<u64>,
    kernel_drops: u64,
    /// Offered rate: datagrams sent ÷ the sender's time.
    offered_per_s: f64,
}

/// Waits until the socket bound to `local` has nothing left queued, or `limit` passes: the
/// receiver has then taken everything the kernel did not drop.
fn wait_drained(local: SocketAddr, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        match sys::udp_queue(local) {
            Some(q) if q.rx_queue == 0 => return Ok(()),
            None => return Err(format!("no UDP socket bound to {local} in /proc/net/udp")),
            Some(_) if Instant::now() > deadline => {
                return Err(format!(
                    "the receiver on {local} did not drain within {limit:?}"
                ));
            }
            Some(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Waits (bounded) for a socket to be bound to `local`.
fn wait_bound_udp(local: SocketAddr, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while sys::udp_queue(local).is_none() {
        if Instant::now() > deadline {
            return Err(format!("nothing bound {local} within {limit:?}"));
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Who receives the datagrams of item 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UdpReceiver {
    SocketLab,
    /// socat as it comes (the system's default receive buffer, 208 KiB here).
    Socat,
    /// socat given the receive buffer Socket Lab asks for: what the buffer alone changes.
    SocatBigBuffer,
}

/// The `SO_RCVBUF` Socket Lab's UDP server asks for by default.
const OUR_RECV_BUFFER: usize = 4 * 1024 * 1024;

/// One run: a raw sender offers `count` datagrams of `size` bytes (at `rate` per second, or as
/// fast as it can) to `socketlab udp-listen` (`ours`) or to a socat UDP receiver.
fn udp_once(
    who: UdpReceiver,
    size: usize,
    count: u64,
    rate: Option<f64>,
) -> Result<UdpRun, String> {
    let port = free_udp_port()?;
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let ours = who == UdpReceiver::SocketLab;
    let mut receiver = if ours {
        let mut c = Command::new(program());
        c.args(["udp-listen", &port.to_string(), "--output", "none"])
            .stdout(Stdio::null());
        let p = Proc::spawn("socketlab udp-listen", c)?;
        p.wait_line("listening on", Duration::from_secs(20))?;
        p
    } else {
        let mut c = Command::new("socat");
        let buffer = if who == UdpReceiver::SocatBigBuffer {
            format!(",rcvbuf={OUR_RECV_BUFFER}")
        } else {
            String::new()
        };
        c.args([
            "-u",
            &format!("UDP-RECV:{port},bind=127.0.0.1{buffer}"),
            "-",
        ])
        .stdout(dev_null()?);
        let p = Proc::spawn("socat UDP receiver", c)?;
        wait_bound_udp(local, Duration::from_secs(20))?;
        p
    };
    let start = Instant::now();
    let sender = Sender::start_paced(local, size, count, rate);
    sender.join()?;
    let offered_per_s = count as f64 / start.elapsed().as_secs_f64();
    wait_drained(local, Duration::from_secs(30))?;
    let kernel_drops = sys::udp_queue(local).map_or(0, |q| q.drops);
    receiver.signal(Signal::SIGINT);
    let status = receiver.wait(Duration::from_secs(20))?;
    let counted = if ours {
        if !status.success() {
            return Err(format!(
                "socketlab udp-listen ended with {status}: {}",
                receiver.stderr_text()
            ));
        }
        let said = receiver.stderr_text();
        let taken = summary_figure(&said, "received", "datagram")
            .ok_or_else(|| format!("no counters in socketlab's output: {said}"))?;
        if taken + kernel_drops != count {
            return Err(format!(
                "socketlab received {taken} + kernel drops {kernel_drops} ≠ {count} sent"
            ));
        }
        Some(taken)
    } else {
        None
    };
    Ok(UdpRun {
        sent: count,
        received: counted,
        kernel_drops,
        offered_per_s,
    })
}

/// iperf3's own test at `-u -b 0 -l SIZE`: `(packets, lost, offered datagrams/s)`.
fn iperf3_once(size: usize, count: u64) -> Result<(u64, u64, f64), String> {
    let port = free_tcp_port()?;
    let mut server_cmd = Command::new("iperf3");
    server_cmd
        .args([
            "-s",
            "-1",
            "--forceflush",
            "-B",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::piped());
    // iperf3 -s writes "Server listening on PORT" to standard output (flushed at once with
    // --forceflush; a pipe would otherwise hold it back): read it there.
    let mut child = server_cmd
        .spawn()
        .map_err(|e| format!("cannot start iperf3 -s: {e}"))?;
    let stdout = child.stdout.take();
    let mut server = ChildGuard(Some(child));
    let (tx, rx) = bounded(1);
    if let Some(out) = stdout {
        thread::spawn(move || {
            let mut told = false;
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if !told && line.contains("Server listening") {
                    told = true;
                    let _ = tx.send(());
                }
            }
        });
    }
    rx.recv_timeout(Duration::from_secs(20))
        .map_err(|_| "iperf3 -s did not start listening within 20 s".to_owned())?;
    let output = Command::new("iperf3")
        .args([
            "-c",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "-b",
            "0",
            "-l",
            &size.to_string(),
            "-k",
            &count.to_string(),
            "--json",
        ])
        .output()
        .map_err(|e| format!("cannot run iperf3 -c: {e}"))?;
    server.wait(Duration::from_secs(20))?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "iperf3 -c --json: {e}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let sum = &json["end"]["sum"];
    let packets = sum["packets"].as_u64();
    let lost = sum["lost_packets"].as_u64();
    let seconds = sum["seconds"].as_f64();
    match (packets, lost, seconds) {
        (Some(p), Some(l), Some(s)) if p > 0 && s > 0.0 => Ok((p, l, p as f64 / s)),
        _ => Err(format!("iperf3 -c gave no UDP totals: {}", json["error"])),
    }
}

/// Kills a child left running, and lets its end be waited for with a limit.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn wait(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while let Some(child) = self.0.as_mut() {
            if child.try_wait().map_err(|e| e.to_string())?.is_some() {
                self.0 = None;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("iperf3 -s did not end within {limit:?}"));
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Item 12 rows.
pub fn run_udp(mode: Mode) -> Result<(), String> {
    if !peers_present("item 12", &["socat", "iperf3"])? {
        return Ok(());
    }
    let size = 64;
    let count: u64 = if mode.full { 1_000_000 } else { 20_000 };
    let reps = if mode.full { 5 } else { 1 };

    // (a) The raw sender as fast as it goes, into socat and into Socket Lab, alternating.
    let load_before = sys::load_average();
    let mut socat_drops = Vec::new();
    let mut big_drops = Vec::new();
    let mut our_drops = Vec::new();
    let mut offered = Vec::new();
    for _ in 0..reps {
        let s = udp_once(UdpReceiver::Socat, size, count, None)?;
        let b = udp_once(UdpReceiver::SocatBigBuffer, size, count, None)?;
        let o = udp_once(UdpReceiver::SocketLab, size, count, None)?;
        eprintln!(
            "    raw sender: socat with rcvbuf={OUR_RECV_BUFFER} drops {} of {} at {:.0} \
             kdatagrams/s",
            b.kernel_drops,
            b.sent,
            b.offered_per_s / 1e3
        );
        big_drops.push(b.kernel_drops as f64);
        socat_drops.push(s.kernel_drops as f64);
        our_drops.push(o.kernel_drops as f64);
        offered.push(s.offered_per_s);
        offered.push(o.offered_per_s);
        eprintln!(
            "    raw sender: socat drops {} of {} at {:.0} kdatagrams/s; socketlab received {} + \
             drops {} = {} at {:.0} kdatagrams/s",
            s.kernel_drops,
            s.sent,
            s.offered_per_s / 1e3,
            o.received.unwrap_or(0),
            o.kernel_drops,
            o.sent,
            o.offered_per_s / 1e3
        );
    }
    let load_after = sys::load_average();
    let (sd, bd, od, rate) = (
        median(&mut socat_drops),
        median(&mut big_drops),
        median(&mut our_drops),
        median(&mut offered),
    );
    eprintln!(
        "  udp receive {count} × {size} B, raw sender ({:.0} kdatagrams/s): kernel drops socat \
         {sd:.0}, socketlab {od:.0}",
        rate / 1e3
    );
    Row {
        item: 12,
        what: format!(
            "UDP receive, {count} × {size} B from a raw sender at its full speed (median \
             {:.0} kdatagrams/s offered): `udp-listen --output none` vs `socat -u UDP-RECV:… -` \
             (median of {reps} pairs; load {load_before:.1}–{load_after:.1})",
            rate / 1e3
        ),
        baseline: Some(format!(
            "socat: {sd:.0} kernel drops ({bd:.0} with `rcvbuf={OUR_RECV_BUFFER}`, the buffer \
             Socket Lab asks for)"
        )),
        engine: format!("{od:.0} kernel drops; received + kernel drops = sent in every run"),
        ratio: None,
        target: "drops ≤ socat's; all accounted for".to_owned(),
        met: Some(od <= sd),
    }
    .emit();

    against_iperf3(size, count, reps)
}

/// Item 12 (b): iperf3's own test, and Socket Lab at the rate iperf3's client offered.
fn against_iperf3(size: usize, count: u64, reps: usize) -> Result<(), String> {
    let load_before = sys::load_average();
    let mut iperf_lost = Vec::new();
    let mut our_drops = Vec::new();
    let mut rates = Vec::new();
    for _ in 0..reps {
        let (packets, lost, offered) = iperf3_once(size, count)?;
        let o = udp_once(UdpReceiver::SocketLab, size, packets, Some(offered))?;
        eprintln!(
            "    iperf3: lost {lost} of {packets} at {:.0} kdatagrams/s; socketlab at the same \
             rate ({:.0} achieved): received {} + drops {} = {}",
            offered / 1e3,
            o.offered_per_s / 1e3,
            o.received.unwrap_or(0),
            o.kernel_drops,
            o.sent
        );
        iperf_lost.push(lost as f64);
        our_drops.push(o.kernel_drops as f64);
        rates.push(offered);
    }
    let load_after = sys::load_average();
    let (il, od, rate) = (
        median(&mut iperf_lost),
        median(&mut our_drops),
        median(&mut rates),
    );
    eprintln!(
        "  udp receive at iperf3's rate ({:.0} kdatagrams/s): iperf3 -s lost {il:.0}, socketlab \
         {od:.0}",
        rate / 1e3
    );
    Row {
        item: 12,
        what: format!(
            "UDP receive, {count} × {size} B at the rate `iperf3 -c -u -b 0 -l {size}` offers \
             (median {:.0} kdatagrams/s): `udp-listen --output none` fed by a raw sender paced at \
             that rate vs `iperf3 -s` (median of {reps} pairs; load \
             {load_before:.1}–{load_after:.1})",
            rate / 1e3
        ),
        baseline: Some(format!("iperf3 -s: {il:.0} lost")),
        engine: format!("{od:.0} kernel drops; received + kernel drops = sent in every run"),
        ratio: None,
        target: "drops ≤ iperf3's; all accounted for".to_owned(),
        met: Some(od <= il),
    }
    .emit();
    Ok(())
}

/// Bytes per run and pairs of runs.
fn sizes(mode: Mode) -> (u64, usize) {
    if mode.full {
        (1 << 30, 5)
    } else {
        (16 << 20, 1)
    }
}

fn label(total: u64) -> String {
    if total >= 1 << 30 {
        format!("{} GiB", total >> 30)
    } else {
        format!("{} MiB", total >> 20)
    }
}

fn gbit(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 * 8.0 / seconds / 1e9
}
