//! Checks of the installer recipes that need no network and no packaging tool: every file the
//! `.deb`, the `AppImage`, the Windows and macOS installers refer to exists, the icons are the sizes
//! their names say, and the names that desktops match (app id, desktop entry, metainfo, window
//! class) agree. `.ci/package.sh` builds, installs and starts the real `.deb`.
// Helpers panic with the file they could not read: in a test that is the report.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use socketlab::gui::icon::APP_ID;

/// Sizes of `resources/icons/png/socketlab-<size>.png`, as hicolor themes ask for them.
const PNG_SIZES: [u32; 8] = [16, 24, 32, 48, 64, 128, 256, 512];
const METAINFO_ID: &str = "io.github.socketlab.socketlab";
const BINARY: &str = "socketlab";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn read_text(path: &str) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|e| panic!("{path} is not UTF-8: {e}"))
}

fn manifest() -> toml::Table {
    read_text("Cargo.toml").parse().expect("Cargo.toml parses")
}

fn metadata(manifest: &toml::Table, tool: &str) -> toml::Table {
    manifest["package"]["metadata"][tool]
        .as_table()
        .unwrap_or_else(|| panic!("[package.metadata.{tool}] is a table"))
        .clone()
}

fn assert_exists(path: &str, what: &str) {
    assert!(
        root().join(path).is_file(),
        "{what} refers to {path}, which does not exist"
    );
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8], path: &str) -> (u32, u32) {
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{path} is not a PNG"
    );
    assert_eq!(&bytes[12..16], b"IHDR", "{path}: first chunk is not IHDR");
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

/// The value of `key=` in a desktop entry's `[Desktop Entry]` group.
fn desktop_value<'a>(entry: &'a str, key: &str) -> Option<&'a str> {
    entry
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn every_png_icon_has_the_size_its_name_says() {
    let dir = root().join("resources/icons/png");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("resources/icons/png exists")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let expected: BTreeSet<String> = PNG_SIZES
        .iter()
        .map(|s| format!("socketlab-{s}.png"))
        .collect();
    assert_eq!(
        on_disk, expected,
        "run packaging/make-icons.sh to regenerate the icons"
    );
    for size in PNG_SIZES {
        let path = format!("resources/icons/png/socketlab-{size}.png");
        assert_eq!(png_size(&read(&path), &path), (size, size), "{path}");
    }
    let svg = read_text("resources/icons/socketlab.svg");
    assert!(
        svg.contains("<svg") && svg.contains("viewBox=\"0 0 256 256\""),
        "socketlab.svg"
    );
}

#[test]
fn windows_ico_holds_the_sizes_explorer_picks_from() {
    let ico = read("resources/icons/socketlab.ico");
    assert_eq!(
        &ico[0..4],
        &[0, 0, 1, 0],
        "ICO header: reserved 0, type 1 (icon)"
    );
    let count = usize::from(u16::from_le_bytes([ico[4], ico[5]]));
    let sizes: BTreeSet<u32> = (0..count)
        .map(|i| {
            let entry = &ico[6 + 16 * i..6 + 16 * (i + 1)];
            let (width, height) = (entry[0], entry[1]);
            assert_eq!(width, height, "ICO entry {i} is not square");
            // Width 0 means 256 in the ICO format.
            if width == 0 { 256 } else { u32::from(width) }
        })
        .collect();
    assert_eq!(sizes, BTreeSet::from([16, 24, 32, 48, 64, 128, 256]));
}

#[test]
fn macos_icns_holds_every_retina_size() {
    let icns = read("resources/icons/socketlab.icns");
    assert_eq!(&icns[0..4], b"icns");
    let declared = u32::from_be_bytes([icns[4], icns[5], icns[6], icns[7]]) as usize;
    assert_eq!(declared, icns.len(), "icns length field");
    let mut types = BTreeSet::new();
    let mut at = 8;
    while at + 8 <= icns.len() {
        let length =
            u32::from_be_bytes([icns[at + 4], icns[at + 5], icns[at + 6], icns[at + 7]]) as usize;
        assert!(
            length >= 8 && at + length <= icns.len(),
            "icns element at {at} overruns the file"
        );
        types.insert(String::from_utf8_lossy(&icns[at..at + 4]).into_owned());
        at += length;
    }
    // 16, 32, 128, 256 and 512 px (Finder, Dock, Launchpad); ic08/ic09 are the large ones.
    for wanted in ["is32", "il32", "it32", "ic08", "ic09"] {
        assert!(
            types.contains(wanted),
            "socketlab.icns lacks {wanted}; has {types:?}"
        );
    }
}

#[test]
fn desktop_entry_window_class_and_icon_share_the_app_id() {
    let path = format!("packaging/linux/{APP_ID}.desktop");
    let entry = read_text(&path);
    assert_eq!(desktop_value(&entry, "Exec"), Some(BINARY), "{path} Exec");
    assert_eq!(
        desktop_value(&entry, "TryExec"),
        Some(BINARY),
        "{path} TryExec"
    );
    assert_eq!(desktop_value(&entry, "Icon"), Some(APP_ID), "{path} Icon");
    assert_eq!(
        desktop_value(&entry, "StartupWMClass"),
        Some(APP_ID),
        "{path} StartupWMClass"
    );
    assert_eq!(
        desktop_value(&entry, "Terminal"),
        Some("false"),
        "{path} Terminal"
    );
}

#[test]
fn metainfo_names_the_desktop_entry_and_this_version() {
    let path = format!("packaging/linux/{METAINFO_ID}.metainfo.xml");
    let metainfo = read_text(&path);
    assert!(
        metainfo.contains(&format!("<id>{METAINFO_ID}</id>")),
        "{path}: <id>"
    );
    assert!(
        metainfo.contains(&format!(
            "<launchable type=\"desktop-id\">{APP_ID}.desktop</launchable>"
        )),
        "{path}: <launchable> must name the desktop entry"
    );
    assert!(
        metainfo.contains(&format!("<binary>{BINARY}</binary>")),
        "{path}: <binary>"
    );
    // Software centres show the newest <release>; a version bump must add one.
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        metainfo.contains(&format!("<release version=\"{version}\"")),
        "{path} has no <release version=\"{version}\">: add one for this version"
    );
}

#[test]
fn debian_changelog_starts_with_this_version() {
    let changelog = read_text("packaging/linux/changelog");
    let first = changelog.lines().next().unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        first.starts_with(&format!("socketlab ({version}-")),
        "packaging/linux/changelog must start with an entry for {version}, not: {first}"
    );
}

#[test]
fn deb_assets_exist_or_are_built_by_the_packaging_scripts() {
    let deb = metadata(&manifest(), "deb");
    let assets = deb["assets"].as_array().expect("deb assets is an array");
    let mut destinations = BTreeSet::new();
    for asset in assets {
        let fields: Vec<&str> = asset
            .as_array()
            .expect("asset is [source, destination, mode]")
            .iter()
            .map(|v| v.as_str().expect("asset fields are strings"))
            .collect();
        let [source, destination, mode] = fields[..] else {
            panic!("asset {asset:?} is not [source, destination, mode]");
        };
        assert!(mode == "644" || mode == "755", "{source}: mode {mode}");
        match source {
            // Built by `cargo deb` itself and by examples/gen_manpage.rs in build-deb.sh.
            "target/release/socketlab" => assert_eq!(mode, "755"),
            "target/man/*.1.gz" => {
                assert_exists("examples/gen_manpage.rs", "the man page asset");
                assert!(
                    read_text("packaging/linux/build-deb.sh").contains("gen_manpage -- target/man")
                );
            }
            _ => assert_exists(source, "[package.metadata.deb] assets"),
        }
        destinations.insert(destination.to_owned());
    }
    for size in PNG_SIZES {
        let wanted = format!("usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png");
        assert!(
            destinations.contains(&wanted),
            "the .deb does not install {wanted}"
        );
    }
    for wanted in [
        "usr/bin/".to_owned(),
        "usr/share/applications/".to_owned(),
        "usr/share/metainfo/".to_owned(),
        "usr/share/man/man1/".to_owned(),
    ] {
        assert!(
            destinations.contains(&wanted),
            "the .deb installs nothing to {wanted}"
        );
    }
    // The window's libraries are loaded with dlopen, so dpkg-shlibdeps ($auto) cannot see them.
    let depends = deb["depends"].as_str().expect("depends is a string");
    for library in [
        "libx11-6",
        "libxkbcommon-x11-0",
        "libwayland-client0",
        "libegl1",
        "libgl1",
    ] {
        assert!(
            depends.contains(library),
            "Depends lacks {library}: {depends}"
        );
    }
    // The native file dialogs: libdbus-1 (dlopen) and a portal with a file chooser; zenity is
    // the fallback. CJK text: a font found through fontconfig (dlopen). Typing a path works
    // without them, and other text draws with the bundled fonts, so they are not Depends.
    let recommends = deb["recommends"].as_str().expect("recommends is a string");
    for package in [
        "libdbus-1-3",
        "xdg-desktop-portal",
        "libfontconfig1",
        "fonts-noto-cjk",
    ] {
        assert!(
            recommends.contains(package),
            "Recommends lacks {package}: {recommends}"
        );
        assert!(!depends.contains(package), "{package} is not required");
    }
    let suggests = deb["suggests"].as_str().expect("suggests is a string");
    assert!(
        suggests.contains("zenity"),
        "Suggests lacks zenity: {suggests}"
    );
}

/// Keys of cargo-packager 0.11's configuration that this project uses or may use: the packager
/// rejects unknown keys (`deny_unknown_fields`) only when run, which is on the release runners.
const PACKAGER_KEYS: &[&str] = &[
    "name",
    "enabled",
    "productName",
    "version",
    "binaries",
    "identifier",
    "beforePackagingCommand",
    "beforeEachPackageCommand",
    "logLevel",
    "formats",
    "outDir",
    "binariesDir",
    "targetTriple",
    "description",
    "longDescription",
    "homepage",
    "authors",
    "publisher",
    "licenseFile",
    "copyright",
    "category",
    "icons",
    "fileAssociations",
    "deepLinkProtocols",
    "resources",
    "externalBinaries",
    "windows",
    "macos",
    "linux",
    "deb",
    "appimage",
    "pacman",
    "wix",
    "nsis",
    "dmg",
];

#[test]
fn packager_config_uses_known_keys_and_existing_files() {
    let manifest = manifest();
    let packager = metadata(&manifest, "packager");
    for key in packager.keys() {
        assert!(
            PACKAGER_KEYS.contains(&key.as_str()),
            "[package.metadata.packager] unknown key {key}"
        );
    }
    assert_eq!(
        packager["identifier"].as_str(),
        Some(METAINFO_ID),
        "one id for macOS and AppStream"
    );
    let icons = packager["icons"].as_array().expect("icons is an array");
    let icon_paths: Vec<&str> = icons
        .iter()
        .map(|v| v.as_str().expect("icon path"))
        .collect();
    for icon in &icon_paths {
        assert_exists(icon, "[package.metadata.packager] icons");
    }
    // NSIS/WiX take the .ico, the .app the .icns, the AppImage the largest PNG.
    for ext in [".ico", ".icns", "-512.png"] {
        assert!(
            icon_paths.iter().any(|p| p.ends_with(ext)),
            "packager icons lack a {ext}"
        );
    }
    let appimage_files = packager["appimage"]["files"]
        .as_table()
        .expect("appimage.files");
    for (source, destination) in appimage_files {
        assert_exists(source, "[package.metadata.packager.appimage] files");
        assert!(
            destination.as_str().is_some_and(|d| d.starts_with("usr/")),
            "{source} → {destination}"
        );
    }
    assert!(
        appimage_files.contains_key(&format!("packaging/linux/{APP_ID}.desktop")),
        "the AppImage must carry the desktop entry (generateDesktopEntry is off)"
    );
    let nsis_icon = packager["nsis"]["installerIcon"]
        .as_str()
        .expect("nsis.installerIcon");
    assert_exists(nsis_icon, "[package.metadata.packager.nsis] installerIcon");
    let mode = packager["nsis"]["installMode"]
        .as_str()
        .expect("nsis.installMode");
    assert!(
        ["currentUser", "perMachine", "both"].contains(&mode),
        "nsis.installMode {mode}"
    );
}

#[test]
fn release_workflow_runs_scripts_that_exist() {
    let workflow = read_text(".github/workflows/release.yml");
    assert!(
        workflow.contains("tags:"),
        "the release workflow runs when a version tag is pushed"
    );
    let mut referenced = 0;
    for word in workflow.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        if let Some(start) = word.find("packaging/") {
            let path = word[start..].trim_end_matches([';', ',', ')', '.', ':']);
            if Path::new(path).extension().is_some() {
                assert_exists(path, ".github/workflows/release.yml");
                referenced += 1;
            }
        }
    }
    assert!(
        referenced >= 2,
        "release.yml should build and check the .deb with packaging/linux/*.sh"
    );
    for format in ["appimage", "nsis", "wix", "app", "dmg"] {
        assert!(workflow.contains(format), "release.yml builds no {format}");
    }
}
