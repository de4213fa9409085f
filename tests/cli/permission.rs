//! Permission denied: a port below the system's unprivileged range, as a normal user.
//!
//! Root may bind any port, so as root the command runs as `nobody` (see `normal_user`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

use crate::normal_user::NormalUser;

/// The lowest port a normal user may bind (Linux sysctl; 1024 unless changed).
fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
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
        let output = NormalUser::new()
            .command(&[protocol, &port, "--bind", "127.0.0.1"])
            .output()
            .unwrap();
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
