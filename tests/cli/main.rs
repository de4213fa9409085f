//! The command line as a user runs it: the real `socketlab` binary against real loopback peers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly; that is its job

#[path = "../support/common.rs"]
mod common;
#[cfg(target_os = "linux")]
#[path = "../support/netns.rs"]
mod netns;
#[cfg(unix)]
#[path = "../support/normal_user.rs"]
mod normal_user;
#[path = "../support/tls.rs"]
mod tls_support;

mod bad_input;
mod child;
mod framing;
#[cfg(target_os = "linux")]
mod multicast;
mod permission;
mod relay;
mod script;
mod subcommands;
mod tls;
mod traffic;
