//! The order of a contact list, once: as SQL for the queries an index serves, and as a
//! comparison for search matches, which are counted and ranked in one pass here.

use std::cmp::Ordering;

use rusqlite::types::Value as SqlValue;

use super::contacts::names_nobody;
use crate::domain::SortOrder;

/// A list order: contacts without a name last (for name orders), then a key column,
/// then `seq` (insertion order) to break ties, the last two in one direction.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListOrder {
    pub name_last: bool,
    pub key: OrderKey,
    pub descending: bool,
}

/// The column an order sorts by before `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OrderKey {
    CreatedAt,
    UpdatedAt,
    /// The case-folded name and email (`search_text`).
    Name,
}

impl OrderKey {
    fn column(self) -> &'static str {
        match self {
            OrderKey::CreatedAt => "c.created_at",
            OrderKey::UpdatedAt => "c.updated_at",
            OrderKey::Name => "c.search_text",
        }
    }
}

/// What a search ranks its matches by: `key`, an SQL expression over `contacts c`,
/// and whether `contacts_search_rows` holds it or the rows themselves must be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SearchRanking {
    pub key: &'static str,
    pub in_search_rows: bool,
}

/// The key of a ranking by seq alone: every match's is empty.
const SEQ_ALONE: &str = "''";

impl SearchRanking {
    /// Whether matches are ranked by their seq alone, which needs nothing of their rows.
    pub fn by_seq_alone(self) -> bool {
        self.key == SEQ_ALONE
    }
}

impl ListOrder {
    pub fn of(sort: SortOrder) -> Self {
        let (name_last, key, descending) = match sort {
            SortOrder::NewestFirst => (false, OrderKey::CreatedAt, true),
            SortOrder::OldestFirst => (false, OrderKey::CreatedAt, false),
            SortOrder::RecentlyUpdatedFirst => (false, OrderKey::UpdatedAt, true),
            SortOrder::LeastRecentlyUpdatedFirst => (false, OrderKey::UpdatedAt, false),
            SortOrder::NameAscending => (true, OrderKey::Name, false),
            SortOrder::NameDescending => (true, OrderKey::Name, true),
        };
        Self {
            name_last,
            key,
            descending,
        }
    }

    /// The ORDER BY terms over `contacts c`.
    pub fn sql(self) -> String {
        let direction = if self.descending { "DESC" } else { "ASC" };
        let name_last = if self.name_last {
            "c.name IS NULL, "
        } else {
            ""
        };
        format!(
            "{name_last}{} {direction}, c.seq {direction}",
            self.key.column()
        )
    }

    /// What a search ranks its matches by. `contacts_search_rows` holds what every
    /// search reads, the name orders' key among it, but no times (schema.sql says why).
    /// A creation order needs no time while the workspace's creation times follow its
    /// seq order (`seq_follows_creation`): seq alone, the tie-break, is then the order.
    pub fn search_ranking(self, seq_follows_creation: bool) -> SearchRanking {
        match self.key {
            OrderKey::CreatedAt if seq_follows_creation => SearchRanking {
                key: SEQ_ALONE,
                in_search_rows: true,
            },
            OrderKey::Name => SearchRanking {
                key: OrderKey::Name.column(),
                in_search_rows: true,
            },
            key => SearchRanking {
                key: key.column(),
                in_search_rows: false,
            },
        }
    }

    /// A match's place in this order, from its seq and its key as
    /// [`search_ranking`](Self::search_ranking) gave it.
    pub fn ranked(self, seq: i64, key: String) -> Ranked {
        Ranked {
            seq,
            no_name: self.name_last && names_nobody(&key),
            key,
        }
    }

    fn compare(self, a: &Ranked, b: &Ranked) -> Ordering {
        let within = key_order(&a.key, &b.key).then(a.seq.cmp(&b.seq));
        let within = if self.descending {
            within.reverse()
        } else {
            within
        };
        a.no_name.cmp(&b.no_name).then(within)
    }
}

/// Key text in byte order, as SQLite's BINARY collation gives it, with an empty key
/// settled by length alone. Ranking by seq gives every match the empty key, and
/// `str::cmp` would still call `memcmp` on two empty Strings, whose pointers are
/// dangling (0x1). On the AMD EPYC (Zen 5) the bench ran on, glibc's AVX-512 `memcmp`
/// takes about 140 ns for that (its masked load touches the unmapped page), where one
/// byte takes 1.3 ns. Settled by length, the bench's search matching a tenth of the
/// rows answered 38.4 requests/s where it had answered 24.1 (bench/ANALYSIS.md).
fn key_order(a: &str, b: &str) -> Ordering {
    if a.is_empty() || b.is_empty() {
        a.len().cmp(&b.len())
    } else {
        a.cmp(b)
    }
}

/// LIMIT and OFFSET, both bound. Written `? + 0` because SQLite's planner reads a bare
/// `LIMIT ?` value, and then re-prepares the statement every time it is bound: a
/// full parse and plan on each list request (seen in a profile as `sqlite3Reprepare`).
/// As expressions, the values are still bound but no longer planned on.
pub(super) const LIMIT_OFFSET: &str = "LIMIT ? + 0 OFFSET ? + 0";

pub(super) fn limit_offset(limit: u64, offset: u64) -> [SqlValue; 2] {
    [
        SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
        SqlValue::Integer(i64::try_from(offset).unwrap_or(i64::MAX)),
    ]
}

/// A match's place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ranked {
    pub seq: i64,
    pub no_name: bool,
    pub key: String,
}

/// Keeps the first `wanted` entries in the order out of however many are offered, in
/// memory proportional to `wanted`.
pub(super) struct TopRanked {
    order: ListOrder,
    wanted: usize,
    kept: Vec<Ranked>,
}

impl TopRanked {
    pub fn new(order: ListOrder, wanted: usize) -> Self {
        Self {
            order,
            wanted,
            kept: Vec::new(),
        }
    }

    /// How many it keeps: the page and every match before it.
    pub fn wanted(&self) -> usize {
        self.wanted
    }

    pub fn offer(&mut self, entry: Ranked) {
        if self.wanted == 0 {
            return;
        }
        self.kept.push(entry);
        if self.kept.len() >= self.wanted.saturating_mul(2).max(1024) {
            self.keep_first_wanted();
        }
    }

    /// The kept entries in order, skipping the first `skip`.
    pub fn into_sorted(mut self, skip: usize) -> Vec<Ranked> {
        self.keep_first_wanted();
        let order = self.order;
        self.kept.sort_unstable_by(|a, b| order.compare(a, b));
        self.kept.into_iter().skip(skip).collect()
    }

    fn keep_first_wanted(&mut self) {
        if self.kept.len() > self.wanted {
            let order = self.order;
            self.kept
                .select_nth_unstable_by(self.wanted - 1, |a, b| order.compare(a, b));
            self.kept.truncate(self.wanted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ranked(seq: i64, no_name: bool, key: &str) -> Ranked {
        Ranked {
            seq,
            no_name,
            key: key.to_owned(),
        }
    }

    #[test]
    fn newest_first_is_time_then_seq_descending() {
        assert_eq!(
            ListOrder::of(SortOrder::NewestFirst).sql(),
            "c.created_at DESC, c.seq DESC"
        );
        let order = ListOrder::of(SortOrder::NewestFirst);
        let mut top = TopRanked::new(order, 2);
        top.offer(ranked(1, false, "2026-01-01"));
        top.offer(ranked(3, false, "2026-01-02"));
        top.offer(ranked(2, false, "2026-01-02"));
        let seqs: Vec<i64> = top.into_sorted(0).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![3, 2]);
    }

    #[test]
    fn contacts_without_a_name_come_last_in_either_name_order() {
        for sort in [SortOrder::NameAscending, SortOrder::NameDescending] {
            let mut top = TopRanked::new(ListOrder::of(sort), 3);
            top.offer(ranked(1, true, "\u{1f}a@x.id"));
            top.offer(ranked(2, false, "budi\u{1f}"));
            top.offer(ranked(3, false, "ani\u{1f}"));
            let last = top.into_sorted(0).pop().unwrap();
            assert_eq!(last.seq, 1, "{sort:?}");
        }
        assert_eq!(
            ListOrder::of(SortOrder::NameDescending).sql(),
            "c.name IS NULL, c.search_text DESC, c.seq DESC"
        );
    }

    proptest! {
        /// Keys rank in byte order, the empty key (which skips memcmp) first.
        #[test]
        fn keys_rank_as_their_bytes_do(a in "(|[a-z\u{1f}é]{0,4})", b in "(|[a-z\u{1f}é]{0,4})") {
            prop_assert_eq!(key_order(&a, &b), a.as_bytes().cmp(b.as_bytes()));
        }

        /// Ranking in bounded memory gives exactly the page a full sort gives.
        #[test]
        fn the_kept_page_is_the_page_of_a_full_sort(
            keys in proptest::collection::vec((0u8..4, any::<bool>()), 0..3000),
            skip in 0usize..50,
            take in 0usize..30,
            descending in any::<bool>(),
        ) {
            let order = ListOrder { name_last: true, key: OrderKey::Name, descending };
            let entries: Vec<Ranked> = keys
                .iter()
                .enumerate()
                // Key 0 stands for the empty key every match has when ranked by seq.
                .map(|(seq, (key, no_name))| {
                    let key = if *key == 0 { String::new() } else { key.to_string() };
                    ranked(seq as i64, *no_name, &key)
                })
                .collect();
            let mut top = TopRanked::new(order, skip + take);
            for entry in entries.clone() {
                top.offer(entry);
            }
            let mut all = entries;
            all.sort_by(|a, b| order.compare(a, b));
            let expected: Vec<Ranked> = all.into_iter().skip(skip).take(take).collect();
            prop_assert_eq!(top.into_sorted(skip), expected);
        }
    }
}
