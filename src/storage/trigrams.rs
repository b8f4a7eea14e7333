//! Turning a search term into a query on the trigram index.
//!
//! The index (`detail=none`) answers one question: which rows hold all of these
//! trigrams. A term's matches are among the rows holding any subset of its trigrams, so
//! the query names only a few of them, and every candidate is then checked against its
//! row's own text. Reading a trigram's row list costs in proportion to how many rows hold
//! it, and one rare trigram narrows the candidates more than ten common ones do, so the
//! rarest are chosen. How many rows hold a trigram comes from the index's vocabulary
//! and is remembered for a while: the counts move slowly, and a stale one only makes a
//! search slower, never wrong.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::StorageError;

/// The index finds substrings of this many characters or more.
pub const TRIGRAM: usize = 3;

/// At most this many trigrams of a term go into the query.
const MAX_CHOSEN: usize = 4;

/// Trigrams held by more than this many times the rows of the rarest add reading
/// cost and little narrowing: the check against the row text does the rest.
const MAX_COUNT_RATIO: u64 = 2;

/// How long a count read from the vocabulary is trusted.
const COUNT_TTL: Duration = Duration::from_secs(600);

/// Bound on remembered counts; when full, all are forgotten and read again on use.
const MAX_REMEMBERED: usize = 65_536;

/// How many rows hold each trigram, as last read from the index's vocabulary.
#[derive(Default)]
pub struct TrigramCounts {
    remembered: Mutex<HashMap<String, (u64, Instant)>>,
}

impl TrigramCounts {
    fn count(&self, conn: &Connection, trigram: &str) -> Result<u64, StorageError> {
        if let Some(&(count, read_at)) = self.lock().get(trigram) {
            if read_at.elapsed() < COUNT_TTL {
                return Ok(count);
            }
        }
        // Read outside the lock: other searches need not wait on this one's I/O.
        let count = rows_holding_trigram(conn, trigram)?;
        let mut remembered = self.lock();
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(trigram.to_owned(), (count, Instant::now()));
        Ok(count)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Instant)>> {
        // The map holds only hints; one left half-updated by a panic is still usable.
        self.remembered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many rows of the trigram index hold `trigram` now, from its vocabulary
/// (`contacts_fts_terms`). FTS5 counts them from the trigram's row list, about twice
/// as fast as counting a MATCH, and leaves deleted rows out the same way.
pub fn rows_holding_trigram(conn: &Connection, trigram: &str) -> Result<u64, StorageError> {
    let count = conn
        .prepare_cached("SELECT doc FROM contacts_fts_terms WHERE term = ?1")?
        .query_row([trigram], |row| row.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The full-text query that finds every row holding any one of `texts`: for each, its
/// rarest trigrams, all required. `None` when a text is too short for the index.
pub fn candidate_query(
    conn: &Connection,
    counts: &TrigramCounts,
    texts: &[&str],
) -> Result<Option<String>, StorageError> {
    let mut alternatives: Vec<String> = Vec::with_capacity(texts.len());
    for text in texts {
        let trigrams = trigrams_of(text);
        if trigrams.is_empty() {
            return Ok(None);
        }
        let mut counted = Vec::with_capacity(trigrams.len());
        for (position, trigram) in trigrams {
            counted.push(Counted {
                count: counts.count(conn, &trigram)?,
                position,
                trigram,
            });
        }
        let all_of = choose(counted)
            .iter()
            .map(|trigram| quoted(trigram))
            .collect::<Vec<_>>()
            .join(" AND ");
        let alternative = format!("({all_of})");
        if !alternatives.contains(&alternative) {
            alternatives.push(alternative);
        }
    }
    Ok(Some(alternatives.join(" OR ")))
}

/// The rarest trigram of `text`, and how many rows hold it as remembered: among those
/// rows are all the candidates [`candidate_query`] finds for it alone. `None` when
/// `text` is too short for the index.
pub fn rarest_trigram(
    conn: &Connection,
    counts: &TrigramCounts,
    text: &str,
) -> Result<Option<(String, u64)>, StorageError> {
    let mut rarest: Option<(u64, String)> = None;
    for (_, trigram) in trigrams_of(text) {
        let count = counts.count(conn, &trigram)?;
        if rarest.as_ref().is_none_or(|(fewest, _)| count < *fewest) {
            rarest = Some((count, trigram));
        }
    }
    Ok(rarest.map(|(count, trigram)| (trigram, count)))
}

/// A trigram of a term: where it first starts (in characters) and how many rows hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Counted {
    count: u64,
    position: usize,
    trigram: String,
}

/// Each distinct trigram of `text` with the position where it first occurs.
fn trigrams_of(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut seen = Vec::new();
    for (position, window) in chars.windows(TRIGRAM).enumerate() {
        let trigram: String = window.iter().collect();
        if !seen.iter().any(|(_, known)| *known == trigram) {
            seen.push((position, trigram));
        }
    }
    seen
}

/// The rarest trigrams, skipping any that overlaps one already chosen (neighbours
/// share characters and so mostly the same rows) and any far commoner than the rarest.
/// Trigrams no row holds leave out every other: nothing can match.
fn choose(mut counted: Vec<Counted>) -> Vec<String> {
    counted.sort_by_key(|c| (c.count, c.position));
    let rarest = counted.first().map_or(0, |c| c.count);
    let mut chosen: Vec<Counted> = Vec::with_capacity(MAX_CHOSEN);
    for candidate in counted {
        if candidate.count > rarest.saturating_mul(MAX_COUNT_RATIO) || chosen.len() == MAX_CHOSEN {
            break;
        }
        let overlaps = chosen
            .iter()
            .any(|c| c.position.abs_diff(candidate.position) < TRIGRAM);
        if !overlaps {
            chosen.push(candidate);
        }
    }
    chosen.into_iter().map(|c| c.trigram).collect()
}

/// A term of a full-text query as a quoted string: nothing in it is query syntax.
pub(super) fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(list: &[(&str, usize, u64)]) -> Vec<Counted> {
        list.iter()
            .map(|&(trigram, position, count)| Counted {
                count,
                position,
                trigram: trigram.to_owned(),
            })
            .collect()
    }

    #[test]
    fn trigrams_are_counted_in_characters_and_each_kept_once() {
        assert_eq!(
            trigrams_of("añaña"),
            vec![(0, "aña".to_owned()), (1, "ñañ".to_owned())]
        );
        assert!(trigrams_of("ab").is_empty());
    }

    #[test]
    fn the_rarest_trigrams_are_chosen_without_overlap() {
        let chosen = choose(counted(&[
            ("haf", 0, 100),
            ("afa", 1, 100),
            ("far", 2, 100),
            ("ari", 3, 5_000),
            ("rto", 9, 90),
            ("ono", 11, 90),
        ]));
        assert_eq!(chosen, vec!["rto", "haf"]);
    }

    #[test]
    fn far_commoner_trigrams_are_left_to_the_row_check() {
        let chosen = choose(counted(&[("abc", 0, 10), ("xyz", 5, 21)]));
        assert_eq!(chosen, vec!["abc"]);
    }

    #[test]
    fn at_most_four_are_chosen() {
        let list: Vec<(String, usize, u64)> =
            (0..8).map(|i| (format!("t{i}x"), i * 3, 7)).collect();
        let list: Vec<(&str, usize, u64)> =
            list.iter().map(|(t, p, c)| (t.as_str(), *p, *c)).collect();
        assert_eq!(choose(counted(&list)).len(), MAX_CHOSEN);
    }

    #[test]
    fn trigrams_no_row_holds_leave_out_every_other() {
        let chosen = choose(counted(&[("zzq", 0, 0), ("qxj", 3, 0), ("abc", 6, 4)]));
        assert_eq!(chosen, vec!["zzq", "qxj"]);
    }

    #[test]
    fn quotes_inside_a_trigram_are_doubled() {
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
