//! `socketlab run FILE`: carries out a scripted exchange (see [`crate::engine::script`]) and
//! says, step by step, what passed; exit 0 when every step passed, 1 when one failed or timed
//! out, 2 for a script that cannot be run (with its file, line and column).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use crossbeam_channel::select;
use serde_json::{Value, json};

use super::run::interrupts;
use super::{Failure, host, port};
use crate::engine::noop_waker;
use crate::engine::payload::to_hex;
use crate::engine::script::{
    self, Outcome, Script, ScriptCommand, ScriptEvent, StartMode, StepResult, Target,
};
use crate::engine::services::{PortUse, Protocol};

/// `run FILE [--json] [--target HOST:PORT]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script: a TOML file with a [connect] or [listen] table and [[steps]] (see README,
    /// "Scripted exchanges", and the examples in resources/scripts/).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print one JSON object per step (and one for the result) instead of lines of text.
    #[arg(long)]
    pub json: bool,
    /// Talk to this HOST:PORT instead of the one the script names (the protocol stays the
    /// script's); for a script that listens, the address to listen on.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: Option<String>,
}

/// Runs `socketlab run`.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let mut script = load(args)?;
    if let Some(target) = &args.target {
        let (h, p) = target.rsplit_once(':').ok_or_else(|| {
            Failure::usage(format!(
                "--target: \"{target}\" is not HOST:PORT (write [::1]:PORT for an IPv6 address)"
            ))
        })?;
        let h = host(h).map_err(|e| Failure::usage(format!("--target: {}", e.sentence)))?;
        let protocol = match script.target.protocol() {
            script::Protocol::Tcp => Protocol::Tcp,
            script::Protocol::Udp => Protocol::Udp,
        };
        let usage = match script.target {
            Target::Connect { .. } => PortUse::Connect,
            Target::Listen { .. } => PortUse::Bind,
        };
        let p = port(p, protocol, usage)
            .map_err(|e| Failure::usage(format!("--target: {}", e.sentence)))?;
        if let Target::Listen { .. } = script.target
            && h.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_err()
        {
            return Err(Failure::usage(format!(
                "--target: the script listens, and \"{h}\" is not an address to listen on (use 127.0.0.1, ::1, 0.0.0.0 or ::)"
            )));
        }
        script.retarget(h, p);
    }
    let script = Arc::new(script);
    let file = args.file.display().to_string();
    let mut out = Report::new(args.json, &file, &script);
    out.header();
    let run = script::start(Arc::clone(&script), StartMode::Run, noop_waker()).map_err(|e| {
        Failure::network(format!("could not start the script's worker thread: {e}"))
    })?;
    let interrupted = interrupts();
    let began = Instant::now();
    let mut stop_sent = false;
    loop {
        select! {
            recv(run.events()) -> event => match event {
                Ok(ScriptEvent::Finished(outcome)) => return out.finish(&outcome, began),
                Ok(event) => out.event(&event),
                Err(_) => return Err(Failure::network("the script's worker ended without a result")),
            },
            recv(interrupted) -> _ => {
                if !stop_sent {
                    eprintln!("stopping (Ctrl-C)…");
                    run.command(ScriptCommand::Stop);
                    stop_sent = true;
                }
            },
        }
    }
}

fn load(args: &RunArgs) -> Result<Script, Failure> {
    let file = args.file.display();
    let meta = std::fs::metadata(&args.file)
        .map_err(|e| Failure::usage(format!("cannot read the script {file}: {e}")))?;
    if meta.len() > script::MAX_SCRIPT_BYTES as u64 {
        return Err(Failure::usage(format!(
            "{file} is {} bytes long; a script may be at most {} bytes.",
            meta.len(),
            script::MAX_SCRIPT_BYTES
        )));
    }
    let bytes = std::fs::read(&args.file)
        .map_err(|e| Failure::usage(format!("cannot read the script {file}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::usage(format!(
            "{file}: the script is not UTF-8 text (byte {} is not); save it as UTF-8.",
            e.utf8_error().valid_up_to() + 1
        ))
    })?;
    script::parse(&text)
        .map_err(|e| Failure::usage(format!("{file}:{}:{}: {}", e.line, e.column, e.message)))
}

/// Prints what happens, as text or as JSON lines.
struct Report<'a> {
    json: bool,
    file: &'a str,
    script: &'a Script,
    started: Vec<bool>,
    /// Standard output went away (`| head`): the run goes on, its exit code still says how it
    /// ended.
    stdout_closed: bool,
}

impl<'a> Report<'a> {
    fn new(json: bool, file: &'a str, script: &'a Script) -> Self {
        Report {
            json,
            file,
            script,
            started: vec![false; script.entries.len()],
            stdout_closed: false,
        }
    }

    fn say(&mut self, line: &str) {
        if self.stdout_closed {
            return;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.stdout_closed = true;
        }
    }

    fn header(&self) {
        let whom = match &self.script.target {
            Target::Connect {
                protocol,
                host,
                port,
            } => format!("{} to {host}:{port}", protocol.label()),
            Target::Listen {
                protocol, address, ..
            } => format!("waiting for a {} peer at {address}", protocol.label()),
        };
        let name = self
            .script
            .name
            .as_ref()
            .map_or(String::new(), |n| format!(" \"{n}\""));
        eprintln!(
            "script {}{name}: {} steps, {whom}",
            self.file,
            self.script.entries.len()
        );
    }

    fn event(&mut self, event: &ScriptEvent) {
        match event {
            ScriptEvent::Listening { local } => eprintln!("listening on {local}"),
            ScriptEvent::Connected { local, peer } => eprintln!("connected {local} ↔ {peer}"),
            ScriptEvent::StepStarted { entry } => {
                if let Some(s) = self.started.get_mut(*entry) {
                    *s = true;
                }
            }
            ScriptEvent::StepFinished(result) => self.step(result),
            ScriptEvent::Paused { .. }
            | ScriptEvent::Sent { .. }
            | ScriptEvent::Received { .. }
            | ScriptEvent::Finished(_) => {}
        }
    }

    fn step(&mut self, result: &StepResult) {
        let Some(entry) = self.script.entries.get(result.entry) else {
            return;
        };
        let passes: Vec<String> = result
            .passes
            .iter()
            .map(|(pass, of)| format!("pass {pass} of {of}"))
            .collect();
        if self.json {
            let mut object = json!({
                "step": result.entry + 1,
                "line": entry.line,
                "kind": entry.kind,
                "summary": entry.summary,
                "passes": result.passes.iter().map(|(p, of)| json!([p, of])).collect::<Vec<Value>>(),
                "elapsed_ms": result.elapsed.as_secs_f64() * 1000.0,
            });
            match &result.result {
                Ok(detail) => {
                    object["result"] = json!("passed");
                    object["detail"] = json!(detail);
                }
                Err(f) => {
                    object["result"] = json!(if f.sentence == "stopped" {
                        "stopped"
                    } else {
                        "failed"
                    });
                    object["failure"] = json!(f.sentence);
                    if let Some(bytes) = &f.arrived {
                        object["arrived_hex"] = json!(to_hex(bytes));
                    }
                }
            }
            self.say(&object.to_string());
            return;
        }
        let indent = "  ".repeat(entry.depth);
        let pass = if passes.is_empty() {
            String::new()
        } else {
            format!(" ({})", passes.join(", "))
        };
        let line = match &result.result {
            Ok(detail) => format!(
                "ok    {indent}step {} (line {}){pass}: {} — {detail}",
                result.entry + 1,
                entry.line,
                entry.summary
            ),
            Err(f) => format!(
                "FAIL  {indent}step {} (line {}){pass}: {} — {}",
                result.entry + 1,
                entry.line,
                entry.summary,
                f.sentence
            ),
        };
        self.say(&line);
    }

    fn finish(&mut self, outcome: &Outcome, began: Instant) -> Result<(), Failure> {
        let elapsed_ms = began.elapsed().as_millis();
        let not_run: Vec<usize> = self
            .script
            .entries
            .iter()
            .zip(&self.started)
            .filter(|(_, started)| !**started)
            .map(|(e, _)| e.line)
            .collect();
        let (result, steps, failure) = match outcome {
            Outcome::Passed { steps } => ("passed", *steps, None),
            Outcome::Failed {
                entry,
                steps,
                failure,
            } => {
                let line = self.script.entries.get(*entry).map_or(0, |e| e.line);
                (
                    "failed",
                    *steps,
                    Some(format!(
                        "{}:{line}: step {} failed: {}",
                        self.file,
                        entry + 1,
                        failure.sentence
                    )),
                )
            }
            Outcome::NotConnected { sentence } => (
                "not connected",
                0,
                Some(format!("{}: {sentence}", self.file)),
            ),
            Outcome::Stopped { steps } => (
                "stopped",
                *steps,
                Some(format!(
                    "{}: stopped (Ctrl-C) after {steps} steps",
                    self.file
                )),
            ),
        };
        let line = if self.json {
            json!({
                "result": result,
                "steps_carried_out": steps,
                "not_run_lines": not_run,
                "elapsed_ms": elapsed_ms,
                "failure": failure,
            })
            .to_string()
        } else if failure.is_none() {
            format!("passed: {steps} steps in {elapsed_ms} ms")
        } else if !not_run.is_empty() {
            format!(
                "{result}: {steps} steps carried out; not run: the steps on lines {}",
                not_run
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("{result}: {steps} steps carried out")
        };
        self.say(&line);
        failure.map_or(Ok(()), |f| Err(Failure::network(f)))
    }
}
