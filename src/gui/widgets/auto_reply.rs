//! Server auto-reply rules: "when the received data equals / contains / starts with X, reply
//! with Y", X and Y typed as text, hex or escaped text. The rules run in the engine's readers
//! ([`crate::engine::autoreply`]); this widget edits them and says what is wrong with a rule.

use egui::Ui;
use serde::{Deserialize, Serialize};

use crate::engine::autoreply::{AutoReply, MatchKind, Rule};
use crate::engine::payload::{InputMode, LineEnding, encode};
use crate::gui::text as t;

use super::fields::{error_line, labelled_edit};

/// Most rules one server keeps (the list stays readable and matching stays cheap).
pub const MAX_RULES: usize = 32;

/// One rule as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSettings {
    /// How the received data is compared.
    pub when: MatchKind,
    /// What to look for, as typed.
    pub pattern: String,
    /// How `pattern` becomes bytes.
    pub pattern_mode: InputMode,
    /// What to send back, as typed.
    pub reply: String,
    /// How `reply` becomes bytes.
    pub reply_mode: InputMode,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            when: MatchKind::Equals,
            pattern: String::new(),
            pattern_mode: InputMode::Text,
            reply: String::new(),
            reply_mode: InputMode::Text,
        }
    }
}

impl RuleSettings {
    /// The engine's rule, or the sentence that says what is wrong (rule `n` counts from 1).
    pub fn compile(&self, n: usize) -> Result<Rule, String> {
        let pattern = encode(&self.pattern, self.pattern_mode, LineEnding::None)
            .map_err(|e| t::rule_error(n, t::RULE_MATCH, &e.to_string()))?;
        if pattern.is_empty() && self.when == MatchKind::Equals {
            return Err(t::rule_error(n, t::RULE_MATCH, t::RULE_EMPTY_EQUALS));
        }
        let reply = encode(&self.reply, self.reply_mode, LineEnding::None)
            .map_err(|e| t::rule_error(n, t::RULE_REPLY, &e.to_string()))?;
        if reply.is_empty() {
            return Err(t::rule_error(n, t::RULE_REPLY, t::RULE_EMPTY_REPLY));
        }
        Ok(Rule {
            when: self.when,
            pattern,
            reply,
        })
    }
}

/// What a server tab remembers about auto-reply rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoReplySettings {
    /// Reply by the rules (echo, when on, wins).
    pub use_rules: bool,
    /// The rules, first match wins.
    pub rules: Vec<RuleSettings>,
}

impl AutoReplySettings {
    /// What the engine should do: echo wins, then the rules (if switched on), else nothing.
    /// Fails with the first bad rule's sentence.
    pub fn effective(&self, echo: bool) -> Result<AutoReply, String> {
        if echo {
            return Ok(AutoReply::Echo);
        }
        if !self.use_rules || self.rules.is_empty() {
            return Ok(AutoReply::Off);
        }
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| r.compile(i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AutoReply::Rules(rules))
    }
}

fn match_label(kind: MatchKind) -> &'static str {
    match kind {
        MatchKind::Equals => t::RULE_EQUALS,
        MatchKind::Contains => t::RULE_CONTAINS,
        MatchKind::StartsWith => t::RULE_STARTS_WITH,
    }
}

fn mode_label(mode: InputMode) -> &'static str {
    match mode {
        InputMode::Text => t::MODE_TEXT,
        InputMode::Hex => t::MODE_HEX,
        InputMode::Escapes => t::MODE_ESCAPES,
    }
}

fn mode_menu(ui: &mut Ui, id: (&str, usize, &str), mode: &mut InputMode) -> bool {
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
                    ui.weak(t::RULES_ECHO_WINS);
                }
            });
            let mut remove = None;
            for (i, rule) in settings.rules.iter_mut().enumerate() {
                let n = i + 1;
                ui.horizontal_wrapped(|ui| {
                    ui.label(t::rule_when(n));
                    egui::ComboBox::from_id_salt((id, i, "when"))
                        .selected_text(match_label(rule.when))
                        .show_ui(ui, |ui| {
                            for kind in [
                                MatchKind::Equals,
                                MatchKind::Contains,
                                MatchKind::StartsWith,
                            ] {
                                changed |= ui
                                    .selectable_value(&mut rule.when, kind, match_label(kind))
                                    .changed();
                            }
                        });
                    changed |= mode_menu(ui, (id, i, "pattern-mode"), &mut rule.pattern_mode);
                    changed |= labelled_edit(
                        ui,
                        &t::rule_match_label(n),
                        t::RULE_MATCH_HINT,
                        &mut rule.pattern,
                        140.0,
                        "",
                    )
                    .changed();
                    changed |= mode_menu(ui, (id, i, "reply-mode"), &mut rule.reply_mode);
                    changed |= labelled_edit(
                        ui,
                        &t::rule_reply_label(n),
                        t::RULE_REPLY_HINT,
                        &mut rule.reply,
                        140.0,
                        "",
                    )
                    .changed();
                    if ui
                        .small_button(t::rule_remove(n))
                        .on_hover_text(t::RULE_REMOVE_HINT)
                        .clicked()
                    {
                        remove = Some(i);
                    }
                });
                if let Err(e) = rule.compile(n) {
                    error_line(ui, &e);
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
                    when: MatchKind::StartsWith,
                    pattern: "02 ff".to_owned(),
                    pattern_mode: InputMode::Hex,
                    reply: "06".to_owned(),
                    reply_mode: InputMode::Hex,
                },
            ],
        };
        let Ok(AutoReply::Rules(rules)) = settings.effective(false) else {
            panic!("rules compile");
        };
        assert_eq!(rules[0].reply, b"PONG\r\n");
        assert_eq!(rules[1].pattern, vec![0x02, 0xff]);
        assert_eq!(settings.effective(true), Ok(AutoReply::Echo), "echo wins");

        settings.rules[1].pattern = "02 fz".to_owned();
        let err = settings.effective(false).err().unwrap_or_default();
        assert!(err.starts_with("Rule 2"), "{err}");
        assert!(err.contains("position 5"), "{err}");
        settings.use_rules = false;
        assert_eq!(settings.effective(false), Ok(AutoReply::Off));
    }
}
