//! Running the command line as a normal user, for the cases root would not meet (a privileged
//! port, a file without read permission).
//!
//! Run as root (as CI does), the command runs as `nobody` through `setpriv` (util-linux). A copy
//! of the binary goes to a fresh world-readable folder first: the build tree may sit under a home
//! folder `nobody` cannot enter, such as /root.
#![allow(dead_code, clippy::expect_used, clippy::missing_panics_doc)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;

/// True when this process runs with root's effective user id.
pub fn is_root() -> bool {
    // /proc/self/status "Uid:" real, effective, saved, fs.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Runs the `socketlab` binary as a normal user: this one, or `nobody` when this one is root
/// (from a copy that is removed when this is dropped).
pub struct NormalUser {
    copy: Option<PathBuf>,
}

impl NormalUser {
    /// Prepares the binary for a normal user.
    pub fn new() -> Self {
        if !is_root() {
            return NormalUser { copy: None };
        }
        let dir = std::env::temp_dir().join(format!(
            "socketlab-nobody-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("a folder for the copy");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod folder");
        let copy = dir.join("socketlab");
        std::fs::copy(env!("CARGO_BIN_EXE_socketlab"), &copy).expect("copy of the binary");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
            .expect("chmod copy");
        NormalUser { copy: Some(copy) }
    }

    /// `socketlab args…`, to run as that user.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        match &self.copy {
            None => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_socketlab"));
                command.args(args);
                command
            }
            Some(copy) => {
                let mut command = Command::new("setpriv");
                command
                    .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                    .arg(copy)
                    .args(args);
                if let Some(dir) = copy.parent() {
                    command.env("HOME", dir);
                }
                command
            }
        }
    }
}

impl Drop for NormalUser {
    fn drop(&mut self) {
        if let Some(dir) = self.copy.as_ref().and_then(|c| c.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
