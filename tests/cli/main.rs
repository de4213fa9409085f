//! The command line as a user runs it: the real `socketlab` binary against real loopback peers.

#[path = "../support/common.rs"]
mod common;
#[path = "../support/normal_user.rs"]
mod normal_user;
#[path = "../support/tls.rs"]
mod tls_support;

mod bad_input;
mod permission;
mod subcommands;
mod tls;
