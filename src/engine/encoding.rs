//! Character encodings for sending and for display: UTF-8, Latin-1/Windows-1252, UTF-16LE/BE,
//! GBK, GB18030, `Shift_JIS` and Big5. A character the chosen encoding cannot represent is reported
//! with its position, never silently replaced.

use encoding_rs::{BIG5, EncoderResult, Encoding, GB18030, GBK, SHIFT_JIS, WINDOWS_1252};

use super::payload::{self, InputMode, LineEnding, PayloadError};

/// A text encoding the user can choose.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum TextEncoding {
    /// UTF-8 (the default everywhere on the Internet).
    #[default]
    Utf8,
    /// Latin-1 as browsers and Windows really use it (Windows-1252).
    Windows1252,
    /// UTF-16, little-endian (Windows' internal text).
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// GBK (Simplified Chinese).
    Gbk,
    /// GB18030 (Simplified Chinese, covers all of Unicode).
    Gb18030,
    /// `Shift_JIS` (Japanese).
    ShiftJis,
    /// Big5 (Traditional Chinese).
    Big5,
}

impl TextEncoding {
    /// Every choice, in menu order.
    pub const ALL: [TextEncoding; 8] = [
        TextEncoding::Utf8,
        TextEncoding::Windows1252,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16Be,
        TextEncoding::Gbk,
        TextEncoding::Gb18030,
        TextEncoding::ShiftJis,
        TextEncoding::Big5,
    ];

    /// The name shown in menus.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1252 => "Latin-1 / Windows-1252",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Gbk => "GBK",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::ShiftJis => "Shift_JIS",
            TextEncoding::Big5 => "Big5",
        }
    }

    fn legacy(self) -> Option<&'static Encoding> {
        match self {
            TextEncoding::Windows1252 => Some(WINDOWS_1252),
            TextEncoding::Gbk => Some(GBK),
            TextEncoding::Gb18030 => Some(GB18030),
            TextEncoding::ShiftJis => Some(SHIFT_JIS),
            TextEncoding::Big5 => Some(BIG5),
            TextEncoding::Utf8 | TextEncoding::Utf16Le | TextEncoding::Utf16Be => None,
        }
    }
}

/// A character the chosen encoding cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{found}' at position {} cannot be written in {}; choose another encoding (UTF-8 can write every character) or remove it.", position + 1, encoding.label())]
pub struct UnmappableChar {
    /// Character index (from 0) of the first such character.
    pub position: usize,
    /// The character.
    pub found: char,
    /// The encoding that lacks it.
    pub encoding: TextEncoding,
}

/// Encodes text, or names the first character that the encoding cannot represent.
pub fn encode(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, UnmappableChar> {
    match encoding {
        TextEncoding::Utf8 => Ok(text.as_bytes().to_vec()),
        TextEncoding::Utf16Le => Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        TextEncoding::Utf16Be => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        legacy => {
            let Some(codec) = legacy.legacy() else {
                return Ok(text.as_bytes().to_vec());
            };
            let mut encoder = codec.new_encoder();
            let mut out = Vec::with_capacity(text.len() * 2 + 16);
            let mut rest = text;
            loop {
                let room = encoder
                    .max_buffer_length_from_utf8_without_replacement(rest.len())
                    .unwrap_or(rest.len() * 4 + 16);
                let start = out.len();
                out.resize(start + room, 0);
                let (result, read, written) =
                    encoder.encode_from_utf8_without_replacement(rest, &mut out[start..], true);
                out.truncate(start + written);
                match result {
                    EncoderResult::InputEmpty => return check_round_trip(text, out, encoding),
                    EncoderResult::OutputFull => rest = &rest[read..],
                    EncoderResult::Unmappable(found) => {
                        let consumed = text.len() - rest.len() + read;
                        // `read` includes the unmappable character itself.
                        let position = text[..consumed].chars().count().saturating_sub(1);
                        return Err(UnmappableChar {
                            position,
                            found,
                            encoding,
                        });
                    }
                }
            }
        }
    }
}

/// Some encoders map a character onto a look-alike that decodes to something else (`Shift_JIS`
/// writes `¥` as the byte of `\\`). That is a silent replacement too, so it is reported.
fn check_round_trip(
    text: &str,
    bytes: Vec<u8>,
    encoding: TextEncoding,
) -> Result<Vec<u8>, UnmappableChar> {
    let (back, _) = decode(&bytes, encoding);
    if back == text {
        return Ok(bytes);
    }
    let (position, found) = text
        .chars()
        .zip(back.chars())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map_or_else(
            || (0, text.chars().next().unwrap_or('?')),
            |(i, (a, _))| (i, a),
        );
    Err(UnmappableChar {
        position,
        found,
        encoding,
    })
}

/// Decodes bytes for display. Returns the text and whether some bytes were not valid in the
/// encoding (those show as U+FFFD, except in UTF-8 where callers use `to_visible_text`).
pub fn decode(bytes: &[u8], encoding: TextEncoding) -> (String, bool) {
    let codec = match encoding {
        TextEncoding::Utf8 => encoding_rs::UTF_8,
        TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
        TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
        legacy => legacy.legacy().unwrap_or(encoding_rs::UTF_8),
    };
    let (text, had_errors) = codec.decode_without_bom_handling(bytes);
    (text.into_owned(), had_errors)
}

/// Why what was typed in the message editor cannot be sent. `Display` is the sentence shown next
/// to the editor; both kinds name the position of the first bad character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Bad hex digits or a bad escape.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// A character the chosen encoding cannot write.
    #[error(transparent)]
    Unmappable(#[from] UnmappableChar),
}

impl InputError {
    /// Character index (from 0) of the first bad character.
    pub fn position(&self) -> usize {
        match self {
            InputError::Payload(e) => e.position(),
            InputError::Unmappable(e) => e.position,
        }
    }
}

/// Turns what was typed into the bytes to send: text (and the characters of escaped text, and
/// the line ending) in `encoding`; hex digits and `\xNN` escapes as the raw bytes they name.
pub fn encode_input(
    input: &str,
    mode: InputMode,
    ending: LineEnding,
    encoding: TextEncoding,
) -> Result<Vec<u8>, InputError> {
    if encoding == TextEncoding::Utf8 || mode == InputMode::Hex {
        return Ok(payload::encode(input, mode, ending)?);
    }
    let mut bytes = match mode {
        InputMode::Escapes => encode_escaped(input, encoding)?,
        InputMode::Text | InputMode::Hex => encode(input, encoding)?,
    };
    let ending = std::str::from_utf8(ending.bytes()).unwrap_or_default();
    bytes.extend(encode(ending, encoding)?);
    Ok(bytes)
}

/// Escaped text in a legacy or UTF-16 encoding: `\n \r \t \0 \\` are characters (so UTF-16
/// writes them as two bytes), `\xNN` is one raw byte.
fn encode_escaped(input: &str, encoding: TextEncoding) -> Result<Vec<u8>, InputError> {
    // Validates first, so escape errors carry the same positions as in UTF-8.
    payload::parse_escapes(input)?;
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::with_capacity(input.len() * 2);
    let mut run = String::new();
    // Character positions of the run's characters in the input, to report unmappable ones there.
    let mut run_positions = Vec::new();
    let flush = |run: &mut String, positions: &mut Vec<usize>, out: &mut Vec<u8>| {
        let result = encode(run, encoding).map_err(|mut e| {
            e.position = positions.get(e.position).copied().unwrap_or(e.position);
            e
        });
        run.clear();
        positions.clear();
        result.map(|bytes| out.extend(bytes))
    };
    let mut i = 0;
    while i < chars.len() {
        let (c, width) = match (chars[i], chars.get(i + 1)) {
            ('\\', Some('n')) => ('\n', 2),
            ('\\', Some('r')) => ('\r', 2),
            ('\\', Some('t')) => ('\t', 2),
            ('\\', Some('0')) => ('\0', 2),
            ('\\', Some('\\')) => ('\\', 2),
            ('\\', Some('x')) => {
                flush(&mut run, &mut run_positions, &mut out)?;
                let escape: String = chars[i..(i + 4).min(chars.len())].iter().collect();
                out.extend(payload::parse_escapes(&escape)?);
                i += 4;
                continue;
            }
            (c, _) => (c, 1),
        };
        run.push(c);
        run_positions.push(i);
        i += width;
    }
    flush(&mut run, &mut run_positions, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_samples() {
        for (enc, text) in [
            (TextEncoding::Gbk, "你好，世界"),
            (TextEncoding::Gb18030, "你好😀"),
            (TextEncoding::ShiftJis, "こんにちは"),
            (TextEncoding::Big5, "繁體中文"),
            (TextEncoding::Windows1252, "café €"),
            (TextEncoding::Utf16Le, "héllo😀"),
            (TextEncoding::Utf16Be, "héllo😀"),
            (TextEncoding::Utf8, "héllo😀"),
        ] {
            let bytes = encode(text, enc).unwrap_or_default();
            assert_eq!(decode(&bytes, enc), (text.to_owned(), false), "{enc:?}");
        }
        assert_eq!(encode("你", TextEncoding::Gbk), Ok(vec![0xc4, 0xe3]));
        assert_eq!(encode("こ", TextEncoding::ShiftJis), Ok(vec![0x82, 0xb1]));
    }

    #[test]
    fn reports_unmappable_characters_with_position() {
        let err = encode("ab你c", TextEncoding::Windows1252);
        assert_eq!(
            err,
            Err(UnmappableChar {
                position: 2,
                found: '你',
                encoding: TextEncoding::Windows1252
            })
        );
        assert!(encode("😀", TextEncoding::ShiftJis).is_err());
        // Shift_JIS would write ¥ as the byte of a backslash: a silent replacement, so refused.
        assert_eq!(
            encode("a¥", TextEncoding::ShiftJis).map_err(|e| e.position),
            Err(1)
        );
        let long: String = "x".repeat(5000) + "你";
        assert_eq!(encode(&long, TextEncoding::Gbk).map(|b| b.len()), Ok(5002));
    }

    #[test]
    fn typed_input_in_an_encoding() {
        let gbk = encode_input(
            "你\\x01\\n",
            InputMode::Escapes,
            LineEnding::CrLf,
            TextEncoding::Gbk,
        );
        assert_eq!(gbk, Ok(vec![0xc4, 0xe3, 0x01, b'\n', b'\r', b'\n']));
        let utf16 = encode_input(
            "a\\n",
            InputMode::Escapes,
            LineEnding::Lf,
            TextEncoding::Utf16Le,
        );
        assert_eq!(utf16, Ok(vec![b'a', 0, b'\n', 0, b'\n', 0]));
        let sjis = encode_input(
            "こ",
            InputMode::Text,
            LineEnding::None,
            TextEncoding::ShiftJis,
        );
        assert_eq!(sjis, Ok(vec![0x82, 0xb1]));
        let hex = encode_input(
            "41 42",
            InputMode::Hex,
            LineEnding::Lf,
            TextEncoding::Utf16Be,
        );
        assert_eq!(hex, Ok(vec![0x41, 0x42, b'\n']), "hex is raw bytes");
        let err = encode_input(
            "\\x41ab你",
            InputMode::Escapes,
            LineEnding::None,
            TextEncoding::Windows1252,
        );
        assert_eq!(
            err.map_err(|e| e.position()),
            Err(6),
            "position in the typed text"
        );
        let err = encode_input(
            "ab\\q",
            InputMode::Escapes,
            LineEnding::None,
            TextEncoding::Gbk,
        );
        assert_eq!(err.map_err(|e| e.position()), Err(2));
    }
}
