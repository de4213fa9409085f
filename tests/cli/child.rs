//! A running `socketlab` child for the relay and traffic tests: its standard error read line by
//! line on a thread (so a full pipe never blocks it), killed when dropped so a failing test
//! leaves nothing behind.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};

/// Longest a whole run may take (a debug build on a busy 2-core machine).
pub const RUN_TIMEOUT: Duration = Duration::from_mins(2);
/// Longest wait for one line of standard error.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(20);

/// A running child.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    out_lines: Receiver<String>,
    out_seen: Vec<String>,
}

/// What a finished run left.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Running {
    /// Starts `socketlab ARGS`.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_socketlab"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the socketlab binary starts");
        let out = child.stdout.take().expect("stdout is piped");
        let (out_tx, out_lines) = unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if out_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            out_lines,
            out_seen: Vec::new(),
        }
    }

    /// The next line of standard error.
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(LINE_TIMEOUT) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(e) => panic!(
                "no line on standard error in time ({e}); so far:\n{}",
                self.seen.join("\n")
            ),
        }
    }

    /// Reads standard error until a line contains `part`; returns that line.
    pub fn line_with(&mut self, part: &str) -> String {
        for _ in 0..1000 {
            let line = self.line();
            if line.contains(part) {
                return line;
            }
        }
        panic!("no line with {part:?}; saw:\n{}", self.seen.join("\n"));
    }

    /// Reads standard output until a line contains `part`.
    pub fn stdout_line_with(&mut self, part: &str) {
        loop {
            match self.out_lines.recv_timeout(LINE_TIMEOUT) {
                Ok(line) => {
                    let found = line.contains(part);
                    self.out_seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!(
                    "no line with {part:?} on standard output in time ({e}); stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The first line of standard error, `listening on ADDR:PORT`, as an address.
    pub fn listening(&mut self) -> SocketAddr {
        let line = self.line();
        line.strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("first stderr line is not `listening on ADDR`: {line:?}"))
    }

    /// Sends SIGINT, as Ctrl-C does.
    #[cfg(unix)]
    pub fn interrupt(&self) {
        let pid = i32::try_from(self.child.id()).expect("pid fits");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .expect("SIGINT sent");
    }

    /// Waits (bounded) for the child to exit and collects its output.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait works") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "socketlab did not exit in time; stderr so far:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stdout = std::mem::take(&mut self.out_seen);
        while let Ok(line) = self.out_lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push(line);
        }
        // The stderr thread ends with the pipe; take every line it read.
        let mut stderr = std::mem::take(&mut self.seen);
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stderr.push(line);
        }
        Finished {
            code: status.code(),
            stdout: stdout.join("\n"),
            stderr: stderr.join("\n"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The number after `label ` in `text` (`"forwarded 8012 (…"`, `"forwarded"` → 8012).
pub fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(&format!("{label} "))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"));
    text[at + label.len() + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {label:?} in:\n{text}"))
}
