//! The window, driven with `egui_kittest` on real loopback sockets, one module per area. One binary
//! for all of them; `gui_close` stays apart because it counts the process's threads.

#[path = "../support/gui.rs"]
mod gui_support;

mod bad_input;
mod files;
mod flood;
mod fonts;
mod inert;
mod log;
mod peers;
mod safety;
mod tcp;
mod teach;
mod tools;
mod udp;
