//! Property tests for how the window shows received bytes: a log row of arbitrary bytes, in every
//! display encoding, as text or hex, never panics, never carries a character that could act on
//! the screen (controls, bidi overrides, zero-width marks), stays short, and says exactly how many
//! bytes it left out.

use std::time::SystemTime;

use proptest::prelude::*;
use socketlab::engine::encoding::TextEncoding;
use socketlab::engine::log_store::{Direction, LogStore};
use socketlab::engine::payload::{hex_dump, hex_dump_line};
use socketlab::gui::widgets::log_view::row_text_in;

/// Characters that change how the text around them is shown or read.
fn acts_on_screen(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn log_rows_of_arbitrary_bytes_are_inert_and_short_in_every_encoding(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut log = LogStore::default();
        log.push_data(SystemTime::now(), Direction::In, None, None, &bytes);
        let entry = log.get(0).expect("one entry");
        for encoding in TextEncoding::ALL {
            for hex in [false, true] {
                let row = row_text_in(entry, hex, encoding);
                prop_assert!(!row.chars().any(acts_on_screen), "{:?} {}: {:?}", encoding, hex, row);
                // Time, direction, size and at most 400 characters (an invalid byte shows as
                // four: `\xff`), or 160 bytes of hex.
                prop_assert!(row.chars().count() < 1_800, "{:?}: {} characters", encoding, row.chars().count());
            }
        }
        // UTF-8 text rows say exactly how many bytes they left out.
        let row = row_text_in(entry, false, TextEncoding::Utf8);
        // The marker ends the row; the data itself may hold "(+" anywhere.
        if row.ends_with("click the row to see them all)")
            && let Some(at) = row.rfind("(+")
        {
            let digits: String = row[at + 2..].chars().take_while(char::is_ascii_digit).collect();
            let left_out: usize = digits.parse().expect("a count");
            prop_assert!(left_out > 0 && left_out < bytes.len());
        }
    }

    #[test]
    fn the_paged_hex_dump_is_the_whole_dump(bytes in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let paged: Vec<String> = (0..bytes.len().div_ceil(16)).map(|i| hex_dump_line(&bytes, i)).collect();
        let whole: Vec<String> = hex_dump(&bytes).lines().map(str::to_owned).collect();
        prop_assert_eq!(paged, whole);
    }
}
