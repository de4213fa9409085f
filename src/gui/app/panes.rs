//! How the tile layout draws and names its panes: a session's tab shows a state dot and its
//! title, has a close button and a context menu (Rename, Duplicate, Close).

use egui::{Ui, WidgetText};
use egui_tiles::{SimplificationOptions, TileId, Tiles, UiResponse};

use super::Pane;
use crate::engine::Waker;
use crate::gui::demos::DemoId;
use crate::gui::guide::LearnView;
use crate::gui::session::frame::dot_color;
use crate::gui::session::{AppRequest, Tab};
use crate::gui::tabs::lookup::LookupTab;
use crate::gui::text as t;
use crate::gui::text_teach as tt;

/// What a pane or a tab asked of the window during a frame.
#[derive(Debug, Clone, Copy)]
pub enum Ask {
    /// A session's request.
    App(AppRequest),
    /// Close this session (asking first if it has log rows).
    Close(u64),
    /// Rename this session.
    Rename(u64),
    /// Open a copy of this session.
    Duplicate(u64),
    /// Start this demo.
    Demo(DemoId),
}

/// The tile layout's view of the window for one frame.
pub struct Panes<'a> {
    /// Every session.
    pub sessions: &'a mut Vec<Box<dyn Tab>>,
    /// The Lookup tab.
    pub lookup: &'a mut LookupTab,
    /// The Learn tab.
    pub learn: &'a mut LearnView,
    /// Wakes the window.
    pub waker: &'a Waker,
    /// What was asked.
    pub asks: Vec<Ask>,
}

impl Panes<'_> {
    fn find(&self, id: u64) -> Option<&dyn Tab> {
        self.sessions
            .iter()
            .find(|s| s.id() == id)
            .map(AsRef::as_ref)
    }
}

impl egui_tiles::Behavior<Pane> for Panes<'_> {
    fn pane_ui(&mut self, ui: &mut Ui, _tile: TileId, pane: &mut Pane) -> UiResponse {
        match *pane {
            Pane::Session(id) => {
                let waker = self.waker;
                if let Some(session) = self.sessions.iter_mut().find(|s| s.id() == id)
                    && let Some(request) = session.ui(ui, waker)
                {
                    self.asks.push(Ask::App(request));
                }
            }
            Pane::Lookup => {
                egui::Frame::central_panel(ui.style()).show(ui, |ui| {
                    if let Some(action) = self.lookup.ui(ui) {
                        self.lookup.perform(action, self.waker);
                    }
                });
            }
            Pane::Learn => {
                egui::Frame::central_panel(ui.style()).show(ui, |ui| {
                    if let Some(demo) = self.learn.ui(ui) {
                        self.asks.push(Ask::Demo(demo));
                    }
                });
            }
        }
        UiResponse::None
    }

    fn tab_title_for_pane(&mut self, pane: &Pane) -> WidgetText {
        match *pane {
            Pane::Session(id) => self.find(id).map(Tab::title).unwrap_or_default(),
            Pane::Lookup => tt::TAB_LOOKUP.to_owned(),
            Pane::Learn if self.learn.is_running() => {
                format!("{}{}", tt::TAB_LEARN, t::TAB_ACTIVE_MARK)
            }
            Pane::Learn => tt::TAB_LEARN.to_owned(),
        }
        .into()
    }

    fn tab_ui(
        &mut self,
        tiles: &mut Tiles<Pane>,
        ui: &mut Ui,
        id: egui::Id,
        tile: TileId,
        state: &egui_tiles::TabState,
    ) -> egui::Response {
        let session = match tiles.get_pane(&tile) {
            Some(Pane::Session(sid)) => Some(*sid),
            _ => None,
        };
        let dot = session.and_then(|sid| self.find(sid)).map(Tab::dot);
        let text = self.tab_title_for_tile(tiles, tile);
        let font = egui::TextStyle::Button.resolve(ui.style());
        let galley = text.into_galley(ui, Some(egui::TextWrapMode::Extend), f32::INFINITY, font);
        let margin = 8.0;
        let close_size = ui.text_style_height(&egui::TextStyle::Button);
        let close_room = if session.is_some() {
            close_size + 4.0
        } else {
            0.0
        };
        // The state dot is painted, not a glyph: the bundled fonts have no "●".
        let dot_room = if dot.is_some() {
            close_size * 0.5 + 6.0
        } else {
            0.0
        };
        let width = galley.size().x + 2.0 * margin + close_room + dot_room;
        let (_, rect) = ui.allocate_space(egui::vec2(width, ui.available_height()));
        let response = ui.interact(rect, id, egui::Sense::click_and_drag());
        let tab_title = galley.text().to_owned();
        response.widget_info(|| {
            egui::WidgetInfo::selected(
                egui::Role::Button,
                ui.is_enabled(),
                state.active,
                &tab_title,
            )
        });
        if ui.is_rect_visible(rect) && !state.is_being_dragged {
            let fill = self.tab_bg_color(ui.visuals(), tiles, tile, state);
            let stroke = self.tab_outline_stroke(ui.visuals(), tiles, tile, state);
            ui.painter().rect(
                rect.shrink(0.5),
                0.0,
                fill,
                stroke,
                egui::StrokeKind::Inside,
            );
            let color = self.tab_text_color(ui.visuals(), tiles, tile, state);
            let inner = rect.shrink(margin);
            if let Some(dot) = dot {
                let centre = egui::pos2(inner.left() + close_size * 0.25, inner.center().y);
                let fill = dot_color(ui.visuals(), dot);
                ui.painter().circle_filled(centre, close_size * 0.25, fill);
            }
            let text_area = inner.with_min_x(inner.left() + dot_room);
            let at = egui::Align2::LEFT_CENTER
                .align_size_within_rect(galley.size(), text_area)
                .min;
            ui.painter().galley(at, galley, color);
        }
        if let Some(sid) = session {
            let close_rect = egui::Align2::RIGHT_CENTER
                .align_size_within_rect(egui::Vec2::splat(close_size), rect.shrink(margin * 0.5));
            // Named after the session: "Close" alone is the socket's button.
            let close = ui.interact(close_rect, id.with("close"), egui::Sense::click());
            close.widget_info(|| {
                let label = t::close_session_button(&tab_title);
                egui::WidgetInfo::labeled(egui::Role::Button, ui.is_enabled(), label)
            });
            let visuals = ui.style().interact(&close);
            let cross = close_rect.shrink(3.0);
            let stroke = visuals.fg_stroke;
            ui.painter()
                .line_segment([cross.left_top(), cross.right_bottom()], stroke);
            ui.painter()
                .line_segment([cross.right_top(), cross.left_bottom()], stroke);
            let close = close.on_hover_text(t::CLOSE_SESSION);
            if close.clicked() || response.clicked_by(egui::PointerButton::Middle) {
                self.asks.push(Ask::Close(sid));
            }
        }
        self.on_tab_button(tiles, tile, response)
    }

    fn on_tab_button(
        &mut self,
        tiles: &mut Tiles<Pane>,
        tile: TileId,
        response: egui::Response,
    ) -> egui::Response {
        let Some(Pane::Session(id)) = tiles.get_pane(&tile).copied() else {
            return match tiles.get_pane(&tile) {
                Some(Pane::Lookup) => response.on_hover_text(tt::TAB_LOOKUP_HINT),
                Some(Pane::Learn) => response.on_hover_text(tt::TAB_LEARN_HINT),
                _ => response,
            };
        };
        let hint = self
            .find(id)
            .map(|s| format!("{} — {}", s.kind().hint(), s.dot().words()))
            .unwrap_or_default();
        response.context_menu(|ui| {
            if ui.button(t::RENAME).clicked() {
                self.asks.push(Ask::Rename(id));
                ui.close();
            }
            if ui.button(t::DUPLICATE).clicked() {
                self.asks.push(Ask::Duplicate(id));
                ui.close();
            }
            if ui.button(t::CLOSE_SESSION).clicked() {
                self.asks.push(Ask::Close(id));
                ui.close();
            }
        });
        response.on_hover_text(hint)
    }

    fn simplification_options(&self) -> SimplificationOptions {
        SimplificationOptions {
            // A tile beside another keeps its tab: its title says which session it is.
            all_panes_must_have_tabs: true,
            ..SimplificationOptions::default()
        }
    }

    fn tab_bar_height(&self, style: &egui::Style) -> f32 {
        // Grows with the zoom's text, so a 175% title is not cut.
        style.spacing.interact_size.y + 8.0
    }

    fn gap_width(&self, _style: &egui::Style) -> f32 {
        4.0
    }
}
