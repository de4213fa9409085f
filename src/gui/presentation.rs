//! Presentation mode and the menus: zoom in and out (Ctrl + and Ctrl −, handled by egui, and in
//! the View menu), a large-text preset for projectors, light and dark themes; and the Demos menu.

use serde::{Deserialize, Serialize};

use crate::gui::demos::DemoId;
use crate::gui::text_teach as tt;

/// Zoom of the large-text preset: readable from the back of a classroom, and still usable on a
/// 1280×800 projector.
const LARGE_TEXT_PERCENT: u16 = 175;

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Dark background.
    Dark,
    /// Light background (projectors usually show it better).
    Light,
}

impl Theme {
    fn preference(self) -> egui::ThemePreference {
        match self {
            Theme::System => egui::ThemePreference::System,
            Theme::Dark => egui::ThemePreference::Dark,
            Theme::Light => egui::ThemePreference::Light,
        }
    }
}

/// Zoom and theme, remembered between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    /// Zoom in percent (100 = normal). Kept as a whole number so settings compare exactly.
    pub zoom_percent: u16,
    /// The theme.
    pub theme: Theme,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            zoom_percent: 100,
            theme: Theme::System,
        }
    }
}

impl ViewSettings {
    /// Sets the window's zoom and theme to these.
    pub fn apply(&self, ctx: &egui::Context) {
        ctx.set_zoom_factor(f32::from(self.zoom_percent.clamp(50, 300)) / 100.0);
        ctx.set_theme(self.theme.preference());
    }

    /// Keeps the zoom the window has now (the keyboard shortcuts change it inside egui).
    pub fn remember_zoom(&mut self, zoom_factor: f32) {
        let percent = (zoom_factor * 100.0).round().clamp(10.0, 500.0);
        // In range by the clamp above, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let percent = percent as u16;
        self.zoom_percent = percent;
    }
}

/// Draws the Demos and View menus; returns the demo the user picked.
pub fn menus(ui: &mut egui::Ui, view: &mut ViewSettings) -> Option<DemoId> {
    let mut picked = None;
    ui.menu_button(tt::DEMOS, |ui| {
        for id in DemoId::ALL {
            if ui.button(id.title()).on_hover_text(id.caption()).clicked() {
                picked = Some(id);
                ui.close();
            }
        }
    })
    .response
    .on_hover_text(tt::DEMOS_HINT);
    ui.menu_button(tt::VIEW, |ui| {
        egui::gui_zoom::zoom_menu_buttons(ui);
        let large = view.zoom_percent >= LARGE_TEXT_PERCENT;
        if ui
            .selectable_label(large, tt::LARGE_TEXT)
            .on_hover_text(tt::LARGE_TEXT_HINT)
            .clicked()
        {
            view.zoom_percent = if large { 100 } else { LARGE_TEXT_PERCENT };
            view.apply(ui.ctx());
        }
        ui.separator();
        for (theme, label) in [
            (Theme::System, tt::THEME_SYSTEM),
            (Theme::Light, tt::THEME_LIGHT),
            (Theme::Dark, tt::THEME_DARK),
        ] {
            if ui.radio_value(&mut view.theme, theme, label).clicked() {
                view.apply(ui.ctx());
            }
        }
    });
    picked
}
