//! Periodic send: "send this message every N ms, M times (or until stopped)". The timer runs in
//! the engine ([`crate::engine::Session::start_periodic`]); this widget only asks for it, shows
//! that it runs and how far it got, and offers Stop.

use std::time::Duration;

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::periodic::PeriodicStatus;
use crate::engine::{EngineError, Session};
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit, parse_number};
use super::payload_editor::{EditorSettings, Outgoing};

/// Longest interval accepted: one day.
const MAX_INTERVAL_MS: u64 = 86_400_000;
/// Most repetitions accepted in one run.
const MAX_COUNT: u64 = 1_000_000_000;

/// What the widget remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeriodicSettings {
    /// Interval in milliseconds, as typed.
    pub interval_ms: String,
    /// How many times, as typed; empty repeats until stopped.
    pub count: String,
}

impl Default for PeriodicSettings {
    fn default() -> Self {
        PeriodicSettings {
            interval_ms: "1000".to_owned(),
            count: String::new(),
        }
    }
}

impl PeriodicSettings {
    /// The interval and count typed, or the sentence that says what is wrong.
    pub fn parse(&self) -> Result<(Duration, Option<u64>), String> {
        let ms = parse_number(&self.interval_ms, t::PERIODIC_EVERY, 1, MAX_INTERVAL_MS)?;
        let count = if self.count.trim().is_empty() {
            None
        } else {
            Some(parse_number(&self.count, t::PERIODIC_TIMES, 1, MAX_COUNT)?)
        };
        Ok((Duration::from_millis(ms), count))
    }
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub enum PeriodicAction {
    /// Start sending `data` (the editor's message as it was then) every `interval`, `count`
    /// times (or until stopped). A template is filled in afresh at each send.
    Start {
        /// What to send each time.
        data: Outgoing,
        /// Time between sends.
        interval: Duration,
        /// How many sends; `None` until stopped.
        count: Option<u64>,
    },
    /// Stop the periodic send.
    Stop,
}

/// Draws the periodic-send row under a message editor. `blocked` says why nothing can be sent now
/// (the tab is not connected, ...); `status` is the engine's timer, if one was started.
pub fn periodic_ui(
    ui: &mut Ui,
    settings: &mut PeriodicSettings,
    editor: &EditorSettings,
    status: Option<PeriodicStatus>,
    blocked: Option<&str>,
) -> Option<PeriodicAction> {
    let mut action = None;
    let message = editor
        .outgoing()
        .ok()
        .filter(|_| editor.bytes().is_ok_and(|b| !b.is_empty()));
    let blocked = blocked.or(message.is_none().then_some(t::PERIODIC_NEEDS_MESSAGE));
    let running = status.is_some_and(|s| s.running);
    let parsed = settings.parse();
    ui.horizontal(|ui| {
        ui.add_enabled_ui(!running, |ui| {
            labelled_edit(
                ui,
                t::PERIODIC_EVERY,
                t::PERIODIC_EVERY_HINT,
                &mut settings.interval_ms,
                60.0,
                "",
            );
            labelled_edit(
                ui,
                t::PERIODIC_TIMES,
                t::PERIODIC_TIMES_HINT,
                &mut settings.count,
                60.0,
                t::PERIODIC_UNTIL_STOPPED,
            );
        });
        if running {
            if ui.button(t::PERIODIC_STOP).clicked() {
                action = Some(PeriodicAction::Stop);
            }
        } else {
            let ready = blocked.is_none() && parsed.is_ok();
            let button = ui.add_enabled(ready, egui::Button::new(t::PERIODIC_START));
            let button = match blocked {
                Some(why) => button.on_disabled_hover_text(why),
                None => button,
            };
            if button.clicked()
                && let (Ok((interval, count)), Some(data)) = (parsed.clone(), message.clone())
            {
                action = Some(PeriodicAction::Start {
                    data,
                    interval,
                    count,
                });
            }
        }
        if let Some(status) = status {
            if status.running {
                ui.spinner();
                // The count moves without events when sends fail quietly; a slow refresh
                // only while the timer runs keeps idle at 0% CPU.
                ui.ctx().request_repaint_after(Duration::from_millis(200));
            }
            ui.label(t::periodic_progress(
                status.sent,
                status.count,
                status.running,
            ));
        }
    });
    if let (Err(e), false) = (&parsed, running) {
        error_line(ui, e);
    }
    action
}

/// Carries out `action` on `session`, sending `make(data)` each time.
pub fn repeat_on<C: Clone + Send + 'static>(
    session: &mut Session<C>,
    action: PeriodicAction,
    make: impl FnOnce(Outgoing) -> C,
) -> Result<(), EngineError> {
    match action {
        PeriodicAction::Start {
            data,
            interval,
            count,
        } => session.start_periodic(make(data), interval, count),
        PeriodicAction::Stop => {
            session.stop_periodic();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interval_and_optional_count() {
        let mut s = PeriodicSettings {
            interval_ms: "1".to_owned(),
            count: String::new(),
        };
        assert_eq!(s.parse(), Ok((Duration::from_millis(1), None)));
        s.count = " 25 ".to_owned();
        assert_eq!(s.parse(), Ok((Duration::from_millis(1), Some(25))));
        s.interval_ms = "0".to_owned();
        assert!(s.parse().is_err(), "under 1 ms is refused");
        s.interval_ms = "10".to_owned();
        s.count = "many".to_owned();
        assert!(s.parse().is_err());
    }
}
