//! Payload codecs: what a person types (text, hex, text with escapes) into bytes, and bytes back
//! into something a person can read (control characters and invalid UTF-8 made visible, hex, a
//! hex dump). Received data is only ever rendered as inert text: nothing in it is interpreted.

use std::fmt::Write as _;

/// How the message editor's text becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum InputMode {
    /// The text as UTF-8.
    #[default]
    Text,
    /// Hex digits; spaces, newlines and `0x` prefixes allowed.
    Hex,
    /// Text with `\n \r \t \0 \xNN \\` escapes.
    Escapes,
}

/// What is appended to each text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LineEnding {
    /// Nothing.
    #[default]
    None,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl LineEnding {
    /// The bytes appended.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

/// Why an empty message is not sent over TCP: a stream carries bytes, not messages, so sending
/// nothing does nothing at all (over UDP an empty datagram is real and is sent).
pub const EMPTY_STREAM_SEND: &str = "The message is empty, and over TCP sending nothing does nothing: type something to send, or choose a line ending.";

/// Why typed input is not a valid payload. `Display` is the sentence shown next to the editor;
/// `position` is the character index (from 0) of the first bad character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A character that is not a hex digit.
    #[error("'{found}' at position {} is not a hex digit (use 0-9 and a-f).", position + 1)]
    NotHex {
        /// Character index of the bad character.
        position: usize,
        /// The character.
        found: char,
    },
    /// An odd number of hex digits: the last byte is incomplete.
    #[error("The hex digit at position {} has no partner: each byte takes two digits.", position + 1)]
    OddHexDigits {
        /// Character index of the unpaired digit.
        position: usize,
    },
    /// A `\x` escape without two hex digits after it.
    #[error("The escape at position {} needs two hex digits after \\x (for example \\x41).", position + 1)]
    BadHexEscape {
        /// Character index of the backslash.
        position: usize,
    },
    /// A backslash followed by something that is not a known escape.
    #[error("Unknown escape at position {}: use \\n \\r \\t \\0 \\xNN or \\\\ (a backslash).", position + 1)]
    UnknownEscape {
        /// Character index of the backslash.
        position: usize,
    },
    /// A backslash as the last character, with nothing after it to escape.
    #[error("The \\ at position {} ends the message without saying what it stands for: write \\\\ for a backslash.", position + 1)]
    LoneBackslash {
        /// Character index of the backslash.
        position: usize,
    },
}

impl PayloadError {
    /// Character index of the first bad character.
    pub fn position(&self) -> usize {
        match self {
            PayloadError::NotHex { position, .. }
            | PayloadError::OddHexDigits { position }
            | PayloadError::BadHexEscape { position }
            | PayloadError::UnknownEscape { position }
            | PayloadError::LoneBackslash { position } => *position,
        }
    }
}

/// Turns what was typed into the bytes to send.
pub fn encode(input: &str, mode: InputMode, ending: LineEnding) -> Result<Vec<u8>, PayloadError> {
    let mut bytes = match mode {
        InputMode::Text => input.as_bytes().to_vec(),
        InputMode::Hex => parse_hex(input)?,
        InputMode::Escapes => parse_escapes(input)?,
    };
    bytes.extend_from_slice(ending.bytes());
    Ok(bytes)
}

/// Parses hex digits; white space separates nothing and is ignored, and a `0x` before a group is
/// allowed (`48 65 6c`, `48656c`, `0x48 0x65`).
pub fn parse_hex(input: &str) -> Result<Vec<u8>, PayloadError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::with_capacity(chars.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
            continue;
        }
        // A "0x" prefix at the start of a group (not in the middle of a byte).
        if high.is_none() && c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            i += 2;
            continue;
        }
        let Some(v) = c.to_digit(16) else {
            return Err(PayloadError::NotHex {
                position: i,
                found: c,
            });
        };
        let v = v as u8;
        match high.take() {
            Some((_, h)) => out.push((h << 4) | v),
            None => high = Some((i, v)),
        }
        i += 1;
    }
    if let Some((position, _)) = high {
        return Err(PayloadError::OddHexDigits { position });
    }
    Ok(out)
}

/// Parses text with escapes: `\n \r \t \0 \xNN \\`; other characters become their UTF-8 bytes.
pub fn parse_escapes(input: &str) -> Result<Vec<u8>, PayloadError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        let position = i;
        match chars.get(i + 1) {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let digits = (chars.get(i + 2).and_then(|c| c.to_digit(16)))
                    .zip(chars.get(i + 3).and_then(|c| c.to_digit(16)));
                let Some((h, l)) = digits else {
                    return Err(PayloadError::BadHexEscape { position });
                };
                out.push(((h << 4) | l) as u8);
                i += 4;
                continue;
            }
            None => return Err(PayloadError::LoneBackslash { position }),
            Some(_) => return Err(PayloadError::UnknownEscape { position }),
        }
        i += 2;
    }
    Ok(out)
}

/// Writes bytes back as escaped text that [`parse_escapes`] turns into the same bytes.
pub fn format_escapes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() && (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Bytes as spaced lowercase hex: `48 65 6c 6c 6f`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Bytes as one line of readable text: printable UTF-8 as is; control characters as their
/// Unicode "control picture" (`␍␊`, `␀`, `␛`), so nothing moves the cursor or starts an escape
/// sequence; invalid UTF-8 as `\xNN`. At most `max_chars` characters, then `…`.
pub fn to_visible_text(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max_chars) + 8);
    let mut count = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if count >= max_chars {
                out.push('…');
                return out;
            }
            out.push(visible_char(c));
            count += 1;
        }
        for b in chunk.invalid() {
            if count >= max_chars {
                out.push('…');
                return out;
            }
            let _ = write!(out, "\\x{b:02x}");
            count += 1;
        }
    }
    out
}

/// One received character as it may be shown: C0 controls and DEL as their control pictures,
/// C1 controls and invisible format characters (bidi overrides, zero-width marks) as a
/// replacement mark, everything else as itself. Received text can then never act on the screen
/// (no escape sequence, no reordering of what follows).
pub fn visible_char(c: char) -> char {
    match c as u32 {
        // C0 controls map onto U+2400..U+241F, DEL onto U+2421.
        n @ 0..=0x1f => char::from_u32(0x2400 + n).unwrap_or('�'),
        0x7f => '\u{2421}',
        // C1 controls and other invisible format characters are shown as a replacement mark.
        0x80..=0x9f | 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff => '�',
        _ => c,
    }
}

/// Bytes per line of a [`hex_dump`].
pub const HEX_DUMP_WIDTH: usize = 16;

/// A classic hex dump: offset, 16 bytes in hex, and the printable ASCII.
pub fn hex_dump(bytes: &[u8]) -> String {
    let lines = bytes.len().div_ceil(HEX_DUMP_WIDTH);
    let mut out = String::with_capacity(lines * 80);
    for line in 0..lines {
        out.push_str(&hex_dump_line(bytes, line));
        out.push('\n');
    }
    out
}

/// Line `line` of [`hex_dump`] (without its newline), so a viewer can lay out only the lines on
/// screen of a long dump. Empty past the end.
pub fn hex_dump_line(bytes: &[u8], line: usize) -> String {
    let start = line.saturating_mul(HEX_DUMP_WIDTH);
    let Some(rest) = bytes.get(start..) else {
        return String::new();
    };
    if rest.is_empty() {
        return String::new();
    }
    let chunk = &rest[..rest.len().min(HEX_DUMP_WIDTH)];
    let mut out = String::with_capacity(80);
    let _ = write!(out, "{start:08x}  ");
    for i in 0..HEX_DUMP_WIDTH {
        match chunk.get(i) {
            Some(b) => {
                let _ = write!(out, "{b:02x} ");
            }
            None => out.push_str("   "),
        }
        if i == 7 {
            out.push(' ');
        }
    }
    out.push(' ');
    out.push('|');
    for &b in chunk {
        out.push(if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        });
    }
    out.push('|');
    out
}

/// How many bytes of `bytes` [`to_visible_text`] turns into its first `max_chars` characters:
/// what a shortened row stands for, so it can say exactly how many bytes it left out.
pub fn visible_prefix_len(bytes: &[u8], max_chars: usize) -> usize {
    let mut count = 0;
    let mut used = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if count >= max_chars {
                return used;
            }
            used += c.len_utf8();
            count += 1;
        }
        for _ in chunk.invalid() {
            if count >= max_chars {
                return used;
            }
            used += 1;
            count += 1;
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_spacing_and_prefixes_and_points_at_errors() {
        assert_eq!(parse_hex("48 65\n6c6c 0x6f"), Ok(b"Hello".to_vec()));
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert_eq!(
            parse_hex("48 6z"),
            Err(PayloadError::NotHex {
                position: 4,
                found: 'z'
            })
        );
        assert_eq!(
            parse_hex("486"),
            Err(PayloadError::OddHexDigits { position: 2 })
        );
        assert!(matches!(
            parse_hex("0xZZ"),
            Err(PayloadError::NotHex { position: 2, .. })
        ));
        assert!(matches!(
            parse_hex("4é"),
            Err(PayloadError::NotHex { position: 1, .. })
        ));
    }

    #[test]
    fn escapes_round_trip_and_report_positions() {
        let bytes = parse_escapes(r"a\r\n\t\0\x41\\z").unwrap_or_default();
        assert_eq!(bytes, b"a\r\n\t\0A\\z");
        assert_eq!(parse_escapes(&format_escapes(&bytes)), Ok(bytes));
        assert_eq!(
            parse_escapes(r"ab\x"),
            Err(PayloadError::BadHexEscape { position: 2 })
        );
        assert_eq!(
            parse_escapes(r"\xG1"),
            Err(PayloadError::BadHexEscape { position: 0 })
        );
        assert_eq!(
            parse_escapes("x\\"),
            Err(PayloadError::LoneBackslash { position: 1 })
        );
        assert_eq!(
            parse_escapes("\\q"),
            Err(PayloadError::UnknownEscape { position: 0 })
        );
        let odd = [0xff, b'a', 0x1b];
        assert_eq!(parse_escapes(&format_escapes(&odd)), Ok(odd.to_vec()));
    }

    #[test]
    fn visible_text_shows_controls_and_invalid_bytes() {
        assert_eq!(to_visible_text(b"hi\r\n", 100), "hi␍␊");
        assert_eq!(to_visible_text(b"\x1b[2J", 100), "␛[2J");
        assert_eq!(to_visible_text(&[0x66, 0xff], 100), "f\\xff");
        assert_eq!(to_visible_text(b"abcdef", 3), "abc…");
        assert_eq!(to_hex(b"AB"), "41 42");
        assert!(hex_dump(b"Hello, world!\x00\x01\x02\x03").starts_with("00000000  48 65 6c"));
    }

    #[test]
    fn encode_appends_line_ending() {
        assert_eq!(
            encode("hi", InputMode::Text, LineEnding::CrLf),
            Ok(b"hi\r\n".to_vec())
        );
        assert_eq!(
            encode("41", InputMode::Hex, LineEnding::Lf),
            Ok(b"A\n".to_vec())
        );
    }

    #[test]
    fn a_dump_line_is_the_same_line_of_the_whole_dump() {
        let bytes: Vec<u8> = (0..=255_u8).cycle().take(1000).collect();
        let whole: Vec<String> = hex_dump(&bytes).lines().map(str::to_owned).collect();
        assert_eq!(whole.len(), 63);
        for (i, line) in whole.iter().enumerate() {
            assert_eq!(&hex_dump_line(&bytes, i), line);
        }
        assert!(whole[62].starts_with("000003e0  "), "{}", whole[62]);
        assert_eq!(hex_dump_line(&bytes, 63), "");
        assert_eq!(hex_dump_line(&bytes, usize::MAX), "");
    }

    #[test]
    fn a_visible_prefix_counts_the_bytes_behind_its_characters() {
        assert_eq!(visible_prefix_len("héllo".as_bytes(), 2), 3);
        assert_eq!(visible_prefix_len(b"a\xffb", 2), 2);
        assert_eq!(visible_prefix_len(b"abc", 10), 3);
        let text = to_visible_text("héllo".as_bytes(), 2);
        assert_eq!(text, "hé…");
    }
}
