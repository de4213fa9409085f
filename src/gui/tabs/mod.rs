//! The tabs that are not sessions: Lookup (the Learn tab is [`crate::gui::guide`]).

pub mod lookup;
