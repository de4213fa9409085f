//! The step checklist of a role (create socket → set options → bind → listen → accept), drawn in
//! one wrapped row that ticks as the session really makes each call.

use egui::{RichText, Ui};

use crate::engine::explain::{Checklist, StepState};
use crate::gui::text_teach as tt;

/// Draws the steps in order: ticked when the call succeeded, crossed when it failed, plain while
/// it has not happened yet. Each step's tooltip says what it is for.
pub fn checklist_row(ui: &mut Ui, list: &Checklist) {
    let good = crate::gui::widgets::good_color(ui.visuals());
    let bad = ui.visuals().error_fg_color;
    let weak = ui.visuals().weak_text_color();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(tt::STEPS).strong())
            .on_hover_text(tt::STEPS_HINT);
        for (i, (step, state)) in list.items().enumerate() {
            if i > 0 {
                ui.label(RichText::new("→").monospace().color(weak));
            }
            let (mark, color) = match state {
                StepState::Done => (tt::STEP_DONE_MARK, good),
                StepState::Failed => (tt::STEP_FAILED_MARK, bad),
                StepState::Pending => (tt::STEP_PENDING_MARK, weak),
            };
            // The mark in monospace: the proportional font has no such symbols.
            let hint = tt::step_hint(step.why, state);
            ui.label(RichText::new(mark).monospace().color(color))
                .on_hover_text(&hint);
            ui.label(RichText::new(step.title).color(color))
                .on_hover_text(&hint);
        }
    });
}
