//! The Learn tab: the demos, the one that plays, and the "TCP or UDP?" guide whose points each
//! link to the demo that shows them.

use egui::{RichText, Ui};

use crate::engine::Waker;
use crate::gui::demos::{DemoId, DemoRun};
use crate::gui::text_teach as tt;
use crate::gui::widgets::guidance;

/// The Learn tab's run-time state.
pub struct LearnView {
    /// The demo shown (running or finished).
    pub demo: Option<DemoRun>,
    /// Show each call's explanation in the demo.
    pub explain: bool,
    /// Closes the guide once when a demo starts, so the scene gets the room.
    close_guide: bool,
}

impl Default for LearnView {
    fn default() -> Self {
        LearnView {
            demo: None,
            explain: true,
            close_guide: false,
        }
    }
}

impl LearnView {
    /// Starts a demo (the one shown before is dropped, and its sessions with it).
    pub fn start(&mut self, id: DemoId, waker: &Waker) {
        self.demo = Some(DemoRun::start(id, waker));
        self.close_guide = true;
    }

    /// Takes what the playing demo reported. Never blocks.
    pub fn poll(&mut self) {
        if let Some(demo) = &mut self.demo {
            demo.poll();
        }
    }

    /// True while a demo plays.
    pub fn is_running(&self) -> bool {
        self.demo.as_ref().is_some_and(DemoRun::is_running)
    }

    /// Draws the tab; returns the demo the user asked to start.
    pub fn ui(&mut self, ui: &mut Ui) -> Option<DemoId> {
        let mut start = None;
        let running = self.is_running();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(tt::DEMOS).strong())
                .on_hover_text(tt::DEMOS_HINT);
            for id in DemoId::ALL {
                let shown = self.demo.as_ref().is_some_and(|d| d.id == id);
                if ui
                    .add_enabled(!running, egui::Button::selectable(shown, id.title()))
                    .on_hover_text(id.caption())
                    .clicked()
                {
                    start = Some(id);
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.explain, tt::EXPLAIN)
                .on_hover_text(tt::EXPLAIN_HINT);
            if let Some(demo) = &self.demo
                && ui
                    .add_enabled(!running, egui::Button::new(tt::DEMO_AGAIN))
                    .clicked()
            {
                start = Some(demo.id);
            }
        });
        ui.separator();
        egui::CollapsingHeader::new(tt::GUIDE_HEADING)
            .id_salt("tcp-or-udp-guide")
            .default_open(self.demo.is_none())
            .open(std::mem::take(&mut self.close_guide).then_some(false))
            .show(ui, |ui| {
                if let Some(id) = guide(ui, running) {
                    start = Some(id);
                }
            });
        ui.separator();
        match &self.demo {
            Some(demo) => demo.ui(ui, self.explain),
            None => guidance(ui, tt::DEMO_NONE),
        }
        start
    }
}

/// The "TCP or UDP?" panel; returns the demo a point's link asks for.
fn guide(ui: &mut Ui, running: bool) -> Option<DemoId> {
    let mut start = None;
    guidance(ui, tt::GUIDE_INTRO);
    for (heading, points) in [
        (tt::GUIDE_TCP, tt::GUIDE_TCP_POINTS),
        (tt::GUIDE_UDP, tt::GUIDE_UDP_POINTS),
    ] {
        ui.add_space(4.0);
        ui.label(RichText::new(heading).strong());
        for (point, demo) in points {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("•  {point}"));
                if ui
                    .add_enabled(!running, egui::Link::new(tt::guide_link(demo.title())))
                    .on_hover_text(demo.caption())
                    .clicked()
                {
                    start = Some(*demo);
                }
            });
        }
    }
    start
}
