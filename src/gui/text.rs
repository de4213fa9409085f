//! Every string the window shows, in one place, so a second language can be added by replacing
//! this module (or turning it into a lookup) without hunting through the drawing code.
//!
//! Error sentences from the engine come from [`crate::engine::EngineError::plain_sentence`] and
//! the codecs' own `Display`, which the command line shares.

use std::net::SocketAddr;

// ---- window and tabs ----

/// The window title.
pub const APP_TITLE: &str = "Socket Lab";
/// Tab names.
pub const TAB_TCP_CLIENT: &str = "TCP client";
/// Tab names.
pub const TAB_TCP_SERVER: &str = "TCP server";
/// Tab names.
pub const TAB_UDP_CLIENT: &str = "UDP client";
/// Tab names.
pub const TAB_UDP_SERVER: &str = "UDP server";
/// Tooltips of the tab buttons.
pub const TAB_TCP_CLIENT_HINT: &str = "Connect to a TCP server and exchange bytes with it.";
/// Tooltips of the tab buttons.
pub const TAB_TCP_SERVER_HINT: &str = "Listen on a port and accept TCP connections from clients.";
/// Tooltips of the tab buttons.
pub const TAB_UDP_CLIENT_HINT: &str = "Send UDP datagrams to an address and see the replies.";
/// Tooltips of the tab buttons.
pub const TAB_UDP_SERVER_HINT: &str = "Bind a UDP port and see every datagram that arrives.";
/// Shown on a tab whose session is running.
pub const TAB_ACTIVE_MARK: &str = " •";
/// Toggle above the log.
pub const LOG_TOOLS: &str = "Find, export, memory";
/// Tooltip.
pub const LOG_TOOLS_HINT: &str = "Search and filter the log, choose how its text is decoded, export it to a file, and see or change how much memory it may use.";
/// Toggle: the socket calls beside the log.
pub const CALLS: &str = "Calls";
/// Tooltip.
pub const CALLS_HINT: &str = "Show or hide the socket calls (the transcript) beside the log; a narrow tile starts without them.";
/// Toggle: the tools drawer beside the log.
pub const TOOLS: &str = "Tools";
/// Tooltip.
pub const TOOLS_HINT: &str = "Socket options, saved messages, repeat, send a file, reply rules, capture, throughput and the sequence diagram, in a drawer beside the log.";

/// The first invalid field's sentence, and how many more there are (all are in the tooltip).
pub fn more_problems(first: &str, more: usize) -> String {
    format!("{first} (and {more} more: hover to see them)")
}

/// The state dot of a session tab: its tooltip while the session runs.
pub const DOT_RUNNING: &str = "running";

/// A session's title: its kind and the address it talks to (`TCP client → 127.0.0.1:9000`) or
/// listens on (`TCP server on 127.0.0.1:9000`).
pub fn session_title(kind: &str, client: bool, address: &str) -> String {
    if client {
        format!("{kind} → {address}")
    } else {
        format!("{kind} on {address}")
    }
}

/// A session's address as its title shows it: host and port, IPv6 in brackets.
pub fn host_port(host: &str, port: &str) -> String {
    let host = host.trim();
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", port.trim())
    } else {
        format!("{host}:{}", port.trim())
    }
}

// ---- fields ----

/// Label of a host field (where to connect or send).
pub const HOST: &str = "Host";
/// Label of a bind-address field.
pub const BIND_ADDRESS: &str = "Bind address";
/// Tooltip of the log's memory budget.
pub const LOG_BUDGET_HINT: &str = "The most memory this tab's log may hold (each entry and its data, up to 64 KiB). When it is full the oldest entries are hidden; the counters still count every byte, and the capture-to-file switch keeps everything. The engine's queue for the next session gets a quarter of this on top.";

/// Tooltip of the engine queue's share of the memory budget.
pub const QUEUE_BUDGET_HINT: &str = "Received data waiting for the window in the engine's queue, at most a quarter of the log budget; set when the session starts. Beyond it a TCP reader waits (TCP flow control slows the sender, nothing is lost) and a UDP reader counts datagrams as not shown.";

/// The engine queue's share of the budget, after the log budget field.
pub fn queue_memory(bytes: usize) -> String {
    format!("+ queue up to {} MiB", bytes / (1024 * 1024))
}

/// How much memory the log holds now, before its budget field.
pub fn log_memory(bytes: usize) -> String {
    format!("Log memory {:.1} MiB of", bytes as f64 / (1024.0 * 1024.0))
}

/// Badge next to a bind address that other machines can reach.
pub const REACHABLE_FROM_OTHERS: &str = "Reachable from other machines";
/// Note next to a loopback bind address.
pub const ONLY_THIS_COMPUTER: &str = "only this computer";
/// Tooltip of that note.
pub const ONLY_THIS_COMPUTER_HINT: &str =
    "A loopback address: programs on other machines cannot reach this socket.";

/// Label of every port field.
pub const PORT: &str = "Port";
/// Tooltip of a host field.
pub const HOST_HINT: &str = "A name (localhost, example.com) or an IP address (127.0.0.1, ::1). Names are looked up when you start.";
/// Tooltip of a bind-address field.
pub const BIND_HINT: &str =
    "127.0.0.1 is reachable only from this computer; 0.0.0.0 (or ::) from every network interface.";
/// Tooltip of a port field that may be 0.
pub const PORT_BIND_HINT: &str = "A number from 0 to 65535 or a service name (http, domain). 0 lets the system choose a free port.";
/// Tooltip of a port field that must be a real port.
pub const PORT_CONNECT_HINT: &str = "A number from 1 to 65535 or a service name (http, domain).";
/// A numeric option field that does not hold a number.
pub fn not_a_number(what: &str, min: u64, max: u64) -> String {
    format!("{what} must be a whole number from {min} to {max}.")
}

/// What a port field resolved to.
pub fn port_resolves_to(port: u16, service: Option<&str>, from_name: bool) -> String {
    match (service, from_name) {
        (Some(_), true) => format!("= port {port}"),
        (Some(name), false) => format!("({name})"),
        (None, _) if port == 0 => "(the system chooses)".to_owned(),
        (None, _) => String::new(),
    }
}

// ---- options ----

/// Heading of the options section.
pub const OPTIONS: &str = "Socket options";
/// Option label and tooltip.
pub const NODELAY: &str = "TCP_NODELAY";
/// Option label and tooltip.
pub const NODELAY_HINT: &str = "Send each small write at once instead of waiting to combine it with the next (turns Nagle off).";
/// Option label and tooltip.
pub const KEEPALIVE: &str = "SO_KEEPALIVE";
/// Option label and tooltip.
pub const KEEPALIVE_HINT: &str =
    "Probe an idle connection now and then, so a peer that vanished is eventually noticed.";
/// Option label and tooltip.
pub const RCVBUF: &str = "SO_RCVBUF (bytes)";
/// Option label and tooltip.
pub const RCVBUF_HINT: &str = "Size of the receive buffer to ask for; empty keeps the system's choice. The system may round or double it (see the transcript).";
/// Option label and tooltip.
pub const SNDBUF: &str = "SO_SNDBUF (bytes)";
/// Option label and tooltip.
pub const SNDBUF_HINT: &str =
    "Size of the send buffer to ask for; empty keeps the system's choice.";
/// Placeholder of an empty buffer-size field.
pub const SYSTEM_DEFAULT: &str = "system default";
/// Option label and tooltip.
pub const CONNECT_TIMEOUT: &str = "Connect timeout (s)";
/// Option label and tooltip.
pub const CONNECT_TIMEOUT_HINT: &str =
    "How long to wait for the other side to answer before giving up on an address.";
/// Option label and tooltip.
pub const REUSEADDR: &str = "SO_REUSEADDR";
/// Option label and tooltip (TCP).
pub const REUSEADDR_TCP_HINT: &str =
    "Allow listening again at once on a port that had connections a moment ago.";
/// Option label and tooltip (UDP).
pub const REUSEADDR_UDP_HINT: &str = "Allow several sockets to bind the same UDP port.";
/// Option label and tooltip.
pub const V6ONLY: &str = "IPV6_V6ONLY";
/// Option label and tooltip.
pub const V6ONLY_HINT: &str =
    "For an IPv6 bind address: accept IPv6 only. Off also accepts IPv4 on the same socket.";
/// Option label and tooltip.
pub const BACKLOG: &str = "listen() backlog";
/// Option label and tooltip.
pub const BACKLOG_HINT: &str =
    "How many finished handshakes may wait for accept() before new ones are refused or dropped.";
/// Option label and tooltip.
pub const MAX_CLIENTS: &str = "Client limit";
/// Option label and tooltip.
pub const MAX_CLIENTS_HINT: &str = "Most clients connected at once; one more is accepted, shown, and closed at once. You can change it while the server listens: clients already connected stay.";

/// How many connections the client limit has turned away so far.
pub fn clients_turned_away(count: u64) -> String {
    format!("{count} turned away by the limit")
}
/// Option label and tooltip.
pub const CLOSE_WHEN_FINISHED: &str = "Close when the client finishes sending";
/// Option label and tooltip.
pub const CLOSE_WHEN_FINISHED_HINT: &str = "Most servers close as soon as the client half-closes. Turn off to keep the connection open and still reply.";
/// Option label and tooltip.
pub const ECHO: &str = "Echo";
/// Option label and tooltip.
pub const ECHO_TCP_HINT: &str =
    "Send every received byte straight back to the client that sent it.";
/// Option label and tooltip.
pub const ECHO_UDP_HINT: &str = "Send every received datagram straight back to its sender.";
/// Option label and tooltip.
pub const UDP_CONNECT: &str = "connect() first";
/// Option label and tooltip.
pub const UDP_CONNECT_HINT: &str = "Fix the peer with connect(): only its datagrams are received, and \"nothing listening\" is reported as an error.";
/// Option label and tooltip.
pub const BROADCAST: &str = "SO_BROADCAST";
/// Option label and tooltip.
pub const BROADCAST_HINT: &str = "Allow sending to a broadcast address such as 255.255.255.255.";

// ---- buttons ----

/// Button.
pub const CONNECT: &str = "Connect";
/// Button.
pub const CONNECTING: &str = "Connecting…";
/// Button.
pub const SHUTDOWN_WRITE: &str = "Shut down sending";
/// Tooltip.
pub const SHUTDOWN_WRITE_HINT: &str =
    "Half-close: send a FIN so the peer sees the end of your data; you can still receive.";
/// Button.
pub const CLOSE: &str = "Close";
/// Tooltip.
pub const CLOSE_HINT: &str = "Close the connection gracefully, after what is queued has been sent.";
/// Button.
pub const ABORT: &str = "Abort";
/// Tooltip.
pub const ABORT_HINT: &str = "Reset the connection at once (SO_LINGER 0): unsent data is thrown away and the peer sees a reset.";
/// Button.
pub const LISTEN: &str = "Listen";
/// Button.
pub const STOP: &str = "Stop";
/// Button.
pub const OPEN_UDP: &str = "Open socket";
/// Tooltip.
pub const OPEN_UDP_CLIENT_HINT: &str =
    "Create the UDP socket (bound to a port the system picks) so you can send and hear replies.";
/// Button.
pub const BIND_UDP: &str = "Bind";
/// Button.
pub const SEND: &str = "Send";
/// Button.
pub const SEND_TO_ALL: &str = "All clients";
/// Button.
pub const DISCONNECT: &str = "Disconnect";
/// Button.
pub const CLEAR: &str = "Clear";
/// Button.
pub const USE_IN_CLIENT: &str = "Open a client to this server";
/// Tooltip of "Open a client to this server" before the server listens.
pub const USE_IN_CLIENT_WAITS: &str =
    "Once the server listens (or is bound), this shows a client session aimed at it.";
/// Tooltip of "Open a client to this server".
pub const USE_IN_CLIENT_HINT: &str = "Show a client session aimed at this address and port, ready to connect (an idle one if there is one, else a new one).";
/// Button.
pub const COPY: &str = "Copy";
/// Tooltip.
pub const COPY_HINT: &str = "Copy the address to the clipboard.";

// ---- status ----

/// Status heading.
pub const STATUS: &str = "Status";
/// States.
pub const STATE_IDLE: &str = "idle";
/// States.
pub const STATE_CONNECTING: &str = "connecting";
/// States.
pub const STATE_CONNECTED: &str = "connected";
/// States.
pub const STATE_LISTENING: &str = "listening";
/// States.
pub const STATE_BOUND: &str = "bound, receiving";
/// States.
pub const STATE_OPENING: &str = "opening";
/// States.
pub const STATE_READY: &str = "ready";
/// States.
pub const STATE_CLOSING: &str = "closing";
/// States.
pub const STATE_CLOSED: &str = "closed";
/// States: ended for a reason that is not an error.
pub fn closed_because(reason: &str) -> String {
    format!("{STATE_CLOSED} — {reason}")
}
/// States: ended by an error, which is explained right below the status line.
pub const STATE_FAILED: &str = "closed by an error (see below)";
/// Label before a server's own address.
pub const ADDRESS: &str = "on";
/// Label before the local address.
pub const LOCAL: &str = "local";
/// Label before the peer address.
pub const PEER: &str = "peer";
/// Shown when the peer has sent FIN.
pub const PEER_FINISHED: &str =
    "Peer finished sending (it sent FIN; you can still send until you close).";
/// Shown after our half-close.
pub const WRITE_SHUT: &str = "You shut down sending (FIN sent); receiving goes on.";
/// The exact counters, one half for each direction (`in: 7 bytes in 1 read`, `out: …`).
pub fn counters(bytes_in: u64, reads: u64, bytes_out: u64, writes: u64, udp: bool) -> [String; 2] {
    let (unit_in, unit_out) = if udp {
        (("datagram", "datagrams"), ("datagram", "datagrams"))
    } else {
        (("read", "reads"), ("write", "writes"))
    };
    [
        format!(
            "in: {} in {}",
            plural(bytes_in, ("byte", "bytes")),
            plural(reads, unit_in)
        ),
        format!(
            "out: {} in {}",
            plural(bytes_out, ("byte", "bytes")),
            plural(writes, unit_out)
        ),
    ]
}

/// Received datagrams that never reached the log (they are in the counters).
pub fn not_listed(datagrams: u64, bytes: u64) -> String {
    format!(
        "{} ({}) arrived faster than the window could list them: counted above, not listed below.",
        plural(datagrams, ("datagram", "datagrams")),
        plural(bytes, ("byte", "bytes"))
    )
}

/// "1 byte", "2 bytes".
fn plural(n: u64, (one, many): (&str, &str)) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

// ---- empty states and guidance ----

/// Guidance on an idle TCP client.
pub const TCP_CLIENT_EMPTY: &str = "Nothing here yet. Start a server (the TCP server tab, or any program listening on a port), enter its host and port above, and press Connect.";
/// Guidance on an idle TCP server.
pub const TCP_SERVER_EMPTY: &str = "Press Listen to open the port. Then connect to it from the TCP client tab (\"Open a client to this server\" opens one aimed at it), or from any other program.";
/// Guidance on a listening server with no client.
pub const TCP_SERVER_NO_CLIENTS: &str =
    "No client connected yet. Connect one from the TCP client tab or another program.";
/// Guidance on an idle UDP client.
pub const UDP_CLIENT_EMPTY: &str = "UDP has no connection: enter where to send, type a message and press Send; the socket opens by itself (Open socket opens it without sending). Start the UDP server tab first if you want something to answer.";
/// Guidance on an idle UDP server.
pub const UDP_SERVER_EMPTY: &str = "Press Bind to open the UDP port; every datagram that arrives is listed here with its sender. Send to it from the UDP client tab.";
/// Guidance once the socket is ready but nothing happened.
pub const LOG_EMPTY_RUNNING: &str =
    "Nothing sent or received yet. Type a message below and press Send (or Enter).";
/// Empty transcript.
pub const TRANSCRIPT_EMPTY: &str = "The socket calls this tab makes will be listed here, in order.";

// ---- the client table ----

/// Heading.
pub const CLIENTS: &str = "Connected clients";
/// Column.
pub const COL_CLIENT: &str = "#";
/// Column.
pub const COL_ADDRESS: &str = "Address";
/// Column.
pub const COL_SINCE: &str = "Connected since";
/// The menu that holds a client's buttons where the table is narrow.
pub const CLIENT_ACTIONS: &str = "Actions";
/// When a client connected, in its menu.
pub fn connected_since(clock: &str) -> String {
    format!("{COL_SINCE} {clock}")
}
/// Column.
pub const COL_IN: &str = "Bytes in";
/// Column.
pub const COL_OUT: &str = "Bytes out";
/// Column.
pub const COL_STATE: &str = "State";
/// Client states.
pub const CLIENT_OPEN: &str = "open";
/// Client states.
pub const CLIENT_PEER_FINISHED: &str = "finished sending";
/// Client states.
pub const CLIENT_WRITE_SHUT: &str = "you shut down sending";
/// Label of the "send to" choice.
pub const SEND_TO: &str = "Send to";
/// A client's short name in the table.
pub fn client_label(id: u64) -> String {
    format!("client {id}")
}
/// How to pick one client.
pub const SELECT_CLIENT_HINT: &str =
    "Send goes to every client; click a client in the table to send to it alone.";
/// Tooltip of a client's name in the table.
pub const PICK_CLIENT_HINT: &str =
    "Click to send to this client alone (\"All clients\" above sends to every one).";
/// Tooltip of the client table's title, which opens and closes it.
pub const CLIENT_TABLE_HINT: &str = "Show or hide the table of connected clients (their addresses, bytes, state and buttons). The log stays below it.";
/// A client's name in the table and in "send to".
pub fn client_name(id: u64, peer: &SocketAddr) -> String {
    format!("client {id} ({peer})")
}

// ---- UDP ----

/// Label of the reply target.
pub const REPLY_TO: &str = "Reply to";
/// Tooltip of the reply target.
pub const REPLY_TO_HINT: &str =
    "Where Send goes: follows the newest sender until you type another address here.";
/// Placeholder of the reply target before anyone sent something.
pub const REPLY_TO_NOBODY: &str = "no datagram yet";
/// The reply target is not an address.
pub const REPLY_TO_BAD: &str =
    "Enter an address with a port, such as 127.0.0.1:5000 or [::1]:5000.";
/// Label of the "follow the newest sender" checkbox.
pub const FOLLOW_SENDER: &str = "Follow the newest sender";
/// Tooltip.
pub const FOLLOW_SENDER_HINT: &str =
    "Keep the reply target set to whoever sent the newest datagram.";

// ---- the message editor ----

/// Label of the editor.
pub const MESSAGE: &str = "Message";
/// Placeholder of the editor.
pub const MESSAGE_HINT_TEXT: &str = "Type a message, then Enter (Up recalls earlier ones)";
/// Placeholder of the editor in hex mode.
pub const MESSAGE_HINT_HEX: &str = "Hex bytes, e.g. 48 65 6c 6c 6f";
/// Placeholder of the editor in escapes mode.
pub const MESSAGE_HINT_ESCAPES: &str = "Text with \\r \\n \\t \\0 \\xNN escapes";
/// Input modes.
pub const MODE_TEXT: &str = "Text";
/// Input modes.
pub const MODE_HEX: &str = "Hex";
/// Input modes.
pub const MODE_ESCAPES: &str = "Escapes";
/// Tooltip of the modes.
pub const MODE_HINT: &str = "How what you type becomes bytes: as UTF-8 text, as hex digits, or as text with \\n-style escapes.";
/// Line endings.
pub const ENDING_NONE: &str = "No line ending";
/// Line endings.
pub const ENDING_LF: &str = "LF";
/// Line endings.
pub const ENDING_CRLF: &str = "CRLF";
/// Tooltip of the line endings.
pub const ENDING_HINT: &str =
    "Appended to each message: nothing, LF (\\n, Unix) or CRLF (\\r\\n, most internet protocols).";
/// The byte count of the message to send.
pub fn message_size(n: usize) -> String {
    plural(n as u64, ("byte", "bytes"))
}
/// Why Send is off.
pub const SEND_NEEDS_CONNECTION: &str = "Connect first: there is no connection to send on.";
/// Why Send is off.
pub const SEND_NEEDS_LISTENING: &str = "Press Listen first, then wait for a client to connect.";
/// Why Send is off.
pub const SEND_NEEDS_BIND: &str = "Press Bind first, then wait for a datagram to reply to.";
/// Why Send is off.
pub const SEND_NEEDS_SOCKET: &str = "Open the socket first.";
/// Why Send is off.
pub const SEND_NEEDS_TARGET: &str =
    "Nobody to send to yet: wait for a datagram, or enter an address in Reply to.";
/// Why Send is off.
pub const SEND_NEEDS_CLIENT: &str = "No client is connected.";
/// Why Send is off.
pub const SEND_AFTER_SHUTDOWN: &str = "You shut down sending on this connection.";

// ---- the log and the transcript ----

/// Heading.
pub const LOG: &str = "Data";
/// Heading.
pub const TRANSCRIPT: &str = "Socket calls";
/// Display choice.
pub const SHOW_TEXT: &str = "Text view";
/// Display choice.
pub const SHOW_HEX: &str = "Hex view";
/// Tooltip of the log's display choice.
pub const SHOW_AS_HINT: &str = "Text shows control characters by name (CR, LF) and invalid UTF-8 as \\xNN; hex shows every byte.";
/// Direction marks.
pub const DIR_IN: &str = "◀ in";
/// Direction marks.
pub const DIR_OUT: &str = "▶ out";
/// Direction marks.
pub const DIR_ECHO: &str = "▶ echo";
/// Direction marks.
pub const DIR_NOTE: &str = "•";
/// The cap removed older rows.
pub fn hidden_entries(n: u64) -> String {
    if n == 1 {
        "1 older entry hidden (the log keeps the newest ones; the counters above count everything)"
            .to_owned()
    } else {
        format!(
            "{n} older entries hidden (the log keeps the newest ones; the counters above count everything)"
        )
    }
}
/// Byte count in a log row.
pub fn row_bytes(n: usize) -> String {
    format!("{n} B")
}
/// Shown after a preview that is shorter than the data.
pub fn row_more(n: usize) -> String {
    format!("(+{n} bytes not shown: click the row to see them all)")
}
/// The details line under the log for the selected row.
pub const DETAILS: &str = "Selected entry";
/// Tooltip of a log row.
pub const ROW_HINT: &str = "Click to see every byte of this entry as a hex dump.";
/// Button hiding the details.
pub const CLOSE_DETAILS: &str = "Hide details";
/// Button copying the selected entry as hex.
pub const COPY_HEX: &str = "Copy as hex";
/// What the details show.
pub fn details_summary(time: &str, peer: Option<SocketAddr>, len: usize, kept: usize) -> String {
    let peer = peer.map_or_else(String::new, |p| format!(" · {p}"));
    if kept < len {
        format!("{time}{peer} · {len} bytes; the first {kept} are kept and shown")
    } else {
        format!("{time}{peer} · {len} bytes")
    }
}

// ---- notes in the log ----

/// Log notes.
pub fn note_connected(local: &SocketAddr, peer: &SocketAddr) -> String {
    format!("connected: {local} → {peer}")
}
/// Log notes.
pub fn note_client_connected(id: u64, peer: &SocketAddr) -> String {
    format!("client {id} connected from {peer}")
}
/// Log notes.
pub fn note_rejected(peer: &SocketAddr, limit: usize) -> String {
    format!("refused {peer}: already {limit} clients (the limit)")
}
/// Log notes.
pub const NOTE_PEER_FINISHED: &str = "peer finished sending (FIN received)";
/// Log notes.
pub const NOTE_WRITE_SHUT: &str = "you shut down sending (FIN sent)";
/// Log notes.
pub fn note_disconnected(reason: &str) -> String {
    format!("disconnected: {reason}")
}
/// Log notes.
pub fn note_listening(local: &SocketAddr) -> String {
    format!("listening on {local}")
}
/// Log notes.
pub fn note_ready(local: &SocketAddr) -> String {
    format!("socket ready on {local}")
}
/// Log notes.
pub fn note_not_shown(datagrams: u64, bytes: u64) -> String {
    format!(
        "{datagrams} datagrams ({bytes} bytes) arrived faster than the window could show them; they are counted but not listed"
    )
}
/// Log notes.
pub fn note_stopped(reason: &str) -> String {
    format!("stopped: {reason}")
}

/// Stop reasons in the status line.
pub const REASON_STOPPED: &str = "you stopped it";

/// Tooltip of the mark next to an invalid field.
pub const INVALID_MARK_HINT: &str = "This field is not valid yet: see the sentence below.";

// ---- Everyday tools: encodings, periodic send, auto-reply ----

/// Label of the encoding menu.
pub const ENCODING: &str = "Encoding";
/// What the encoding menu does.
pub const ENCODING_HINT: &str = "How characters become bytes. Hex digits and \\xNN escapes are always raw bytes; a character the encoding cannot write is reported, never replaced.";
/// Label of the periodic interval field.
pub const PERIODIC_EVERY: &str = "Repeat every (ms)";
/// What the interval means.
pub const PERIODIC_EVERY_HINT: &str = "Send the message above again and again, this many milliseconds apart (1 or more). The timer runs in the engine, so it keeps time while the window is hidden.";
/// Label of the periodic count field.
pub const PERIODIC_TIMES: &str = "Times";
/// What the count means.
pub const PERIODIC_TIMES_HINT: &str =
    "How many times to send; leave empty to keep sending until you press Stop.";
/// Placeholder of the empty count.
pub const PERIODIC_UNTIL_STOPPED: &str = "until stopped";
/// Button that starts a periodic send.
pub const PERIODIC_START: &str = "Start repeating";
/// Button that stops it.
pub const PERIODIC_STOP: &str = "Stop repeating";

/// How far a periodic send got.
pub fn periodic_progress(sent: u64, count: Option<u64>, running: bool) -> String {
    let done = match count {
        Some(count) => format!("{sent} of {count} sent"),
        None => format!("{sent} sent"),
    };
    if running {
        format!("Repeating: {done}")
    } else {
        format!("Repeat finished: {done}")
    }
}
/// Why Start repeating is disabled with an empty or invalid message.
pub const PERIODIC_NEEDS_MESSAGE: &str =
    "Type a valid message above first: that is what will be repeated.";
/// Title of the auto-reply rules section.
pub const RULES: &str = "Reply rules";
/// Title of the rules section with the number of rules in force.
pub fn rules_title(n: usize) -> String {
    format!("Reply rules ({n} on)")
}
/// Switch for the rules.
pub const USE_RULES: &str = "Reply by rules";
/// What the rules do.
pub const USE_RULES_HINT: &str = "When data arrives, the first rule that matches sends its reply back to the sender, at once, from the engine. TCP is a stream: rules see each recv() as it comes, so a message split over two reads is matched in pieces.";
/// Shown when echo and rules are both on.
pub const RULES_ECHO_WINS: &str = "Echo is on: it answers instead of the rules.";
/// Start of a rule row.
pub fn rule_when(n: usize) -> String {
    format!("{n}. When the data")
}
/// Label of a rule's pattern field.
pub fn rule_match_label(n: usize) -> String {
    format!("Match {n}")
}
/// Label of a rule's reply field.
pub fn rule_reply_label(n: usize) -> String {
    format!("reply {n}")
}
/// Remove button of a rule.
pub fn rule_remove(n: usize) -> String {
    format!("Remove rule {n}")
}
/// What Remove does.
pub const RULE_REMOVE_HINT: &str = "Delete this rule.";
/// Button that adds a rule.
pub const ADD_RULE: &str = "Add rule";
/// What Add rule does.
pub const ADD_RULE_HINT: &str = "Add a rule at the end; the first rule that matches answers.";
/// Match kinds.
pub const RULE_EQUALS: &str = "equals";
/// Match kinds.
pub const RULE_CONTAINS: &str = "contains";
/// Match kinds.
pub const RULE_STARTS_WITH: &str = "starts with";
/// Which part of a rule an error is about.
pub const RULE_MATCH: &str = "what to match";
/// Which part of a rule an error is about.
pub const RULE_REPLY: &str = "the reply";
/// What the pattern field takes.
pub const RULE_MATCH_HINT: &str =
    "The bytes to look for in what arrives, as text, hex or text with escapes.";
/// What the reply field takes.
pub const RULE_REPLY_HINT: &str = "The bytes to send back when the rule matches.";
/// An equals rule with nothing to match.
pub const RULE_EMPTY_EQUALS: &str =
    "an empty \"equals\" can never match: data always has at least one byte.";
/// A rule with nothing to send.
pub const RULE_EMPTY_REPLY: &str = "the reply is empty: type what to send back.";
/// One rule's problem.
pub fn rule_error(n: usize, part: &str, problem: &str) -> String {
    format!("Rule {n}, {part}: {problem}")
}
/// Title of the saved-messages section.
pub fn saved_title(n: usize) -> String {
    format!("Saved messages ({n})")
}
/// Label of the name field.
pub const SAVED_NAME: &str = "Name";
/// What the name is for.
pub const SAVED_NAME_HINT: &str =
    "A short name for the message in the editor; its button sends it with one click.";
/// Button that saves the editor's message.
pub const SAVE_MESSAGE: &str = "Save message";
/// What Save does.
pub const SAVE_MESSAGE_HINT: &str = "Keep the editor's message (text, mode, line ending and encoding) under this name. Needs a name and a valid message; a message with the same name is replaced.";
/// What a saved message holds, shown next to it.
pub fn saved_preview(text: &str, encoding: &str) -> String {
    let short: String = text.chars().take(40).collect();
    let more = if text.chars().count() > 40 { "…" } else { "" };
    format!("{short}{more} ({encoding})")
}
/// Button that loads a saved message into the editor.
pub fn saved_edit(name: &str) -> String {
    format!("Edit {name}")
}
/// What Edit does.
pub const SAVED_EDIT_HINT: &str =
    "Put this message into the editor, to change it or send it from there.";
/// Button that deletes a saved message.
pub fn saved_delete(name: &str) -> String {
    format!("Delete {name}")
}
/// Label of the export/import file field.
pub const SAVED_FILE: &str = "JSON file";
/// What the file field is for.
pub const SAVED_FILE_HINT: &str =
    "Where Export writes the saved messages (as JSON) and Import reads them from.";
/// Placeholder of the file field.
pub const SAVED_FILE_PLACEHOLDER: &str = "/path/to/messages.json";
/// Export button.
pub const EXPORT: &str = "Export";
/// Import button.
pub const IMPORT: &str = "Import";
/// Export or Import without a file name.
pub const FILE_NEEDED: &str = "Type the path of a JSON file first.";
/// Export to an existing file, first press.
pub fn file_exists(file: &str) -> String {
    format!("{file} already exists. Press Export again to replace it, or choose another name.")
}
/// A file that could not be read or written.
pub fn file_error(what: &str, file: &str, error: &str) -> String {
    format!("Could not {what} {file}: {error}.")
}
/// A file name that names a folder.
pub fn is_a_folder(file: &str) -> String {
    format!("{file} is a folder: add the name of a file in it.")
}
/// A file that is not a saved-messages list.
pub fn import_not_json(error: &str) -> String {
    format!("That file is not a list of saved messages (JSON): {error}")
}
/// A file too big to be a saved-messages list.
pub fn import_too_big(file: &str, size: u64) -> String {
    format!("{file} is {size} bytes: too big to be a list of saved messages.")
}
/// The list is full.
pub fn saved_full(max: usize) -> String {
    format!("A tab keeps at most {max} saved messages; delete some first.")
}
/// Export done.
pub fn exported(n: usize, file: &str) -> String {
    format!("Wrote {n} messages to {file}.")
}
/// Import done.
pub fn imported(n: usize, file: &str) -> String {
    format!("Read {n} messages from {file}.")
}
/// Label of the log's search field.
pub const FILTER_TEXT: &str = "Find";
/// What the search field does.
pub const FILTER_TEXT_HINT: &str =
    "Show only rows whose data contains this text (letters in any case).";
/// Label of the log's peer filter.
pub const FILTER_PEER: &str = "Peer";
/// What the peer filter does.
pub const FILTER_PEER_HINT: &str =
    "Show only rows to or from an address containing this, e.g. :53122.";
/// Direction filter choices.
pub const FILTER_ALL: &str = "All directions";
/// Direction filter choices.
pub const FILTER_IN: &str = "Received";
/// Direction filter choices.
pub const FILTER_OUT: &str = "Sent";
/// Direction filter choices.
pub const FILTER_NOTES: &str = "Notes";
/// How many rows match.
pub fn filter_matches(shown: usize, of: usize) -> String {
    format!("{shown} of {of} rows match")
}
/// Title of the export section.
pub const EXPORT_LOG: &str = "Export the log";
/// Export formats.
pub const FORMAT_TEXT: &str = "Plain text";
/// Export formats.
pub const FORMAT_CSV: &str = "CSV";
/// Export formats.
pub const FORMAT_JSONL: &str = "JSON lines";
/// Label of the export file field.
pub const EXPORT_FILE: &str = "Export to file";
/// What the export file is.
pub const EXPORT_FILE_HINT: &str = "Where Export writes the rows shown now (after the filter). Each row holds the first 4 KiB of its data; the bytes and kept columns say when a row was cut.";
/// Export button.
pub const EXPORT_SHOWN: &str = "Export shown rows";
/// Export done.
pub fn log_exported(n: usize, file: &str) -> String {
    format!("Wrote {n} rows to {file}.")
}
/// Label of the log's direction filter.
pub const FILTER_DIRECTION: &str = "Show";
/// The capture switch.
pub const CAPTURE: &str = "Capture to file";
/// What capturing does on a TCP server.
pub const CAPTURE_TCP_HINT: &str = "Write every byte each client sends, in order, to a file of its own (dump.bin gives dump-1.bin, dump-2.bin, ...). The receiving threads write it, so nothing is lost even when the log shows only part.";
/// What capturing does on a UDP server.
pub const CAPTURE_UDP_HINT: &str = "Write the payload of every datagram, in arrival order, to the file. The receiving thread writes it, so nothing is lost even when the log shows only part.";
/// Label of the capture file field.
pub const CAPTURE_FILE: &str = "Capture file";
/// What the capture file is.
pub const CAPTURE_FILE_HINT: &str = "The file to write received bytes to; on a TCP server, the name each client's file is made from.";
/// Placeholder of the capture file.
pub const CAPTURE_FILE_PLACEHOLDER: &str = "/path/to/capture.bin";
/// Capture on without a file.
pub const CAPTURE_NEEDS_FILE: &str = "Type the path of the capture file (or switch capturing off).";
/// Offer to replace existing capture files.
pub const CAPTURE_REPLACE: &str = "Replace existing files";
/// What Replace does.
pub const CAPTURE_REPLACE_HINT: &str =
    "Overwrite what is there when capturing starts. Asked each time; never remembered.";
/// Shown while capturing.
pub fn capturing_to(path: &str, per_client: bool) -> String {
    if per_client {
        format!("Capturing each client's bytes to files named after {path}")
    } else {
        format!("Capturing every datagram's payload to {path}")
    }
}
/// Copies a log entry's data as text.
pub const COPY_TEXT: &str = "Copy as text";
/// Label of the log's display encoding.
pub const SHOW_ENCODING: &str = "Decode as";
/// What the display encoding does.
pub const SHOW_ENCODING_HINT: &str = "How the log turns bytes into characters for display. The bytes themselves (hex, capture, export's hex column) do not change.";
/// Title of the throughput plot.
pub const THROUGHPUT: &str = "Throughput";
/// Axis and series names of the throughput plot.
pub const THROUGHPUT_X: &str = "seconds ago";
/// Axis and series names of the throughput plot.
pub const THROUGHPUT_Y: &str = "bytes/s";
/// Axis and series names of the throughput plot.
pub const THROUGHPUT_IN: &str = "in";
/// Axis and series names of the throughput plot.
pub const THROUGHPUT_OUT: &str = "out";
/// Totals under the throughput title.
pub fn throughput_totals(bytes_in: u64, bytes_out: u64) -> String {
    format!("Total: {bytes_in} bytes in, {bytes_out} bytes out (this session, exact)")
}

// ---- send a file, and the native dialogs ----

/// Label of the file-to-send field.
pub const FILE_TO_SEND: &str = "File to send";
/// What the file field is.
pub const FILE_TO_SEND_HINT: &str = "The file whose bytes go out, exactly as they are on disk. Type a path, or choose one with the button next to it.";
/// Placeholder of the file field.
pub const FILE_TO_SEND_PLACEHOLDER: &str = "/path/to/file.bin";
/// Opens the native dialog for the file to send.
pub const CHOOSE_FILE: &str = "Choose…";
/// Opens the native save dialog.
pub const CHOOSE_SAVE_FILE: &str = "Choose file…";
/// Title of the open dialog.
pub const CHOOSE_FILE_TITLE: &str = "Choose the file to send";
/// Title of the log export's save dialog.
pub const EXPORT_DIALOG_TITLE: &str = "Export the shown log rows to";
/// Title of the capture file's save dialog.
pub const CAPTURE_DIALOG_TITLE: &str = "Capture received bytes to";
/// Shown when no dialog could be opened.
pub const DIALOG_UNAVAILABLE: &str = "No file dialog could be opened (this desktop has no xdg-desktop-portal file chooser, and zenity is not installed). Type the path in the field instead.";
/// The button that starts sending the file.
pub const SEND_FILE: &str = "Send file";
/// What Send file does over TCP.
pub const SEND_FILE_TCP_HINT: &str = "Send the whole file over the connection, in order with your other messages. The engine reads and sends it in 64 KiB pieces, so even a huge file does not pass through the window.";
/// What Send file does over UDP.
pub const SEND_FILE_UDP_HINT: &str = "Send the file cut into datagrams of the size below (the last one may be shorter). UDP does not resend lost datagrams or slow down for the receiver: use a pause between datagrams for slow receivers, and TCP for big files (UDP sends at most 64 MiB).";
/// Cancels the file send.
pub const CANCEL_FILE: &str = "Cancel";
/// What Cancel does.
pub const CANCEL_FILE_HINT: &str = "Stop sending the file. What has gone out stays sent (the peer has it); the connection stays open.";
/// Label of the datagram size field.
pub const DATAGRAM_SIZE: &str = "Datagram size (bytes)";
/// What the datagram size is.
pub const DATAGRAM_SIZE_HINT: &str = "Payload bytes per datagram: 1 to 65,507 over IPv4, 65,527 over IPv6. 1,472 fits one Ethernet frame without IP fragmentation.";
/// Label of the pause between datagrams.
pub const DATAGRAM_GAP: &str = "Pause between datagrams (µs)";
/// What the pause does.
pub const DATAGRAM_GAP_HINT: &str = "Wait this long after each datagram (0 to 1,000,000 µs), so a receiver that reads slower than we send does not lose datagrams.";
/// The file field is empty.
pub const FILE_NEEDS_PATH: &str = "Type the path of a file, or choose one.";

/// The progress bar's text.
pub fn file_progress(sent: u64, total: u64, rate: Option<f64>) -> String {
    let percent = if total == 0 {
        100.0
    } else {
        sent as f64 * 100.0 / total as f64
    };
    let rate = rate.map_or_else(String::new, |r| format!(" · {}/s", human_bytes(r)));
    format!("{sent} of {total} bytes · {percent:.0} %{rate}")
}

/// A rate or size with a binary unit ("1.5 MiB").
pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[0])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How a file send ended, as a log note.
pub fn note_file_send(
    path: &str,
    outcome: &str,
    sent: u64,
    total: u64,
    pieces: u64,
    udp: bool,
) -> String {
    let unit = if udp {
        ("datagram", "datagrams")
    } else {
        ("write", "writes")
    };
    format!(
        "File {path}: {outcome} — {} of {} sent in {}. The log row below keeps the first 4 KiB; the counters hold every byte.",
        plural(sent, ("byte", "bytes")),
        plural(total, ("byte", "bytes")),
        plural(pieces, unit)
    )
}
/// Outcomes of a file send.
pub const FILE_FINISHED: &str = "sent completely";
/// Outcomes of a file send.
pub const FILE_CANCELLED: &str = "cancelled";
/// Outcomes of a file send.
pub const FILE_FAILED: &str = "failed";

// The menus and the session tabs.

/// Menu.
pub const MENU_FILE: &str = "File";
/// Menu.
pub const MENU_NEW: &str = "New";
/// Tooltip.
pub const MENU_NEW_HINT: &str = "Open another session: as many of each kind as you like.";
/// Submenu of File.
pub const NEW_SESSION: &str = "New session";
/// Menu item.
pub const START_ALL: &str = "Start all";
/// Tooltip.
pub const START_ALL_HINT: &str =
    "Connect, listen or bind every session whose fields are valid and that is not running yet.";
/// Menu item.
pub const QUIT: &str = "Quit";
/// File menu: save the workspace to its file.
pub const SAVE_WORKSPACE: &str = "Save workspace";
/// File menu: save the workspace to another file.
pub const SAVE_WORKSPACE_AS: &str = "Save workspace as…";
/// File menu: open a workspace file.
pub const OPEN_WORKSPACE: &str = "Open workspace…";
/// Said once when the system has no folder for settings (no home directory).
pub const NO_SETTINGS_FOLDER: &str = "This system gives Socket Lab no folder for its settings: \
                                      sessions are not remembered after the window closes (save \
                                      them as a workspace file instead).";
/// File menu: the recent workspace files.
pub const RECENT_WORKSPACES: &str = "Recent";
/// Menu.
pub const MENU_LAYOUT: &str = "Layout";
/// Menu item.
pub const LAYOUT_ONE: &str = "One at a time";
/// Tooltip.
pub const LAYOUT_ONE_HINT: &str = "Every session as a tab of one stack; one is shown at a time.";
/// Menu item.
pub const LAYOUT_PAIR: &str = "Server and client side by side";
/// Tooltip.
pub const LAYOUT_PAIR_HINT: &str = "A TCP server and a TCP client on the same address, next to each other (the ones you have, or new ones).";
/// Context menu item of a session tab.
pub const RENAME: &str = "Rename";
/// Context menu item of a session tab.
pub const DUPLICATE: &str = "Duplicate";
/// Context menu item of a session tab, and the confirming button.
pub const CLOSE_SESSION: &str = "Close session";
/// Button.
pub const CANCEL: &str = "Cancel";
/// Dialog title.
pub const RENAME_TITLE: &str = "Rename session";
/// Field label.
pub const SESSION_NAME: &str = "Name";

/// The close dialog's title.
pub fn close_session_title(title: &str) -> String {
    format!("Close \u{201c}{title}\u{201d}?")
}

/// What closing a session loses.
pub fn close_session_loses(unsaved: &crate::gui::activity::Unsaved, running: bool) -> String {
    let rows = plural(unsaved.rows as u64, ("row", "rows"));
    let data = if unsaved.bytes_in + unsaved.bytes_out > 0 {
        format!(
            " ({} received, {} sent)",
            plural(unsaved.bytes_in, ("byte", "bytes")),
            plural(unsaved.bytes_out, ("byte", "bytes"))
        )
    } else {
        String::new()
    };
    let stop = if running {
        " The session is running: closing it stops it."
    } else {
        ""
    };
    format!(
        "Its log holds {rows}{data} that no export has saved; they will be lost. To keep them, \
         cancel and use \"{EXPORT_LOG}\" under \"{LOG_TOOLS}\".{stop}"
    )
}

/// The name of a duplicated session.
pub fn copy_name(name: &str) -> String {
    format!("{name} (copy)")
}

/// The accessible name of a session tab's close button.
pub fn close_session_button(title: &str) -> String {
    format!("Close session {title}")
}
pub use super::text_groups::*;
pub use super::text_tls::*;
