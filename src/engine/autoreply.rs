//! Server auto-reply: echo, or rules ("when the received data equals / contains / starts with X,
//! reply with Y"). Rules run in the engine's reader threads, so replies go out at once, whether or
//! not the window is keeping up.
//!
//! Matching is per message: per datagram for UDP; for TCP per `recv` — a stream has no message
//! boundaries, so a message split across two reads (or two messages in one read) is seen as the
//! reads deliver it, which is exactly the lesson the "TCP is a stream" demo teaches — unless the
//! session frames the stream ([`crate::engine::framing`]): then rules see each message's body
//! (without its length header or delimiter).
//!
//! Two kinds of rules exist. [`Rule`] (equals / contains / starts with, a fixed reply) is what the
//! window has always saved and keeps loading unchanged. [`ReplyRule`] combines any number of
//! [`Condition`]s (ends with, a regular expression over bytes, a hex pattern with `??`
//! wildcards, a length or length range …) with all/any, and answers with a [`Template`] (which
//! may use the captured groups of its regular expression and carry a checksum) — or explicitly
//! with nothing, to silence echo for some messages.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use regex::bytes::{Captures, Regex, RegexBuilder};

use super::session::lock;
use super::template::{Template, TemplateError, TemplateState};

/// How a rule compares the received bytes with its pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MatchKind {
    /// The received bytes are exactly the pattern.
    Equals,
    /// The pattern occurs anywhere in the received bytes.
    Contains,
    /// The received bytes begin with the pattern.
    StartsWith,
}

/// One rule: when the received bytes match, send `reply` back to the sender.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// How to compare.
    pub when: MatchKind,
    /// What to look for.
    pub pattern: Vec<u8>,
    /// What to send back.
    pub reply: Vec<u8>,
}

impl Rule {
    /// True when `data` matches this rule.
    pub fn matches(&self, data: &[u8]) -> bool {
        match self.when {
            MatchKind::Equals => data == self.pattern.as_slice(),
            MatchKind::StartsWith => data.starts_with(&self.pattern),
            MatchKind::Contains => contains(data, &self.pattern),
        }
    }
}

/// What a server sends back on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum AutoReply {
    /// Nothing.
    #[default]
    Off,
    /// Every received byte, straight back.
    Echo,
    /// The reply of the first rule that matches; nothing if none does.
    Rules(Vec<Rule>),
    /// The first [`ReplyRule`] that matches decides (a reply, or explicitly none); when none
    /// matches, the data is echoed if `otherwise_echo` is set.
    ReplyRules {
        /// The rules, first match wins.
        rules: Vec<ReplyRule>,
        /// Echo what no rule matched.
        otherwise_echo: bool,
    },
}

impl AutoReply {
    /// The bytes to send back for `data`, if any; template replies are filled in with the
    /// session's `templates` state (its `{seq}`).
    pub fn reply_for<'a>(
        &'a self,
        data: &'a [u8],
        templates: &TemplateState,
    ) -> Option<Cow<'a, [u8]>> {
        match self {
            AutoReply::Off => None,
            AutoReply::Echo => Some(Cow::Borrowed(data)),
            AutoReply::Rules(rules) => rules
                .iter()
                .find(|r| r.matches(data))
                .map(|r| Cow::Borrowed(r.reply.as_slice())),
            AutoReply::ReplyRules {
                rules,
                otherwise_echo,
            } => match rules.iter().find_map(|r| r.decide(data, templates)) {
                Some(Decision::Reply(bytes)) => Some(Cow::Owned(bytes)),
                Some(Decision::Silence) => None,
                None => otherwise_echo.then_some(Cow::Borrowed(data)),
            },
        }
    }

    /// True when a reply to `data` is the data itself (echo), which the log shows as an echo.
    pub fn echoes(&self, data: &[u8]) -> bool {
        match self {
            AutoReply::Echo => true,
            AutoReply::ReplyRules {
                rules,
                otherwise_echo: true,
            } => !rules.iter().any(|r| r.matches(data)),
            _ => false,
        }
    }

    /// True unless it is `Off` (or has no rules), so readers can skip the lookup cheaply.
    pub fn is_active(&self) -> bool {
        match self {
            AutoReply::Off => false,
            AutoReply::Echo => true,
            AutoReply::Rules(rules) => !rules.is_empty(),
            AutoReply::ReplyRules {
                rules,
                otherwise_echo,
            } => *otherwise_echo || !rules.is_empty(),
        }
    }
}

/// A regular expression over bytes, kept with the text it was compiled from (which is how it is
/// compared and saved).
#[derive(Debug, Clone)]
pub struct ByteRegex {
    source: String,
    regex: Regex,
}

/// Most memory a rule's compiled regular expression may take: a pasted monster is refused with
/// a sentence instead of slowing every receive down.
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// Why a regular expression or hex pattern cannot be used; `Display` is the sentence for the
/// field, `position` the character index (from 0) of the problem where one can be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The regular expression does not parse (or compiles too big).
    #[error("{}", regex_sentence(*position, message))]
    Regex {
        /// Character index of the problem, when the parser names one.
        position: Option<usize>,
        /// The parser's description.
        message: String,
    },
    /// A hex pattern with something that is neither a byte nor `??`.
    #[error("'{found}' at position {} in the hex pattern is not a byte (two hex digits) or ?? (any byte).", position + 1)]
    HexPattern {
        /// Character index of the bad group.
        position: usize,
        /// The group as typed.
        found: String,
    },
    /// A hex pattern with nothing in it.
    #[error(
        "The hex pattern is empty: write bytes such as 01 03 ?? ?? (?? is any byte, * at the end allows more)."
    )]
    EmptyHexPattern,
    /// A length range whose end is below its start.
    #[error(
        "The length range {min}..{max} is empty: the first number must not be larger than the second."
    )]
    LengthRange {
        /// The shortest length.
        min: usize,
        /// The longest length.
        max: usize,
    },
    /// The reply template is wrong.
    #[error("In the reply: {0}")]
    Reply(TemplateError),
    /// A rule without any condition.
    #[error("A rule needs at least one condition.")]
    NoCondition,
}

fn regex_sentence(position: Option<usize>, message: &str) -> String {
    match position {
        Some(p) => format!(
            "The regular expression has a problem at position {}: {message}.",
            p + 1
        ),
        None => format!("The regular expression cannot be used: {message}."),
    }
}

impl ByteRegex {
    /// Compiles `source`; a bad one is an error that says where.
    pub fn new(source: &str) -> Result<Self, PatternError> {
        // The parser's own error carries the span; the compiled regex's error only a text.
        let checked = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(source);
        if let Err(e) = checked {
            let (offset, message) = match &e {
                regex_syntax::Error::Parse(p) => {
                    (Some(p.span().start.offset), p.kind().to_string())
                }
                regex_syntax::Error::Translate(t) => {
                    (Some(t.span().start.offset), t.kind().to_string())
                }
                other => (None, other.to_string()),
            };
            return Err(PatternError::Regex {
                position: offset.map(|o| source[..o.min(source.len())].chars().count()),
                message,
            });
        }
        let regex = RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| PatternError::Regex {
                position: None,
                message: match e {
                    regex::Error::CompiledTooBig(limit) => {
                        format!("it would take more than {limit} bytes of memory; simplify it")
                    }
                    other => other.to_string(),
                },
            })?;
        Ok(ByteRegex {
            source: source.to_owned(),
            regex,
        })
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled expression.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }
}

impl PartialEq for ByteRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for ByteRegex {}

impl serde::Serialize for ByteRegex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for ByteRegex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        ByteRegex::new(&source).map_err(serde::de::Error::custom)
    }
}

/// Bytes with wildcards: `01 03 ?? ?? 00 0A` matches a message of exactly six bytes with those
/// values (`??` is any byte); a final `*` lets the message go on (`01 03 *`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HexPattern {
    /// The bytes; `None` is `??`.
    pub bytes: Vec<Option<u8>>,
    /// A final `*`: more bytes may follow.
    pub open_end: bool,
}

impl HexPattern {
    /// Parses `01 03 ?? ?? 00 0A` (spaces optional between groups of two: `0103????`).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let chars: Vec<char> = text.chars().collect();
        let mut bytes = Vec::new();
        let mut open_end = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || c == ',' {
                i += 1;
                continue;
            }
            if open_end {
                return Err(PatternError::HexPattern {
                    position: i,
                    found: c.to_string(),
                });
            }
            if c == '*' {
                open_end = true;
                i += 1;
                continue;
            }
            let pair: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let byte = if pair == "??" {
                None
            } else if pair.chars().count() == 2 && pair.chars().all(|c| c.is_ascii_hexdigit()) {
                u8::from_str_radix(&pair, 16).ok()
            } else {
                return Err(PatternError::HexPattern {
                    position: i,
                    found: pair,
                });
            };
            bytes.push(byte);
            i += 2;
        }
        if bytes.is_empty() {
            return Err(PatternError::EmptyHexPattern);
        }
        Ok(HexPattern { bytes, open_end })
    }

    /// True when `data` fits the pattern.
    pub fn matches(&self, data: &[u8]) -> bool {
        let long_enough = if self.open_end {
            data.len() >= self.bytes.len()
        } else {
            data.len() == self.bytes.len()
        };
        long_enough
            && self
                .bytes
                .iter()
                .zip(data)
                .all(|(want, got)| want.is_none_or(|w| w == *got))
    }
}

/// Writes the pattern as it is typed: `01 03 ?? ?? *`.
impl std::fmt::Display for HexPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for byte in &self.bytes {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            match byte {
                Some(b) => write!(f, "{b:02x}")?,
                None => f.write_str("??")?,
            }
        }
        if self.open_end {
            f.write_str(if first { "*" } else { " *" })?;
        }
        Ok(())
    }
}

/// One test a [`ReplyRule`] makes of a received message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Condition {
    /// Exactly these bytes.
    Equals(Vec<u8>),
    /// These bytes anywhere.
    Contains(Vec<u8>),
    /// Begins with these bytes.
    StartsWith(Vec<u8>),
    /// Ends with these bytes.
    EndsWith(Vec<u8>),
    /// The regular expression finds a match (anywhere, unless anchored with `^`/`$`).
    Regex(ByteRegex),
    /// The bytes fit the pattern.
    HexPattern(HexPattern),
    /// The length is between `min` and `max` bytes, both included (equal for one length).
    Length {
        /// Fewest bytes.
        min: usize,
        /// Most bytes.
        max: usize,
    },
}

impl Condition {
    /// A length range, checked.
    pub fn length(min: usize, max: usize) -> Result<Self, PatternError> {
        if min > max {
            return Err(PatternError::LengthRange { min, max });
        }
        Ok(Condition::Length { min, max })
    }

    /// True when `data` passes.
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            Condition::Equals(p) => data == p.as_slice(),
            Condition::Contains(p) => contains(data, p),
            Condition::StartsWith(p) => data.starts_with(p),
            Condition::EndsWith(p) => data.ends_with(p),
            Condition::Regex(r) => r.regex.is_match(data),
            Condition::HexPattern(p) => p.matches(data),
            Condition::Length { min, max } => (*min..=*max).contains(&data.len()),
        }
    }
}

fn contains(data: &[u8], pattern: &[u8]) -> bool {
    pattern.is_empty() || memchr::memmem::find(data, pattern).is_some()
}

/// How a rule's conditions add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Combine {
    /// Every condition must hold.
    #[default]
    All,
    /// One condition is enough.
    Any,
}

/// What a matching [`ReplyRule`] does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplyAction {
    /// Send this back (filled in at each reply).
    Reply(Template),
    /// Send nothing, and let no later rule (nor echo) answer.
    NoReply,
}

/// "When the message passes these conditions, reply with this" — see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplyRule {
    /// The tests.
    pub conditions: Vec<Condition>,
    /// All or any of them.
    pub combine: Combine,
    /// What to do when they pass.
    pub action: ReplyAction,
}

enum Decision {
    Reply(Vec<u8>),
    Silence,
}

impl ReplyRule {
    /// A rule, checked: it has a condition, and a reply that uses captured groups has a regular
    /// expression with those groups.
    pub fn new(
        conditions: Vec<Condition>,
        combine: Combine,
        action: ReplyAction,
    ) -> Result<Self, PatternError> {
        if conditions.is_empty() {
            return Err(PatternError::NoCondition);
        }
        if let ReplyAction::Reply(template) = &action {
            let regex = conditions.iter().find_map(|c| match c {
                Condition::Regex(r) => Some(r),
                _ => None,
            });
            for (position, name) in template.groups() {
                let known = regex.is_some_and(|r| match name.parse::<usize>() {
                    Ok(n) => n < r.regex.captures_len(),
                    Err(_) => r.regex.capture_names().flatten().any(|g| g == name),
                });
                if !known {
                    let error = if regex.is_some() {
                        TemplateError::NoSuchGroup {
                            position: *position,
                            name: name.clone(),
                        }
                    } else {
                        TemplateError::GroupOutsideRegex {
                            position: *position,
                            name: name.clone(),
                        }
                    };
                    return Err(PatternError::Reply(error));
                }
            }
        }
        Ok(ReplyRule {
            conditions,
            combine,
            action,
        })
    }

    /// The old kind of rule, as a reply rule that behaves the same.
    pub fn from_rule(rule: &Rule) -> Self {
        let condition = match rule.when {
            MatchKind::Equals => Condition::Equals(rule.pattern.clone()),
            MatchKind::Contains => Condition::Contains(rule.pattern.clone()),
            MatchKind::StartsWith => Condition::StartsWith(rule.pattern.clone()),
        };
        ReplyRule {
            conditions: vec![condition],
            combine: Combine::All,
            action: ReplyAction::Reply(Template::literal(&rule.reply)),
        }
    }

    /// True when `data` passes the rule's conditions.
    pub fn matches(&self, data: &[u8]) -> bool {
        match self.combine {
            Combine::All => self.conditions.iter().all(|c| c.matches(data)),
            Combine::Any => self.conditions.iter().any(|c| c.matches(data)),
        }
    }

    fn decide(&self, data: &[u8], templates: &TemplateState) -> Option<Decision> {
        if !self.matches(data) {
            return None;
        }
        Some(match &self.action {
            ReplyAction::NoReply => Decision::Silence,
            ReplyAction::Reply(template) => {
                let captures: Option<Captures<'_>> = if template.groups().is_empty() {
                    None
                } else {
                    self.conditions.iter().find_map(|c| match c {
                        Condition::Regex(r) => r.regex.captures(data),
                        _ => None,
                    })
                };
                Decision::Reply(templates.render_with(template, captures.as_ref()))
            }
        })
    }
}

/// The auto-reply a session's readers follow. Readers check one atomic flag per receive, so a
/// session without auto-reply pays no lock and no allocation; a reader takes the lock only once
/// after each change (see [`AutoReplyView`]).
#[derive(Default)]
pub(crate) struct AutoReplySlot {
    active: AtomicBool,
    generation: AtomicU64,
    current: Mutex<Arc<AutoReply>>,
}

impl AutoReplySlot {
    /// Replaces what readers reply with, from their next receive on.
    pub(crate) fn set(&self, auto: AutoReply) {
        let active = auto.is_active();
        *lock(&self.current) = Arc::new(auto);
        // Bumped after the store: a reader that sees the new generation finds the new rules.
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.active.store(active, Ordering::Release);
    }
}

/// Puts `auto` in force for the session's readers and tells the owner it is: a change is a
/// command that the session's thread applies a moment later (on a busy machine, several
/// milliseconds later), so whoever must know when it holds waits for the event.
pub(crate) fn set_auto_reply(
    sink: &super::session::EventSink,
    shared: &super::session::SessionShared,
    auto: AutoReply,
) {
    shared.auto_reply.set(auto.clone());
    sink.emit(super::event::EventKind::AutoReplyChanged(auto));
}

/// One reader's copy of the session's auto-reply, refreshed when the slot changes.
#[derive(Default)]
pub(crate) struct AutoReplyView {
    generation: u64,
    current: Arc<AutoReply>,
}

impl AutoReplyView {
    /// The auto-reply in force, or `None` when it is off (the cheap, common case).
    pub(crate) fn get(&mut self, slot: &AutoReplySlot) -> Option<&AutoReply> {
        if !slot.active.load(Ordering::Acquire) {
            return None;
        }
        let generation = slot.generation.load(Ordering::Acquire);
        if generation != self.generation {
            self.current = Arc::clone(&lock(&slot.current));
            self.generation = generation;
        }
        Some(&self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(when: MatchKind, pattern: &[u8], reply: &[u8]) -> Rule {
        Rule {
            when,
            pattern: pattern.to_vec(),
            reply: reply.to_vec(),
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let auto = AutoReply::Rules(vec![
            rule(MatchKind::Equals, b"PING", b"PONG"),
            rule(MatchKind::StartsWith, b"GET ", b"HTTP/1.0 200 OK\r\n\r\n"),
            rule(MatchKind::Contains, b"\x02", b"\x06"),
        ]);
        let state = TemplateState::default();
        let reply = |data: &[u8]| auto.reply_for(data, &state).map(Cow::into_owned);
        assert_eq!(reply(b"PING"), Some(b"PONG".to_vec()));
        assert_eq!(reply(b"PING\n"), None, "equals means exactly");
        assert_eq!(
            reply(b"GET / HTTP/1.0"),
            Some(b"HTTP/1.0 200 OK\r\n\r\n".to_vec())
        );
        assert_eq!(reply(b"ab\x02cd"), Some(b"\x06".to_vec()));
        assert_eq!(reply(b"nothing"), None);
        assert_eq!(
            AutoReply::Echo.reply_for(b"x", &state).as_deref(),
            Some(&b"x"[..])
        );
        assert!(!AutoReply::Rules(vec![]).is_active());
    }

    #[test]
    fn a_view_follows_the_slot() {
        let slot = AutoReplySlot::default();
        let mut view = AutoReplyView::default();
        assert!(view.get(&slot).is_none());
        slot.set(AutoReply::Echo);
        assert_eq!(view.get(&slot), Some(&AutoReply::Echo));
        let rules = AutoReply::Rules(vec![rule(MatchKind::Equals, b"a", b"b")]);
        slot.set(rules.clone());
        assert_eq!(view.get(&slot), Some(&rules));
        slot.set(AutoReply::Off);
        assert!(view.get(&slot).is_none());
    }
}

#[cfg(test)]
mod reply_rule_tests {
    use super::*;

    fn rule(conditions: Vec<Condition>, combine: Combine, reply: &str) -> ReplyRule {
        let groups = conditions.iter().any(|c| matches!(c, Condition::Regex(_)));
        ReplyRule::new(
            conditions,
            combine,
            ReplyAction::Reply(
                Template::parse_reply(reply, groups).unwrap_or_else(|e| panic!("{e}")),
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_condition_matches_what_it_says() {
        let regex = |r: &str| Condition::Regex(ByteRegex::new(r).unwrap_or_else(|e| panic!("{e}")));
        let hex =
            |h: &str| Condition::HexPattern(HexPattern::parse(h).unwrap_or_else(|e| panic!("{e}")));
        assert!(Condition::EndsWith(b"\r\n".to_vec()).matches(b"OK\r\n"));
        assert!(!Condition::EndsWith(b"\r\n".to_vec()).matches(b"OK\n"));
        assert!(regex(r"^\$GP[A-Z]{3},").matches(b"$GPGGA,123"));
        assert!(
            regex(r"(?-u)\xff\x00").matches(b"a\xff\x00b"),
            "bytes, not text"
        );
        assert!(hex("01 03 ?? ?? 00 0A").matches(&[1, 3, 9, 9, 0, 10]));
        assert!(!hex("01 03 ?? ?? 00 0A").matches(&[1, 3, 9, 9, 0, 10, 0]));
        assert!(hex("01 03 *").matches(&[1, 3, 9, 9]));
        assert!(!hex("01 03 *").matches(&[1]));
        assert!(
            Condition::length(4, 4)
                .unwrap_or_else(|e| panic!("{e}"))
                .matches(b"abcd")
        );
        let range = Condition::length(2, 3).unwrap_or_else(|e| panic!("{e}"));
        assert!(range.matches(b"ab") && range.matches(b"abc") && !range.matches(b"abcd"));
        assert!(Condition::length(5, 2).is_err());
    }

    #[test]
    fn all_and_any_and_the_first_rule_decides() {
        let state = TemplateState::default();
        let both = rule(
            vec![
                Condition::StartsWith(b"A".to_vec()),
                Condition::EndsWith(b"Z".to_vec()),
            ],
            Combine::All,
            "both",
        );
        let either = rule(
            vec![
                Condition::StartsWith(b"A".to_vec()),
                Condition::EndsWith(b"Z".to_vec()),
            ],
            Combine::Any,
            "either",
        );
        let silent = ReplyRule::new(
            vec![Condition::Contains(b"quiet".to_vec())],
            Combine::All,
            ReplyAction::NoReply,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let auto = AutoReply::ReplyRules {
            rules: vec![silent, both, either],
            otherwise_echo: true,
        };
        let reply = |d: &[u8]| auto.reply_for(d, &state).map(Cow::into_owned);
        assert_eq!(reply(b"A..Z"), Some(b"both".to_vec()));
        assert_eq!(reply(b"A.."), Some(b"either".to_vec()));
        assert_eq!(reply(b"..Z"), Some(b"either".to_vec()));
        assert_eq!(reply(b"A quiet Z"), None, "no reply, not even echo");
        assert_eq!(reply(b"other"), Some(b"other".to_vec()), "echo otherwise");
        assert!(auto.echoes(b"other") && !auto.echoes(b"A..Z"));
    }

    #[test]
    fn replies_use_groups_and_variables() {
        let state = TemplateState::default();
        let r = rule(
            vec![Condition::Regex(
                ByteRegex::new(r"^GET (\S+) (?P<ver>HTTP/1\.[01])")
                    .unwrap_or_else(|e| panic!("{e}")),
            )],
            Combine::All,
            r"{ver} 200 OK\r\nX-Path: {1}\r\nX-Seq: {seq}\r\n",
        );
        let auto = AutoReply::ReplyRules {
            rules: vec![r],
            otherwise_echo: false,
        };
        let got = auto
            .reply_for(b"GET /index HTTP/1.1\r\n", &state)
            .map(Cow::into_owned);
        assert_eq!(
            got,
            Some(b"HTTP/1.1 200 OK\r\nX-Path: /index\r\nX-Seq: 1\r\n".to_vec())
        );
    }

    #[test]
    fn bad_patterns_say_where() {
        let Err(PatternError::Regex { position, .. }) = ByteRegex::new("ab(c") else {
            panic!("an open group is an error");
        };
        assert_eq!(position, Some(2));
        let e = ByteRegex::new("a{2,1}").unwrap_err();
        assert!(e.to_string().contains("position"), "{e}");
        assert_eq!(
            HexPattern::parse("01 zz"),
            Err(PatternError::HexPattern {
                position: 3,
                found: "zz".to_owned()
            })
        );
        assert_eq!(HexPattern::parse(" "), Err(PatternError::EmptyHexPattern));
        let no_group = ReplyRule::new(
            vec![Condition::Regex(
                ByteRegex::new("(a)").unwrap_or_else(|e| panic!("{e}")),
            )],
            Combine::All,
            ReplyAction::Reply(
                Template::parse_reply("{2}", true).unwrap_or_else(|e| panic!("{e}")),
            ),
        );
        assert!(matches!(
            no_group,
            Err(PatternError::Reply(TemplateError::NoSuchGroup {
                position: 0,
                ..
            }))
        ));
    }

    #[test]
    fn old_rules_load_unchanged_and_new_ones_round_trip() {
        // The form the window has always saved.
        let saved = r#"{"Rules":[{"when":"StartsWith","pattern":[71,69,84],"reply":[79,75]}]}"#;
        let auto: AutoReply = serde_json::from_str(saved).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            auto,
            AutoReply::Rules(vec![Rule {
                when: MatchKind::StartsWith,
                pattern: b"GET".to_vec(),
                reply: b"OK".to_vec(),
            }])
        );
        let new = AutoReply::ReplyRules {
            rules: vec![rule(
                vec![Condition::Regex(
                    ByteRegex::new("^(x)").unwrap_or_else(|e| panic!("{e}")),
                )],
                Combine::Any,
                "{1}{seq}",
            )],
            otherwise_echo: true,
        };
        let text = serde_json::to_string(&new).unwrap_or_else(|e| panic!("{e}"));
        let back: AutoReply = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, new);
        assert!(
            serde_json::from_str::<ByteRegex>("\"(\"").is_err(),
            "a bad regex does not load"
        );
    }
}
