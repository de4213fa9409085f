//! Message templates: text with escapes (`\r\n`, `\x01`) and variables that are filled in at each
//! send — `{seq}` (1, 2, 3 … per session), `{time}` (ISO 8601, UTC, milliseconds), `{unix_ms}`,
//! `{rand:N}` (N random bytes as hex), `{{` for a literal `{` — and, in the reply of a
//! regular-expression rule, the captured groups (`{0}` the whole match, `{1}`, `{name}`).
//! An optional checksum is computed over the filled-in bytes and appended last.
//!
//! Templates are a payload kind of their own: plain text, hex and escaped text keep `{` literal.
//!
//! A session's [`TemplateState`] numbers its sends and holds the random bytes reserved for the
//! next one, so [`TemplateState::preview`] shows exactly what the next send carries (only the
//! clock moves on: `{time}` and `{unix_ms}` are read when the message goes out).

use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::checksum::Checksum;
use super::payload::{PayloadError, parse_escapes};
use super::session::lock;

/// The most random bytes one `{rand:N}` asks for.
pub const MAX_RANDOM_BYTES: usize = 256;
/// The most variables one template holds (it bounds the bytes a send can add).
pub const MAX_VARIABLES: usize = 64;

/// A captured group a reply refers to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GroupRef {
    /// `{0}` (the whole match), `{1}`, `{2}` …
    Index(usize),
    /// `{name}` for a group written `(?P<name>…)`.
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Part {
    Literal(Vec<u8>),
    Seq,
    Time,
    UnixMs,
    Random(usize),
    Group(GroupRef),
}

/// Why a template cannot be used. `Display` is the sentence shown next to the field; positions
/// count characters from 1 in the sentence (and from 0 in [`TemplateError::position`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("The {{ at position {} has no closing }}: write {{{{ for a literal {{.", position + 1)]
    Unclosed {
        /// Character index of the `{`.
        position: usize,
    },
    /// A name between braces that is no variable.
    #[error("{{{name}}} at position {} is not a variable: use {{seq}}, {{time}}, {{unix_ms}}, {{rand:N}}, or {{{{ for a literal {{.", position + 1)]
    Unknown {
        /// Character index of the `{`.
        position: usize,
        /// What was between the braces.
        name: String,
    },
    /// `{rand:N}` with a count out of range.
    #[error("{{rand:{count}}} at position {}: the count of random bytes must be 1 to {MAX_RANDOM_BYTES}.", position + 1)]
    RandomCount {
        /// Character index of the `{`.
        position: usize,
        /// The count as typed.
        count: String,
    },
    /// A captured group where there is no regular expression to capture it.
    #[error("{{{name}}} at position {}: captured groups can only be used in the reply of a regular-expression rule.", position + 1)]
    GroupOutsideRegex {
        /// Character index of the `{`.
        position: usize,
        /// The group as typed.
        name: String,
    },
    /// A captured group the rule's regular expression does not have.
    #[error("{{{name}}} at position {}: the regular expression has no such group.", position + 1)]
    NoSuchGroup {
        /// Character index of the `{`.
        position: usize,
        /// The group as typed.
        name: String,
    },
    /// More variables than a template may hold.
    #[error("A template may hold at most {MAX_VARIABLES} variables; the one at position {} is one too many.", position + 1)]
    TooManyVariables {
        /// Character index of the `{`.
        position: usize,
    },
    /// A bad escape in the text between variables.
    #[error(transparent)]
    Escape(PayloadError),
}

impl TemplateError {
    /// Character index (from 0) of the problem.
    pub fn position(&self) -> usize {
        match self {
            TemplateError::Unclosed { position }
            | TemplateError::Unknown { position, .. }
            | TemplateError::RandomCount { position, .. }
            | TemplateError::GroupOutsideRegex { position, .. }
            | TemplateError::NoSuchGroup { position, .. }
            | TemplateError::TooManyVariables { position } => *position,
            TemplateError::Escape(e) => e.position(),
        }
    }
}

/// A parsed template, ready to be filled in at each send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    /// Where each group reference was typed, to point at it when the rule's regex lacks it.
    group_positions: Vec<(usize, String)>,
    checksum: Option<Checksum>,
}

impl Template {
    /// Parses a template for sending (captured groups are refused).
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Self::parse_inner(text, false)
    }

    /// Parses the reply template of a rule: with `groups`, `{0}`, `{1}` and `{name}` refer to
    /// what the rule's regular expression captured (checked against it by the rule).
    pub fn parse_reply(text: &str, groups: bool) -> Result<Self, TemplateError> {
        Self::parse_inner(text, groups)
    }

    /// Bytes that always go out as they are (no variables), with escapes read.
    pub fn literal(bytes: &[u8]) -> Self {
        Template {
            source: String::new(),
            parts: vec![Part::Literal(bytes.to_vec())],
            group_positions: Vec::new(),
            checksum: None,
        }
    }

    /// Appends `bytes` after the template's text (a line ending), before any checksum.
    #[must_use]
    pub fn with_suffix(mut self, bytes: &[u8]) -> Self {
        if !bytes.is_empty() {
            self.parts.push(Part::Literal(bytes.to_vec()));
        }
        self
    }

    /// Appends `checksum`, computed over every byte before it, at each send.
    #[must_use]
    pub fn with_checksum(mut self, checksum: Option<Checksum>) -> Self {
        self.checksum = checksum;
        self
    }

    /// The checksum appended at each send, if any.
    pub fn checksum(&self) -> Option<Checksum> {
        self.checksum
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when it holds no variable (every send carries the same bytes).
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The groups it refers to, each with the position where it was typed.
    pub(crate) fn groups(&self) -> &[(usize, String)] {
        &self.group_positions
    }

    /// How many random bytes one filling takes.
    fn random_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Random(n) => *n,
                _ => 0,
            })
            .sum()
    }

    fn parse_inner(text: &str, allow_groups: bool) -> Result<Self, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parts = Vec::new();
        let mut group_positions = Vec::new();
        let mut literal = String::new();
        let mut literal_start = 0;
        let mut variables = 0;
        let mut i = 0;
        let flush = |literal: &mut String,
                     start: usize,
                     parts: &mut Vec<Part>|
         -> Result<(), TemplateError> {
            if literal.is_empty() {
                return Ok(());
            }
            let bytes =
                parse_escapes(literal).map_err(|e| TemplateError::Escape(shift(e, start)))?;
            literal.clear();
            match parts.last_mut() {
                Some(Part::Literal(prev)) => prev.extend_from_slice(&bytes),
                _ => parts.push(Part::Literal(bytes)),
            }
            Ok(())
        };
        while i < chars.len() {
            let c = chars[i];
            if c != '{' {
                if literal.is_empty() {
                    literal_start = i;
                }
                literal.push(c);
                i += 1;
                continue;
            }
            if chars.get(i + 1) == Some(&'{') {
                flush(&mut literal, literal_start, &mut parts)?;
                match parts.last_mut() {
                    Some(Part::Literal(prev)) => prev.push(b'{'),
                    _ => parts.push(Part::Literal(vec![b'{'])),
                }
                i += 2;
                continue;
            }
            let position = i;
            let Some(close) = chars[i + 1..].iter().position(|&c| c == '}') else {
                return Err(TemplateError::Unclosed { position });
            };
            let name: String = chars[i + 1..i + 1 + close].iter().collect();
            variables += 1;
            if variables > MAX_VARIABLES {
                return Err(TemplateError::TooManyVariables { position });
            }
            flush(&mut literal, literal_start, &mut parts)?;
            parts.push(variable(&name, position, allow_groups)?);
            if let Some(Part::Group(_)) = parts.last() {
                group_positions.push((position, name));
            }
            i += close + 2;
        }
        flush(&mut literal, literal_start, &mut parts)?;
        Ok(Template {
            source: text.to_owned(),
            parts,
            group_positions,
            checksum: None,
        })
    }

    /// Fills the template in: `seq` and the random bytes given, the clock now, and the groups
    /// of `captures` (missing groups are empty).
    pub(crate) fn fill(
        &self,
        seq: u64,
        random: &[u8],
        captures: Option<&regex::bytes::Captures<'_>>,
    ) -> Vec<u8> {
        let now = SystemTime::now();
        let mut out = Vec::new();
        let mut random = random;
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Seq => out.extend_from_slice(seq.to_string().as_bytes()),
                Part::Time => out.extend_from_slice(iso_time(now).as_bytes()),
                Part::UnixMs => {
                    let ms = now
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_millis();
                    out.extend_from_slice(ms.to_string().as_bytes());
                }
                Part::Random(n) => {
                    let (these, rest) = random.split_at((*n).min(random.len()));
                    random = rest;
                    let mut hex = String::with_capacity(n * 2);
                    for b in these {
                        let _ = write!(hex, "{b:02x}");
                    }
                    out.extend_from_slice(hex.as_bytes());
                }
                Part::Group(group) => {
                    let found = captures.and_then(|c| match group {
                        GroupRef::Index(n) => c.get(*n),
                        GroupRef::Name(name) => c.name(name),
                    });
                    if let Some(m) = found {
                        out.extend_from_slice(m.as_bytes());
                    }
                }
            }
        }
        if let Some(checksum) = self.checksum {
            checksum.append(&mut out);
        }
        out
    }
}

/// Moves an escape error's position from the start of a run of text to the whole template.
fn shift(e: PayloadError, by: usize) -> PayloadError {
    match e {
        PayloadError::NotHex { position, found } => PayloadError::NotHex {
            position: position + by,
            found,
        },
        PayloadError::OddHexDigits { position } => PayloadError::OddHexDigits {
            position: position + by,
        },
        PayloadError::BadHexEscape { position } => PayloadError::BadHexEscape {
            position: position + by,
        },
        PayloadError::UnknownEscape { position } => PayloadError::UnknownEscape {
            position: position + by,
        },
        PayloadError::LoneBackslash { position } => PayloadError::LoneBackslash {
            position: position + by,
        },
    }
}

fn variable(name: &str, position: usize, allow_groups: bool) -> Result<Part, TemplateError> {
    let group = |r: GroupRef| {
        if allow_groups {
            Ok(Part::Group(r))
        } else {
            Err(TemplateError::GroupOutsideRegex {
                position,
                name: name.to_owned(),
            })
        }
    };
    match name {
        "seq" => Ok(Part::Seq),
        "time" => Ok(Part::Time),
        "unix_ms" => Ok(Part::UnixMs),
        _ => {
            if let Some(count) = name.strip_prefix("rand:") {
                return match count.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_RANDOM_BYTES).contains(&n) => Ok(Part::Random(n)),
                    _ => Err(TemplateError::RandomCount {
                        position,
                        count: count.to_owned(),
                    }),
                };
            }
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                return match name.parse::<usize>() {
                    Ok(n) => group(GroupRef::Index(n)),
                    Err(_) => Err(TemplateError::Unknown {
                        position,
                        name: name.to_owned(),
                    }),
                };
            }
            let identifier = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if identifier && allow_groups {
                return group(GroupRef::Name(name.to_owned()));
            }
            Err(TemplateError::Unknown {
                position,
                name: name.to_owned(),
            })
        }
    }
}

/// `2026-12-02T06:04:47.123Z`.
fn iso_time(t: SystemTime) -> String {
    let at: chrono::DateTime<chrono::Utc> = t.into();
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Fills `buf` with random bytes from the operating system (falling back to the standard
/// library's randomly seeded hasher where the system has none to give).
fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_ok() {
        return;
    }
    let state = std::collections::hash_map::RandomState::new();
    for (i, chunk) in buf.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// One session's numbering of template sends, and the random bytes kept for the next one.
#[derive(Debug, Default)]
pub struct TemplateState {
    sent: AtomicU64,
    reserved: Mutex<Vec<u8>>,
}

impl TemplateState {
    /// The `{seq}` the next send will carry.
    pub fn next_seq(&self) -> u64 {
        self.sent.load(Ordering::Acquire) + 1
    }

    /// The bytes the next send of `template` would carry if it went out now.
    pub fn preview(&self, template: &Template) -> Vec<u8> {
        let random = self.reserve(template.random_len(), false);
        template.fill(self.next_seq(), &random, None)
    }

    /// Fills `template` in for a send: the next `{seq}`, the reserved random bytes (the ones a
    /// preview showed), the clock now.
    pub fn render(&self, template: &Template) -> Vec<u8> {
        self.render_with(template, None)
    }

    /// As [`TemplateState::render`], with a rule's captured groups.
    pub fn render_with(
        &self,
        template: &Template,
        captures: Option<&regex::bytes::Captures<'_>>,
    ) -> Vec<u8> {
        let random = self.reserve(template.random_len(), true);
        let seq = self.sent.fetch_add(1, Ordering::AcqRel) + 1;
        template.fill(seq, &random, captures)
    }

    /// The first `n` reserved random bytes (drawing more if too few are kept); `take` uses them
    /// up, so the next send gets fresh ones.
    fn reserve(&self, n: usize, take: bool) -> Vec<u8> {
        if n == 0 {
            return Vec::new();
        }
        let mut reserved = lock(&self.reserved);
        if reserved.len() < n {
            let old = reserved.len();
            reserved.resize(n, 0);
            random_bytes(&mut reserved[old..]);
        }
        if take {
            reserved.drain(..n).collect()
        } else {
            reserved[..n].to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_braces_escaped() {
        let state = TemplateState::default();
        let t = Template::parse(r"n={seq} {{x}\r\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(state.render(&t), b"n=1 {x}\r\n");
        assert_eq!(state.render(&t), b"n=2 {x}\r\n");
        let r = Template::parse("{rand:4}").unwrap_or_else(|e| panic!("{e}"));
        let preview = state.preview(&r);
        assert_eq!(preview.len(), 8);
        assert_eq!(state.render(&r), preview, "the preview is what goes out");
        let t = Template::parse("{time}|{unix_ms}").unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(state.render(&t)).unwrap_or_default();
        assert_eq!(text.len(), 24 + 1 + 13, "{text}");
        assert!(text.ends_with(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn mistakes_are_pointed_at() {
        assert_eq!(
            Template::parse("ab{seq"),
            Err(TemplateError::Unclosed { position: 2 })
        );
        assert_eq!(
            Template::parse("{sequence}").map_err(|e| e.position()),
            Err(0)
        );
        assert!(matches!(
            Template::parse("x{rand:0}"),
            Err(TemplateError::RandomCount { position: 1, .. })
        ));
        assert!(matches!(
            Template::parse("{1}"),
            Err(TemplateError::GroupOutsideRegex { .. })
        ));
        assert_eq!(
            Template::parse(r"{seq}\q").map_err(|e| e.position()),
            Err(5)
        );
        assert!(Template::parse_reply("{1}{name}", true).is_ok());
    }

    #[test]
    fn a_checksum_goes_last() {
        let state = TemplateState::default();
        let t =
            Template::literal(&[1, 3, 0, 0, 0, 0x0a]).with_checksum(Some(Checksum::Crc16Modbus));
        assert_eq!(state.render(&t), [1, 3, 0, 0, 0, 0x0a, 0xc5, 0xcd]);
    }
}
