//! CJK text in the window: egui's bundled fonts have no CJK glyphs, so the window asks the
//! system's font fallback (eframe's `system_fonts` feature, which installs
//! `egui_system_font_provider`) for an installed font. The harness fails on any character no
//! font can draw, so text drawn here was really drawn with a glyph.
//!
//! Needs a CJK font on the machine: CI installs `fonts-wqy-microhei` (.ci/fonts.sh). Where no
//! CJK font is installed at all (fontconfig knows none), the test says so and does not run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

use std::sync::Arc;

use crate::gui_support::{harness, open_tab, set_field};
use egui_kittest::kittest::Queryable;

/// GBK-encodable Chinese and Shift_JIS-encodable Japanese, as a user would paste them.
const CJK: &str = "你好，世界 こんにちは";

/// True when fontconfig knows a font for Chinese (Linux); elsewhere the system has one.
fn cjk_font_installed() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    std::process::Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .is_ok_and(|out| !out.stdout.is_empty())
}

#[test]
fn cjk_text_is_drawn_with_a_system_font() {
    if !cjk_font_installed() {
        eprintln!("no CJK font is installed (fc-list :lang=zh is empty): nothing to draw with");
        return;
    }
    // Without a system font, a CJK character has no glyph: the harness refuses to draw it. This
    // proves the check below can fail.
    let without = std::panic::catch_unwind(|| {
        let mut h = harness();
        open_tab(&mut h, "TCP client");
        set_field(&mut h, "Message", CJK);
    });
    assert!(
        without.is_err(),
        "egui's own fonts drew CJK: the test would prove nothing"
    );

    // As eframe does on start (`NativeOptions::system_font_fallback`, on by default).
    let mut h = harness();
    h.ctx.add_font_provider(Arc::new(
        egui_system_font_provider::SystemFontProvider::new(),
    ));
    open_tab(&mut h, "TCP client");
    set_field(&mut h, "Message", CJK);
    h.run();
    assert_eq!(
        h.get_by_label("Message").value().as_deref(),
        Some(CJK),
        "the editor holds and draws the text"
    );
}
