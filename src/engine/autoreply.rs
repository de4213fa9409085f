//! Server auto-reply: echo, or rules ("when the received data equals / contains / starts with X,
//! reply with Y"). Rules run in the engine's reader threads, so replies go out at once, whether or
//! not the window is keeping up.
//!
//! Matching is per receive: per datagram for UDP, and per `recv` for TCP. A TCP stream has no
//! message boundaries, so a message split across two reads (or two messages in one read) is seen
//! as the reads deliver it — which is exactly the lesson the "TCP is a stream" demo teaches.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::session::lock;

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
            MatchKind::Contains => {
                self.pattern.is_empty()
                    || data
                        .windows(self.pattern.len())
                        .any(|w| w == self.pattern.as_slice())
            }
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
}

impl AutoReply {
    /// The bytes to send back for `data`, if any.
    pub fn reply_for<'a>(&'a self, data: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            AutoReply::Off => None,
            AutoReply::Echo => Some(data),
            AutoReply::Rules(rules) => rules
                .iter()
                .find(|r| r.matches(data))
                .map(|r| r.reply.as_slice()),
        }
    }

    /// True unless it is `Off` (or has no rules), so readers can skip the lookup cheaply.
    pub fn is_active(&self) -> bool {
        match self {
            AutoReply::Off => false,
            AutoReply::Echo => true,
            AutoReply::Rules(rules) => !rules.is_empty(),
        }
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
        assert_eq!(auto.reply_for(b"PING"), Some(&b"PONG"[..]));
        assert_eq!(auto.reply_for(b"PING\n"), None, "equals means exactly");
        assert_eq!(
            auto.reply_for(b"GET / HTTP/1.0"),
            Some(&b"HTTP/1.0 200 OK\r\n\r\n"[..])
        );
        assert_eq!(auto.reply_for(b"ab\x02cd"), Some(&b"\x06"[..]));
        assert_eq!(auto.reply_for(b"nothing"), None);
        assert_eq!(AutoReply::Echo.reply_for(b"x"), Some(&b"x"[..]));
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
