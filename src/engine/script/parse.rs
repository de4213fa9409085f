//! Reading a script file: TOML into checked steps, every mistake as one sentence with the line and
//! column it is at (from the TOML parser's spans).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Action, DEFAULT_LISTEN_WAIT, DEFAULT_TIMEOUT, Entry, Expect, MAX_DEPTH, MAX_ENTRIES,
    MAX_EXECUTED_STEPS, MAX_PENDING_BYTES, MAX_REPEAT, MAX_STEP_TIME, Matcher, Protocol, Script,
    SendBody, Step, Target,
};
use crate::engine::autoreply::{ByteRegex, HexPattern};
use crate::engine::checksum::Checksum;
use crate::engine::framing::{Framing, FramingConfig};
use crate::engine::payload::{parse_hex, to_visible_text};
use crate::engine::template::{GroupRef, Template};

/// The largest script file read (a script is a page of steps, not data).
pub const MAX_SCRIPT_BYTES: usize = 1024 * 1024;

/// A script that cannot be run, and where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ScriptError {
    /// The line (from 1).
    pub line: usize,
    /// The column (from 1, in characters).
    pub column: usize,
    /// What is wrong, as a sentence.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    name: Option<String>,
    framing: Option<Spanned<String>>,
    max_message: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    connect: Option<Spanned<RawTarget>>,
    listen: Option<Spanned<RawTarget>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    tcp: Option<Spanned<String>>,
    udp: Option<Spanned<String>>,
    wait_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    send: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    checksum: Option<Spanned<String>>,
    expect: Option<Spanned<RawExpect>>,
    timeout_ms: Option<Spanned<u64>>,
    wait: Option<Spanned<u64>>,
    repeat: Option<Spanned<u64>>,
    steps: Option<Vec<Spanned<RawStep>>>,
    set: Option<Spanned<String>>,
    group: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    equals: Option<String>,
    contains: Option<String>,
    starts_with: Option<String>,
    ends_with: Option<String>,
    regex: Option<String>,
    hex: Option<String>,
    end: Option<bool>,
}

/// Where each byte offset's line starts, to turn spans into lines and columns.
struct Lines<'a> {
    text: &'a str,
}

impl Lines<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScriptError {
        let at = span.start.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, at)];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, rest)| rest)
            .chars()
            .count()
            + 1;
        ScriptError {
            line,
            column,
            message: message.into(),
        }
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.error(span.clone(), "").line
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Reads a script; nothing is connected. The error names the line, the column and the problem.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    let lines = Lines { text };
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(lines.error(
            0..0,
            format!(
                "the file is {} bytes long; a script may be at most {MAX_SCRIPT_BYTES} bytes.",
                text.len()
            ),
        ));
    }
    let raw: RawScript = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end_matches('\n').to_string();
        lines.error(e.span().unwrap_or(0..0), sentence(&message))
    })?;
    let timeout = match &raw.timeout_ms {
        Some(t) => milliseconds(&lines, t, "timeout_ms")?,
        None => DEFAULT_TIMEOUT,
    };
    let target = target(&lines, &raw)?;
    let framing = framing(&lines, &raw, target.protocol())?;
    let mut checker = Checker {
        lines: &lines,
        entries: Vec::new(),
        variables: HashSet::new(),
        last_regex: None,
        timeout,
        framed: framing.framing.is_on() || target.protocol() == Protocol::Udp,
        protocol: target.protocol(),
    };
    let steps = checker.steps(&raw.steps, 0)?;
    if steps.is_empty() {
        return Err(lines.error(
            0..0,
            "the script has no steps: add [[steps]] tables with send, expect, wait, repeat or set.",
        ));
    }
    if let Target::Listen {
        protocol: Protocol::Udp,
        ..
    } = target
        && !matches!(steps[0].action, Action::Expect(_))
    {
        let first = &raw.steps[0];
        return Err(lines.error(
            first.span(),
            "a UDP script that listens must begin with an expect: the server learns whom to answer from the first datagram that arrives.",
        ));
    }
    let script = Script {
        name: raw.name,
        target,
        framing,
        timeout,
        steps,
        entries: checker.entries,
    };
    let executed = script.executed_steps();
    if executed > MAX_EXECUTED_STEPS {
        return Err(lines.error(
            0..0,
            format!(
                "the repeat counts add up to {executed} steps; a script may carry out at most {MAX_EXECUTED_STEPS}."
            ),
        ));
    }
    Ok(script)
}

/// The TOML parser's message as a sentence: capital letter, full stop.
fn sentence(message: &str) -> String {
    let mut out = message.trim().to_string();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn milliseconds(lines: &Lines, value: &Spanned<u64>, key: &str) -> Result<Duration, ScriptError> {
    let time = Duration::from_millis(*value.get_ref());
    if time > MAX_STEP_TIME {
        return Err(lines.error(
            value.span(),
            format!(
                "{key} = {} is too long: at most {} ms.",
                value.get_ref(),
                MAX_STEP_TIME.as_millis()
            ),
        ));
    }
    Ok(time)
}

fn target(lines: &Lines, raw: &RawScript) -> Result<Target, ScriptError> {
    let (table, listen) = match (&raw.connect, &raw.listen) {
        (Some(c), None) => (c, false),
        (None, Some(l)) => (l, true),
        (Some(_), Some(l)) => {
            return Err(lines.error(
                l.span(),
                "a script either connects or listens: keep [connect] or [listen], not both.",
            ));
        }
        (None, None) => {
            return Err(lines.error(
                0..0,
                "the script says nothing about whom to talk to: add [connect] with tcp = \"HOST:PORT\" (or udp = …), or [listen].",
            ));
        }
    };
    let inner = table.get_ref();
    let (protocol, address) = match (&inner.tcp, &inner.udp) {
        (Some(a), None) => (Protocol::Tcp, a),
        (None, Some(a)) => (Protocol::Udp, a),
        _ => {
            return Err(lines.error(
                table.span(),
                "give exactly one of tcp = \"HOST:PORT\" or udp = \"HOST:PORT\".",
            ));
        }
    };
    let (host, port) =
        split_host_port(address.get_ref()).map_err(|why| lines.error(address.span(), why))?;
    if !listen {
        if inner.wait_ms.is_some() {
            return Err(lines.error(
                table.span(),
                "wait_ms belongs to [listen] (how long to wait for the first client); [connect] uses timeout_ms.",
            ));
        }
        if port == 0 {
            return Err(lines.error(
                address.span(),
                "port 0 cannot be connected to: give the port the peer listens on.",
            ));
        }
        return Ok(Target::Connect {
            protocol,
            host,
            port,
        });
    }
    let ip: IpAddr = host.parse().map_err(|_| {
        lines.error(
            address.span(),
            format!(
                "\"{host}\" is not an address to listen on: use 127.0.0.1, ::1, 0.0.0.0 or :: (a port of 0 lets the system pick one)."
            ),
        )
    })?;
    let wait = match &inner.wait_ms {
        Some(w) => milliseconds(lines, w, "wait_ms")?,
        None => DEFAULT_LISTEN_WAIT,
    };
    Ok(Target::Listen {
        protocol,
        address: SocketAddr::new(ip, port),
        wait,
    })
}

/// `host:port`, `[v6]:port`.
pub(crate) fn split_host_port(text: &str) -> Result<(String, u16), String> {
    let text = text.trim();
    let bad = || format!("\"{text}\" is not HOST:PORT (write [::1]:PORT for an IPv6 address).");
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or_else(bad)?;
        (host, port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        if host.contains(':') {
            return Err(bad());
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| {
        format!("\"{port}\" in \"{text}\" is not a port: use a number from 0 to 65535.")
    })?;
    Ok((host.to_string(), port))
}

fn framing(
    lines: &Lines,
    raw: &RawScript,
    protocol: Protocol,
) -> Result<FramingConfig, ScriptError> {
    let mut config = FramingConfig::default();
    if let Some(text) = &raw.framing {
        let framing: Framing = text
            .get_ref()
            .parse()
            .map_err(|why: String| lines.error(text.span(), sentence(&why)))?;
        if framing.is_on() && protocol == Protocol::Udp {
            return Err(lines.error(
                text.span(),
                "framing applies to TCP: over UDP every datagram already is one message.",
            ));
        }
        config = FramingConfig::new(framing);
    }
    if let Some(max) = &raw.max_message {
        config.max_message = usize::try_from(*max.get_ref()).unwrap_or(usize::MAX);
        config
            .check()
            .map_err(|why| lines.error(max.span(), sentence(&why)))?;
    }
    config
        .check()
        .map_err(|why| lines.error(0..0, sentence(&why)))?;
    Ok(config)
}

/// Walks the steps in file order, checking each against what came before it.
struct Checker<'a, 'b> {
    lines: &'a Lines<'b>,
    entries: Vec<Entry>,
    /// Variables set by `set` steps so far.
    variables: HashSet<String>,
    /// The regular expression of the last `expect`, when it was one (for `set`).
    last_regex: Option<ByteRegex>,
    timeout: Duration,
    /// Expect compares whole messages (framing on, or UDP).
    framed: bool,
    protocol: Protocol,
}

impl Checker<'_, '_> {
    fn steps(&mut self, raw: &[Spanned<RawStep>], depth: usize) -> Result<Vec<Step>, ScriptError> {
        let mut steps = Vec::with_capacity(raw.len());
        for spanned in raw {
            if self.entries.len() >= MAX_ENTRIES {
                return Err(self.lines.error(
                    spanned.span(),
                    format!(
                        "a script may hold at most {MAX_ENTRIES} steps; this one is one too many."
                    ),
                ));
            }
            steps.push(self.step(spanned, depth)?);
        }
        Ok(steps)
    }

    fn step(&mut self, spanned: &Spanned<RawStep>, depth: usize) -> Result<Step, ScriptError> {
        let span = spanned.span();
        let raw = spanned.get_ref();
        let kinds: Vec<&str> = [
            ("send", raw.send.is_some()),
            ("expect", raw.expect.is_some()),
            ("wait", raw.wait.is_some()),
            ("repeat", raw.repeat.is_some()),
            ("set", raw.set.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        let kind = match kinds.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.lines.error(
                    span,
                    "this step does nothing: give it one of send, expect, wait, repeat or set.",
                ));
            }
            many => {
                return Err(self.lines.error(
                    span,
                    format!(
                        "this step is both {}: one step does one thing (make a [[steps]] table for each).",
                        many.join(" and ")
                    ),
                ));
            }
        };
        self.refuse_foreign_keys(raw, kind, &span)?;
        let entry = self.entries.len();
        self.entries.push(Entry {
            line: self.lines.line_of(&span),
            depth,
            kind,
            summary: String::new(),
        });
        let (action, summary) = match kind {
            "send" => self.send(raw)?,
            "expect" => self.expect(raw)?,
            "wait" => {
                let wait = raw
                    .wait
                    .as_ref()
                    .map_or(Ok(Duration::ZERO), |w| milliseconds(self.lines, w, "wait"))?;
                (Action::Wait(wait), format!("wait {} ms", wait.as_millis()))
            }
            "repeat" => self.repeat(raw, &span, depth)?,
            _ => self.set(raw, &span)?,
        };
        self.entries[entry].summary = summary;
        Ok(Step { entry, action })
    }

    /// Keys that belong to another kind of step are a mistake worth naming (a `checksum` on an
    /// `expect` would otherwise be ignored without a word).
    fn refuse_foreign_keys(
        &self,
        raw: &RawStep,
        kind: &str,
        span: &Range<usize>,
    ) -> Result<(), ScriptError> {
        let keys = [
            ("format", raw.format.is_some(), "send"),
            ("checksum", raw.checksum.is_some(), "send"),
            ("timeout_ms", raw.timeout_ms.is_some(), "expect"),
            ("steps", raw.steps.is_some(), "repeat"),
            ("group", raw.group.is_some(), "set"),
        ];
        for (key, present, owner) in keys {
            if present && owner != kind {
                return Err(self.lines.error(
                    span.clone(),
                    format!("{key} belongs to a {owner} step, and this step is a {kind}."),
                ));
            }
        }
        Ok(())
    }

    fn send(&mut self, raw: &RawStep) -> Result<(Action, String), ScriptError> {
        let Some(text) = &raw.send else {
            unreachable!("the kind was chosen by the key")
        };
        let checksum = match &raw.checksum {
            Some(c) => Some(
                Checksum::from_name(c.get_ref()).map_err(|why| self.lines.error(c.span(), why))?,
            ),
            None => None,
        };
        let format = raw.format.as_ref().map_or("text", |f| f.get_ref().as_str());
        let body = match format {
            "text" => SendBody::Template(
                Template::literal(text.get_ref().as_bytes()).with_checksum(checksum),
            ),
            "hex" => {
                let bytes = parse_hex(text.get_ref())
                    .map_err(|e| self.lines.error(text.span(), e.to_string()))?;
                SendBody::Template(Template::literal(&bytes).with_checksum(checksum))
            }
            "template" => self.template(text, checksum)?,
            other => {
                let span = raw.format.as_ref().map_or(text.span(), Spanned::span);
                return Err(self.lines.error(
                    span,
                    format!("format = \"{other}\" is not a format: use text, hex or template."),
                ));
            }
        };
        let shown = match format {
            "hex" => text.get_ref().trim().to_string(),
            _ => to_visible_text(text.get_ref().as_bytes(), 40),
        };
        let with = checksum.map_or(String::new(), |c| format!(" + {}", c.name()));
        Ok((Action::Send(body), format!("send {format} {shown}{with}")))
    }

    /// A template send: checked now with every variable it uses standing in as `x`.
    fn template(
        &self,
        text: &Spanned<String>,
        checksum: Option<Checksum>,
    ) -> Result<SendBody, ScriptError> {
        let uses = used_variables(text.get_ref(), &self.variables);
        let probe = put_in_variables(text.get_ref(), &|_| Some(b"x".to_vec()), &self.variables);
        let parsed = Template::parse(&probe).map_err(|e| {
            let mut why = e.to_string();
            if matches!(
                e,
                crate::engine::template::TemplateError::Unknown { .. }
                    | crate::engine::template::TemplateError::GroupOutsideRegex { .. }
            ) {
                why.push_str(" (a name set by an earlier set step can be used as well)");
            }
            self.lines.error(text.span(), why)
        })?;
        Ok(if uses {
            SendBody::WithVariables {
                source: text.get_ref().clone(),
                checksum,
            }
        } else {
            SendBody::Template(parsed.with_checksum(checksum))
        })
    }

    fn expect(&mut self, raw: &RawStep) -> Result<(Action, String), ScriptError> {
        let Some(spanned) = &raw.expect else {
            unreachable!("the kind was chosen by the key")
        };
        let span = spanned.span();
        let e = spanned.get_ref();
        let given: Vec<(&str, &String)> = [
            ("equals", e.equals.as_ref()),
            ("contains", e.contains.as_ref()),
            ("starts_with", e.starts_with.as_ref()),
            ("ends_with", e.ends_with.as_ref()),
            ("regex", e.regex.as_ref()),
            ("hex", e.hex.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let one_of = "equals, contains, starts_with, ends_with, regex, hex or end = true";
        let (matcher, summary) = match (given.as_slice(), e.end) {
            ([], Some(true)) => {
                if self.protocol == Protocol::Udp {
                    return Err(self.lines.error(
                        span,
                        "expect.end waits for the peer's FIN, which only TCP has: UDP has no connection to end.",
                    ));
                }
                (Matcher::End, "expect the peer to finish (FIN)".to_string())
            }
            ([(kind, value)], None) => self.matcher(kind, value, &span)?,
            _ => {
                return Err(self
                    .lines
                    .error(span, format!("an expect needs exactly one of {one_of}.")));
            }
        };
        self.last_regex = match &matcher {
            Matcher::Regex(r) => Some(r.clone()),
            _ => None,
        };
        let timeout = match &raw.timeout_ms {
            Some(t) => milliseconds(self.lines, t, "timeout_ms")?,
            None => self.timeout,
        };
        let summary = format!("{summary} within {} ms", timeout.as_millis());
        Ok((Action::Expect(Expect { matcher, timeout }), summary))
    }

    fn matcher(
        &self,
        kind: &str,
        value: &str,
        span: &Range<usize>,
    ) -> Result<(Matcher, String), ScriptError> {
        let bytes = value.as_bytes().to_vec();
        if bytes.len() > MAX_PENDING_BYTES {
            return Err(self.lines.error(
                span.clone(),
                format!("the pattern is longer than {MAX_PENDING_BYTES} bytes."),
            ));
        }
        if bytes.is_empty() && kind != "regex" && kind != "hex" {
            return Err(self.lines.error(
                span.clone(),
                format!("expect.{kind} is empty: give the bytes to look for."),
            ));
        }
        let shown = to_visible_text(value.as_bytes(), 40);
        let unit = if self.framed { "a message" } else { "data" };
        Ok(match kind {
            "equals" => (
                Matcher::Equals(bytes),
                format!("expect {unit} equal to {shown}"),
            ),
            "contains" => (
                Matcher::Contains(bytes),
                format!("expect {unit} containing {shown}"),
            ),
            "starts_with" => (
                Matcher::StartsWith(bytes),
                format!("expect {unit} starting with {shown}"),
            ),
            "ends_with" => (
                Matcher::EndsWith(bytes),
                format!("expect {unit} ending with {shown}"),
            ),
            "regex" => {
                let regex = ByteRegex::new(value)
                    .map_err(|e| self.lines.error(span.clone(), e.to_string()))?;
                (
                    Matcher::Regex(regex),
                    format!("expect {unit} matching /{value}/"),
                )
            }
            _ => {
                let pattern = HexPattern::parse(value)
                    .map_err(|e| self.lines.error(span.clone(), e.to_string()))?;
                (
                    Matcher::Hex(pattern.clone()),
                    format!("expect {unit} like {pattern}"),
                )
            }
        })
    }

    fn repeat(
        &mut self,
        raw: &RawStep,
        span: &Range<usize>,
        depth: usize,
    ) -> Result<(Action, String), ScriptError> {
        let Some(count) = &raw.repeat else {
            unreachable!("the kind was chosen by the key")
        };
        let n = *count.get_ref();
        if n == 0 || n > MAX_REPEAT {
            return Err(self.lines.error(
                count.span(),
                format!("repeat = {n}: the count must be 1 to {MAX_REPEAT}."),
            ));
        }
        if depth + 1 > MAX_DEPTH {
            return Err(self.lines.error(
                span.clone(),
                format!("repeat blocks may nest at most {MAX_DEPTH} deep."),
            ));
        }
        let Some(inner) = raw.steps.as_ref().filter(|s| !s.is_empty()) else {
            return Err(self.lines.error(
                span.clone(),
                "a repeat needs the steps to repeat: add [[steps.steps]] tables after it.",
            ));
        };
        let steps = self.steps(inner, depth + 1)?;
        let times = if n == 1 { "once" } else { "times" };
        let summary = if n == 1 {
            format!("repeat {} steps {times}", steps.len())
        } else {
            format!("repeat {} steps {n} {times}", steps.len())
        };
        Ok((Action::Repeat { count: n, steps }, summary))
    }

    fn set(&mut self, raw: &RawStep, span: &Range<usize>) -> Result<(Action, String), ScriptError> {
        let Some(name) = &raw.set else {
            unreachable!("the kind was chosen by the key")
        };
        let valid = name
            .get_ref()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || is_builtin(name.get_ref()) {
            return Err(self.lines.error(
                name.span(),
                format!(
                    "\"{}\" cannot be a variable name: use letters, digits and _, not starting with a digit, and not seq, time, unix_ms or rand.",
                    name.get_ref()
                ),
            ));
        }
        let Some(regex) = &self.last_regex else {
            return Err(self.lines.error(
                span.clone(),
                "set takes a group captured by the expect before it, and that expect is not a regex (or there is none).",
            ));
        };
        let group = match raw.group.as_ref().map(|g| (g.get_ref(), g.span())) {
            None => GroupRef::Index(1),
            Some((toml::Value::Integer(i), _)) if *i >= 0 => {
                GroupRef::Index(usize::try_from(*i).unwrap_or(usize::MAX))
            }
            Some((toml::Value::String(s), _)) => GroupRef::Name(s.clone()),
            Some((_, group_span)) => {
                return Err(self.lines.error(
                    group_span,
                    "group is a group number (0 is the whole match) or a group name.",
                ));
            }
        };
        let exists = match &group {
            GroupRef::Index(i) => *i < regex.regex().captures_len(),
            GroupRef::Name(n) => regex.regex().capture_names().flatten().any(|c| c == n),
        };
        if !exists {
            let span = raw.group.as_ref().map_or(span.clone(), Spanned::span);
            return Err(self.lines.error(
                span,
                format!(
                    "the regular expression /{}/ has no group {}.",
                    regex.source(),
                    describe_group(&group)
                ),
            ));
        }
        self.variables.insert(name.get_ref().clone());
        let summary = format!("set {} = group {}", name.get_ref(), describe_group(&group));
        Ok((
            Action::Set {
                name: name.get_ref().clone(),
                group,
            },
            summary,
        ))
    }
}

fn describe_group(group: &GroupRef) -> String {
    match group {
        GroupRef::Index(i) => i.to_string(),
        GroupRef::Name(n) => format!("\"{n}\""),
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "seq" | "time" | "unix_ms" | "rand")
}

/// True when `text` writes `{name}` for one of `variables`.
fn used_variables(text: &str, variables: &HashSet<String>) -> bool {
    let mut found = false;
    scan_variables(text, variables, &mut |_| found = true);
    found
}

/// `text` with each `{name}` of `variables` replaced by its value written so that the template
/// reader gives back exactly the value's bytes (escapes for braces, backslashes and bytes that
/// are not printable ASCII). A variable without a value stays as written.
pub(crate) fn put_in_variables(
    text: &str,
    value_of: &dyn Fn(&str) -> Option<Vec<u8>>,
    variables: &HashSet<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            out.push_str("{{");
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(close) if variables.contains(&after[..close]) => {
                match value_of(&after[..close]) {
                    Some(value) => out.push_str(&escape_for_template(&value)),
                    None => out.push_str(&rest[open..=open + 1 + close]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn scan_variables(text: &str, variables: &HashSet<String>, each: &mut dyn FnMut(&str)) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(close) if variables.contains(&after[..close]) => {
                each(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
}

fn escape_for_template(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value {
        match b {
            b'{' => out.push_str("{{"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(text: &str) -> ScriptError {
        match parse(text) {
            Ok(s) => panic!("parsed: {s:?}"),
            Err(e) => e,
        }
    }

    const HEAD: &str = "[connect]\ntcp = \"127.0.0.1:5020\"\n";

    #[test]
    fn a_modbus_script_parses_with_its_lines() {
        let text = format!(
            "{HEAD}\n[[steps]]\nsend = \"01 03 00 00 00 0A\"\nformat = \"hex\"\nchecksum = \"crc16-modbus\"\n\n[[steps]]\nexpect.hex = \"01 03 14 *\"\ntimeout_ms = 100\n"
        );
        let script = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(script.entries.len(), 2);
        assert_eq!(script.entries[0].line, 4, "{:?}", script.entries);
        assert_eq!(script.entries[1].line, 9, "{:?}", script.entries);
        assert_eq!(
            script.entries[0].summary,
            "send hex 01 03 00 00 00 0A + crc16-modbus"
        );
        assert_eq!(
            script.entries[1].summary,
            "expect data like 01 03 14 * within 100 ms"
        );
        let Action::Send(SendBody::Template(t)) = &script.steps[0].action else {
            panic!("{:?}", script.steps[0]);
        };
        let state = crate::engine::template::TemplateState::default();
        assert_eq!(
            state.render(t),
            [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]
        );
    }

    #[test]
    fn mistakes_name_their_line_and_column() {
        let e = fails(&format!(
            "{HEAD}\n[[steps]]\nsend = \"0G\"\nformat = \"hex\"\n"
        ));
        assert_eq!((e.line, e.column), (5, 8), "{e}");
        assert!(e.message.contains("hex"), "{e}");

        let e = fails(&format!("{HEAD}\n[[steps]]\nexpect.regex = \"(\"\n"));
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("regular expression"), "{e}");

        let e = fails(&format!("{HEAD}\n[[steps]]\nsend = \"a\"\nwait = 5\n"));
        assert!(e.message.contains("both send and wait"), "{e}");

        let e = fails(&format!("{HEAD}\n[[steps]]\nsned = \"a\"\n"));
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("sned"), "{e}");

        // A newline inside a "…" string: the parser stops where the string's rest no longer parses.
        let e = fails(&format!("{HEAD}\n[[steps]]\nsend = \"a\nb\"\n"));
        assert!((5..=6).contains(&e.line), "{e}");

        let e = fails("[[steps]]\nwait = 1\n");
        assert!(e.message.contains("[connect]"), "{e}");
    }

    #[test]
    fn repeats_are_bounded_and_counted() {
        let text = format!(
            "{HEAD}\n[[steps]]\nrepeat = 3\n[[steps.steps]]\nsend = \"ping\"\n[[steps.steps]]\nexpect.equals = \"pong\"\n"
        );
        let script = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(script.executed_steps(), 1 + 3 * 2);
        assert_eq!(script.entries[1].depth, 1);

        let e = fails(&format!(
            "{HEAD}\n[[steps]]\nrepeat = 0\n[[steps.steps]]\nwait = 1\n"
        ));
        assert!(e.message.contains("1 to"), "{e}");
        let e = fails(&format!("{HEAD}\n[[steps]]\nrepeat = 5\n"));
        assert!(e.message.contains("steps to repeat"), "{e}");
        let nested = format!(
            "{HEAD}\n[[steps]]\nrepeat = 100000\n[[steps.steps]]\nrepeat = 100000\n[[steps.steps.steps]]\nwait = 0\n"
        );
        let e = fails(&nested);
        assert!(e.message.contains("at most"), "{e}");
    }

    #[test]
    fn set_needs_a_regex_group_and_feeds_templates() {
        let ok = format!(
            "{HEAD}\n[[steps]]\nexpect.regex = 'id=(?P<id>\\d+)'\n[[steps]]\nset = \"device\"\ngroup = \"id\"\n[[steps]]\nsend = \"ack {{device}} {{seq}}\"\nformat = \"template\"\n"
        );
        let script = parse(&ok).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            script.steps[2].action,
            Action::Send(SendBody::WithVariables { .. })
        ));

        let e = fails(&format!(
            "{HEAD}\n[[steps]]\nexpect.regex = 'id=(\\d+)'\n[[steps]]\nset = \"device\"\ngroup = 2\n"
        ));
        assert!(e.message.contains("no group 2"), "{e}");
        let e = fails(&format!(
            "{HEAD}\n[[steps]]\nexpect.equals = 'x'\n[[steps]]\nset = \"device\"\n"
        ));
        assert!(e.message.contains("not a regex"), "{e}");
        let e = fails(&format!(
            "{HEAD}\n[[steps]]\nsend = \"{{device}}\"\nformat = \"template\"\n"
        ));
        assert!(e.message.contains("set step"), "{e}");
    }

    #[test]
    fn variable_values_are_escaped_for_the_template_reader() {
        let vars: HashSet<String> = ["v".to_string()].into();
        let text = put_in_variables("a{v}b{{v}}{seq}", &|_| Some(b"{\\\x01".to_vec()), &vars);
        assert_eq!(text, "a{{\\\\\\x01b{{v}}{seq}");
        let t = Template::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let state = crate::engine::template::TemplateState::default();
        assert_eq!(state.render(&t), b"a{\\\x01b{v}}1");
    }

    #[test]
    fn udp_listen_must_begin_with_expect() {
        let e = fails("[listen]\nudp = \"127.0.0.1:0\"\n\n[[steps]]\nsend = \"x\"\n");
        assert!(e.message.contains("first datagram"), "{e}");
        assert_eq!(e.line, 4, "{e}");
    }
}
