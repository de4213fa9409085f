//! The traffic generator of a client session (messages of one size, as fast as possible or at a
//! set rate, for a count or a duration, optionally with sequence numbers) and the *Sequence
//! check* of a server session (received, lost, duplicated, out of order, one-way delay
//! percentiles). Both run in the engine ([`crate::engine::generator`]); the generator is a session
//! of its own beside the client's, aimed at the client's target, and this widget shows the rate
//! it achieves and a progress bar.

use std::net::SocketAddr;
use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::generator::{
    self, FlowReport, Generator, GeneratorEnd, GeneratorEvent, GeneratorProgress, HEADER_LEN, Rate,
    SequenceSummary, TcpGeneratorConfig, TrafficPlan, UdpGeneratorConfig,
};
use crate::engine::{EventKind, TcpOptions, Waker};
use crate::gui::activity::{Activity, drain_bounded};
use crate::gui::session::FrameBudget;
use crate::gui::text_tools as tt;

use super::fields::{error_line, labelled_edit, parse_number};

/// Largest message the generator field accepts (a UDP datagram's limit is checked by the engine
/// against the target's family).
const MAX_SIZE: u64 = 16 * 1024 * 1024;
/// Largest count.
const MAX_COUNT: u64 = 1_000_000_000_000;
/// Longest duration, seconds (one day).
const MAX_SECONDS: u64 = 86_400;

/// How the rate field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RateUnit {
    /// As fast as the socket takes them.
    #[default]
    Max,
    /// Messages (datagrams, writes) per second.
    PerSecond,
    /// Payload bytes per second.
    BytesPerSecond,
}

/// What a client session remembers about its generator (fields as typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneratorSettings {
    /// Bytes per message.
    pub size: String,
    /// How the rate is read.
    pub unit: RateUnit,
    /// The rate, as typed (unused for [`RateUnit::Max`]).
    pub rate: String,
    /// How many messages (empty: no count).
    pub count: String,
    /// For how many seconds (empty: no limit).
    pub seconds: String,
    /// A sequence header at the start of each message.
    pub sequence: bool,
}

impl Default for GeneratorSettings {
    fn default() -> Self {
        GeneratorSettings {
            size: "64".to_owned(),
            unit: RateUnit::PerSecond,
            rate: "1000".to_owned(),
            count: "10000".to_owned(),
            seconds: String::new(),
            sequence: true,
        }
    }
}

impl GeneratorSettings {
    /// The engine's plan, or the sentences of the wrong fields.
    pub fn plan(&self) -> Result<TrafficPlan, Vec<String>> {
        let mut problems = Vec::new();
        let min_size = if self.sequence { HEADER_LEN as u64 } else { 1 };
        let size = parse_number(&self.size, tt::GEN_SIZE, min_size, MAX_SIZE)
            .map_err(|e| problems.push(e))
            .ok();
        let rate = match self.unit {
            RateUnit::Max => Some(Rate::Max),
            unit => match self.rate.trim().replace(['_', ','], "").parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Some(match unit {
                    RateUnit::BytesPerSecond => Rate::BytesPerSecond(r),
                    _ => Rate::MessagesPerSecond(r),
                }),
                _ => {
                    problems.push(tt::gen_rate_bad(&self.rate));
                    None
                }
            },
        };
        let optional = |text: &str, label: &str, max: u64, problems: &mut Vec<String>| {
            if text.trim().is_empty() {
                return None;
            }
            parse_number(text, label, 1, max)
                .map_err(|e| problems.push(e))
                .ok()
        };
        let count = optional(&self.count, tt::GEN_COUNT, MAX_COUNT, &mut problems);
        let seconds = optional(&self.seconds, tt::GEN_SECONDS, MAX_SECONDS, &mut problems);
        let (Some(size), Some(rate)) = (size, rate) else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let plan = TrafficPlan {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            rate,
            count,
            duration: seconds.map(Duration::from_secs),
            sequence: self.sequence,
        };
        plan.check().map_err(|e| vec![e.plain_sentence()])?;
        Ok(plan)
    }
}

/// Whom a client's generator sends to: the client's own target.
#[derive(Debug, Clone)]
pub enum GeneratorTarget {
    /// UDP datagrams to this host and port.
    Udp {
        /// Host name or literal.
        host: String,
        /// Port.
        port: u16,
    },
    /// Writes on a TCP connection of its own to this host and port.
    Tcp {
        /// Host name or literal.
        host: String,
        /// Port.
        port: u16,
        /// The client's socket options.
        options: TcpOptions,
        /// The client's connect timeout.
        timeout: Duration,
    },
}

/// The generator's run-time state.
#[derive(Default)]
pub struct GeneratorPanel {
    session: Option<Generator>,
    progress: Option<GeneratorProgress>,
    to: Option<SocketAddr>,
    run: Option<u32>,
    end: Option<(String, bool)>,
}

impl GeneratorPanel {
    /// True while a generator runs.
    pub fn is_running(&self) -> bool {
        self.session.is_some()
    }

    /// The latest progress.
    pub fn progress(&self) -> Option<GeneratorProgress> {
        self.progress
    }

    /// How the last run ended, in words, and whether it failed.
    pub fn end(&self) -> Option<&(String, bool)> {
        self.end.as_ref()
    }

    /// Starts a run of `plan` to `target`.
    pub fn start(&mut self, target: GeneratorTarget, plan: TrafficPlan, waker: &Waker) {
        self.session = None;
        self.progress = None;
        self.end = None;
        self.to = None;
        self.run = None;
        let waker = std::sync::Arc::clone(waker);
        self.session = Some(match target {
            GeneratorTarget::Udp { host, port } => generator::start_udp(
                UdpGeneratorConfig {
                    host,
                    port,
                    local: None,
                    connect: false,
                    plan,
                },
                waker,
            ),
            GeneratorTarget::Tcp {
                host,
                port,
                options,
                timeout,
            } => generator::start_tcp(
                TcpGeneratorConfig {
                    host,
                    port,
                    local: None,
                    connect_timeout: timeout,
                    options,
                    plan,
                },
                waker,
            ),
        });
    }

    /// Asks the run to stop (it ends within 100 ms at any rate; its last event says so).
    pub fn stop(&self) {
        if let Some(session) = &self.session {
            session.stop();
        }
    }

    /// Stops a run and waits for its threads.
    pub fn stop_and_join(&mut self) {
        self.session = None;
    }

    /// Takes the generator's events within `budget`; notes start and end in the log. True when
    /// more are waiting.
    pub fn poll(&mut self, budget: &mut FrameBudget, activity: &mut Activity) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        let (events, more) = drain_bounded(session, budget);
        let mut ended = false;
        for event in events {
            match event.kind {
                EventKind::Generator(g) => self.observe(*g, activity),
                EventKind::Error(e) => {
                    self.end = Some((e.plain_sentence(), true));
                }
                EventKind::Stopped { reason } => {
                    ended = true;
                    if let Some(e) = crate::gui::activity::failure(&reason)
                        && self.end.as_ref().is_none_or(|(_, failed)| !failed)
                    {
                        let sentence = e.plain_sentence();
                        activity.log.push_note(event.at, self.to, &sentence);
                        self.end = Some((sentence, true));
                    }
                }
                _ => {}
            }
        }
        if ended {
            self.session = None;
            return false;
        }
        more
    }

    fn observe(&mut self, event: GeneratorEvent, activity: &mut Activity) {
        let now = std::time::SystemTime::now();
        match event {
            GeneratorEvent::Started { to, run } => {
                self.to = Some(to);
                self.run = run;
                activity
                    .log
                    .push_note(now, Some(to), &tt::gen_started(&to, run));
            }
            GeneratorEvent::Progress(p) => self.progress = Some(p),
            GeneratorEvent::Finished { progress, end } => {
                self.progress = Some(progress);
                let (how, failed) = match &end {
                    GeneratorEnd::Completed => (tt::GEN_COMPLETED.to_owned(), false),
                    GeneratorEnd::Stopped => (tt::GEN_STOPPED.to_owned(), false),
                    GeneratorEnd::Failed(e) => (e.plain_sentence(), true),
                };
                let words = tt::gen_finished(&how, &progress);
                activity.log.push_note(now, self.to, &words);
                self.end = Some((words, failed));
            }
        }
    }

    /// Draws the generator section (collapsed by default). `target` is the client's target, or
    /// the sentence why there is none (a field is invalid).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        settings: &mut GeneratorSettings,
        target: Result<GeneratorTarget, String>,
        waker: &Waker,
    ) {
        let title = if self.is_running() {
            tt::GEN_TITLE_RUNNING
        } else {
            tt::GEN_TITLE
        };
        egui::CollapsingHeader::new(title)
            .id_salt("generator")
            .show(ui, |ui| self.body(ui, settings, target, waker));
    }

    fn body(
        &mut self,
        ui: &mut Ui,
        s: &mut GeneratorSettings,
        target: Result<GeneratorTarget, String>,
        waker: &Waker,
    ) {
        let running = self.is_running();
        ui.add_enabled_ui(!running, |ui| fields(ui, s));
        let plan = s.plan();
        if let Err(problems) = &plan {
            for p in problems {
                error_line(ui, p);
            }
        }
        if let Err(why) = &target {
            error_line(ui, why);
        }
        ui.horizontal_wrapped(|ui| {
            if running {
                if ui
                    .button(tt::GEN_STOP)
                    .on_hover_text(tt::GEN_STOP_HINT)
                    .clicked()
                {
                    self.stop();
                }
                ui.spinner();
            } else if ui
                .add_enabled(
                    plan.is_ok() && target.is_ok(),
                    egui::Button::new(tt::GEN_START),
                )
                .on_hover_text(tt::GEN_START_HINT)
                .clicked()
                && let (Ok(plan), Ok(target)) = (plan, target)
            {
                self.start(target, plan, waker);
            }
        });
        if let Some(p) = self.progress {
            let fraction = p.fraction_done();
            let bar = egui::ProgressBar::new(fraction.unwrap_or(0.0) as f32)
                .text(tt::gen_progress(&p))
                .animate(running && fraction.is_none());
            ui.add(bar);
            ui.label(tt::gen_rate(&p));
        }
        if let Some((words, failed)) = &self.end {
            if *failed {
                error_line(ui, words);
            } else {
                ui.weak(words);
            }
        }
    }
}

fn fields(ui: &mut Ui, s: &mut GeneratorSettings) {
    ui.horizontal_wrapped(|ui| {
        labelled_edit(ui, tt::GEN_SIZE, tt::GEN_SIZE_HINT, &mut s.size, 70.0, "");
        ui.checkbox(&mut s.sequence, tt::GEN_SEQUENCE)
            .on_hover_text(tt::GEN_SEQUENCE_HINT);
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(tt::GEN_RATE).on_hover_text(tt::GEN_RATE_HINT);
        for (unit, name) in [
            (RateUnit::Max, tt::GEN_MAX),
            (RateUnit::PerSecond, tt::GEN_PER_SECOND),
            (RateUnit::BytesPerSecond, tt::GEN_BYTES_PER_SECOND),
        ] {
            ui.selectable_value(&mut s.unit, unit, name);
        }
        if s.unit != RateUnit::Max {
            labelled_edit(
                ui,
                tt::GEN_RATE_VALUE,
                tt::GEN_RATE_HINT,
                &mut s.rate,
                80.0,
                "",
            );
        }
    });
    ui.horizontal_wrapped(|ui| {
        labelled_edit(
            ui,
            tt::GEN_COUNT,
            tt::GEN_COUNT_HINT,
            &mut s.count,
            80.0,
            tt::GEN_NO_LIMIT,
        );
        labelled_edit(
            ui,
            tt::GEN_SECONDS,
            tt::GEN_SECONDS_HINT,
            &mut s.seconds,
            60.0,
            tt::GEN_NO_LIMIT,
        );
    });
}

/// The *Sequence check* section of a server: the switch (set before the server starts) and the
/// report of every sender's run so far.
pub fn sequence_check_ui(
    ui: &mut Ui,
    on: &mut bool,
    running: bool,
    summary: impl FnOnce() -> Option<SequenceSummary>,
) {
    let title = if *on { tt::SEQ_TITLE_ON } else { tt::SEQ_TITLE };
    egui::CollapsingHeader::new(title)
        .id_salt("sequence-check")
        .show(ui, |ui| {
            ui.add_enabled_ui(!running, |ui| {
                ui.checkbox(on, tt::SEQ_CHECK)
                    .on_hover_text(tt::SEQ_CHECK_HINT);
            });
            if running && !*on {
                ui.weak(tt::SEQ_RESTART);
            }
            // Read only while the section is open: a summary sorts the delays of every sender.
            let Some(summary) = summary() else {
                return;
            };
            if summary.flows.is_empty() {
                ui.weak(tt::SEQ_NOTHING_YET);
            }
            for flow in &summary.flows {
                flow_ui(ui, flow);
            }
            if summary.without_header > 0 {
                ui.weak(tt::seq_without_header(summary.without_header));
            }
            if summary.untracked > 0 {
                ui.weak(tt::seq_untracked(summary.untracked));
            }
        });
}

fn flow_ui(ui: &mut Ui, flow: &FlowReport) {
    ui.strong(tt::seq_flow_title(&flow.peer, flow.run));
    egui::Grid::new(("seq-flow", flow.peer, flow.run))
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let expected = match flow.announced {
                Some(n) => tt::seq_expected_announced(n),
                None => tt::seq_expected_seen(flow.expected),
            };
            let rows = [
                (tt::SEQ_EXPECTED, expected),
                (tt::SEQ_RECEIVED, flow.received.to_string()),
                (tt::SEQ_LOST, flow.lost.to_string()),
                (tt::SEQ_DUPLICATED, flow.duplicated.to_string()),
                (tt::SEQ_OUT_OF_ORDER, flow.out_of_order.to_string()),
            ];
            for (label, value) in rows {
                ui.label(label);
                ui.label(value);
                ui.end_row();
            }
            ui.label(tt::SEQ_DELAY);
            ui.label(
                flow.delay
                    .map_or_else(|| tt::SEQ_DELAY_UNKNOWN.to_owned(), |d| tt::seq_delay(&d)),
            );
            ui.end_row();
        });
}
