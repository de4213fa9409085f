//! The `socketlab` program: the window, or a command-line subcommand.

// On Windows, a GUI-subsystem program opens without a console window behind it; the price is that
// it starts with no terminal at all, which `windows_console` gives back to the command line.
#![cfg_attr(windows, windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    #[cfg(windows)]
    windows_console::attach_to_parent_terminal();
    socketlab::cli::main()
}

#[cfg(windows)]
mod windows_console {
    use std::os::windows::io::{AsHandle, AsRawHandle};

    /// `ATTACH_PARENT_PROCESS` in the Windows API: the console of the process that started us.
    const ATTACH_PARENT_PROCESS: u32 = u32::MAX;

    /// Connects standard output and error to the terminal `socketlab` was started from, so
    /// `socketlab --help`, `--version`, parse errors and the subcommands print there.
    ///
    /// Only when there are arguments: a plain `socketlab` opens the window, and a window attached
    /// to a terminal would be closed with it. Only when standard output has no usable handle:
    /// output redirected to a file or a pipe (`> out.txt`, `| more`) already works and attaching
    /// would send it to the terminal instead. A handle that cannot even be duplicated is a stale
    /// console handle, not a redirection. Started from Explorer there is no parent console;
    /// attaching fails and there is nothing to show.
    pub fn attach_to_parent_terminal() {
        let has_arguments = std::env::args_os().len() > 1;
        let stdout = std::io::stdout();
        let redirected =
            !stdout.as_raw_handle().is_null() && stdout.as_handle().try_clone_to_owned().is_ok();
        if has_arguments && !redirected {
            let _no_parent_console =
                win32console::console::WinConsole::attach_console(ATTACH_PARENT_PROCESS);
        }
    }
}
