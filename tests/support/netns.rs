//! Private network namespaces for the multicast and broadcast tests: they never touch the
//! machine's real interfaces.
//!
//! A namespace belongs to a thread: [`in_netns`] starts a thread, `unshare(CLONE_NEWNET)` gives it
//! a network of its own (only a loopback interface, down), the setup commands (`ip …`) run as its
//! children, so in it, and then the test body runs on that thread. Sockets and threads made there
//! (the engine's workers, `socketlab` children) are in that network; when the thread and its
//! sockets are gone, the namespace is too, whatever the test did. [`two_netns`] joins two such
//! namespaces with a veth pair.
//!
//! Where a namespace cannot be made (not root, no `ip`, no veth), the test prints that it was
//! skipped and why. Under CI (`CI` set) as root it fails instead: there it must run.
//!
//! Addresses inside are from the documentation ranges (198.51.100.0/24, `2001:db8::/32`) and the
//! administratively scoped groups (239.0.0.0/8, `ff15::/16`): nothing here could be mistaken for
//! a real network even if it leaked, and it cannot leak. (192.0.2.0/24 is avoided: the machine
//! these tests were written on has it on its own network.)
#![cfg(target_os = "linux")]
#![allow(dead_code, clippy::missing_panics_doc, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use crossbeam_channel::bounded;

/// Loopback up, with multicast, and the IPv4 groups routed to it.
pub const LO_MULTICAST: &[&str] = &[
    "link set lo up",
    "link set lo multicast on",
    "route add 224.0.0.0/4 dev lo",
];

/// Runs `ip ARGS` (split on spaces) in the calling thread's namespace; the error is its output.
pub fn ip(args: &str) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .map_err(|e| format!("`ip` cannot be run ({e}); install iproute2"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {args}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Like [`ip`], for steps that must work once the namespace exists.
pub fn ip_ok(args: &str) {
    if let Err(e) = ip(args) {
        panic!("{e}");
    }
}

fn must_run() -> bool {
    std::env::var_os("CI").is_some() && is_root()
}

fn is_root() -> bool {
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

fn skip(test: &str, why: &str) {
    assert!(
        !must_run(),
        "{test}: a private network namespace is needed and could not be made: {why}"
    );
    println!("SKIPPED {test}: {why}");
    eprintln!("SKIPPED {test}: {why}");
}

/// Makes the calling thread's network namespace its own, with IPv6 duplicate address detection
/// off (a fresh address would otherwise be unusable for a second), then runs `setup`.
fn enter(setup: &[&str]) -> Result<(), String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
        format!("unshare(CLONE_NEWNET) failed ({e}): making a network namespace needs root (CAP_SYS_ADMIN)")
    })?;
    // /proc/sys/net shows the network namespace of the thread that opens it.
    for file in ["all", "default"] {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{file}/accept_dad"), "0");
    }
    for step in setup {
        ip(step)?;
    }
    Ok(())
}

/// Output of `ip ARGS` in the calling thread's namespace.
fn ip_output(args: &str) -> String {
    Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Waits (bounded) until every interface that `steps` bring up carries traffic: its carrier is
/// up (a veth pair needs both ends up), and a non-loopback one has its IPv6 multicast route.
/// The kernel does both a moment after `ip link set … up`; a datagram sent before is dropped.
fn wait_links_up(steps: &[&str]) -> Result<(), String> {
    let devices: Vec<&str> = steps
        .iter()
        .filter_map(|s| {
            let words: Vec<&str> = s.split_whitespace().collect();
            match words.as_slice() {
                ["link", "set", dev, "up"] => Some(*dev),
                _ => None,
            }
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for dev in devices {
        loop {
            let link = ip_output(&format!("-o link show dev {dev}"));
            let carrier = link.contains("LOWER_UP");
            let routed = dev == "lo"
                || ip_output("-6 route show table local")
                    .lines()
                    .any(|l| l.contains("ff00::/8") && l.contains(&format!("dev {dev} ")));
            if carrier && routed {
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "the interface {dev} did not come up within 10 s: {}",
                    link.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(())
}

/// Runs `body` on a thread of its own in a new network namespace prepared with `setup` (each an
/// `ip` command line). `None` (after printing why) when no namespace can be made here.
pub fn in_netns<R: Send + 'static>(
    test: &str,
    setup: &[&str],
    body: impl FnOnce() -> R + Send + 'static,
) -> Option<R> {
    let setup: Vec<String> = setup.iter().map(|s| (*s).to_owned()).collect();
    let handle = std::thread::Builder::new()
        .name(format!("netns {test}"))
        .spawn(move || {
            let steps: Vec<&str> = setup.iter().map(String::as_str).collect();
            match enter(&steps).and_then(|()| wait_links_up(&steps)) {
                Ok(()) => Ok(body()),
                Err(why) => Err(why),
            }
        })
        .expect("a thread for the namespace");
    match handle.join() {
        Ok(Ok(r)) => Some(r),
        Ok(Err(why)) => {
            skip(test, &why);
            None
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Two namespaces joined by a veth pair: `link_a` in the first, `link_b` in the second. Each is
/// prepared with its `setup` (after the link is in it), then `a` and `b` run at the same time,
/// each on its namespace's thread.
pub fn two_netns<A, B>(
    test: &str,
    (link_a, setup_a): (&str, &[&str]),
    (link_b, setup_b): (&str, &[&str]),
    a: impl FnOnce() -> A + Send + 'static,
    b: impl FnOnce() -> B + Send + 'static,
) -> Option<(A, B)>
where
    A: Send + 'static,
    B: Send + 'static,
{
    let (link_a, link_b) = (link_a.to_owned(), link_b.to_owned());
    let setup_a: Vec<String> = setup_a.iter().map(|s| (*s).to_owned()).collect();
    let setup_b: Vec<String> = setup_b.iter().map(|s| (*s).to_owned()).collect();
    let name = test.to_owned();
    let outer = in_netns(test, &[], move || -> Result<(A, B), String> {
        // The second namespace: its thread says who it is, waits for its end of the link, then
        // prepares itself and runs `b`.
        let (tid_tx, tid_rx) = bounded::<Result<i32, String>>(1);
        let (go_tx, go_rx) = bounded::<bool>(1);
        let (ready_tx, ready_rx) = bounded::<Result<(), String>>(1);
        let peer = std::thread::Builder::new()
            .name(format!("netns {name} (b)"))
            .spawn(move || -> Option<B> {
                if let Err(why) = enter(&[]) {
                    let _ = tid_tx.send(Err(why));
                    return None;
                }
                let _ = tid_tx.send(Ok(nix::unistd::gettid().as_raw()));
                if !go_rx.recv_timeout(Duration::from_secs(20)).unwrap_or(false) {
                    return None;
                }
                let steps: Vec<&str> = setup_b.iter().map(String::as_str).collect();
                // The first namespace has brought its end up already.
                let prepared = steps
                    .iter()
                    .try_for_each(|s| ip(s))
                    .and_then(|()| wait_links_up(&steps));
                let ok = prepared.is_ok();
                let _ = ready_tx.send(prepared);
                ok.then(b)
            })
            .map_err(|e| e.to_string())?;
        let tid = tid_rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|e| e.to_string())??;
        let linked = ip(&format!("link add {link_a} type veth peer name {link_b}"))
            .and_then(|()| ip(&format!("link set {link_b} netns {tid}")))
            .and_then(|()| setup_a.iter().try_for_each(|s| ip(s)));
        let _ = go_tx.send(linked.is_ok());
        linked?;
        ready_rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|e| e.to_string())??;
        let steps_a: Vec<&str> = setup_a.iter().map(String::as_str).collect();
        wait_links_up(&steps_a)?;
        let from_a = a();
        match peer.join() {
            Ok(Some(from_b)) => Ok((from_a, from_b)),
            Ok(None) => Err("the second namespace's thread ended early".to_owned()),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })?;
    match outer {
        Ok(both) => Some(both),
        Err(why) => {
            skip(test, &why);
            None
        }
    }
}
