//! Property tests for the payload parsers and renderers: parse ∘ format round-trips, and no panic
//! on arbitrary input.

use proptest::prelude::*;
use socketlab::engine::encoding::{TextEncoding, decode, encode};
use socketlab::engine::payload::{
    format_escapes, hex_dump, parse_escapes, parse_hex, to_hex, to_visible_text,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert_eq!(parse_hex(&to_hex(&bytes)), Ok(bytes));
    }

    #[test]
    fn escapes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert_eq!(parse_escapes(&format_escapes(&bytes)), Ok(bytes));
    }

    #[test]
    fn parsers_never_panic_and_point_inside_the_input(text in "\\PC{0,200}") {
        for result in [parse_hex(&text), parse_escapes(&text)] {
            if let Err(e) = result {
                prop_assert!(e.position() < text.chars().count());
            }
        }
    }

    #[test]
    fn rendering_arbitrary_bytes_is_inert(bytes in proptest::collection::vec(any::<u8>(), 0..2048), max in 0_usize..300) {
        let text = to_visible_text(&bytes, max);
        // Nothing a terminal or a text widget would act on survives: no control characters.
        prop_assert!(!text.chars().any(char::is_control));
        prop_assert!(text.chars().count() <= max.saturating_mul(4) + 1);
        let dump = hex_dump(&bytes);
        prop_assert_eq!(dump.lines().count(), bytes.len().div_ceil(16));
    }

    #[test]
    fn encodings_round_trip_what_they_can_write(text in "\\PC{0,100}") {
        for enc in TextEncoding::ALL {
            if let Ok(bytes) = encode(&text, enc) {
                prop_assert_eq!(decode(&bytes, enc), (text.clone(), false), "{:?}", enc);
            }
        }
    }
}
