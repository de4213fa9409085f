//! The sentences of the device-testing tools: message framing, templates and checksums, reply
//! rules, scripted exchanges and the traffic generator (kept apart from [`super::text`] so the
//! tools' words are found in one place).

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
/// Checkbox.
pub const NO_REPLY: &str = "do not reply";
/// Tooltip.
pub const NO_REPLY_HINT: &str = "A message this rule matches gets no answer: no later rule and no echo answers it (to silence echo for some messages).";
/// Checkbox.
pub const REPLY_TEMPLATE: &str = "reply is a template";
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
    format!("✕ condition {n} of rule {rule}")
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
