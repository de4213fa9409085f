//! The window, driven with `egui_kittest` on real loopback sockets, one module per area. One binary
//! for all of them; `gui_close` stays apart because it counts the process's threads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "../support/gui.rs"]
mod gui_support;
#[cfg(target_os = "linux")]
#[path = "../support/netns.rs"]
mod netns;
#[path = "../support/tls.rs"]
mod tls_support;

mod bad_input;
mod devtools;
mod files;
mod flood;
mod fonts;
mod idle;
mod inert;
mod layout;
mod log;
#[cfg(target_os = "linux")]
mod multicast;
mod peers;
mod safety;
mod sessions;
mod tcp;
mod teach;
mod tls;
mod tools;
mod udp;
mod workspace_files;
mod workspace_window;
