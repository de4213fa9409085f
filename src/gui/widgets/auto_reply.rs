//! Server auto-reply rules: "when the received message equals / contains / starts or ends with
//! X, matches a regular expression or a hex pattern with `??`, or has a length in a range — all
//! or any of several such conditions — reply with Y" (text, hex, escapes or a template with the
//! regex's captured groups, optionally with a checksum), or "do not reply". The rules run in the
//! engine's readers ([`crate::engine::autoreply`]); this widget edits them and says what is
//! wrong with a rule next to it, with the position of the problem.

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::autoreply::{
    AutoReply, ByteRegex, Combine, Condition, HexPattern, MatchKind, ReplyAction, ReplyRule, Rule,
};
use crate::engine::checksum::Checksum;
use crate::engine::payload::{InputMode, LineEnding, encode};
use crate::engine::template::Template;
use crate::gui::text as t;
use crate::gui::text_tools as tt;

use super::fields::{error_line, labelled_edit};
use super::payload_editor::checksum_choice;

/// Most rules one server keeps (the list stays readable and matching stays cheap).
pub const MAX_RULES: usize = 32;
/// Most conditions one rule combines.
pub const MAX_CONDITIONS: usize = 8;

/// How a condition looks at the received message. The first three are the names rules were
/// saved with before the others existed, so old workspace files read unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum When {
    /// Exactly the pattern.
    #[default]
    Equals,
    /// The pattern anywhere.
    Contains,
    /// Begins with the pattern.
    StartsWith,
    /// Ends with the pattern.
    EndsWith,
    /// A regular expression over the bytes.
    Regex,
    /// Hex bytes with `??` wildcards (and a final `*`).
    HexPattern,
    /// A length (`12`) or a length range (`10..20`).
    Length,
}

impl When {
    /// Every kind, in menu order.
    pub const ALL: [When; 7] = [
        When::Equals,
        When::Contains,
        When::StartsWith,
        When::EndsWith,
        When::Regex,
        When::HexPattern,
        When::Length,
    ];

    /// The menu's words.
    pub fn label(self) -> &'static str {
        match self {
            When::Equals => t::RULE_EQUALS,
            When::Contains => t::RULE_CONTAINS,
            When::StartsWith => t::RULE_STARTS_WITH,
            When::EndsWith => tt::RULE_ENDS_WITH,
            When::Regex => tt::RULE_REGEX,
            When::HexPattern => tt::RULE_HEX_PATTERN,
            When::Length => tt::RULE_LENGTH,
        }
    }

    /// True when the pattern is text, hex or escapes (a mode menu applies).
    fn takes_bytes(self) -> bool {
        matches!(
            self,
            When::Equals | When::Contains | When::StartsWith | When::EndsWith
        )
    }

    fn placeholder(self) -> &'static str {
        match self {
            When::Regex => tt::RULE_REGEX_PLACEHOLDER,
            When::HexPattern => tt::RULE_HEX_PLACEHOLDER,
            When::Length => tt::RULE_LENGTH_PLACEHOLDER,
            _ => "",
        }
    }
}

/// One more condition of a rule, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConditionSettings {
    /// How it looks.
    pub when: When,
    /// What it looks for.
    pub pattern: String,
    /// How `pattern` becomes bytes (for equals, contains, starts and ends with).
    pub mode: InputMode,
}

/// One condition compiled: what it is, or the sentence (with the position) of what is wrong.
fn condition(when: When, pattern: &str, mode: InputMode) -> Result<Condition, String> {
    let bytes = || encode(pattern, mode, LineEnding::None).map_err(|e| e.to_string());
    match when {
        When::Equals => {
            let b = bytes()?;
            if b.is_empty() {
                return Err(t::RULE_EMPTY_EQUALS.to_owned());
            }
            Ok(Condition::Equals(b))
        }
        When::Contains => Ok(Condition::Contains(bytes()?)),
        When::StartsWith => Ok(Condition::StartsWith(bytes()?)),
        When::EndsWith => Ok(Condition::EndsWith(bytes()?)),
        When::Regex => ByteRegex::new(pattern)
            .map(Condition::Regex)
            .map_err(|e| e.to_string()),
        When::HexPattern => HexPattern::parse(pattern)
            .map(Condition::HexPattern)
            .map_err(|e| e.to_string()),
        When::Length => {
            let (min, max) = parse_length(pattern)?;
            Condition::length(min, max).map_err(|e| e.to_string())
        }
    }
}

/// `12`, `10..20` or `10-20`.
fn parse_length(text: &str) -> Result<(usize, usize), String> {
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| tt::rule_length_bad(text))
    };
    let text_trim = text.trim();
    let split = text_trim
        .split_once("..")
        .or_else(|| text_trim.split_once('-'));
    match split {
        Some((a, b)) => Ok((number(a)?, number(b.trim_start_matches('=').trim())?)),
        None => number(text_trim).map(|n| (n, n)),
    }
}

/// One rule as typed. The first condition keeps the field names of the rules saved before
/// conditions could be combined (`when`, `pattern`, `pattern_mode`), so those still load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSettings {
    /// How the first condition compares.
    pub when: When,
    /// What the first condition looks for, as typed.
    pub pattern: String,
    /// How `pattern` becomes bytes.
    pub pattern_mode: InputMode,
    /// Further conditions.
    pub more: Vec<ConditionSettings>,
    /// All or any of the conditions.
    pub combine: Combine,
    /// What to send back, as typed.
    pub reply: String,
    /// How `reply` becomes bytes.
    pub reply_mode: InputMode,
    /// The reply is a template: `{seq}`, `{time}` …, and a regular expression's groups `{1}`.
    pub reply_template: bool,
    /// Appended to the reply.
    pub checksum: Option<Checksum>,
    /// Send nothing back (and let neither a later rule nor echo answer).
    pub no_reply: bool,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            when: When::Equals,
            pattern: String::new(),
            pattern_mode: InputMode::Text,
            more: Vec::new(),
            combine: Combine::All,
            reply: String::new(),
            reply_mode: InputMode::Text,
            reply_template: false,
            checksum: None,
            no_reply: false,
        }
    }
}

impl RuleSettings {
    /// True when it is a rule of the first kind (one equals/contains/starts-with condition and
    /// fixed reply bytes), which the engine's [`Rule`] runs exactly as before.
    fn is_simple(&self) -> bool {
        matches!(self.when, When::Equals | When::Contains | When::StartsWith)
            && self.more.is_empty()
            && !self.reply_template
            && self.checksum.is_none()
            && !self.no_reply
    }

    /// Every condition with its label number (from 1).
    fn conditions(&self) -> impl Iterator<Item = (When, &str, InputMode)> {
        std::iter::once((self.when, self.pattern.as_str(), self.pattern_mode)).chain(
            self.more
                .iter()
                .map(|c| (c.when, c.pattern.as_str(), c.mode)),
        )
    }

    /// The condition sentences (`None`: fine), in order.
    fn condition_problems(&self, n: usize) -> Vec<Option<String>> {
        self.conditions()
            .map(|(when, pattern, mode)| {
                condition(when, pattern, mode)
                    .err()
                    .map(|e| t::rule_error(n, t::RULE_MATCH, &e))
            })
            .collect()
    }

    /// The reply's sentence, if it is wrong (groups are checked against the rule's regex).
    fn reply_problem(&self, n: usize) -> Option<String> {
        self.compile_reply(n).err()
    }

    fn compile_reply(&self, n: usize) -> Result<ReplyRule, String> {
        let conditions = self
            .conditions()
            .map(|(when, pattern, mode)| condition(when, pattern, mode))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| t::rule_error(n, t::RULE_MATCH, &e))?;
        let reply_error = |e: &str| t::rule_error(n, t::RULE_REPLY, e);
        let action = if self.no_reply {
            ReplyAction::NoReply
        } else if self.reply_template {
            let groups = conditions.iter().any(|c| matches!(c, Condition::Regex(_)));
            let template = Template::parse_reply(&self.reply, groups)
                .map_err(|e| reply_error(&e.to_string()))?
                .with_checksum(self.checksum);
            if self.reply.is_empty() && self.checksum.is_none() {
                return Err(reply_error(t::RULE_EMPTY_REPLY));
            }
            ReplyAction::Reply(template)
        } else {
            let mut bytes = encode(&self.reply, self.reply_mode, LineEnding::None)
                .map_err(|e| reply_error(&e.to_string()))?;
            if bytes.is_empty() {
                return Err(reply_error(t::RULE_EMPTY_REPLY));
            }
            if let Some(checksum) = self.checksum {
                checksum.append(&mut bytes);
            }
            ReplyAction::Reply(Template::literal(&bytes))
        };
        ReplyRule::new(conditions, self.combine, action).map_err(|e| match e {
            crate::engine::autoreply::PatternError::Reply(r) => reply_error(&r.to_string()),
            other => t::rule_error(n, t::RULE_MATCH, &other.to_string()),
        })
    }

    /// The engine's rule of the first kind, or the sentence that says what is wrong (rule `n`
    /// counts from 1). Rules that use the newer choices compile with [`Self::compile_rule`].
    pub fn compile(&self, n: usize) -> Result<Rule, String> {
        let pattern = encode(&self.pattern, self.pattern_mode, LineEnding::None)
            .map_err(|e| t::rule_error(n, t::RULE_MATCH, &e.to_string()))?;
        if pattern.is_empty() && self.when == When::Equals {
            return Err(t::rule_error(n, t::RULE_MATCH, t::RULE_EMPTY_EQUALS));
        }
        let reply = encode(&self.reply, self.reply_mode, LineEnding::None)
            .map_err(|e| t::rule_error(n, t::RULE_REPLY, &e.to_string()))?;
        if reply.is_empty() {
            return Err(t::rule_error(n, t::RULE_REPLY, t::RULE_EMPTY_REPLY));
        }
        let when = match self.when {
            When::Contains => MatchKind::Contains,
            When::StartsWith => MatchKind::StartsWith,
            _ => MatchKind::Equals,
        };
        Ok(Rule {
            when,
            pattern,
            reply,
        })
    }

    /// The engine's reply rule (any kind), or the sentence that says what is wrong.
    pub fn compile_rule(&self, n: usize) -> Result<ReplyRule, String> {
        self.compile_reply(n)
    }
}

/// What a server tab remembers about auto-reply rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoReplySettings {
    /// Reply by the rules.
    pub use_rules: bool,
    /// The rules, first match wins.
    pub rules: Vec<RuleSettings>,
}

impl AutoReplySettings {
    /// What the engine should do: the rules (if switched on) first — what no rule matched is
    /// echoed when echo is on — else echo, else nothing. Fails with the first bad rule's
    /// sentence.
    pub fn effective(&self, echo: bool) -> Result<AutoReply, String> {
        if !self.use_rules || self.rules.is_empty() {
            return Ok(if echo {
                AutoReply::Echo
            } else {
                AutoReply::Off
            });
        }
        if !echo && self.rules.iter().all(RuleSettings::is_simple) {
            // Rules of the first kind run as they always have.
            let rules = self
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| r.compile(i + 1))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AutoReply::Rules(rules));
        }
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| r.compile_rule(i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AutoReply::ReplyRules {
            rules,
            otherwise_echo: echo,
        })
    }
}

fn mode_label(mode: InputMode) -> &'static str {
    match mode {
        InputMode::Text => t::MODE_TEXT,
        InputMode::Hex => t::MODE_HEX,
        InputMode::Escapes => t::MODE_ESCAPES,
    }
}

fn mode_menu(ui: &mut Ui, id: impl egui::AsIdSalt, mode: &mut InputMode) -> bool {
    let mut changed = false;
    egui::ComboBox::from_id_salt(id)
        .selected_text(mode_label(*mode))
        .width(70.0)
        .show_ui(ui, |ui| {
            for m in [InputMode::Text, InputMode::Hex, InputMode::Escapes] {
                changed |= ui.selectable_value(mode, m, mode_label(m)).changed();
            }
        })
        .response
        .on_hover_text(t::MODE_HINT);
    changed
}

fn when_menu(ui: &mut Ui, id: impl egui::AsIdSalt, when: &mut When, label: egui::Id) -> bool {
    let mut changed = false;
    egui::ComboBox::from_id_salt(id)
        .selected_text(when.label())
        .show_ui(ui, |ui| {
            for kind in When::ALL {
                changed |= ui.selectable_value(when, kind, kind.label()).changed();
            }
        })
        .response
        .labelled_by(label);
    changed
}

/// One condition's row: kind, mode (for byte patterns), pattern; its sentence under it.
fn condition_row(
    ui: &mut Ui,
    id: (&str, usize, usize),
    (label, kind_label): (&str, Option<egui::Id>),
    (when, pattern, mode): (&mut When, &mut String, &mut InputMode),
    problem: Option<&String>,
) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        // The kind menu is named by the rule's heading (first condition) or its number (`1.2`).
        let kind_label =
            kind_label.unwrap_or_else(|| ui.label(tt::condition_number(id.1 + 1, id.2 + 1)).id);
        changed |= when_menu(ui, (id, "when"), when, kind_label);
        if when.takes_bytes() {
            changed |= mode_menu(ui, (id, "mode"), mode);
        }
        changed |= labelled_edit(
            ui,
            label,
            tt::rule_pattern_hint(*when),
            pattern,
            150.0,
            when.placeholder(),
        )
        .changed();
    });
    if let Some(problem) = problem {
        error_line(ui, problem);
    }
    changed
}

/// One rule: its conditions, all/any, the reply (or none); true when something changed.
fn rule_ui(ui: &mut Ui, id: &str, i: usize, rule: &mut RuleSettings) -> (bool, bool) {
    let n = i + 1;
    let mut changed = false;
    let mut remove = false;
    let problems = rule.condition_problems(n);
    let mut heading = None;
    ui.horizontal_wrapped(|ui| {
        heading = Some(ui.strong(t::rule_when(n)).id);
        if !rule.more.is_empty() {
            changed |= ui
                .selectable_value(&mut rule.combine, Combine::All, tt::COMBINE_ALL)
                .on_hover_text(tt::COMBINE_HINT)
                .changed();
            changed |= ui
                .selectable_value(&mut rule.combine, Combine::Any, tt::COMBINE_ANY)
                .on_hover_text(tt::COMBINE_HINT)
                .changed();
        }
        if ui
            .small_button(t::rule_remove(n))
            .on_hover_text(t::RULE_REMOVE_HINT)
            .clicked()
        {
            remove = true;
        }
    });
    changed |= condition_row(
        ui,
        (id, i, 0),
        (&t::rule_match_label(n), heading),
        (&mut rule.when, &mut rule.pattern, &mut rule.pattern_mode),
        problems.first().and_then(Option::as_ref),
    );
    let mut drop_condition = None;
    for (c, more) in rule.more.iter_mut().enumerate() {
        let label = tt::rule_condition_label(n, c + 2);
        changed |= condition_row(
            ui,
            (id, i, c + 1),
            (&label, None),
            (&mut more.when, &mut more.pattern, &mut more.mode),
            problems.get(c + 1).and_then(Option::as_ref),
        );
        if ui.small_button(tt::remove_condition(n, c + 2)).clicked() {
            drop_condition = Some(c);
        }
    }
    if let Some(c) = drop_condition {
        rule.more.remove(c);
        changed = true;
    }
    if rule.more.len() + 1 < MAX_CONDITIONS
        && ui
            .small_button(tt::add_condition(n))
            .on_hover_text(tt::ADD_CONDITION_HINT)
            .clicked()
    {
        rule.more.push(ConditionSettings::default());
        changed = true;
    }
    changed |= reply_row(ui, id, i, rule);
    if problems.iter().all(Option::is_none)
        && let Some(problem) = rule.reply_problem(n)
    {
        error_line(ui, &problem);
    }
    ui.separator();
    (changed, remove)
}

fn reply_row(ui: &mut Ui, id: &str, i: usize, rule: &mut RuleSettings) -> bool {
    let n = i + 1;
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
        changed |= ui
            .checkbox(&mut rule.no_reply, tt::no_reply(n))
            .on_hover_text(tt::NO_REPLY_HINT)
            .changed();
        if rule.no_reply {
            return;
        }
        if rule.reply_template {
            ui.weak(tt::MODE_TEMPLATE);
        } else {
            changed |= mode_menu(ui, (id, i, "reply-mode"), &mut rule.reply_mode);
        }
        changed |= labelled_edit(
            ui,
            &t::rule_reply_label(n),
            t::RULE_REPLY_HINT,
            &mut rule.reply,
            150.0,
            "",
        )
        .changed();
    });
    if !rule.no_reply {
        ui.horizontal_wrapped(|ui| {
            changed |= ui
                .checkbox(&mut rule.reply_template, tt::reply_template(n))
                .on_hover_text(tt::REPLY_TEMPLATE_HINT)
                .changed();
            changed |= checksum_choice(
                ui,
                &format!("{id}-{i}-checksum"),
                &tt::reply_checksum(n),
                &mut rule.checksum,
            );
        });
    }
    changed
}

/// Draws the rules (collapsed by default). Returns true when something changed, so a running
/// server can be given the new rules.
pub fn auto_reply_ui(ui: &mut Ui, id: &str, settings: &mut AutoReplySettings, echo: bool) -> bool {
    let mut changed = false;
    let title = if settings.use_rules && !settings.rules.is_empty() {
        t::rules_title(settings.rules.len())
    } else {
        t::RULES.to_owned()
    };
    egui::CollapsingHeader::new(title)
        .id_salt((id, "rules"))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                changed |= ui
                    .checkbox(&mut settings.use_rules, t::USE_RULES)
                    .on_hover_text(t::USE_RULES_HINT)
                    .changed();
                if echo && settings.use_rules {
                    ui.weak(tt::RULES_THEN_ECHO);
                }
            });
            let mut remove = None;
            for (i, rule) in settings.rules.iter_mut().enumerate() {
                let (rule_changed, removed) = rule_ui(ui, id, i, rule);
                changed |= rule_changed;
                if removed {
                    remove = Some(i);
                }
            }
            if let Some(i) = remove {
                settings.rules.remove(i);
                changed = true;
            }
            if ui
                .add_enabled(
                    settings.rules.len() < MAX_RULES,
                    egui::Button::new(t::ADD_RULE),
                )
                .on_hover_text(t::ADD_RULE_HINT)
                .clicked()
            {
                settings.rules.push(RuleSettings::default());
                settings.use_rules = true;
                changed = true;
            }
        });
    changed
}

/// What a server tab's control row asked for.
pub enum ServerControl<C> {
    /// Start the server with this configuration (Listen / Bind, or Enter in a field).
    Start(C),
    /// Stop it.
    Stop,
    /// Reply on our own differently while it runs.
    SetAutoReply(AutoReply),
}

/// Where a server tab stands, for its control row.
pub struct ServerState<'a> {
    /// The name of the start button (Listen, Bind).
    pub start_label: &'a str,
    /// The echo checkbox's tooltip.
    pub echo_hint: &'a str,
    /// A session runs.
    pub running: bool,
    /// A stop was asked for and is under way.
    pub stopping: bool,
}

/// A server tab's control row (start, Stop, Echo) and its reply rules. `config` is `None` while
/// a field is invalid, which keeps the start button off.
pub fn server_controls<C>(
    ui: &mut Ui,
    id: &str,
    state: &ServerState<'_>,
    config: Option<C>,
    echo: &mut bool,
    rules: &mut AutoReplySettings,
) -> Option<ServerControl<C>> {
    let running = state.running;
    let mut asked = None;
    // Enter in an address or port field does what the main button does.
    let submitted = super::fields::take_submit(ui);
    let mut echo_changed = false;
    ui.horizontal(|ui| {
        if (ui
            .add_enabled(
                !running && config.is_some(),
                egui::Button::new(state.start_label),
            )
            .clicked()
            || (submitted && !running))
            && let Some(config) = config
        {
            asked = Some(ServerControl::Start(config));
        }
        if ui
            .add_enabled(running && !state.stopping, egui::Button::new(t::STOP))
            .clicked()
        {
            asked = Some(ServerControl::Stop);
        }
        ui.separator();
        if ui
            .checkbox(echo, t::ECHO)
            .on_hover_text(state.echo_hint)
            .changed()
            && running
        {
            echo_changed = true;
        }
    });
    let rules_changed = auto_reply_ui(ui, id, rules, *echo);
    // A rule being typed may not compile yet: the server keeps its last good rules meanwhile.
    if (echo_changed || rules_changed)
        && running
        && let Ok(auto) = rules.effective(*echo)
    {
        asked = Some(ServerControl::SetAutoReply(auto));
    }
    asked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_compile_with_their_modes_and_errors() {
        let mut settings = AutoReplySettings {
            use_rules: true,
            rules: vec![
                RuleSettings {
                    pattern: "PING".to_owned(),
                    reply: "PONG\\r\\n".to_owned(),
                    reply_mode: InputMode::Escapes,
                    ..RuleSettings::default()
                },
                RuleSettings {
                    when: When::StartsWith,
                    pattern: "02 ff".to_owned(),
                    pattern_mode: InputMode::Hex,
                    reply: "06".to_owned(),
                    reply_mode: InputMode::Hex,
                    ..RuleSettings::default()
                },
            ],
        };
        let Ok(AutoReply::Rules(rules)) = settings.effective(false) else {
            panic!("rules compile");
        };
        assert_eq!(rules[0].reply, b"PONG\r\n");
        assert_eq!(rules[1].pattern, vec![0x02, 0xff]);
        assert!(
            matches!(
                settings.effective(true),
                Ok(AutoReply::ReplyRules {
                    otherwise_echo: true,
                    ..
                })
            ),
            "rules first, echo for the rest"
        );

        settings.rules[1].pattern = "02 fz".to_owned();
        let err = settings.effective(false).err().unwrap_or_default();
        assert!(err.starts_with("Rule 2"), "{err}");
        assert!(err.contains("position 5"), "{err}");
        settings.use_rules = false;
        assert_eq!(settings.effective(false), Ok(AutoReply::Off));
    }
}
