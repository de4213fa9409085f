//! The `socketlab` program.

fn main() {
    println!(
        "Socket Lab {} — the window arrives with the GUI issue.",
        env!("CARGO_PKG_VERSION")
    );
}
