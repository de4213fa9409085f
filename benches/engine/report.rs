//! Result rows, their transport from an item's process to the main one, and the final table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Marks a result line on an item's stdout; everything else there is ignored.
pub const ROW_PREFIX: &str = "BENCH-ROW ";

/// One line of the results table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// The item number (1–7 from the benchmark issue; 8 framing and 9 the traffic generator, both of
    /// issue 14; 10–12 the comparisons with socat and iperf3, issue 18; 13 the window with 20
    /// sessions, issue 19).
    pub item: u8,
    /// What was measured.
    pub what: String,
    /// The raw-socket baseline measured in the same run, if the item has one.
    pub baseline: Option<String>,
    /// The engine's figure.
    pub engine: String,
    /// engine ÷ baseline (or the ratio the target is stated in).
    pub ratio: Option<String>,
    /// The target, in words.
    pub target: String,
    /// Whether the target was met; `None` when the figure is informative only.
    pub met: Option<bool>,
}

impl Row {
    /// Prints the row for the main process to collect.
    pub fn emit(&self) {
        match serde_json::to_string(self) {
            Ok(json) => println!("{ROW_PREFIX}{json}"),
            Err(e) => eprintln!("could not encode a result row: {e}"),
        }
    }

    /// Reads a row back from one line of an item's output.
    pub fn parse(line: &str) -> Option<Row> {
        serde_json::from_str(line.strip_prefix(ROW_PREFIX)?).ok()
    }
}

/// The results as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| # | what | raw baseline (same run) | engine | ratio | target | met |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.item,
            r.what,
            r.baseline.as_deref().unwrap_or("—"),
            r.engine,
            r.ratio.as_deref().unwrap_or("—"),
            r.target,
            met
        );
    }
    out
}

/// The value at quantile `q` (0–1) of sorted samples (nearest rank).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of a few repeated measurements.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Gigabits per second for `bytes` moved in `seconds`.
pub fn gbit_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 * 8.0 / seconds / 1e9
}

/// "lo–hi×" over the ratios of each raw/engine pair of runs: how much the machine's noise moved
/// the figure.
pub fn spread(ratios: &[f64]) -> String {
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if ratios.len() < 2 {
        String::new()
    } else {
        format!(" (pairs {lo:.2}–{hi:.2}×)")
    }
}
