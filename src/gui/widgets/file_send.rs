//! "Send file": a path field with a native Choose… dialog, the Send file button, and while a
//! file goes out a progress bar (bytes, percent, bytes/s) with Cancel. The engine streams the
//! file ([`crate::engine::file_send`]); this widget asks for it and shows its progress events.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::file_send::check_piece_size;
use crate::engine::{ConnId, Event, EventKind, FileStage};
use crate::gui::dialogs::{DialogKind, DialogSlot, dialog_button};
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit, parse_number};

/// Longest pause between datagrams accepted: one second.
const MAX_GAP_MICROS: u64 = 1_000_000;
/// The window over which bytes/s is measured.
const RATE_WINDOW: Duration = Duration::from_secs(2);

/// What a tab remembers about sending files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileSendSettings {
    /// The file, as typed or chosen.
    pub path: String,
    /// UDP: payload bytes per datagram, as typed.
    pub datagram_size: String,
    /// UDP: pause after each datagram in microseconds, as typed.
    pub gap_micros: String,
}

impl Default for FileSendSettings {
    fn default() -> Self {
        FileSendSettings {
            path: String::new(),
            datagram_size: "1472".to_owned(),
            gap_micros: "0".to_owned(),
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSendAction {
    /// Send this file; for UDP in datagrams of this size, with this pause after each.
    Send {
        /// The file.
        path: PathBuf,
        /// UDP only: the datagram size and the pause.
        udp: Option<(usize, Duration)>,
    },
    /// Cancel the sends that are running.
    Cancel,
}

/// One send as its last progress event left it.
#[derive(Debug, Clone, Copy)]
struct Running {
    sent: u64,
    total: u64,
}

/// The live state of a tab's file sends (not persisted).
#[derive(Debug, Default)]
pub struct FileSends {
    running: BTreeMap<(Option<ConnId>, SocketAddr), Running>,
    /// (time, bytes sent by all running sends) samples for bytes/s.
    samples: VecDeque<(SystemTime, u64)>,
    /// Bytes of sends that ended while others run, so the sum keeps growing.
    ended_bytes: u64,
    /// The file dialog of the path field.
    pub dialog: DialogSlot,
}

impl FileSends {
    /// True while at least one file is going out.
    pub fn is_running(&self) -> bool {
        !self.running.is_empty()
    }

    /// Follows the engine's file events.
    pub fn observe(&mut self, event: &Event) {
        let file = match &event.kind {
            EventKind::FileSend(file) => file,
            // Every send reports its end before the session's; should one not have (a worker
            // that failed), the bar must not outlive the session.
            EventKind::Stopped { .. } => {
                self.running.clear();
                self.samples.clear();
                return;
            }
            _ => return,
        };
        let key = (file.conn, file.to);
        if file.is_final() {
            self.running.remove(&key);
            if self.running.is_empty() {
                self.samples.clear();
                self.ended_bytes = 0;
            } else {
                self.ended_bytes += file.sent;
            }
            return;
        }
        if file.stage == FileStage::Started && self.running.is_empty() {
            self.samples.clear();
            self.ended_bytes = 0;
        }
        self.running.insert(
            key,
            Running {
                sent: file.sent,
                total: file.total,
            },
        );
        let (sent, _) = self.sum();
        self.samples.push_back((event.at, sent + self.ended_bytes));
        while self.samples.len() > 2
            && self
                .samples
                .back()
                .zip(self.samples.get(1))
                .is_some_and(|(newest, second)| {
                    newest.0.duration_since(second.0).unwrap_or_default() >= RATE_WINDOW
                })
        {
            self.samples.pop_front();
        }
    }

    /// Bytes sent and to send by every running send together.
    fn sum(&self) -> (u64, u64) {
        self.running
            .values()
            .fold((0, 0), |(s, t), r| (s + r.sent, t + r.total))
    }

    /// Bytes per second over the last couple of seconds, once there are two samples.
    fn rate(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let seconds = last.0.duration_since(first.0).ok()?.as_secs_f64();
        (seconds > 0.0).then(|| last.1.saturating_sub(first.1) as f64 / seconds)
    }
}

/// The UDP settings typed, or the sentence that says what is wrong. `to` checks the size
/// against its address family (IPv4 when not known yet).
pub fn parse_udp(
    settings: &FileSendSettings,
    to: Option<SocketAddr>,
) -> Result<(usize, Duration), String> {
    let size = parse_number(&settings.datagram_size, t::DATAGRAM_SIZE, 1, 65_527)?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let to = to.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    check_piece_size(size, &to).map_err(|e| e.plain_sentence())?;
    let gap = parse_number(&settings.gap_micros, t::DATAGRAM_GAP, 0, MAX_GAP_MICROS)?;
    Ok((size, Duration::from_micros(gap)))
}

/// Draws the send-file section. `blocked` says why nothing can be sent now; `udp` is `Some`
/// (with the receiver, if known) on the UDP tabs, which add the datagram size and pause.
pub fn file_send_ui(
    ui: &mut Ui,
    id: &str,
    settings: &mut FileSendSettings,
    sends: &mut FileSends,
    blocked: Option<&str>,
    udp: Option<Option<SocketAddr>>,
) -> Option<FileSendAction> {
    let mut action = None;
    let running = sends.is_running();
    ui.push_id(id, |ui| {
        ui.horizontal_wrapped(|ui| {
            labelled_edit(
                ui,
                t::FILE_TO_SEND,
                t::FILE_TO_SEND_HINT,
                &mut settings.path,
                260.0,
                t::FILE_TO_SEND_PLACEHOLDER,
            );
            dialog_button(
                ui,
                &mut sends.dialog,
                t::CHOOSE_FILE,
                || DialogKind::Open {
                    title: t::CHOOSE_FILE_TITLE.to_owned(),
                },
                &mut settings.path,
            );
        });
        let udp_parsed = udp.map(|to| {
            ui.horizontal_wrapped(|ui| {
                labelled_edit(
                    ui,
                    t::DATAGRAM_SIZE,
                    t::DATAGRAM_SIZE_HINT,
                    &mut settings.datagram_size,
                    70.0,
                    "",
                );
                labelled_edit(
                    ui,
                    t::DATAGRAM_GAP,
                    t::DATAGRAM_GAP_HINT,
                    &mut settings.gap_micros,
                    70.0,
                    "",
                );
            });
            let parsed = parse_udp(settings, to);
            if let Err(e) = &parsed {
                error_line(ui, e);
            }
            parsed
        });
        let path = settings.path.trim();
        let blocked = blocked.or(path.is_empty().then_some(t::FILE_NEEDS_PATH));
        ui.horizontal(|ui| {
            let ready = blocked.is_none() && !matches!(udp_parsed, Some(Err(_)));
            let hint = if udp.is_some() {
                t::SEND_FILE_UDP_HINT
            } else {
                t::SEND_FILE_TCP_HINT
            };
            let button = ui
                .add_enabled(ready, egui::Button::new(t::SEND_FILE))
                .on_hover_text(hint);
            let button = match blocked {
                Some(why) => button.on_disabled_hover_text(why),
                None => button,
            };
            if button.clicked() {
                action = Some(FileSendAction::Send {
                    path: PathBuf::from(path),
                    udp: udp_parsed.and_then(Result::ok),
                });
            }
            if running {
                let (sent, total) = sends.sum();
                let fraction = if total == 0 {
                    1.0
                } else {
                    (sent as f64 / total as f64) as f32
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(260.0)
                        .text(t::file_progress(sent, total, sends.rate())),
                );
                if ui
                    .button(t::CANCEL_FILE)
                    .on_hover_text(t::CANCEL_FILE_HINT)
                    .clicked()
                {
                    action = Some(FileSendAction::Cancel);
                }
            }
        });
        if let Some(problem) = &sends.dialog.problem {
            error_line(ui, problem);
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FileSendEvent;

    fn event(at_ms: u64, sent: u64, stage: FileStage) -> Event {
        Event {
            at: SystemTime::UNIX_EPOCH + Duration::from_millis(at_ms),
            kind: EventKind::FileSend(Box::new(FileSendEvent {
                conn: Some(1),
                to: SocketAddr::from(([127, 0, 0, 1], 9000)),
                path: PathBuf::from("/tmp/f"),
                sent,
                total: 4000,
                pieces: 0,
                stage,
                preview: None,
            })),
        }
    }

    #[test]
    fn progress_gives_bytes_percent_and_rate_until_the_end() {
        let mut sends = FileSends::default();
        sends.observe(&event(0, 0, FileStage::Started));
        sends.observe(&event(500, 1000, FileStage::Progress));
        sends.observe(&event(1000, 2000, FileStage::Progress));
        assert!(sends.is_running());
        assert_eq!(sends.sum(), (2000, 4000));
        assert_eq!(sends.rate(), Some(2000.0));
        assert_eq!(
            t::file_progress(2000, 4000, sends.rate()),
            "2000 of 4000 bytes · 50 % · 2.0 KiB/s"
        );
        sends.observe(&event(1200, 4000, FileStage::Finished));
        assert!(!sends.is_running());
        assert_eq!(sends.rate(), None);
    }

    #[test]
    fn udp_fields_are_checked_next_to_them() {
        let mut settings = FileSendSettings::default();
        assert_eq!(parse_udp(&settings, None), Ok((1472, Duration::ZERO)));
        settings.datagram_size = "65508".to_owned();
        let v4 = parse_udp(&settings, None);
        assert!(v4.as_ref().is_err_and(|e| e.contains("65507")), "{v4:?}");
        let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 9));
        assert!(parse_udp(&settings, Some(v6)).is_ok());
        settings.datagram_size = "0".to_owned();
        assert!(parse_udp(&settings, None).is_err());
        settings.datagram_size = "100".to_owned();
        settings.gap_micros = "x".to_owned();
        assert!(parse_udp(&settings, None).is_err());
    }
}
