//! Whole-name searches ("budi santoso") through the spaces in contacts' text.
//!
//! The trigram index finds such a term as the rows holding all of its rarest trigrams,
//! and in a name made of common words every trigram is common: at a million contacts,
//! "hafari hartono" (268 matches) read the row lists of "haf" and "rto", 16,531 and
//! 16,458 rows, to intersect them. Where two words meet is far rarer than either word.
//! So each space in a contact's text is also kept with the [`SIDE`] characters either
//! side of it, as one span ("fari hart"), and a term with spans finds its candidates
//! there: every text holding the term holds each of its spans, centred on the same
//! spaces. For "hafari hartono" those are exactly its 268 rows.
//!
//! The spans are kept with the trigram index, from the same queue, in the
//! `search_tokens` index (search_tokens.rs), and searches take queued changes into
//! account the same way.

#[cfg(test)]
use rusqlite::Connection;

use super::contacts::SEARCH_SEPARATOR;
use super::trigrams::quoted;

/// Characters kept on each side of a space. Fewer would make spans commoner; more would
/// leave out more terms (a term needs this many either side of one of its spaces).
pub const SIDE: usize = 4;

/// Each distinct span of `text`: every space with [`SIDE`] characters either side of it,
/// none of them the separator between fields ([`SEARCH_SEPARATOR`]).
pub fn spans_of(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<String> = Vec::new();
    for window in chars.windows(2 * SIDE + 1) {
        if window[SIDE] == ' ' && !window.contains(&SEARCH_SEPARATOR) {
            let span: String = window.iter().collect();
            if !spans.contains(&span) {
                spans.push(span);
            }
        }
    }
    spans
}

/// At most this many of a term's spans go into its query. Each narrows the candidates
/// further, and FTS5 reads its row list only where the others leave rows to look at.
const MAX_QUERIED: usize = 4;

/// The full-text query that finds the rows holding all of a search term's spans (its
/// first [`MAX_QUERIED`]): every text holding the term holds each of them, centred on
/// the same space. `None` when the term has no span.
pub fn spans_query(term: &str) -> Option<String> {
    let spans = spans_of(term);
    if spans.is_empty() {
        return None;
    }
    let quoted: Vec<String> = spans
        .iter()
        .take(MAX_QUERIED)
        .map(|span| quoted(&hex::encode(span)))
        .collect();
    Some(quoted.join(" AND "))
}

/// The spans of `text` as tokens of the `search_tokens` index: each hex-encoded, so
/// that it is one token whatever characters it holds.
pub fn span_tokens(text: &str) -> impl Iterator<Item = String> {
    spans_of(text).into_iter().map(hex::encode)
}

/// The rows the index finds holding every span of `term` (a span alone is a term whose
/// only span is itself), in seq order.
#[cfg(test)]
pub fn rows_holding(conn: &Connection, term: &str) -> Vec<i64> {
    let query = spans_query(term).expect("a term with a span");
    super::search_tokens::rows_matching(conn, &query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::search_tokens::TokenWrites;
    use proptest::prelude::*;

    #[test]
    fn each_space_with_four_characters_either_side_is_a_span() {
        assert_eq!(
            spans_of("budi santoso wijaya\u{1f}budi@x.id"),
            ["budi sant", "toso wija"]
        );
        assert!(spans_of("ani santoso").is_empty(), "three before the space");
        assert!(spans_of("budi san").is_empty(), "three after the space");
    }

    #[test]
    fn spans_are_counted_in_characters_and_each_kept_once() {
        assert_eq!(spans_of("çağrı öztürk"), ["ağrı öztü"]);
        assert_eq!(spans_of("abcd efgh abcd efgh"), ["abcd efgh", "efgh abcd"]);
    }

    #[test]
    fn no_span_crosses_from_one_field_into_the_next() {
        assert!(spans_of("budi wa\u{1f}wati@x.id").is_empty());
        assert!(spans_query("budi wa\u{1f}wati").is_none());
    }

    #[test]
    fn a_span_may_hold_another_space() {
        assert_eq!(spans_of("dewi ayu lestari"), ["dewi ayu ", " ayu lest"]);
        assert!(spans_query("budi s").is_none());
    }

    /// An empty database with the schema, whose spans the test adds itself.
    fn spans_database() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::storage::schema::migrate(&mut conn).unwrap();
        conn
    }

    fn add_spans(conn: &Connection, seq: i64, text: &str) {
        let mut writes = TokenWrites::default();
        writes.add(conn, seq, None, text).unwrap();
        writes.finish(conn).unwrap();
    }

    #[test]
    fn a_span_of_any_characters_finds_exactly_its_rows() {
        let conn = spans_database();
        add_spans(&conn, 7, "çağrı o'brien-x\u{1f}c@x.id\u{1f}62811");
        add_spans(&conn, 8, "çağrı o'bryan\u{1f}\u{1f}62812");
        assert_eq!(rows_holding(&conn, "ağrı o'br"), [7, 8]);
        assert_eq!(rows_holding(&conn, "ağrı o'bx"), Vec::<i64>::new());
        let mut writes = TokenWrites::default();
        writes.remove(&conn, 7, None, None).unwrap();
        writes.finish(&conn).unwrap();
        assert_eq!(rows_holding(&conn, "ağrı o'br"), [8]);
    }

    #[test]
    fn a_term_finds_the_rows_holding_all_its_spans() {
        let conn = spans_database();
        add_spans(&conn, 7, "budi santoso wijaya");
        add_spans(&conn, 8, "budi santoso");
        add_spans(&conn, 9, "wati santoso wijaya");
        assert_eq!(rows_holding(&conn, "budi santoso wijaya"), [7]);
        assert_eq!(rows_holding(&conn, "budi santoso"), [7, 8]);
        assert_eq!(rows_holding(&conn, "santoso wijaya"), [7, 9]);
    }

    proptest! {
        /// What the index is for: a text holds every span of every term found in it, so
        /// no match is ever missed by looking its spans up.
        #[test]
        fn every_text_holding_a_term_holds_its_spans(
            text in "[ab \u{1f}ç]{0,40}",
            start in 0usize..40,
            len in 0usize..40,
        ) {
            let chars: Vec<char> = text.chars().collect();
            let start = start.min(chars.len());
            let end = (start + len).min(chars.len());
            let term: String = chars[start..end].iter().collect();
            let held = spans_of(&text);
            for span in spans_of(&term) {
                prop_assert!(held.contains(&span), "{span:?} of {term:?} in {text:?}");
            }
        }
    }
}
