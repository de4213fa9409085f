//! The engine against real loopback peers, one module per feature. One binary for the area, so
//! the crate and eframe are linked once rather than once per file. Tests that count the process's
//! own threads or file descriptors live in binaries of their own (`engine_lifecycle`,
//! `engine_leaks`): other tests running beside them would change the counts.

#[path = "../support/common.rs"]
mod common;

mod autoreply;
mod capture;
mod faults;
mod file_send;
mod lookup;
mod pass_on;
mod periodic;
mod tcp;
mod udp;
