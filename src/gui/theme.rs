//! The two themes' colours, made readable: every text colour the window uses has at least
//! 4.5:1 contrast against the backgrounds it is drawn on (WCAG AA), so a projector does not wash
//! out the secondary text. egui's own dark theme draws weak text at about 2.7:1.

use egui::{Color32, Visuals};

use crate::engine::log_store::Direction;

/// The accessibility floor for text.
pub const MIN_CONTRAST: f32 = 4.5;

/// egui's visuals for `dark` (or light), with readable text colours.
pub fn visuals(dark: bool) -> Visuals {
    let mut v = if dark {
        Visuals::dark()
    } else {
        Visuals::light()
    };
    if dark {
        v.weak_text_color = Some(Color32::from_gray(135));
        v.warn_fg_color = Color32::from_rgb(255, 160, 40);
        v.error_fg_color = Color32::from_rgb(255, 110, 110);
    } else {
        v.weak_text_color = Some(Color32::from_gray(95));
        v.warn_fg_color = Color32::from_rgb(150, 70, 0);
        v.error_fg_color = Color32::from_rgb(180, 0, 0);
    }
    v
}

/// Installs the readable visuals for both themes, and the bundled monospace font as the last
/// fallback of the proportional one: its arrows (`TCP client → 127.0.0.1:9000`) and symbols are
/// missing from the proportional font.
pub fn install(ctx: &egui::Context) {
    ctx.set_visuals_of(egui::Theme::Dark, visuals(true));
    ctx.set_visuals_of(egui::Theme::Light, visuals(false));
    if let Some(hack) = egui::FontDefinitions::default().font_data.get("Hack") {
        ctx.add_font(egui::epaint::text::FontInsert::new(
            "Hack",
            (**hack).clone(),
            vec![egui::epaint::text::InsertFontFamily {
                family: egui::FontFamily::Proportional,
                priority: egui::epaint::text::FontPriority::Lowest,
            }],
        ));
    }
}

/// How long the text cursor blinks after the last input, as GTK's `cursor-blink-timeout`; then
/// it stays lit. egui alone blinks for as long as a field has focus, and each blink repaints the
/// whole window: a connected client (its composer takes the focus) left alone on a projector
/// would paint twice a second for ever.
pub const CURSOR_BLINK_FOR: f64 = 10.0;

/// Stops the text cursor blinking once the window has had no input for [`CURSOR_BLINK_FOR`]
/// seconds, and starts it again at the next input.
#[derive(Debug, Clone)]
pub struct CursorBlink {
    last_input: f64,
}

impl Default for CursorBlink {
    fn default() -> Self {
        // No input yet: nothing was typed into, so nothing needs to blink.
        CursorBlink {
            last_input: f64::NEG_INFINITY,
        }
    }
}

impl CursorBlink {
    /// Looks at this frame's input and switches the blinking on or off (call once per frame,
    /// before drawing; the change shows from the next frame).
    pub fn update(&mut self, ctx: &egui::Context) {
        let (now, touched) = ctx.input(|i| {
            let touched = !i.events.is_empty()
                || i.pointer.is_moving()
                || i.pointer.any_down()
                || i.any_touches();
            (i.time, touched)
        });
        if touched {
            self.last_input = now;
        }
        let blink = now - self.last_input < CURSOR_BLINK_FOR;
        if ctx.global_style().visuals.text_cursor.blink != blink {
            ctx.all_styles_mut(|style| style.visuals.text_cursor.blink = blink);
        }
    }
}

/// The colour of a log row by direction.
pub fn direction_color(visuals: &Visuals, direction: Direction) -> Color32 {
    match (direction, visuals.dark_mode) {
        (Direction::In, true) => Color32::from_rgb(120, 200, 255),
        (Direction::In, false) => Color32::from_rgb(0, 90, 170),
        (Direction::Out | Direction::Echo, true) => Color32::from_rgb(140, 220, 140),
        (Direction::Out | Direction::Echo, false) => Color32::from_rgb(0, 120, 40),
        (Direction::Note, _) => visuals.weak_text_color(),
    }
}

/// Every text colour the window draws with and every background it sits on, by name: what
/// the contrast test checks.
pub fn text_colors(visuals: &Visuals) -> Vec<(&'static str, Color32)> {
    vec![
        ("text", visuals.text_color()),
        ("weak text", visuals.weak_text_color()),
        ("strong text", visuals.strong_text_color()),
        ("warning", visuals.warn_fg_color),
        ("error", visuals.error_fg_color),
        ("running", crate::gui::widgets::good_color(visuals)),
        ("received", direction_color(visuals, Direction::In)),
        ("sent", direction_color(visuals, Direction::Out)),
        ("note", direction_color(visuals, Direction::Note)),
    ]
}

/// The backgrounds text is drawn on (a translucent one as it looks over the panel).
pub fn backgrounds(visuals: &Visuals) -> Vec<(&'static str, Color32)> {
    let panel = visuals.panel_fill;
    vec![
        ("panel", panel),
        ("window", over(visuals.window_fill, panel)),
        ("text field", over(visuals.extreme_bg_color, panel)),
        ("striped row", over(visuals.faint_bg_color, panel)),
    ]
}

/// The log rows' colours on the chips that mark control characters inside a row.
pub fn chip_pairs(visuals: &Visuals) -> Vec<(&'static str, Color32, Color32)> {
    let chip = over(visuals.code_bg_color, visuals.panel_fill);
    [Direction::In, Direction::Out]
        .into_iter()
        .map(|d| {
            (
                "log row on a control-character chip",
                direction_color(visuals, d),
                chip,
            )
        })
        .collect()
}

/// `top` (premultiplied, maybe translucent) painted over the opaque `base`.
fn over(top: Color32, base: Color32) -> Color32 {
    let keep = 255 - u16::from(top.a());
    let mix = |t: u8, b: u8| {
        let v = u16::from(t) + u16::from(b) * keep / 255;
        u8::try_from(v.min(255)).unwrap_or(u8::MAX)
    };
    Color32::from_rgb(
        mix(top.r(), base.r()),
        mix(top.g(), base.g()),
        mix(top.b(), base.b()),
    )
}

/// The WCAG contrast ratio of two opaque colours (1 to 21).
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Relative luminance (sRGB).
fn luminance(c: Color32) -> f32 {
    let channel = |v: u8| {
        let v = f32::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_colour_is_readable_on_every_background_in_both_themes() {
        for dark in [true, false] {
            let v = visuals(dark);
            let mut pairs = Vec::new();
            for (text, fg) in text_colors(&v) {
                for (background, bg) in backgrounds(&v) {
                    pairs.push((text, fg, background, bg));
                }
            }
            for (text, fg, bg) in chip_pairs(&v) {
                pairs.push((text, fg, "chip", bg));
            }
            {
                for (text, fg, background, bg) in pairs {
                    let ratio = contrast(fg, bg);
                    assert!(
                        ratio >= MIN_CONTRAST,
                        "{} theme: {text} {fg:?} on {background} {bg:?} is {ratio:.2}:1",
                        if dark { "dark" } else { "light" }
                    );
                }
            }
        }
    }

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        // The measurement of egui's weak text: #5F5F5F on #1B1B1B.
        let weak = contrast(Color32::from_gray(0x5f), Color32::from_gray(0x1b));
        assert!((weak - 2.7).abs() < 0.1, "{weak}");
    }
}
