//! The `socketlab` program: the window, or a command-line subcommand.

fn main() -> std::process::ExitCode {
    socketlab::cli::main()
}
