//! The command line: `socketlab <subcommand>` drives the same engine as the window, headless.
//! With no subcommand the window opens.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Socket Lab: click through real TCP and UDP sockets and see what they do.
#[derive(Debug, Parser)]
#[command(name = "socketlab", version, about)]
pub struct Cli {
    /// What to do; without one, the window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {}

/// Runs the program: parses arguments, opens the window or runs a subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => match crate::gui::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Socket Lab could not open its window: {e}");
                ExitCode::from(1)
            }
        },
        Some(command) => match command {},
    }
}
