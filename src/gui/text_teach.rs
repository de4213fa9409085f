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
    let what = if addresses == 1 {
        "1 address".to_owned()
    } else {
        format!("{addresses} different addresses")
    };
    format!(
        "{what} in {rows} rows: each address is listed once per socket type (stream for TCP, datagram for UDP, raw)."
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

// ---- demos ----

use crate::gui::demo_id::DemoId;

impl DemoId {
    /// Its title (the menu item).
    pub fn title(self) -> &'static str {
        demo_title(self)
    }

    /// What to watch.
    pub fn caption(self) -> &'static str {
        demo_caption(self)
    }
}

/// A demo's menu title.
pub fn demo_title(id: DemoId) -> &'static str {
    match id {
        DemoId::Stream => "TCP is a stream",
        DemoId::HalfClose => "Half-close",
        DemoId::OwnPort => "Every connection gets its own port",
        DemoId::NothingListening => "Nothing is listening",
        DemoId::DatagramSize => "How big can a datagram be?",
        DemoId::OneName => "One name, several addresses",
        DemoId::WhoWaits => "Who waits after close?",
        DemoId::LossyUdp => "UDP can lose, TCP cannot",
    }
}

/// What to watch in a demo.
pub fn demo_caption(id: DemoId) -> &'static str {
    match id {
        DemoId::Stream => {
            "The client sends three short messages back to back. Watch the server's recv calls: TCP delivers a stream of bytes, not messages, so they often arrive in fewer, larger reads. Then the same over UDP: three datagrams, three receives, each whole."
        }
        DemoId::HalfClose => {
            "The client sends a question and then shuts down its sending side (FIN). Watch the server's recv return 0 (end of stream) — and the server still answers, because only one direction is closed."
        }
        DemoId::OwnPort => {
            "Two clients connect to the same server. Watch the client's local port: the system gives each connection its own ephemeral port, so the server can tell them apart."
        }
        DemoId::NothingListening => {
            "Nobody listens on the port. TCP: the system answers the connection attempt with a reset (\"connection refused\"). UDP: a datagram goes out and nothing comes back — unless the socket is connected, then the refusal is reported."
        }
        DemoId::DatagramSize => {
            "A UDP datagram over IPv4 carries at most 65,507 bytes (65,535 minus the IP and UDP headers). Watch 65,507 bytes arrive in one piece, and 65,508 be refused."
        }
        DemoId::WhoWaits => {
            "The client closes first. Watch the system's own table of TCP states (read from the kernel, not guessed): the closing side goes FIN-WAIT-2 and then TIME-WAIT — still listed after the program's socket is gone — while the other side waits in CLOSE-WAIT until it closes too."
        }
        DemoId::LossyUdp => {
            "100 numbered datagrams go through a relay on this computer that drops 20% of them (a fixed seed: the same ones each time). Watch which numbers never arrive. Then the same 100 numbers over TCP through a relay: all arrive, in order — a stream cannot lose bytes without the connection failing."
        }
        DemoId::OneName => {
            "Ask the system's resolver for \"localhost\". Watch every row: one per address and socket type. Many desktops give both 127.0.0.1 and ::1; some only 127.0.0.1 — this is what this system really answers."
        }
    }
}

/// Heading of the demos list.
pub const DEMOS: &str = "Demos";
/// Tooltip of the demos menu.
pub const DEMOS_HINT: &str =
    "Short scenes on real sockets on this computer (loopback), each with what to watch.";
/// Tab name.
pub const TAB_LEARN: &str = "Learn";
/// Tab tooltip.
pub const TAB_LEARN_HINT: &str = "Demos on real sockets, and when to choose TCP or UDP.";
/// While a scene plays.
pub const DEMO_RUNNING: &str = "Playing on real sockets on 127.0.0.1…";
/// Before any demo.
pub const DEMO_NONE: &str =
    "Pick a demo: it starts a server and a client on this computer and plays a short scene.";
/// Button that replays the shown demo.
pub const DEMO_AGAIN: &str = "Play again";
/// Heading of a demo's results.
pub const DEMO_RESULTS: &str = "What it showed:";
/// Side labels in a scene.
pub const DEMO_CLIENT: &str = "client";
/// Side labels in a scene.
pub const DEMO_SERVER: &str = "server";
/// Where a scene waited.
pub const DEMO_WAIT_LISTEN: &str = "the server to listen";
/// Where a scene waited.
pub const DEMO_WAIT_CONNECT: &str = "the client to connect";
/// Where a scene waited.
pub const DEMO_WAIT_ACCEPT: &str = "the server to accept";
/// Where a scene waited.
pub const DEMO_WAIT_SEND: &str = "a send to go out";
/// Where a scene waited.
pub const DEMO_WAIT_RECEIVE: &str = "data to arrive";
/// Where a scene waited.
pub const DEMO_WAIT_BIND: &str = "the UDP socket to be ready";
/// Where a scene waited.
pub const DEMO_WAIT_SHUTDOWN: &str = "the client to shut down sending";
/// Where a scene waited.
pub const DEMO_WAIT_END: &str = "the end of the stream";
/// Where a scene waited.
pub const DEMO_WAIT_REFUSED: &str = "the system to refuse";
/// Narration.
pub const DEMO_STREAM_UDP_PART: &str =
    "Now the same three messages as UDP datagrams to a UDP server:";
/// Narration.
pub const DEMO_HALF_CLOSE_SENT_FIN: &str =
    "The client has sent FIN: it will send nothing more, but it keeps reading.";
/// Narration.
pub const DEMO_HALF_CLOSE_SERVER_SAW_END: &str = "The server's recv returned 0: end of stream. Its own sending side is still open, so it answers:";
/// Narration.
pub const DEMO_NOTHING_LISTENING_RESULT: &str = "So: TCP tells you at once that nobody is there. UDP only hears about it when the socket is connected — otherwise a lost datagram and an absent server look the same.";
/// Narration.
pub const DEMO_DATAGRAM_RESULT: &str = "In practice, keep datagrams well under 1,500 bytes: larger ones are split into IP fragments, and losing one fragment loses the whole datagram.";

/// Where a scene waited.
pub const DEMO_WAIT_CLOSE: &str = "the connection to close";
/// Where a scene waited.
pub const DEMO_WAIT_RELAY: &str = "the relay to forward";
/// Narration.
pub const WHO_WAITS_CLIENT_CLOSES: &str = "The client closes its socket first: its FIN goes out.";
/// Narration.
pub const WHO_WAITS_SERVER_CLOSES: &str =
    "The client program's socket is gone now. The server closes too: its FIN goes out.";
/// Narration.
pub const WHO_WAITS_UNAVAILABLE: &str =
    "This system's table of TCP states cannot be read here, so the states cannot be shown.";
/// Narration.
pub const LOSSY_TCP_RELAY: &str = "Now 100 numbered lines over TCP, through a relay told to lose 20% as well — it cannot: below it, TCP already recovered anything the network lost, and a stream has no datagrams to drop.";

/// Narration: one side's state in the kernel's table.
pub fn who_waits_state(
    client: bool,
    local: SocketAddr,
    remote: SocketAddr,
    state: Option<crate::engine::tcp_state::TcpState>,
) -> String {
    let who = if client { "Client" } else { "Server" };
    match state {
        Some(s) => format!(
            "{who} side {local} ↔ {remote}: {} — {}",
            s.name(),
            s.explanation()
        ),
        None => format!(
            "{who} side {local} ↔ {remote}: no longer in the system's table (fully closed)."
        ),
    }
}

/// What "Who waits after close?" showed.
pub fn who_waits_result(time_wait: bool) -> String {
    if time_wait {
        "The side that closed first (the client) waits in TIME-WAIT — about a minute on Linux — although the program's socket is gone; the side that closed second passed through CLOSE-WAIT and is gone at once.".to_owned()
    } else {
        "The closing side did not show TIME-WAIT this time (the system may reuse or shorten it); the other side passed through CLOSE-WAIT.".to_owned()
    }
}

/// Narration.
pub fn lossy_relay_line(relay: SocketAddr, server: SocketAddr, loss: f64) -> String {
    format!(
        "A relay listens on {relay} and forwards to the UDP server on {server}, dropping {loss:.0}% of the datagrams."
    )
}

/// Narration.
pub fn lossy_sent_line(n: u32) -> String {
    format!("The client sends {n} datagrams to the relay: \"1\", \"2\", … \"{n}\".")
}

/// Narration.
pub fn lossy_udp_line(sent: u32, received: u32, missing: &[u32]) -> String {
    let shown: Vec<String> = missing.iter().take(30).map(u32::to_string).collect();
    let more = if missing.len() > shown.len() {
        format!(" and {} more", missing.len() - shown.len())
    } else {
        String::new()
    };
    format!(
        "UDP: {sent} sent, {received} arrived, {} lost on the way. Missing: {}{more}. Nobody was told: UDP does not notice loss.",
        missing.len(),
        if shown.is_empty() {
            "none".to_owned()
        } else {
            shown.join(", ")
        }
    )
}

/// Narration.
pub fn lossy_tcp_line(sent: u32, received: u32, in_order: bool) -> String {
    let order = if in_order {
        "in order"
    } else {
        "out of order (unexpected)"
    };
    format!("TCP: {sent} sent, {received} arrived, {order}.")
}

/// What "UDP can lose, TCP cannot" showed.
pub fn lossy_result(sent: u32, udp: u32, tcp: u32) -> String {
    format!(
        "Over UDP {udp} of {sent} messages arrived and the rest were simply gone; over TCP {tcp} of {sent} arrived, in order. If every message matters, use TCP — or make the UDP program count and ask again."
    )
}

/// A scene step that did not happen in time.
pub fn demo_timed_out(what: &str) -> String {
    format!("The demo stopped: it waited 5 s for {what}, and it did not happen.")
}

/// A scene's thread could not start.
pub fn demo_thread_failed(why: &str) -> String {
    format!("The demo could not start: the system refused a new thread ({why}).")
}

/// No free port could be found.
pub fn demo_no_free_port(why: &str) -> String {
    format!("The demo could not find a free port on 127.0.0.1 ({why}).")
}

/// Narration.
pub fn stream_result(sends: usize, reads: usize, bytes: usize) -> String {
    let how = if reads < sends {
        "fewer reads than sends: the bytes of several sends came out of one recv"
    } else {
        "this time each send happened to arrive in its own read — play again, it can differ: the boundaries are not part of the stream"
    };
    let reads_text = if reads == 1 {
        "1 read".to_owned()
    } else {
        format!("{reads} reads")
    };
    format!("{sends} sends, {reads_text} of {bytes} bytes in all: {how}.")
}

/// Narration.
pub fn datagram_result(sends: usize, receives: usize) -> String {
    format!(
        "{sends} datagrams sent, {receives} received: each recvfrom returned exactly one whole datagram."
    )
}

/// Narration.
pub fn half_close_result(reply: usize) -> String {
    format!(
        "The client received the {reply}-byte answer after it had stopped sending: a half-closed connection still carries data the other way."
    )
}

/// Narration.
pub fn own_port_line(n: usize, local: SocketAddr, peer: SocketAddr, server: SocketAddr) -> String {
    format!(
        "Connection {n}: the client is {local}, the server sees it as {peer}, both talk to {server}."
    )
}

/// Narration.
pub fn own_port_result(ports: &[u16], server_port: u16) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let differ = ports.windows(2).all(|w| w[0] != w[1]);
    let verdict = if differ {
        "different ports"
    } else {
        "the same port (unexpected)"
    };
    format!(
        "Local ports {}: {verdict}. The server's port stays {server_port}; each connection is told apart by the four numbers client address, client port, server address, server port.",
        list.join(" and ")
    )
}

/// Narration.
pub fn nothing_listening_tcp(target: SocketAddr) -> String {
    format!("TCP: connect to {target}, where nothing listens.")
}

/// Narration.
pub fn nothing_listening_udp(target: SocketAddr) -> String {
    format!("UDP: send a datagram to {target} from an unconnected socket, and wait for a reply.")
}

/// Narration.
pub fn nothing_listening_udp_connected(target: SocketAddr) -> String {
    format!("UDP again, but the socket is connected to {target} first:")
}

/// Narration.
pub fn udp_silence(silent: bool) -> String {
    if silent {
        "Nothing came back, and no error either: sendto succeeded even though nobody received the datagram.".to_owned()
    } else {
        "Something came back this time.".to_owned()
    }
}

/// Narration: what the system said.
pub fn said(sentence: &str) -> String {
    format!("The system said: {sentence}")
}

/// Narration.
pub fn datagram_try(bytes: usize) -> String {
    format!("Sending one datagram of {bytes} bytes:")
}

/// Narration.
pub fn datagram_refused(bytes: usize, sentence: &str) -> String {
    format!("{bytes} bytes were refused: {sentence}")
}

/// Narration.
pub fn datagram_arrived(bytes: usize) -> String {
    format!("{bytes} bytes arrived whole: one recvfrom returned them all.")
}

/// Narration.
pub fn one_name_asking(name: &str) -> String {
    format!("Asking the resolver for every address of \"{name}\" (no socket type given):")
}

/// Explanation of the lookup in the "one name" demo.
pub const DEMO_GETADDRINFO_WHY: &str =
    "ask the system's resolver which addresses this name has, for every socket type";

/// Narration: one getaddrinfo row.
pub fn one_name_row(family: &str, kind: &str, ip: std::net::IpAddr) -> String {
    format!("  {family:<9} {kind:<12} {ip}")
}

/// Narration.
pub fn one_name_result(distinct: &[std::net::IpAddr]) -> String {
    let list: Vec<String> = distinct.iter().map(ToString::to_string).collect();
    let plural = if distinct.len() == 1 { "" } else { "es" };
    format!(
        "{} address{plural}: {}. A client tries them in order until one connects.",
        distinct.len(),
        list.join(", ")
    )
}

// ---- "TCP or UDP?" guide ----

/// Heading of the guide.
pub const GUIDE_HEADING: &str = "TCP or UDP?";
/// First line of the guide.
pub const GUIDE_INTRO: &str = "Both carry bytes between programs; they promise different things. Each point links to a demo that shows it.";
/// Heading.
pub const GUIDE_TCP: &str = "Choose TCP when…";
/// Points, each with the demo that shows it.
pub const GUIDE_TCP_POINTS: &[(&str, DemoId)] = &[
    (
        "all the data must arrive, complete and in order (TCP resends what is lost; the reader gets one stream of bytes)",
        DemoId::Stream,
    ),
    (
        "there is a lot of it: a stream has no size limit per message",
        DemoId::Stream,
    ),
    (
        "setting up a connection first is acceptable (a handshake, and a port of its own per connection)",
        DemoId::OwnPort,
    ),
    (
        "you want to know when the other side is gone or the conversation is over",
        DemoId::HalfClose,
    ),
];
/// Heading.
pub const GUIDE_UDP: &str = "Choose UDP when…";
/// Points, each with the demo that shows it.
pub const GUIDE_UDP_POINTS: &[(&str, DemoId)] = &[
    (
        "losing a message now and then is acceptable, or the program itself asks again (nothing tells the sender)",
        DemoId::NothingListening,
    ),
    (
        "it is simple request and response: each datagram arrives whole, as one message",
        DemoId::Stream,
    ),
    (
        "it must be fast to start: no connection, the first datagram is the first packet",
        DemoId::Stream,
    ),
    (
        "messages are small: a datagram carries at most about 64 KB, and in practice usually under 1 KB",
        DemoId::DatagramSize,
    ),
];

/// A guide point's link.
pub fn guide_link(demo: &str) -> String {
    format!("demo: {demo}")
}

// ---- presentation mode ----

/// Menu.
pub const VIEW: &str = "View";
/// Menu item.
pub const LARGE_TEXT: &str = "Large text (presentation)";
/// Its tooltip.
pub const LARGE_TEXT_HINT: &str = "Zoom everything to 175% for a projector; click again for normal size. Ctrl + and Ctrl - fine-tune.";
/// Theme choices.
pub const THEME_SYSTEM: &str = "Theme: as the system";
/// Theme choices.
pub const THEME_LIGHT: &str = "Theme: light";
/// Theme choices.
pub const THEME_DARK: &str = "Theme: dark";

// ---- sequence diagram ----

/// Section heading.
pub const SEQUENCE: &str = "Sequence diagram";
/// Its tooltip.
pub const SEQUENCE_HINT: &str = "What crossed between client and server on this connection, drawn from its real events: handshake, each send and receive with its size, FIN, close or reset.";
/// Before any connection.
pub const SEQ_EMPTY: &str = "No connection yet: the diagram draws itself once one is made.";
/// Arrow label.
pub const SEQ_HANDSHAKE: &str = "connect / accept: SYN, SYN-ACK, ACK";
/// Arrow label.
pub const SEQ_FIN_SHUTDOWN: &str = "FIN (shutdown: no more sending)";
/// Arrow label.
pub const SEQ_FIN_PEER: &str = "FIN (recv returned 0)";
/// Arrow label.
pub const SEQ_CLOSE: &str = "close: FIN";
/// Arrow label.
pub const SEQ_CLOSE_AFTER_PEER: &str = "close (after the peer's FIN)";
/// Arrow label.
pub const SEQ_RESET_SENT: &str = "RST (abort: reset, unsent data thrown away)";

/// Arrow label of data we sent.
pub fn seq_sent(n: usize) -> String {
    format!("send {n} B")
}

/// Arrow label of data we received: one arrow per read, which need not match the sends.
pub fn seq_received(n: usize) -> String {
    format!("{n} B (one recv)")
}

/// Arrow label of a failure.
pub fn seq_failed(why: &str) -> String {
    format!("ended: {why}")
}

/// A lane's heading.
pub fn seq_lane(who: &str, addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| who.to_owned(), |a| format!("{who}\n{a}"))
}

/// Arrows no longer drawn.
pub fn seq_hidden(n: u64) -> String {
    format!("{n} earlier arrows are not drawn (the newest are kept).")
}

// ---- chunks or lines ----

/// Label before the switch.
pub const RECEIVED_AS: &str = "Received data as:";
/// Switch choice.
pub const AS_CHUNKS: &str = "Chunks (each recv)";
/// Its tooltip.
pub const AS_CHUNKS_HINT: &str =
    "One row per recv() call: exactly the pieces the system handed over.";
/// Switch choice.
pub const AS_LINES: &str = "Lines (readline)";
/// Its tooltip.
pub const AS_LINES_HINT: &str = "The same bytes cut at each newline, the way a file-like reader (readline) hands them to a program.";
/// Above the lines.
pub const LINES_EXPLAINED: &str = "The same received bytes, cut at each newline. Compare with the chunks: one line may take several reads, and one read may hold several lines — the stream itself has no message boundaries.";
/// No lines yet.
pub const LINES_EMPTY: &str = "Nothing received yet.";

/// A complete line's row.
pub fn line_row(at: &str, who: &str, text: &str, len: usize, reads: u32, cut: bool) -> String {
    let reads = if reads == 1 {
        "1 read".to_owned()
    } else {
        format!("{reads} reads")
    };
    let cut = if cut {
        ", no newline yet: cut at 64 KiB"
    } else {
        ""
    };
    format!("{at}  {who}{len:>6} B  from {reads:<8}  {text}{cut}")
}

/// The unfinished line of a connection.
pub fn line_waiting(who: &str, text: &str, len: usize) -> String {
    format!("still waiting for the end of the line: {who}{len} B so far  {text}")
}

/// Lines no longer kept.
pub fn lines_hidden(n: u64) -> String {
    format!("{n} earlier lines are no longer shown (the newest are kept).")
}
