//! The sentences of the device-testing tools: message framing, templates and checksums, reply
//! rules, scripted exchanges and the traffic generator (kept apart from [`super::text`] so the
//! tools' words are found in one place).

use std::fmt::Write as _;

// ---- the editor: templates and checksums ----

/// The editor's fourth input mode.
pub const MODE_TEMPLATE: &str = "Template";
/// Tooltip.
pub const MODE_TEMPLATE_HINT: &str = "Read the message as a template: escapes as in Escapes, and {seq} (1, 2, 3 … per session), {time} (ISO 8601, UTC), {unix_ms}, {rand:N} (N random bytes as hex), {{ for a literal brace. Filled in at each send.";
/// Placeholder of the editor in template mode.
pub const MESSAGE_HINT_TEMPLATE: &str = "e.g. reading {seq} at {time}\\r\\n";
/// Label of the checksum menu.
pub const CHECKSUM: &str = "Append checksum";
/// Tooltip.
pub const CHECKSUM_HINT: &str = "Append a checksum computed over every byte before it: CRC-16/MODBUS (low byte first, as Modbus RTU sends it), CRC-16/CCITT-FALSE, CRC-16/XMODEM, CRC-32 (high byte first), XOR-8 or SUM-8.";
/// The checksum menu's "none".
pub const CHECKSUM_NONE: &str = "none";

/// The preview at the end of the editor's second row.
pub fn next_send(len: usize, hex: &str) -> String {
    let bytes = if len == 1 { "byte" } else { "bytes" };
    format!("Next send, {len} {bytes}: {hex}")
}

/// The preview's tooltip: the bytes as text, then as hex.
pub fn next_send_hover(text: &str, hex_line: &str) -> String {
    format!(
        "{hex_line}\nAs text: {text}\n{{time}} and {{unix_ms}} are read when the message goes out."
    )
}

// ---- framing ----

/// Label of the framing menu.
pub const FRAMING: &str = "Cut into messages";
/// Tooltip.
pub const FRAMING_HINT: &str = "TCP is a stream: one recv() can hold half a message or three. Framing cuts the stream into the messages your protocol means; the log, reply rules and the counters of messages then see whole messages.";
/// Menu entries.
pub const FRAMING_NONE: &str = "none (each read as it came)";
/// Menu entries.
pub const FRAMING_LF: &str = "lines ending in LF";
/// Menu entries.
pub const FRAMING_CRLF: &str = "lines ending in CRLF";
/// Menu entries.
pub const FRAMING_BYTES: &str = "ending in bytes (hex)";
/// Menu entries.
pub const FRAMING_LENGTH: &str = "length prefix";
/// Menu entries.
pub const FRAMING_FIXED: &str = "fixed size";
/// Menu entries.
pub const FRAMING_GAP: &str = "idle gap";
/// Label.
pub const FRAMING_DELIMITER: &str = "Delimiter (hex)";
/// Tooltip.
pub const FRAMING_DELIMITER_HINT: &str =
    "The bytes that end each message, in hex (03 is ETX; 0d 0a is CRLF); 1 to 64 bytes.";
/// A delimiter with no byte.
pub const FRAMING_DELIMITER_EMPTY: &str =
    "The delimiter needs at least one hex byte, e.g. 03 for ETX.";
/// Label.
pub const FRAMING_WIDTH: &str = "Length field";
/// Tooltip.
pub const FRAMING_WIDTH_HINT: &str =
    "How many bytes the length field at the start of each message takes.";
/// Big-endian.
pub const BIG_ENDIAN: &str = "big-endian";
/// Little-endian.
pub const LITTLE_ENDIAN: &str = "little-endian";
/// Tooltip.
pub const ENDIAN_HINT: &str = "Big-endian (network order) puts the most significant byte first: 00 05 is 5. Little-endian: 05 00 is 5.";
/// Checkbox.
pub const INCLUDES_HEADER: &str = "length counts the header";
/// Tooltip.
pub const INCLUDES_HEADER_HINT: &str =
    "On: the length is of the whole message, length field included. Off: of the body after it.";
/// Label.
pub const FRAMING_FIXED_SIZE: &str = "Message size";
/// Tooltip.
pub const FRAMING_FIXED_HINT: &str = "Every message is exactly this many bytes.";
/// Label.
pub const FRAMING_GAP_MS: &str = "Gap (ms)";
/// Tooltip.
pub const FRAMING_GAP_HINT: &str =
    "A message ends when nothing arrives for this many milliseconds (1 ms to 60 s).";
/// Label.
pub const FRAMING_MAX: &str = "Largest message";
/// Tooltip.
pub const FRAMING_MAX_HINT: &str = "Bytes (1 to 16,777,216; for a length prefix, of the body). A larger message is reported once with its bytes, never buffered without end.";
/// Label.
pub const ON_OVERSIZE: &str = "If larger:";
/// Tooltip.
pub const ON_OVERSIZE_HINT: &str = "What the framer does with a message over the largest size.";
/// Choice.
pub const OVERSIZE_RESYNC: &str = "skip to the next message";
/// Tooltip.
pub const OVERSIZE_RESYNC_HINT: &str = "Show the bytes as discarded and look for the next valid message (the next delimiter or gap; for a length prefix, a valid header one byte further on).";
/// Choice.
pub const OVERSIZE_STOP: &str = "close the connection";
/// Tooltip.
pub const OVERSIZE_STOP_HINT: &str =
    "Show the rest as discarded and close the connection, saying why.";
/// Shown while the session runs.
pub const FRAMING_LOCKED: &str = "Framing is set when the connection opens; stop to change it.";
/// When the fields make no framing (should not be seen: a field says why).
pub const FRAMING_INVALID: &str = "The framing fields are not valid.";
/// The title's mark for invalid fields.
pub const FRAMING_TITLE_INVALID: &str = "not valid";

/// A delimiter that is not hex.
pub fn framing_delimiter_bad(why: &str) -> String {
    format!("The delimiter is not hex bytes: {why}")
}

/// The framing section's title.
pub fn framing_title(spelled: &str) -> String {
    format!("Framing: {spelled}")
}

/// The width choices.
pub fn prefix_width(width: u8) -> String {
    if width == 1 {
        "1 byte".to_owned()
    } else {
        format!("{width} bytes")
    }
}

/// A line that says what the simple choices do.
pub fn framing_choice_hint(choice: crate::gui::widgets::framing::FramingChoice) -> &'static str {
    use crate::gui::widgets::framing::FramingChoice;
    match choice {
        FramingChoice::None => "Each recv() is one row of the log, as the stream delivered it.",
        FramingChoice::Lf => "A message ends with \\n (LF), which belongs to it.",
        _ => "A message ends with \\r\\n (CRLF), which belongs to it.",
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What framing says about a log row.
pub fn framed_tag(framed: crate::engine::log_store::Framed) -> String {
    use crate::engine::framing::Piece;
    let reads = plural(u64::from(framed.reads), "read", "reads");
    match framed.piece {
        Piece::Message => format!("1 message from {reads}"),
        Piece::Unfinished => format!("unfinished message from {reads}: the stream ended first"),
        Piece::Discarded => "discarded: larger than the largest message".to_owned(),
    }
}

/// The note logged once per oversize episode (its bytes follow as a discarded row).
pub fn note_oversize(declared: Option<u64>, max: usize, stopped: bool) -> String {
    let size = declared.map_or_else(
        || format!("did not end within {max} bytes"),
        |d| format!("announced {d} bytes"),
    );
    let then = if stopped {
        "the connection is closed, as the framing asks"
    } else {
        "its bytes are skipped until the next valid message"
    };
    format!("A message {size}, more than the largest message of {max} bytes: {then}.")
}

/// Bytes of an unfinished message waiting for the rest (the status line's note).
pub fn waiting_note(bytes: usize, reads: u32, connections: usize) -> String {
    let head = plural(bytes as u64, "byte", "bytes");
    let reads = plural(u64::from(reads), "read", "reads");
    if connections > 1 {
        format!("Waiting: {head} of unfinished messages on {connections} connections")
    } else {
        format!("Waiting: {head} of an unfinished message ({reads} so far)")
    }
}

/// Tooltip of the waiting note.
pub const WAITING_HINT: &str = "Framing holds these bytes until the rest of their message arrives (or the gap passes); they are logged as one message then.";

// ---- reply rules ----

/// Condition kinds.
pub const RULE_ENDS_WITH: &str = "ends with";
/// Condition kinds.
pub const RULE_REGEX: &str = "matches regex";
/// Condition kinds.
pub const RULE_HEX_PATTERN: &str = "fits hex pattern";
/// Condition kinds.
pub const RULE_LENGTH: &str = "has length";
/// Placeholders.
pub const RULE_REGEX_PLACEHOLDER: &str = r"^GET (\S+)";
/// Placeholders.
pub const RULE_HEX_PLACEHOLDER: &str = "01 03 ?? ?? 00 0A";
/// Placeholders.
pub const RULE_LENGTH_PLACEHOLDER: &str = "8 or 8..64";
/// All/any.
pub const COMBINE_ALL: &str = "all of";
/// All/any.
pub const COMBINE_ANY: &str = "any of";
/// Tooltip.
pub const COMBINE_HINT: &str = "All: every condition must hold. Any: one is enough.";
/// Tooltip.
pub const ADD_CONDITION_HINT: &str =
    "Add another condition to this rule (up to 8), combined with all or any.";
/// Tooltip.
pub const NO_REPLY_HINT: &str = "A message this rule matches gets no answer: no later rule and no echo answers it (to silence echo for some messages).";
/// Tooltip.
pub const REPLY_TEMPLATE_HINT: &str = "Fill the reply in at each answer: {seq}, {time}, {unix_ms}, {rand:N}, {{ for a brace, escapes; with a regex condition its groups {0} (the whole match), {1}, {name}.";
/// Shown when echo and rules are both on.
pub const RULES_THEN_ECHO: &str =
    "Echo is on: the rules answer first, echo answers what no rule matched.";

/// A length that is not a number or range.
pub fn rule_length_bad(text: &str) -> String {
    format!("\"{text}\" is not a length: write a number of bytes (8) or a range (8..64).")
}

/// Tooltip of a condition's pattern field.
pub fn rule_pattern_hint(when: crate::gui::widgets::auto_reply::When) -> &'static str {
    use crate::gui::widgets::auto_reply::When;
    match when {
        When::Regex => {
            "A regular expression over the bytes (Rust regex syntax; (?-u) for raw bytes, \\x01 for a byte). Its groups can go into a template reply."
        }
        When::HexPattern => {
            "Hex bytes, ?? for any byte, a final * to allow more bytes: 01 03 ?? ?? 00 0A."
        }
        When::Length => {
            "The message's length in bytes (8), or a range (8..64), both ends included."
        }
        _ => {
            "What to look for in each received message (with framing on, the message body; otherwise each read or datagram)."
        }
    }
}

/// Label of a rule's further condition (`Condition 2 of rule 1`).
pub fn rule_condition_label(rule: usize, n: usize) -> String {
    format!("Condition {n} of rule {rule}")
}

/// Button.
pub fn add_condition(rule: usize) -> String {
    format!("+ condition ({rule})")
}

/// Button.
pub fn remove_condition(rule: usize, n: usize) -> String {
    format!("Remove condition {n} of rule {rule}")
}

// ---- scripts ----

/// The panel's title.
pub const SCRIPT: &str = "Script";
/// Label.
pub const SCRIPT_FILE: &str = "Script file";
/// Tooltip.
pub const SCRIPT_FILE_HINT: &str = "A TOML file of steps: a target (connect or listen, TCP or UDP), then send, expect, wait, repeat and set. resources/scripts/ has examples; README, \"Scripted exchanges\", the whole format.";
/// Placeholder.
pub const SCRIPT_FILE_PLACEHOLDER: &str = "e.g. resources/scripts/http-get.toml";
/// Button.
pub const SCRIPT_OPEN: &str = "Open script";
/// Tooltip.
pub const SCRIPT_OPEN_HINT: &str =
    "Read and check the file (nothing is sent yet); open it again after editing it.";
/// Before a file is opened.
pub const SCRIPT_EMPTY: &str = "Open a script to see its steps.";
/// Label.
pub const SCRIPT_TARGET: &str = "Target";
/// Tooltip.
pub const SCRIPT_TARGET_HINT: &str = "HOST:PORT to talk to instead of the file's target (as socketlab run --target); empty: the file's. The script opens a connection of its own.";
/// Buttons.
pub const SCRIPT_RUN: &str = "Run script";
/// Buttons.
pub const SCRIPT_CONTINUE: &str = "Run the rest";
/// Tooltip.
pub const SCRIPT_RUN_HINT: &str =
    "Carry out every step; the run stops at the first step that fails.";
/// Buttons.
pub const SCRIPT_STEP: &str = "Step";
/// Tooltip.
pub const SCRIPT_STEP_HINT: &str = "Carry out the next step only, then wait (the first press connects, then takes the first step).";
/// Buttons.
pub const SCRIPT_STOP: &str = "Stop script";
/// Tooltip.
pub const SCRIPT_STOP_HINT: &str =
    "Stop now: the step under way ends as stopped and the script's connection is closed.";
/// The step that Step carries out next.
pub const SCRIPT_NEXT: &str = "next";
/// Run without a script.
pub const SCRIPT_NOT_OPEN: &str = "Open a script first.";
/// An empty path.
pub const SCRIPT_FILE_NEEDED: &str = "Type the path of a script file first.";

/// The panel's title with the script's name.
pub fn script_title(name: &str) -> String {
    format!("Script: {name}")
}

/// One step of the list.
pub fn script_step(line: usize, summary: &str) -> String {
    format!("line {line}: {summary}")
}

/// What arrived instead (under a failed step).
pub fn script_arrived(text: &str, hex: &str) -> String {
    format!("Arrived instead: \"{text}\" ({hex})")
}

/// Text from the engine with its control pictures (`␊`) written as escapes (`\n`): the window's
/// bundled fonts have no glyphs for the pictures.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c as u32 {
            0x2400 => out.push_str("\\0"),
            0x2409 => out.push_str("\\t"),
            0x240a => out.push_str("\\n"),
            0x240d => out.push_str("\\r"),
            n @ 0x2401..=0x241f => {
                let _ = write!(out, "\\x{:02x}", n - 0x2400);
            }
            0x2421 => out.push_str("\\x7f"),
            _ => out.push(c),
        }
    }
    out
}

/// A file that cannot be read.
pub fn script_unreadable(path: &str, why: &str) -> String {
    format!("Cannot read {path}: {why}")
}

/// A folder given as a file.
pub fn script_is_folder(path: &str) -> String {
    format!("{path} is a folder: choose a script file.")
}

/// A file over the limit.
pub fn script_too_big(path: &str, size: u64) -> String {
    format!(
        "{path} is {size} bytes, more than a script may be ({} bytes).",
        crate::engine::script::MAX_SCRIPT_BYTES
    )
}

/// A script that does not check.
pub fn script_bad(path: &str, problem: &str) -> String {
    format!("{path}, {problem}")
}

/// A bad Target field.
pub fn script_target_bad(text: &str) -> String {
    format!("\"{text}\" is not HOST:PORT (a port from 1 to 65535; write [::1]:PORT for IPv6).")
}

/// The thread could not start.
pub fn script_thread_failed(why: &str) -> String {
    format!("The script could not start: {why}")
}

/// Placeholder: the file's target.
pub fn script_connects(protocol: &str, host: &str, port: u16) -> String {
    format!("the file's: {protocol} {host}:{port}")
}

/// Placeholder: the file's listening address.
pub fn script_listens(protocol: &str, address: &std::net::SocketAddr) -> String {
    format!("the file's: listen {protocol} {address}")
}

/// Log note.
pub fn script_listening(local: &std::net::SocketAddr) -> String {
    format!("Script: listening on {local}, waiting for the first client")
}

/// Log note.
pub fn script_connected(local: &std::net::SocketAddr, peer: &std::net::SocketAddr) -> String {
    format!("Script: talking to {peer} from {local}")
}

/// Outcome.
pub fn script_passed(steps: u64) -> String {
    let s = if steps == 1 { "step" } else { "steps" };
    format!("Script passed: {steps} {s} carried out, every one passed.")
}

/// Outcome.
pub fn script_failed(line: usize, steps: u64, sentence: &str) -> String {
    format!("Script failed at the step on line {line} (after {steps} steps): {sentence}")
}

/// Outcome.
pub fn script_stopped(steps: u64) -> String {
    format!("Script stopped after {steps} steps.")
}

// ---- traffic generator and sequence check ----

/// Section title.
pub const GEN_TITLE: &str = "Traffic generator";
/// Section title while it runs.
pub const GEN_TITLE_RUNNING: &str = "Traffic generator (running)";
/// Label.
pub const GEN_SIZE: &str = "Size (bytes)";
/// Tooltip.
pub const GEN_SIZE_HINT: &str = "Bytes per message (one datagram, or one TCP write); with sequence numbers at least 32, the header's size.";
/// Checkbox.
pub const GEN_SEQUENCE: &str = "sequence numbers";
/// Tooltip.
pub const GEN_SEQUENCE_HINT: &str = "Start each message with a 32-byte header (sequence number, send time, run id) that a Socket Lab server with Sequence check counts: lost, duplicated, out of order, delay.";
/// Label.
pub const GEN_RATE: &str = "Rate";
/// Tooltip.
pub const GEN_RATE_HINT: &str = "As fast as the socket takes the messages, or a set number per second (messages or payload bytes). Pacing is by deadlines: no drift, and Stop works at once.";
/// Rate choices.
pub const GEN_MAX: &str = "as fast as possible";
/// Rate choices.
pub const GEN_PER_SECOND: &str = "messages/s";
/// Rate choices.
pub const GEN_BYTES_PER_SECOND: &str = "bytes/s";
/// Label.
pub const GEN_RATE_VALUE: &str = "Per second";
/// Label.
pub const GEN_COUNT: &str = "Messages";
/// Tooltip.
pub const GEN_COUNT_HINT: &str = "Stop after this many messages (empty: no count).";
/// Label.
pub const GEN_SECONDS: &str = "Seconds";
/// Tooltip.
pub const GEN_SECONDS_HINT: &str = "Stop after this many seconds (empty: no time limit).";
/// Placeholder.
pub const GEN_NO_LIMIT: &str = "no limit";
/// Button.
pub const GEN_START: &str = "Start generator";
/// Tooltip.
pub const GEN_START_HINT: &str = "Send the messages to this session's target from a socket of its own (the session's own connection is not used).";
/// Button.
pub const GEN_STOP: &str = "Stop generator";
/// Tooltip.
pub const GEN_STOP_HINT: &str =
    "Stop at once, at any rate; the counters say exactly what went out.";
/// End.
pub const GEN_COMPLETED: &str = "finished";
/// End.
pub const GEN_STOPPED: &str = "stopped";
/// The client's fields are invalid.
pub const GEN_NEEDS_TARGET: &str =
    "The generator sends to this session's host and port: correct them first.";

/// A rate that is not a positive number.
pub fn gen_rate_bad(text: &str) -> String {
    format!("\"{text}\" is not a rate: give a number above 0 (e.g. 1000 or 2.5).")
}

/// Log note at the start.
pub fn gen_started(to: &std::net::SocketAddr, run: Option<u32>) -> String {
    match run {
        Some(run) => format!("Generator: sending to {to}, run {run:08x}, with sequence numbers"),
        None => format!("Generator: sending to {to}"),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The progress bar's text.
pub fn gen_progress(p: &crate::engine::generator::GeneratorProgress) -> String {
    match p.count {
        Some(count) => format!("{} of {} sent", thousands(p.sent), thousands(count)),
        None => format!("{} sent", thousands(p.sent)),
    }
}

/// The rate achieved.
pub fn gen_rate(p: &crate::engine::generator::GeneratorProgress) -> String {
    format!(
        "Rate achieved: {} messages/s, {:.2} Mbit/s ({} bytes in {:.1} s)",
        thousands(p.messages_per_second().round() as u64),
        p.bits_per_second() / 1e6,
        thousands(p.bytes),
        p.elapsed.as_secs_f64()
    )
}

/// The end, with the figures.
pub fn gen_finished(how: &str, p: &crate::engine::generator::GeneratorProgress) -> String {
    format!(
        "Generator {how}: {} messages, {} bytes in {:.2} s ({} messages/s)",
        thousands(p.sent),
        thousands(p.bytes),
        p.elapsed.as_secs_f64(),
        thousands(p.messages_per_second().round() as u64)
    )
}

/// Section title.
pub const SEQ_TITLE: &str = "Sequence check";
/// Section title when on.
pub const SEQ_TITLE_ON: &str = "Sequence check (on)";
/// Checkbox.
pub const SEQ_CHECK: &str = "Check sequence numbers";
/// Tooltip.
pub const SEQ_CHECK_HINT: &str = "Count the messages of a Socket Lab traffic generator with sequence numbers: received, lost, duplicated, out of order, and one-way delay when the sender is on this machine. Set before the server starts.";
/// Shown when running without it.
pub const SEQ_RESTART: &str = "Stop the server to switch the check on.";
/// No generator message yet.
pub const SEQ_NOTHING_YET: &str = "No sequence-numbered message has arrived yet.";
/// Rows.
pub const SEQ_EXPECTED: &str = "Expected";
/// Rows.
pub const SEQ_RECEIVED: &str = "Received";
/// Rows.
pub const SEQ_LOST: &str = "Lost";
/// Rows.
pub const SEQ_DUPLICATED: &str = "Duplicated";
/// Rows.
pub const SEQ_OUT_OF_ORDER: &str = "Out of order";
/// Rows.
pub const SEQ_DELAY: &str = "One-way delay";
/// No delay figures.
pub const SEQ_DELAY_UNKNOWN: &str = "not measured (the sender is not on this machine)";

/// A flow's heading.
pub fn seq_flow_title(peer: &std::net::SocketAddr, run: u32) -> String {
    format!("From {peer}, run {run:08x}")
}

/// Expected, announced by the sender.
pub fn seq_expected_announced(n: u64) -> String {
    format!("{} (announced by the sender)", thousands(n))
}

/// Expected, from the highest number seen.
pub fn seq_expected_seen(n: u64) -> String {
    format!("{} (up to the highest sequence number seen)", thousands(n))
}

/// Delay percentiles.
pub fn seq_delay(d: &crate::engine::generator::DelayPercentiles) -> String {
    let us = |t: std::time::Duration| t.as_secs_f64() * 1e6;
    format!(
        "p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs ({} samples)",
        us(d.p50),
        us(d.p90),
        us(d.p99),
        us(d.max),
        thousands(d.samples)
    )
}

/// Messages without a header.
pub fn seq_without_header(n: u64) -> String {
    format!(
        "{} messages had no sequence header (counted, not checked).",
        thousands(n)
    )
}

/// Messages of untracked senders.
pub fn seq_untracked(n: u64) -> String {
    format!(
        "{} messages came from senders beyond the first 64 (counted, not checked).",
        thousands(n)
    )
}

/// The number of a rule's further condition (`1.2`), naming its kind menu.
pub fn condition_number(rule: usize, n: usize) -> String {
    format!("{rule}.{n}")
}

/// Checkbox of rule `n`: no answer.
pub fn no_reply(n: usize) -> String {
    format!("do not reply ({n})")
}

/// Checkbox of rule `n`: the reply is a template.
pub fn reply_template(n: usize) -> String {
    format!("reply {n} is a template")
}

/// Label of rule `n`'s checksum menu.
pub fn reply_checksum(n: usize) -> String {
    format!("checksum {n}")
}
