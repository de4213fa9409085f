//! Gives `socketlab.exe` what Windows shows about a program: the icon (Explorer, shortcuts, the
//! taskbar before the window sets its own), the version information (Properties → Details, the
//! installer's *Apps & features* entry reads the same numbers) and the application manifest. It is
//! compiled by the resource compiler of the target's toolchain: `x86_64-w64-mingw32-windres` when
//! cross-building on Linux (Debian's `binutils-mingw-w64-x86-64`), `rc.exe` from the Windows SDK
//! on an MSVC machine. Every other target needs none of this, so the script returns at once there.

use std::env;
use std::process::ExitCode;

/// The names Windows shows; `tests/packaging.rs` checks they match the installers' metadata.
const PRODUCT_NAME: &str = "Socket Lab";
const PUBLISHER: &str = "Socket Lab developers";
const COPYRIGHT: &str = "© 2026 Socket Lab developers";
const ICON: &str = "resources/icons/socketlab.ico";
const MANIFEST: &str = "packaging/windows/socketlab.exe.manifest";

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={ICON}");
    println!("cargo::rerun-if-changed={MANIFEST}");
    // The build script runs on the build machine: the target is only known from Cargo's variables.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return ExitCode::SUCCESS;
    }
    let description = env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default();
    let mut resource = winresource::WindowsResource::new();
    resource
        .set_icon(ICON)
        .set_manifest_file(MANIFEST)
        .set("ProductName", PRODUCT_NAME)
        // Windows shows FileDescription as the program's name (Task Manager, "Open with").
        .set("FileDescription", PRODUCT_NAME)
        .set("CompanyName", PUBLISHER)
        .set("LegalCopyright", COPYRIGHT)
        .set("OriginalFilename", "socketlab.exe")
        .set("InternalName", "socketlab")
        .set("Comments", &description)
        // US English: the language of the version strings above.
        .set_language(0x0409);
    // Only the program gets the resources; test and example executables need none.
    match resource.compile_for("socketlab") {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!(
                "cargo::error=could not compile the Windows resources ({ICON}, {MANIFEST}, \
                 version information) with the resource compiler: {e}. Cross-building on \
                 Debian needs `apt-get install binutils-mingw-w64-x86-64` \
                 (x86_64-w64-mingw32-windres); on Windows with MSVC, the Windows SDK (rc.exe)."
            );
            ExitCode::FAILURE
        }
    }
}
