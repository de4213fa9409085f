//! Checks of the installer recipes that need no network and no packaging tool: every file the
//! `.deb`, the `.rpm`, the `AppImage`, the Windows and macOS installers refer to exists, the `.deb`
//! and the `.rpm` install the same files, the NSIS uninstaller deletes every file the installer
//! writes, the committed man pages match the command line, the icons are the sizes their names
//! say, and the names that desktops match (app id, desktop entry, metainfo, MIME type, window
//! class) agree. `.ci/package.sh` builds, installs and starts the real packages.
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

/// The files an asset source names: itself, or for `dir/*.ext` every `*.ext` file in `dir`
/// (the only pattern cargo-deb and cargo-generate-rpm are given here), sorted.
fn expand_source(source: &str) -> Vec<String> {
    let (dir, pattern) = source.rsplit_once('/').unwrap_or((".", source));
    let Some(suffix) = pattern.strip_prefix('*') else {
        assert!(!pattern.contains('*'), "{source}: only `*.ext` patterns");
        return if root().join(source).is_file() {
            vec![source.to_owned()]
        } else {
            Vec::new()
        };
    };
    let mut files: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{source}: cannot list {dir}: {e}"))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(suffix))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    files
}

/// Where each file of an asset lands, as an absolute path: `dest/` takes the file's own name.
fn installed_paths(source: &str, destination: &str) -> Vec<String> {
    let destination = format!("/{}", destination.trim_start_matches('/'));
    if source == "target/release/socketlab" {
        let name = if destination.ends_with('/') {
            BINARY
        } else {
            ""
        };
        return vec![format!("{destination}{name}")];
    }
    expand_source(source)
        .into_iter()
        .map(|file| {
            if destination.ends_with('/') {
                let name = file.rsplit('/').next().unwrap_or(&file);
                format!("{destination}{name}")
            } else {
                destination.clone()
            }
        })
        .collect()
}

/// The `.deb`'s files: `[package.metadata.deb] assets` as `[source, destination, mode]`.
fn deb_installed_paths(manifest: &toml::Table) -> BTreeSet<String> {
    metadata(manifest, "deb")["assets"]
        .as_array()
        .expect("deb assets is an array")
        .iter()
        .flat_map(|asset| {
            let fields = asset
                .as_array()
                .expect("asset is [source, destination, mode]");
            let field = |i: usize| fields[i].as_str().expect("asset fields are strings");
            installed_paths(field(0), field(1))
        })
        .collect()
}

/// The `.rpm`'s files: `[package.metadata.generate-rpm] assets` as `{ source, dest, mode }`.
fn rpm_assets(manifest: &toml::Table) -> Vec<(String, String, String)> {
    metadata(manifest, "generate-rpm")["assets"]
        .as_array()
        .expect("generate-rpm assets is an array")
        .iter()
        .map(|asset| {
            let field = |key: &str| {
                asset[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("rpm asset {asset:?} lacks {key}"))
                    .to_owned()
            };
            (field("source"), field("dest"), field("mode"))
        })
        .collect()
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
    // %f: a file manager passes the one workspace file that was double-clicked.
    assert_eq!(
        desktop_value(&entry, "Exec"),
        Some(format!("{BINARY} %f").as_str()),
        "{path} Exec"
    );
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
        // Built by `cargo deb` itself; everything else must be in the repository, so that plain
        // `cargo deb` works from a clean clone.
        if source == "target/release/socketlab" {
            assert_eq!(mode, "755");
        } else {
            assert!(
                !source.starts_with("target/"),
                "{source} would exist only after a build step that plain `cargo deb` does not run"
            );
            assert!(
                !expand_source(source).is_empty(),
                "[package.metadata.deb] assets: {source} matches no file"
            );
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

#[test]
fn committed_man_pages_match_the_command_line() {
    use clap::CommandFactory;
    // Plain `cargo deb` packs packaging/linux/man/ as it is, so a changed option or subcommand
    // must come with regenerated pages.
    let fresh = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("man-pages-check");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh).expect("a scratch directory for the man pages");
    clap_mangen::generate_to(socketlab::cli::Cli::command(), &fresh).expect("man pages render");
    let pages = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let regenerate = "regenerate them: cargo run --example gen_manpage -- packaging/linux/man";
    let committed_dir = root().join("packaging/linux/man");
    let expected = pages(&fresh);
    assert!(expected.contains("socketlab.1"), "{expected:?}");
    assert_eq!(
        pages(&committed_dir),
        expected,
        "packaging/linux/man/ has other pages than the command line: {regenerate}"
    );
    for page in &expected {
        let committed = read_text(&format!("packaging/linux/man/{page}"));
        let generated = std::fs::read_to_string(fresh.join(page)).expect("generated page");
        assert!(
            committed == generated,
            "packaging/linux/man/{page} is out of date: {regenerate}"
        );
    }
}

#[test]
fn rpm_installs_the_same_files_as_the_deb() {
    let manifest = manifest();
    let mut rpm_paths = BTreeSet::new();
    for (source, destination, mode) in rpm_assets(&manifest) {
        assert!(
            destination.starts_with('/'),
            "rpm asset {source}: dest {destination} must be absolute"
        );
        assert!(mode == "644" || mode == "755", "{source}: mode {mode}");
        if source == "target/release/socketlab" {
            assert_eq!(mode, "755", "the rpm's binary must be executable");
        } else {
            assert!(
                !expand_source(&source).is_empty(),
                "[package.metadata.generate-rpm] assets: {source} matches no file"
            );
        }
        rpm_paths.extend(installed_paths(&source, &destination));
    }
    // The .deb carries its licence in the copyright file cargo-deb writes; RPM distributions keep
    // the texts in /usr/share/licenses/<package>/. Everything else is the same.
    let licences: BTreeSet<String> = ["LICENSE-MIT", "LICENSE-APACHE"]
        .iter()
        .map(|name| format!("/usr/share/licenses/{BINARY}/{name}"))
        .collect();
    assert!(
        rpm_paths.is_superset(&licences),
        "the rpm lacks the licence texts"
    );
    let rpm_without_licences: BTreeSet<String> = rpm_paths.difference(&licences).cloned().collect();
    assert_eq!(
        rpm_without_licences,
        deb_installed_paths(&manifest),
        "the .rpm and the .deb install different files"
    );
    for page in expand_source("packaging/linux/man/*.1") {
        let name = page.rsplit('/').next().expect("file name");
        assert!(
            rpm_paths.contains(&format!("/usr/share/man/man1/{name}")),
            "the rpm lacks {name}"
        );
    }
    assert!(read_text("packaging/licenses/LICENSE-MIT").starts_with("MIT License"));
    assert!(read_text("packaging/licenses/LICENSE-APACHE").contains("Version 2.0, January 2004"));
}

#[test]
fn rpm_requires_the_libraries_the_deb_depends_on() {
    let manifest = manifest();
    let rpm = metadata(&manifest, "generate-rpm");
    let requires = rpm["requires"].as_table().expect("generate-rpm.requires");
    let depends = metadata(&manifest, "deb")["depends"]
        .as_str()
        .expect("deb depends")
        .to_owned();
    // Debian package → the library it ships, which every RPM distribution provides by soname.
    for (deb_package, soname) in [
        ("libx11-6", "libX11.so.6"),
        ("libx11-xcb1", "libX11-xcb.so.1"),
        ("libxcursor1", "libXcursor.so.1"),
        ("libxi6", "libXi.so.6"),
        ("libxkbcommon0", "libxkbcommon.so.0"),
        ("libxkbcommon-x11-0", "libxkbcommon-x11.so.0"),
        ("libwayland-client0", "libwayland-client.so.0"),
        ("libwayland-egl1", "libwayland-egl.so.1"),
        ("libegl1", "libEGL.so.1"),
        ("libgl1", "libGL.so.1"),
    ] {
        assert!(
            depends.contains(deb_package),
            "deb Depends lacks {deb_package}"
        );
        assert!(
            requires.contains_key(&format!("{soname}()(64bit)")),
            "the rpm does not require {soname} (the .deb depends on {deb_package})"
        );
    }
    assert!(
        requires.keys().any(|key| key.contains("mesa-dri-drivers")),
        "the rpm does not require Mesa's drivers (the .deb depends on libgl1-mesa-dri)"
    );
    assert_eq!(rpm["release"].as_str(), Some("1"));
}

#[test]
fn workspace_files_open_with_socket_lab() {
    const MIME_TYPE: &str = "application/x-socketlab-workspace";
    let mime = read_text("packaging/linux/socketlab-mime.xml");
    assert!(
        mime.contains(&format!("<mime-type type=\"{MIME_TYPE}\">")),
        "socketlab-mime.xml does not define {MIME_TYPE}"
    );
    assert!(mime.contains("<glob pattern=\"*.socketlab\"/>"));
    assert!(mime.contains(&format!("<generic-icon name=\"{APP_ID}\"/>")));
    let entry = read_text(&format!("packaging/linux/{APP_ID}.desktop"));
    let types = desktop_value(&entry, "MimeType").expect("the desktop entry has MimeType=");
    assert!(
        types.split(';').any(|t| t == MIME_TYPE),
        "desktop entry MimeType={types} lacks {MIME_TYPE}"
    );
    let metainfo = read_text(&format!("packaging/linux/{METAINFO_ID}.metainfo.xml"));
    assert!(metainfo.contains(&format!("<mediatype>{MIME_TYPE}</mediatype>")));
    let wanted = "/usr/share/mime/packages/socketlab.xml".to_owned();
    assert!(
        deb_installed_paths(&manifest()).contains(&wanted),
        "the .deb lacks {wanted}"
    );
    // Windows: the installer registers the same extension for socketlab.exe "%1", and declares the
    // same content type.
    let nsis = read_text("packaging/windows/socketlab.nsi");
    for line in [
        "!define EXTENSION \".socketlab\"",
        "shell\\open\\command\" \"\" '\"$INSTDIR\\${EXE}\" \"%1\"'",
        &format!("\"Content Type\" \"{MIME_TYPE}\""),
    ] {
        assert!(nsis.contains(line), "socketlab.nsi lacks: {line}");
    }
}

/// The quoted names after `prefix` on each line of `text` (`File "${STAGE}\NAME"`).
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix(prefix))
        .map(|rest| rest.trim_end_matches('"').to_owned())
        .collect()
}

#[test]
fn nsis_uninstaller_deletes_every_file_the_installer_writes() {
    let nsis = read_text("packaging/windows/socketlab.nsi");
    let mut installed = names_after(&nsis, "File \"${STAGE}\\");
    installed = installed
        .into_iter()
        .map(|name| name.replace("${EXE}", "socketlab.exe"))
        .collect();
    assert!(installed.contains("socketlab.exe"), "{installed:?}");
    assert!(nsis.contains("WriteUninstaller \"$INSTDIR\\${UNINSTALLER}\""));
    installed.insert("Uninstall.exe".to_owned());
    let deleted: BTreeSet<String> = names_after(&nsis, "Delete \"$INSTDIR\\")
        .into_iter()
        .map(|name| {
            name.replace("${EXE}", "socketlab.exe")
                .replace("${UNINSTALLER}", "Uninstall.exe")
        })
        .collect();
    assert_eq!(
        deleted, installed,
        "the uninstaller must delete exactly the files the installer writes"
    );
    assert!(
        !nsis.contains("RMDir /r"),
        "never delete the install folder wholesale: the user may have chosen one with other files"
    );
    // The Wine check expects the same folder contents, and build-installer.sh stages them.
    let check = read_text("packaging/windows/check-wine.sh");
    let listed = check
        .lines()
        .find_map(|line| line.strip_prefix("installed_files=("))
        .expect("check-wine.sh lists installed_files")
        .trim_end_matches(')');
    let listed: BTreeSet<String> = listed.split_whitespace().map(str::to_owned).collect();
    assert_eq!(listed, installed, "check-wine.sh installed_files");
    let build = read_text("packaging/windows/build-installer.sh");
    for name in installed.iter().filter(|name| *name != "Uninstall.exe") {
        assert!(
            build.contains(&format!("$stage/{name}")),
            "build-installer.sh does not stage {name}"
        );
    }
    // Shortcuts, the Apps & features entry and the file type are removed too.
    for removal in [
        "Delete \"$SMPROGRAMS\\${PRODUCT}.lnk\"",
        "Delete \"$DESKTOP\\${PRODUCT}.lnk\"",
        "DeleteRegKey HKCU \"${UNINSTALL_KEY}\"",
        "DeleteRegKey HKCU \"${APP_PATHS_KEY}\"",
        "DeleteRegKey HKCU \"${CLASSES}\\${PROGID}\"",
    ] {
        assert!(nsis.contains(removal), "the uninstaller lacks: {removal}");
    }
}

#[test]
fn nsis_installer_is_per_user_with_licence_icon_and_version() {
    let nsis = read_text("packaging/windows/socketlab.nsi");
    for line in [
        "RequestExecutionLevel user",
        "InstallDir \"$LOCALAPPDATA\\Programs\\${PRODUCT}\"",
        "!insertmacro MUI_PAGE_LICENSE \"${LICENSE_PAGE}\"",
        "!define MUI_ICON \"${ICON}\"",
        "!define MUI_UNICON \"${ICON}\"",
        "WriteRegStr HKCU \"${UNINSTALL_KEY}\" \"DisplayVersion\" \"${VERSION}\"",
        "WriteRegStr HKCU \"${UNINSTALL_KEY}\" \"Publisher\" \"${PUBLISHER}\"",
        "WriteRegStr HKCU \"${UNINSTALL_KEY}\" \"DisplayIcon\" \"$INSTDIR\\${EXE},0\"",
        "CreateShortCut \"$SMPROGRAMS\\${PRODUCT}.lnk\"",
        "Section /o \"Desktop shortcut\"",
    ] {
        assert!(nsis.contains(line), "socketlab.nsi lacks: {line}");
    }
    assert!(
        !nsis.contains("HKLM"),
        "a per-user install writes nothing to HKEY_LOCAL_MACHINE"
    );
    // One name for the publisher: the NSIS script, build.rs (the .exe's version information) and
    // cargo-packager's configuration (the release workflow's MSVC installers).
    let packager = metadata(&manifest(), "packager");
    let publisher = packager["publisher"].as_str().expect("packager publisher");
    let product = packager["productName"]
        .as_str()
        .expect("packager productName");
    assert!(nsis.contains(&format!("!define PUBLISHER \"{publisher}\"")));
    assert!(nsis.contains(&format!("!define PRODUCT \"{product}\"")));
    let build_rs = read_text("build.rs");
    assert!(build_rs.contains(&format!("const PUBLISHER: &str = \"{publisher}\";")));
    assert!(build_rs.contains(&format!("const PRODUCT_NAME: &str = \"{product}\";")));
    // Every file build.rs and build-installer.sh hand to the resource compiler and makensis.
    for script in ["build.rs", "packaging/windows/build-installer.sh"] {
        let text = read_text(script);
        for word in text.split(|c: char| c.is_whitespace() || "\"'()=;,".contains(c)) {
            if (word.starts_with("resources/") || word.starts_with("packaging/"))
                && Path::new(word).extension().is_some()
            {
                assert_exists(word, script);
            }
        }
    }
    assert_exists("packaging/windows/socketlab.exe.manifest", "build.rs");
    assert_exists("packaging/windows/check-wine.sh", ".ci/package.sh");
}

/// The Wine smoke test's `bcryptprimitives.dll` shim (for Wine before 9.0) stays a test tool:
/// nothing that builds the installer, the `.zip` or the program names it, it exports only the
/// function it defines, and `check-wine.sh` builds it from the committed files.
#[test]
fn the_wine_shim_is_built_for_the_smoke_test_only() {
    for script in [
        "packaging/windows/socketlab.nsi",
        "packaging/windows/build-installer.sh",
        "build.rs",
    ] {
        let text = read_text(script);
        assert!(
            !text.contains("wine-shim") && !text.contains("bcryptprimitives"),
            "{script} must not ship the Wine shim: real Windows has bcryptprimitives.dll"
        );
    }
    let def = read_text("packaging/windows/wine-shim/bcryptprimitives.def");
    let exports: Vec<&str> = def
        .lines()
        .map(str::trim)
        .skip_while(|line| *line != "EXPORTS")
        .skip(1)
        .filter(|line| !line.is_empty() && !line.starts_with(';'))
        .collect();
    assert_eq!(exports, ["ProcessPrng"], "the shim's exports");
    let source = read_text("packaging/windows/wine-shim/bcryptprimitives.c");
    assert!(
        source.contains("BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)"),
        "bcryptprimitives.c defines ProcessPrng with Windows' signature"
    );
    let check = read_text("packaging/windows/check-wine.sh");
    for file in ["bcryptprimitives.c", "bcryptprimitives.def"] {
        assert!(
            check.contains(&format!("\"$shim_dir/{file}\"")),
            "check-wine.sh builds the shim from {file}"
        );
    }
}
