//! The *Script* panel of a session: open a script file (a scripted exchange, see
//! [`crate::engine::script`]), see its steps, run it, step through it one step at a time, stop
//! it. Each step is ticked as it passes; the failing one is marked red with the sentence of what
//! was expected and what arrived instead. The engine's runner does the work in a thread of its
//! own; the panel only drains its events within the window's frame budget, so the window never
//! waits for the network.
//!
//! The script talks to the target its file names (or the one typed in *Target*, as the command
//! line's `--target`), over a connection of its own: what it sends and receives goes into the
//! session's log, marked as the script's.

use std::sync::Arc;
use std::time::SystemTime;

use egui::{RichText, Ui};
use serde::{Deserialize, Serialize};

use crate::engine::Waker;
use crate::engine::log_store::Direction;
use crate::engine::payload::{format_escapes, to_hex};
use crate::engine::script::{
    self, Outcome, Script, ScriptCommand, ScriptEvent, ScriptRun, StartMode, StepFailure, Target,
};
use crate::gui::activity::Activity;
use crate::gui::session::FrameBudget;
use crate::gui::text_tools as tt;

use super::fields::{error_line, labelled_edit};

/// Height of the step list before it scrolls, so a long script does not push the rest away.
const STEPS_HEIGHT: f32 = 220.0;
/// Events taken per call before the budget is asked again.
const DRAIN_CHUNK: usize = 256;

/// What a session remembers about its script.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScriptSettings {
    /// The script file, as typed.
    pub path: String,
    /// `HOST:PORT` instead of the file's target (empty: the file's).
    pub target: String,
}

/// Where one step of the file stands in the current (or last) run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mark {
    /// Not reached.
    #[default]
    Waiting,
    /// Under way.
    Running,
    /// The run waits for Step or Run before it.
    Next,
    /// Passed (as many times as it ran), with what it did the last time.
    Passed {
        /// Passes so far (a step inside a `repeat` runs once per pass).
        times: u64,
        /// What it did.
        detail: String,
    },
    /// Failed: the run stopped here.
    Failed(StepFailure),
}

/// The panel's run-time state (nothing of it is saved).
#[derive(Default)]
pub struct ScriptPanel {
    script: Option<Arc<Script>>,
    opened: Option<String>,
    problem: Option<String>,
    run: Option<ScriptRun>,
    marks: Vec<Mark>,
    peer: Option<std::net::SocketAddr>,
    status: Option<(String, bool)>,
}

impl ScriptPanel {
    /// True while a run goes on.
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// The opened script, if one is.
    pub fn script(&self) -> Option<&Script> {
        self.script.as_deref()
    }

    /// Each step's mark, in file order.
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// The last run's outcome in words, and whether it failed.
    pub fn status(&self) -> Option<&(String, bool)> {
        self.status.as_ref()
    }

    /// Stops a run and waits for its thread (the connection is closed).
    pub fn stop_and_join(&mut self) {
        self.run = None;
    }

    /// Reads and checks the file at `path`; a problem is kept as the sentence next to the field.
    pub fn open(&mut self, path: &str) {
        self.run = None;
        self.status = None;
        match read_script(path) {
            Ok(script) => {
                self.marks = vec![Mark::Waiting; script.entries.len()];
                self.script = Some(Arc::new(script));
                self.opened = Some(path.trim().to_owned());
                self.problem = None;
            }
            Err(problem) => {
                self.script = None;
                self.marks.clear();
                self.opened = None;
                self.problem = Some(problem);
            }
        }
    }

    /// Starts a run (`mode`), aimed at `target` when one is typed.
    pub fn start(&mut self, target: &str, mode: StartMode, waker: &Waker) -> Result<(), String> {
        let Some(script) = &self.script else {
            return Err(tt::SCRIPT_NOT_OPEN.to_owned());
        };
        let mut script = Script::clone(script);
        if let Some((host, port)) = parse_target(target)? {
            script.retarget(host, port);
        }
        self.run = None;
        self.marks = vec![Mark::Waiting; script.entries.len()];
        self.status = None;
        self.peer = None;
        match script::start(Arc::new(script), mode, Arc::clone(waker)) {
            Ok(run) => {
                self.run = Some(run);
                Ok(())
            }
            Err(e) => Err(tt::script_thread_failed(&e.to_string())),
        }
    }

    /// Tells the running script `command`.
    pub fn command(&self, command: ScriptCommand) {
        if let Some(run) = &self.run {
            run.command(command);
        }
    }

    /// Takes the run's waiting events within `budget`: steps are marked, bytes go to the log.
    /// True when more are waiting.
    pub fn poll(&mut self, budget: &mut FrameBudget, activity: &mut Activity) -> bool {
        let Some(events) = self.run.as_ref().map(|r| r.events().clone()) else {
            return false;
        };
        let mut finished = false;
        let mut taken = 0;
        while budget.allowance() > 0 && taken < DRAIN_CHUNK {
            let Ok(event) = events.try_recv() else {
                break;
            };
            taken += 1;
            budget.spend(1);
            finished |= matches!(event, ScriptEvent::Finished(_));
            self.apply(event, activity);
        }
        if finished {
            // The worker has sent its last event and is ending: the join is short.
            self.run = None;
            return false;
        }
        !events.is_empty()
    }

    fn apply(&mut self, event: ScriptEvent, activity: &mut Activity) {
        let now = SystemTime::now();
        match event {
            ScriptEvent::Listening { local } => {
                activity
                    .log
                    .push_note(now, None, &tt::script_listening(&local));
            }
            ScriptEvent::Connected { local, peer } => {
                self.peer = Some(peer);
                activity
                    .log
                    .push_note(now, Some(peer), &tt::script_connected(&local, &peer));
            }
            ScriptEvent::Paused { entry } => self.set(entry, Mark::Next),
            ScriptEvent::StepStarted { entry } => self.set(entry, Mark::Running),
            ScriptEvent::StepFinished(result) => {
                let mark = match result.result {
                    Ok(detail) => {
                        let times = match self.marks.get(result.entry) {
                            Some(Mark::Passed { times, .. }) => times + 1,
                            _ => 1,
                        };
                        Mark::Passed { times, detail }
                    }
                    Err(failure) => Mark::Failed(failure),
                };
                self.set(result.entry, mark);
            }
            ScriptEvent::Sent { data } => push(activity, Direction::Out, self.peer, &data),
            ScriptEvent::Received { data } => push(activity, Direction::In, self.peer, &data),
            ScriptEvent::Finished(outcome) => {
                let (words, failed) = self.outcome_words(&outcome);
                let status = (tt::plain(&words), failed);
                activity.log.push_note(now, self.peer, &status.0);
                self.status = Some(status);
                for mark in &mut self.marks {
                    if matches!(mark, Mark::Running | Mark::Next) {
                        *mark = Mark::Waiting;
                    }
                }
            }
        }
    }

    fn set(&mut self, entry: usize, mark: Mark) {
        if let Some(slot) = self.marks.get_mut(entry) {
            *slot = mark;
        }
    }

    fn line_of(&self, entry: usize) -> usize {
        self.script
            .as_ref()
            .and_then(|s| s.entries.get(entry))
            .map_or(0, |e| e.line)
    }

    fn outcome_words(&self, outcome: &Outcome) -> (String, bool) {
        match outcome {
            Outcome::Passed { steps } => (tt::script_passed(*steps), false),
            Outcome::Failed {
                entry,
                steps,
                failure,
            } => (
                tt::script_failed(self.line_of(*entry), *steps, &failure.sentence),
                true,
            ),
            Outcome::NotConnected { sentence } => (sentence.clone(), true),
            Outcome::Stopped { steps } => (tt::script_stopped(*steps), false),
        }
    }

    /// Draws the panel (collapsed by default).
    pub fn ui(&mut self, ui: &mut Ui, settings: &mut ScriptSettings, waker: &Waker) {
        let title = match self.script.as_ref().and_then(|s| s.name.as_deref()) {
            Some(name) => tt::script_title(name),
            None => tt::SCRIPT.to_owned(),
        };
        egui::CollapsingHeader::new(title)
            .id_salt("script")
            .show(ui, |ui| self.body(ui, settings, waker));
    }

    fn body(&mut self, ui: &mut Ui, settings: &mut ScriptSettings, waker: &Waker) {
        let running = self.is_running();
        ui.horizontal_wrapped(|ui| {
            let edit = labelled_edit(
                ui,
                tt::SCRIPT_FILE,
                tt::SCRIPT_FILE_HINT,
                &mut settings.path,
                200.0,
                tt::SCRIPT_FILE_PLACEHOLDER,
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .add_enabled(!running, egui::Button::new(tt::SCRIPT_OPEN))
                .on_hover_text(tt::SCRIPT_OPEN_HINT)
                .clicked()
                || (enter && !running)
            {
                self.open(&settings.path);
            }
        });
        if let Some(problem) = &self.problem {
            error_line(ui, problem);
        }
        let Some(script) = self.script.clone() else {
            ui.weak(tt::SCRIPT_EMPTY);
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled_ui(!running, |ui| {
                labelled_edit(
                    ui,
                    tt::SCRIPT_TARGET,
                    tt::SCRIPT_TARGET_HINT,
                    &mut settings.target,
                    150.0,
                    &target_words(&script.target),
                );
            });
        });
        let target = parse_target(&settings.target);
        if let Err(problem) = &target {
            error_line(ui, problem);
        }
        self.buttons(ui, settings, target.is_ok(), waker);
        if let Some((words, failed)) = &self.status {
            let color = if *failed {
                ui.visuals().error_fg_color
            } else {
                crate::gui::widgets::good_color(ui.visuals())
            };
            ui.add(egui::Label::new(RichText::new(words).color(color)).wrap());
        }
        self.steps_ui(ui, &script);
    }

    fn buttons(&mut self, ui: &mut Ui, settings: &ScriptSettings, target_ok: bool, waker: &Waker) {
        let running = self.is_running();
        let paused = self.marks.contains(&Mark::Next);
        let mut failed_start = None;
        ui.horizontal_wrapped(|ui| {
            let run_label = if paused {
                tt::SCRIPT_CONTINUE
            } else {
                tt::SCRIPT_RUN
            };
            if ui
                .add_enabled(
                    target_ok && (!running || paused),
                    egui::Button::new(run_label),
                )
                .on_hover_text(tt::SCRIPT_RUN_HINT)
                .clicked()
            {
                if running {
                    self.command(ScriptCommand::Run);
                } else if let Err(e) = self.start(&settings.target, StartMode::Run, waker) {
                    failed_start = Some(e);
                }
            }
            if ui
                .add_enabled(
                    target_ok && (!running || paused),
                    egui::Button::new(tt::SCRIPT_STEP),
                )
                .on_hover_text(tt::SCRIPT_STEP_HINT)
                .clicked()
            {
                if !running && let Err(e) = self.start(&settings.target, StartMode::Paused, waker) {
                    failed_start = Some(e);
                }
                // A new run connects first, then takes this Step as its first step.
                self.command(ScriptCommand::Step);
            }
            if ui
                .add_enabled(running, egui::Button::new(tt::SCRIPT_STOP))
                .on_hover_text(tt::SCRIPT_STOP_HINT)
                .clicked()
            {
                self.command(ScriptCommand::Stop);
            }
            if running {
                ui.spinner();
            }
        });
        if let Some(e) = failed_start {
            self.status = Some((e, true));
        }
    }

    fn steps_ui(&self, ui: &mut Ui, script: &Script) {
        let bad = ui.visuals().error_fg_color;
        egui::ScrollArea::vertical()
            .id_salt("script-steps")
            .max_height(STEPS_HEIGHT)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for (n, entry) in script.entries.iter().enumerate() {
                    let mark = self.marks.get(n).cloned().unwrap_or_default();
                    let tail = match &mark {
                        Mark::Next => format!(" — {}", tt::SCRIPT_NEXT),
                        Mark::Passed { times, detail } if *times > 1 => {
                            format!(" — {} (×{times})", tt::plain(detail))
                        }
                        Mark::Passed { detail, .. } => format!(" — {}", tt::plain(detail)),
                        _ => String::new(),
                    };
                    let text = format!(
                        "{}{}",
                        tt::script_step(entry.line, &tt::plain(&entry.summary)),
                        tail
                    );
                    ui.horizontal(|ui| {
                        ui.add_space(12.0 * entry.depth as f32);
                        let color = mark_icon(ui, &mark);
                        ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
                    });
                    if let Mark::Failed(failure) = &mark {
                        let sentence = tt::plain(&failure.sentence);
                        ui.add(egui::Label::new(RichText::new(sentence).color(bad)).wrap());
                        if let Some(arrived) = &failure.arrived {
                            let words = tt::script_arrived(
                                &format_escapes(&arrived[..arrived.len().min(200)]),
                                &to_hex(arrived),
                            );
                            ui.add(egui::Label::new(RichText::new(words).color(bad)).wrap());
                        }
                    }
                }
            });
    }
}

/// Paints a step's mark (the bundled fonts have no tick or cross glyphs): a tick when it
/// passed, a cross when it failed, a triangle for the next step, a ring otherwise. Returns the
/// colour its text takes.
fn mark_icon(ui: &mut Ui, mark: &Mark) -> egui::Color32 {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let visuals = ui.visuals();
    let (good, bad, busy) = (
        crate::gui::widgets::good_color(visuals),
        visuals.error_fg_color,
        visuals.warn_fg_color,
    );
    let text = visuals.text_color();
    let weak = visuals.weak_text_color();
    let painter = ui.painter();
    let r = rect.shrink(size * 0.2);
    let at = |x: f32, y: f32| egui::pos2(r.left() + r.width() * x, r.top() + r.height() * y);
    match mark {
        Mark::Passed { .. } => {
            let stroke = egui::Stroke::new(2.0, good);
            painter.line_segment([at(0.0, 0.55), at(0.38, 0.9)], stroke);
            painter.line_segment([at(0.38, 0.9), at(1.0, 0.1)], stroke);
            good
        }
        Mark::Failed(_) => {
            let stroke = egui::Stroke::new(2.0, bad);
            painter.line_segment([at(0.0, 0.0), at(1.0, 1.0)], stroke);
            painter.line_segment([at(0.0, 1.0), at(1.0, 0.0)], stroke);
            bad
        }
        Mark::Next => {
            let points = vec![at(0.1, 0.0), at(1.0, 0.5), at(0.1, 1.0)];
            painter.add(egui::Shape::convex_polygon(
                points,
                busy,
                egui::Stroke::NONE,
            ));
            busy
        }
        Mark::Running => {
            painter.circle_filled(r.center(), r.width() * 0.4, busy);
            busy
        }
        Mark::Waiting => {
            painter.circle_stroke(r.center(), r.width() * 0.4, egui::Stroke::new(1.0, weak));
            text
        }
    }
}

/// One of the script's data rows in the session's log.
fn push(
    activity: &mut Activity,
    direction: Direction,
    peer: Option<std::net::SocketAddr>,
    data: &[u8],
) {
    activity
        .log
        .push_data(SystemTime::now(), direction, peer, None, data);
}

/// Reads and parses a script file; the sentence names the file and, for a bad script, the line
/// and column.
pub fn read_script(path: &str) -> Result<Script, String> {
    let path = path.trim();
    if path.is_empty() {
        return Err(tt::SCRIPT_FILE_NEEDED.to_owned());
    }
    let reason = |e: &std::io::Error| crate::engine::error::file_reason(e);
    let meta = std::fs::metadata(path).map_err(|e| tt::script_unreadable(path, &reason(&e)))?;
    if meta.is_dir() {
        return Err(tt::script_is_folder(path));
    }
    if meta.len() > script::MAX_SCRIPT_BYTES as u64 {
        return Err(tt::script_too_big(path, meta.len()));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| tt::script_unreadable(path, &reason(&e)))?;
    script::parse(&text).map_err(|e| tt::script_bad(path, &e.to_string()))
}

/// `HOST:PORT` typed in the Target field (`None`: empty, the file's own target).
pub fn parse_target(text: &str) -> Result<Option<(String, u16)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || tt::script_target_bad(text);
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_matches(['[', ']']);
    let port = port.parse::<u16>().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(Some((host.to_owned(), port)))
}

/// The file's target in words, for the Target field's placeholder.
fn target_words(target: &Target) -> String {
    match target {
        Target::Connect {
            protocol,
            host,
            port,
        } => tt::script_connects(protocol.label(), host, *port),
        Target::Listen {
            protocol, address, ..
        } => tt::script_listens(protocol.label(), address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_target_is_host_and_port_or_a_sentence() {
        assert_eq!(parse_target(" "), Ok(None));
        assert_eq!(
            parse_target("127.0.0.1:5020"),
            Ok(Some(("127.0.0.1".to_owned(), 5020)))
        );
        assert_eq!(parse_target("[::1]:80"), Ok(Some(("::1".to_owned(), 80))));
        assert!(parse_target("localhost").is_err());
        assert!(parse_target("host:99999").is_err());
    }
}
