//! Every user-visible string of the teaching features (Lookup tab, explanations, checklists,
//! sequence diagram, demos, the "TCP or UDP?" guide, presentation mode), in one place. Kept apart
//! from [`crate::gui::text`] so the two can grow without stepping on each other.
//!
//! Proportional text stays within the glyphs of the bundled Ubuntu font (no arrows or ticks:
//! those are drawn in monospace, whose Hack font has them).

use std::net::SocketAddr;

use crate::engine::services::{PortSpec, Protocol};

// ---- Lookup tab ----

/// Tab name.
pub const TAB_LOOKUP: &str = "Lookup";
/// Tab tooltip.
pub const TAB_LOOKUP_HINT: &str =
    "Ask the system's resolver: names to addresses, addresses to names, services to ports.";
/// Shown at the top of the tab.
pub const LOOKUP_INTRO: &str = "Before a program can connect to \"example.com\" it asks the system which addresses that name has (getaddrinfo). Everything below is the system's real answer, not a simulation.";
/// Heading.
pub const LOOKUP_FORWARD_HEADING: &str = "Name to addresses (getaddrinfo)";
/// Field label.
pub const LOOKUP_NAME: &str = "Name or address";
/// Field tooltip.
pub const LOOKUP_NAME_HINT: &str =
    "A host name (localhost, example.com) or an IP address (127.0.0.1, ::1).";
/// Field label.
pub const LOOKUP_SERVICE: &str = "Service";
/// Field tooltip.
pub const LOOKUP_SERVICE_HINT: &str =
    "Optional: a service name (http) or a port number; each address then carries that port.";
/// Placeholder of optional fields.
pub const OPTIONAL: &str = "optional";
/// Button.
pub const LOOKUP_BUTTON: &str = "Look up";
/// Button tooltip.
pub const LOOKUP_BUTTON_HINT: &str =
    "Call getaddrinfo() with this name (runs in the background: an unknown name can take seconds).";
/// Button while a lookup runs.
pub const LOOKING_UP: &str = "Looking up…";
/// Before the first lookup.
pub const LOOKUP_FORWARD_EMPTY: &str = "Press Look up to see every address the system has for the name, one row per address family and socket type.";
/// Table headings.
pub const LOOKUP_COLUMNS: [&str; 5] = [
    "Family",
    "Socket type",
    "Protocol",
    "Canonical name",
    "Address",
];
/// Heading.
pub const LOOKUP_REVERSE_HEADING: &str = "Address to name (getnameinfo)";
/// Field label.
pub const LOOKUP_ADDRESS: &str = "IP address";
/// Field tooltip.
pub const LOOKUP_ADDRESS_HINT: &str = "An IPv4 or IPv6 address, such as 127.0.0.1 or ::1.";
/// Field label.
pub const LOOKUP_REVERSE_PORT: &str = "Port to name";
/// Field tooltip.
pub const LOOKUP_REVERSE_PORT_HINT: &str =
    "Optional: a port number whose service name getnameinfo should tell too.";
/// Error next to the address field.
pub const LOOKUP_ADDRESS_NOT_IP: &str =
    "Enter an IP address such as 127.0.0.1 or ::1 (a name belongs in the lookup above).";
/// Button.
pub const REVERSE_BUTTON: &str = "Reverse lookup";
/// Button tooltip.
pub const REVERSE_BUTTON_HINT: &str =
    "Call getnameinfo(): which name does the system give this address?";
/// Heading.
pub const SERVICES_HEADING: &str = "Service name and port";
/// Field label.
pub const SERVICE_QUERY: &str = "Service name or port";
/// Field tooltip.
pub const SERVICE_QUERY_HINT: &str =
    "A name such as http or domain gives its port; a number such as 443 gives its name.";
/// Empty service field.
pub const SERVICE_QUERY_EMPTY: &str = "Type a service name (http) or a port number (443).";
/// Where the services came from.
pub const SERVICES_FROM_SYSTEM: &str = "From the system's services database (/etc/services) — the same table every Port field of Socket Lab uses.";
/// Where the services came from.
pub const SERVICES_BUILT_IN: &str = "This system has no services file, so Socket Lab's built-in table of common services is used — the same table every Port field uses.";

/// A lookup thread could not be started.
pub fn lookup_thread_failed(why: &str) -> String {
    format!("The lookup could not start: the system refused a new thread ({why}).")
}

/// The call a forward table shows.
pub fn getaddrinfo_call(name: &str, port: Option<u16>, kind: Option<&str>, rows: usize) -> String {
    let service = port.map_or_else(|| "NULL".to_owned(), |p| format!("\"{p}\""));
    let hint = kind.map_or_else(String::new, |k| format!(", {k}"));
    let plural = if rows == 1 { "" } else { "s" };
    format!("getaddrinfo(\"{name}\", {service}{hint}) → {rows} result{plural}")
}

/// Under a forward table.
pub fn lookup_summary(rows: usize, addresses: usize) -> String {
    let plural = if addresses == 1 { "" } else { "es" };
    format!(
        "{addresses} different address{plural} in {rows} rows: each address is listed once per socket type (stream for TCP, datagram for UDP, raw)."
    )
}

/// The call a reverse answer shows.
pub fn getnameinfo_call(addr: SocketAddr) -> String {
    format!("getnameinfo({addr})")
}

/// A reverse answer.
pub fn reverse_answer(addr: &SocketAddr, host: Option<&str>, service: Option<&str>) -> String {
    let host = host.map_or_else(
        || format!("the system knows no name for {}", addr.ip()),
        |h| format!("{} is called {h}", addr.ip()),
    );
    let service = match (service, addr.port()) {
        (_, 0) => String::new(),
        (Some(s), p) => format!("; port {p} is the service {s}"),
        (None, p) => format!("; port {p} has no service name"),
    };
    format!("{host}{service}.")
}

/// One transport's line of the service translation.
pub fn service_row(proto: Protocol, spec: Option<&PortSpec>) -> String {
    match spec {
        Some(PortSpec {
            port,
            service: Some(name),
            ..
        }) => format!("{proto}: {name} = port {port}"),
        Some(PortSpec { port, .. }) => format!("{proto}: port {port} has no service name"),
        None => format!("{proto}: no service of that name"),
    }
}

// ---- explained transcript and step checklist ----

/// Checkbox over the transcript.
pub const EXPLAIN: &str = "Explain calls";
/// Its tooltip.
pub const EXPLAIN_HINT: &str =
    "Show under each socket call, in plain words, what it asks the system to do.";
/// Label before the checklist.
pub const STEPS: &str = "Steps:";
/// Its tooltip.
pub const STEPS_HINT: &str =
    "The calls this kind of socket makes, in order; each is ticked when it really happens.";
/// Mark of a step that happened.
pub const STEP_DONE_MARK: &str = "●";
/// Mark of a step that failed.
pub const STEP_FAILED_MARK: &str = "×";
/// Mark of a step not reached yet.
pub const STEP_PENDING_MARK: &str = "○";

/// The tooltip of a step.
pub fn step_hint(why: &str, state: crate::engine::explain::StepState) -> String {
    use crate::engine::explain::StepState;
    let now = match state {
        StepState::Done => "done",
        StepState::Failed => "failed — see the transcript",
        StepState::Pending => "not yet",
    };
    format!("{why} ({now})")
}

/// A call's explanation under it in the transcript.
pub fn explained(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!("↳ {why}")
    }
}
