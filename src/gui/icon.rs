//! The window's icon and the application id that desktops use to match a window to its
//! `.desktop` entry (and so to the icon installed in the hicolor theme).

use std::sync::Arc;

/// Application id shared by the window (`with_app_id`: X11 `WM_CLASS`, Wayland `app_id`), the
/// desktop entry's file name (`socketlab.desktop`, whose `StartupWMClass` repeats it) and the icon's
/// name in the hicolor theme: desktops match them to show the right name and icon in the task bar.
/// eframe also names the settings directory after it (`~/.local/share/socketlab` on Linux).
pub const APP_ID: &str = "socketlab";

/// The 128 px rendering of `resources/icons/socketlab.svg`. Not 256 px: on X11 the icon travels in
/// one `_NET_WM_ICON` property request, and 256×256 pixels (256 KiB) exceed the core protocol's
/// request size, so winit's request fails silently and the window ends up with no icon at all (seen
/// under Xvfb). Desktops that match the window to `socketlab.desktop` take larger sizes from the
/// icon theme anyway.
const ICON_PNG: &[u8] = include_bytes!("../../resources/icons/png/socketlab-128.png");

/// The icon for the window's title bar and task bar entry.
///
/// Returns `None` (and the system's default icon is shown) if the embedded PNG cannot be decoded:
/// a missing icon must never keep the window from opening.
pub fn window_icon() -> Option<Arc<egui::IconData>> {
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => Some(Arc::new(icon)),
        Err(e) => {
            eprintln!("Socket Lab: the window icon could not be decoded ({e}); using the default");
            None
        }
    }
}

/// Gives a viewport the application id and, when it decodes, the window icon.
pub fn with_app_identity(viewport: egui::ViewportBuilder) -> egui::ViewportBuilder {
    let viewport = viewport.with_app_id(APP_ID);
    match window_icon() {
        Some(icon) => viewport.with_icon(icon),
        None => viewport,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_icon_decodes_to_128_px_rgba() {
        let icon = window_icon().expect("the embedded PNG decodes");
        assert_eq!((icon.width, icon.height), (128, 128));
        assert_eq!(icon.rgba.len(), 128 * 128 * 4);
        // A fully transparent image would decode fine and still show nothing.
        assert!(icon.rgba.chunks_exact(4).any(|px| px[3] == 255));
    }

    #[test]
    fn viewport_gets_app_id_and_icon() {
        let viewport = with_app_identity(egui::ViewportBuilder::default());
        assert_eq!(viewport.app_id.as_deref(), Some(APP_ID));
        assert!(viewport.icon.is_some());
    }
}
