//! Writes Socket Lab's man pages, generated from the command-line definition (`socketlab::cli::Cli`),
//! so they always describe the program they ship with: `socketlab.1`, plus `socketlab-<subcommand>.1`
//! for every subcommand.
//!
//! ```sh
//! cargo run --example gen_manpage -- target/man
//! ```
//!
//! `packaging/linux/build-deb.sh` runs this before `cargo deb`, which packs the pages it wrote.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out_dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen_manpage <output directory>");
        return ExitCode::from(2);
    };
    let out_dir = PathBuf::from(out_dir);
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("gen_manpage: cannot create {}: {e}", out_dir.display());
        return ExitCode::from(1);
    }
    let command = socketlab::cli::Cli::command();
    match clap_mangen::generate_to(command, &out_dir) {
        Ok(()) => {
            println!("gen_manpage: wrote man pages to {}", out_dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "gen_manpage: cannot write man pages to {}: {e}",
                out_dir.display()
            );
            ExitCode::from(1)
        }
    }
}
