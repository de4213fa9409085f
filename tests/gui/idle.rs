//! A window nobody touches paints nothing. A focused field's text cursor blinks, and each blink
//! repaints the whole window, so it blinks only for `CURSOR_BLINK_FOR` seconds after the last
//! input (as GTK does), then stays lit until the next input.

use std::time::Duration;

use egui::ViewportId;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use socketlab::gui::SocketLabApp;
use socketlab::gui::theme::CURSOR_BLINK_FOR;

use crate::gui_support::{harness, open_tab};

/// When the last frame asked for the next one (`Duration::MAX`: never).
fn next_frame_in(h: &Harness<'_, SocketLabApp>) -> Duration {
    h.output()
        .viewport_output
        .get(&ViewportId::ROOT)
        .map_or(Duration::MAX, |v| v.repaint_delay)
}

#[test]
fn a_focused_field_stops_blinking_after_ten_seconds_without_input() {
    let mut h = harness();
    // As in eframe's window: the harness turns blinking off for its snapshots.
    h.ctx
        .all_styles_mut(|style| style.visuals.text_cursor.blink = true);
    h.run();
    open_tab(&mut h, "TCP client");
    h.get_by_label("Message").focus();
    h.step();
    h.step();
    assert!(h.get_by_label("Message").is_focused());
    assert!(
        next_frame_in(&h) <= Duration::from_secs(1),
        "right after input the cursor blinks: the next frame is due in {:?}",
        next_frame_in(&h)
    );

    // The harness's clock jumps past the blinking time: no input meanwhile, and no sleep.
    let now = h.ctx.input(|i| i.time);
    h.input_mut().time = Some(now + CURSOR_BLINK_FOR + 1.0);
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(
        next_frame_in(&h),
        Duration::MAX,
        "a window left alone asks for no frame"
    );
    assert!(
        h.get_by_label("Message").is_focused(),
        "the field keeps the focus, only the blinking stops"
    );

    h.get_by_label("Message").type_text("x");
    h.step();
    h.step();
    assert!(
        next_frame_in(&h) <= Duration::from_secs(1),
        "typing makes the cursor blink again"
    );
}
