//! The engine against real loopback peers, one module per feature. One binary for the area, so
//! the crate and eframe are linked once rather than once per file. Tests that count the process's
//! own threads or file descriptors live in binaries of their own (`engine_lifecycle`,
//! `engine_leaks`): other tests running beside them would change the counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "../support/common.rs"]
mod common;
#[cfg(target_os = "linux")]
#[path = "../support/netns.rs"]
mod netns;
#[path = "../support/tls.rs"]
mod tls_support;

mod autoreply;
mod capture;
mod faults;
mod file_send;
mod framing;
mod generator;
mod lookup;
#[cfg(target_os = "linux")]
mod multicast;
mod pass_on;
mod periodic;
mod relay;
mod script;
mod step;
mod tcp;
mod tcp_state;
mod tls;
mod udp;
