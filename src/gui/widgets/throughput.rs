//! Throughput over the last minute: bytes per second in and out, from the session's exact
//! counters (sampled about once a second while the window runs), drawn with `egui_plot`, and the
//! totals.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use egui::Ui;
use egui_plot::{Legend, Line, Plot};

use crate::engine::CounterSnapshot;
use crate::gui::text as t;

/// How far back the plot reaches.
const WINDOW: Duration = Duration::from_mins(1);
/// Shortest gap between two samples.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    bytes_in: u64,
    bytes_out: u64,
}

/// The samples of one session's counters (at most one a second for a minute).
#[derive(Debug, Default)]
pub struct Throughput {
    samples: VecDeque<Sample>,
}

impl Throughput {
    /// Takes a sample of `counters` if a second has passed since the last one. Counters that went
    /// down mean a new session: the old samples are dropped.
    pub fn record(&mut self, now: Instant, counters: CounterSnapshot) {
        if let Some(last) = self.samples.back() {
            if counters.bytes_in < last.bytes_in || counters.bytes_out < last.bytes_out {
                self.samples.clear();
            } else if now.saturating_duration_since(last.at) < SAMPLE_EVERY {
                return;
            }
        }
        self.samples.push_back(Sample {
            at: now,
            bytes_in: counters.bytes_in,
            bytes_out: counters.bytes_out,
        });
        while self
            .samples
            .front()
            .is_some_and(|s| now.saturating_duration_since(s.at) > WINDOW + SAMPLE_EVERY)
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second in and out between consecutive samples, at seconds before `now`
    /// (negative x). A gap with no frames (an idle window) shows as one averaged step.
    pub fn rates(&self, now: Instant) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
        let mut rate_in = Vec::with_capacity(self.samples.len());
        let mut rate_out = Vec::with_capacity(self.samples.len());
        for (a, b) in self.samples.iter().zip(self.samples.iter().skip(1)) {
            let seconds = b.at.saturating_duration_since(a.at).as_secs_f64();
            if seconds <= 0.0 {
                continue;
            }
            let x = -now.saturating_duration_since(b.at).as_secs_f64();
            rate_in.push([x, (b.bytes_in - a.bytes_in) as f64 / seconds]);
            rate_out.push([x, (b.bytes_out - a.bytes_out) as f64 / seconds]);
        }
        (rate_in, rate_out)
    }
}

/// Draws the plot (collapsed by default) with the totals. While it is open and the session
/// runs it asks for a frame a second, so the plot moves; closed or idle, it costs nothing.
pub fn throughput_ui(
    ui: &mut Ui,
    id: &str,
    throughput: &Throughput,
    counters: CounterSnapshot,
    running: bool,
) {
    egui::CollapsingHeader::new(t::THROUGHPUT)
        .id_salt((id, "throughput"))
        .show(ui, |ui| {
            ui.label(t::throughput_totals(counters.bytes_in, counters.bytes_out));
            let now = Instant::now();
            let (rate_in, rate_out) = throughput.rates(now);
            Plot::new((id, "throughput-plot"))
                .height(140.0)
                .legend(Legend::default())
                .include_x(-WINDOW.as_secs_f64())
                .include_x(0.0)
                .include_y(0.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .x_axis_label(t::THROUGHPUT_X)
                .y_axis_label(t::THROUGHPUT_Y)
                .show(ui, |plot| {
                    plot.line(Line::new(t::THROUGHPUT_IN, rate_in));
                    plot.line(Line::new(t::THROUGHPUT_OUT, rate_out));
                });
            if running {
                ui.ctx().request_repaint_after(SAMPLE_EVERY);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_counter_differences() {
        let start = Instant::now();
        let mut tp = Throughput::default();
        let at = |s: u64, i: u64, o: u64| {
            (
                start + Duration::from_secs(s),
                CounterSnapshot {
                    bytes_in: i,
                    bytes_out: o,
                    ..CounterSnapshot::default()
                },
            )
        };
        for (now, c) in [at(0, 0, 0), at(1, 1000, 10), at(3, 5000, 10)] {
            tp.record(now, c);
        }
        // Too soon after the last sample: skipped.
        let (now, c) = at(3, 6000, 10);
        tp.record(now + Duration::from_millis(100), c);
        let (rate_in, rate_out) = tp.rates(start + Duration::from_secs(3));
        assert_eq!(rate_in, vec![[-2.0, 1000.0], [0.0, 2000.0]]);
        assert_eq!(rate_out, vec![[-2.0, 10.0], [0.0, 0.0]]);
        // A new session starts from zero.
        let (now, c) = at(10, 5, 0);
        tp.record(now, c);
        assert!(tp.rates(now).0.is_empty());
    }
}
