//! Permission denied: a port below the system's unprivileged range, as a normal user.
//!
//! Run as root (as CI does), the test drops to the `nobody` user with `setpriv` (util-linux) to
//! run the command line, because root may bind any port. A copy of the binary goes to a fresh
//! directory first: the build tree may sit under a home directory `nobody` cannot enter.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The lowest port a normal user may bind (Linux sysctl; 1024 unless changed).
fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

fn is_root() -> bool {
    // /proc/self/status "Uid:" real, effective, saved, fs.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// Runs `socketlab args…` as a normal user: ourselves, or `nobody` when we are root.
fn run_as_normal_user(args: &[&str]) -> Output {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_socketlab"));
    if !is_root() {
        return Command::new(binary).args(args).output().unwrap();
    }
    let dir = std::env::temp_dir().join(format!("socketlab-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.join("socketlab");
    std::fs::copy(&binary, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .args(args)
        .env("HOME", &dir)
        .output()
        .expect("setpriv (util-linux) runs the command as nobody");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

#[test]
fn a_privileged_port_as_a_normal_user_is_permission_denied_in_plain_words() {
    let start = unprivileged_port_start();
    if start == 0 {
        // Every port is open to every user here (some containers set this): there is no
        // privileged port to be refused, so the case cannot happen on this machine.
        eprintln!("ip_unprivileged_port_start is 0: no privileged ports on this machine");
        return;
    }
    let port = (start - 1).to_string();
    for protocol in ["tcp-listen", "udp-listen"] {
        let output = run_as_normal_user(&[protocol, &port, "--bind", "127.0.0.1"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{protocol} {port}: a runtime failure, not bad input\n{stderr}"
        );
        assert!(
            stderr.contains("Permission denied") && stderr.contains(&format!("127.0.0.1:{port}")),
            "{protocol}: names the failure and the address\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("ports below {start} need administrator rights")),
            "{protocol}: says why and what to do\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
