//! Deep pages of the creation-time orders, found without stepping over the pages before
//! them.
//!
//! OFFSET makes SQLite step over every entry it skips: page 5,000 of a million contacts
//! stepped over 99,980 index entries and was answered 26 times slower than page 1. While a
//! workspace's contacts were created in seq order (`workspace_stats.created_in_seq_order`
//! in schema.sql), oldest first is seq ascending. The counts that `contact_seq_buckets`
//! keeps per block of 1,024 seqs then say which block holds a position and how many of
//! the block's contacts come before it, and the order index is sought to the block's
//! first entry. That is at most half the blocks summed and one block's entries stepped
//! over, whatever the page number.
//!
//! Newest first is served as a run of the oldest-first order counted from its other end
//! (at offset `k` of `n` contacts, a page of `p` is the oldest-first run from
//! `n - k - p`), so that one query shape serves both orders.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};

use super::list_order::limit_offset;
use super::{StorageError, WorkspaceId};
use crate::domain::SortOrder;

/// A contact's block in `contact_seq_buckets` is `seq >> BUCKET_BITS` (schema.sql).
const BUCKET_BITS: u32 = 10;

/// Below one block's worth, stepping over the offset costs less than finding the block.
const SHORTEST_SEEK: u64 = 1 << BUCKET_BITS;

/// A page as a run of the workspace's contacts oldest first: `take` contacts, after
/// skipping `skip`, counted from `from` (a creation time and a seq) on, or from the
/// workspace's first contact when there is no `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    pub from: Option<(String, i64)>,
    pub skip: u64,
    pub take: u64,
}

impl Run {
    /// A query for the run's seqs, in order; binds [`Self::values`].
    pub fn seqs_sql(&self) -> &'static str {
        if self.from.is_some() {
            RUN_FROM
        } else {
            RUN_FROM_FIRST
        }
    }

    pub fn values(&self, workspace: WorkspaceId) -> Vec<SqlValue> {
        let mut values = vec![SqlValue::Integer(workspace.0)];
        if let Some((created_at, seq)) = &self.from {
            values.push(SqlValue::Text(created_at.clone()));
            values.push(SqlValue::Integer(*seq));
        }
        values.extend(limit_offset(self.take, self.skip));
        values
    }
}

/// A run from the workspace's first contact. (`? + 0`: see LIMIT_OFFSET in
/// list_order.rs.)
const RUN_FROM_FIRST: &str = "SELECT c.seq FROM contacts c WHERE c.workspace_id = ?1
     ORDER BY c.created_at ASC, c.seq ASC LIMIT ?2 + 0 OFFSET ?3 + 0";

/// A run from (time, seq): the contacts created at that time from that seq on, then
/// those created later, merged in order. Why not `(created_at, seq) >= (?, ?)`: SQLite
/// seeks the index on such a row value by the time alone, then steps over every contact
/// created in that millisecond, and an import batch gives one to ten thousand
/// contacts. Each half here is one seek.
const RUN_FROM: &str = "SELECT seq FROM (
     SELECT c.seq AS seq, c.created_at AS created_at FROM contacts c
      WHERE c.workspace_id = ?1 AND c.created_at = ?2 AND c.seq >= ?3
     UNION ALL
     SELECT c.seq, c.created_at FROM contacts c
      WHERE c.workspace_id = ?1 AND c.created_at > ?2
     ORDER BY created_at, seq LIMIT ?4 + 0 OFFSET ?5 + 0)";

/// The page at `offset` of the workspace's `total` contacts in this order as a run, or
/// `None` when the offset is better stepped over: a short one, any in an order other
/// than by creation, or any in a workspace whose creation times do not follow its seq
/// order. `total` must be read in the same transaction.
pub(super) fn creation_run(
    conn: &Connection,
    workspace: WorkspaceId,
    sort: SortOrder,
    offset: u64,
    per_page: u32,
    total: u64,
) -> Result<Option<Run>, StorageError> {
    let newest_first = match sort {
        SortOrder::NewestFirst => true,
        SortOrder::OldestFirst => false,
        _ => return Ok(None),
    };
    if offset < SHORTEST_SEEK || offset >= total || !created_in_seq_order(conn, workspace)? {
        return Ok(None);
    }
    let end = total.min(offset + u64::from(per_page));
    let take = end - offset;
    // The run's first contact, counted oldest first.
    let first = if newest_first { total - end } else { offset };
    if first < SHORTEST_SEEK {
        return Ok(Some(Run {
            from: None,
            skip: first,
            take,
        }));
    }
    Ok(
        block_holding(conn, workspace, first, total)?.map(|block| Run {
            from: Some((block.oldest_created_at, block.bucket << BUCKET_BITS)),
            skip: first - block.before,
            take,
        }),
    )
}

/// A block of seqs, and how many of the workspace's contacts are in earlier blocks.
struct Block {
    bucket: i64,
    before: u64,
    oldest_created_at: String,
}

/// The block that holds the contact at `position` (counted oldest first, from 0),
/// summing block counts from whichever end is nearer. `None` if the counts disagree
/// with `total`, which the triggers that keep both rule out.
///
/// A block's `oldest_created_at` is the time of the first contact inserted into it. In
/// seq order, every contact of an earlier block was created no later than that and
/// every contact of this or a later block no earlier, so (that time, the block's first
/// seq) is the exact edge between the blocks in the order index, even once that first
/// contact is deleted.
fn block_holding(
    conn: &Connection,
    workspace: WorkspaceId,
    position: u64,
    total: u64,
) -> Result<Option<Block>, StorageError> {
    let from_oldest = position < total / 2;
    let mut stmt = conn.prepare_cached(if from_oldest {
        "SELECT bucket, contacts, oldest_created_at FROM contact_seq_buckets
          WHERE workspace_id = ?1 ORDER BY bucket ASC"
    } else {
        "SELECT bucket, contacts, oldest_created_at FROM contact_seq_buckets
          WHERE workspace_id = ?1 ORDER BY bucket DESC"
    })?;
    let mut rows = stmt.query([workspace.0])?;
    // Contacts in the blocks passed so far.
    let mut passed = 0u64;
    while let Some(row) = rows.next()? {
        let contacts = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        passed += contacts;
        let before = if from_oldest {
            passed - contacts
        } else {
            total.saturating_sub(passed)
        };
        if contacts > 0 && (before..before + contacts).contains(&position) {
            return Ok(Some(Block {
                bucket: row.get(0)?,
                before,
                oldest_created_at: row.get(2)?,
            }));
        }
    }
    Ok(None)
}

/// Whether the workspace's creation times follow its seq order (schema.sql), so that
/// the creation-time orders are the seq order.
pub(super) fn created_in_seq_order(
    conn: &Connection,
    workspace: WorkspaceId,
) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT created_in_seq_order FROM workspace_stats WHERE workspace_id = ?1")?
        .query_row([workspace.0], |row| row.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;
    use crate::storage::workspaces::test_database;

    /// Inserts contacts straight into the table, as the writer and `kontak import` do,
    /// each created `seq` milliseconds into the year unless told otherwise.
    fn insert(conn: &Connection, ws: WorkspaceId, seqs: impl IntoIterator<Item = i64>) {
        for seq in seqs {
            insert_created(conn, ws, seq, &created(seq));
        }
    }

    fn insert_created(conn: &Connection, ws: WorkspaceId, seq: i64, created_at: &str) {
        conn.execute(
            "INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (?1, 'id' || ?1, ?2, '+62' || ?1, '', ?3, ?3)",
            params![seq, ws.0, created_at],
        )
        .unwrap();
    }

    fn created(seq: i64) -> String {
        format!(
            "2026-01-01T00:{:02}:{:02}.{:03}Z",
            seq / 60_000,
            seq / 1000 % 60,
            seq % 1000
        )
    }

    fn run_from(seq: i64, skip: u64, take: u64) -> Option<Run> {
        Some(Run {
            from: Some((created(seq), seq)),
            skip,
            take,
        })
    }

    #[test]
    fn a_run_starts_at_the_block_that_holds_its_first_contact() {
        let (conn, ws) = test_database();
        // Block 0 holds seqs 1..=1023, block 1 all of 1024..=2047, block 3 two: 2,049.
        insert(&conn, ws, (1..=2047).chain([3072, 3073]));
        let run =
            |sort, offset, per_page| creation_run(&conn, ws, sort, offset, per_page, 2049).unwrap();
        use SortOrder::{NewestFirst, OldestFirst};

        // Oldest first: position 1,024 is the second of block 1 (1,023 before it).
        assert_eq!(run(OldestFirst, 1024, 20), run_from(1024, 1, 20));
        assert_eq!(run(OldestFirst, 2046, 20), run_from(1024, 1023, 3));
        assert_eq!(run(OldestFirst, 2047, 20), run_from(3072, 0, 2));
        assert_eq!(run(OldestFirst, 2048, 20), run_from(3072, 1, 1));
        assert_eq!(run(OldestFirst, 2049, 20), None, "past the last contact");
        assert_eq!(
            run(OldestFirst, 1023, 20),
            None,
            "short offsets are stepped over"
        );

        // Newest first: the same contacts from the other end. Offset 1,024 with 20 a
        // page is oldest-first positions 1,005..=1,024: close enough to the first
        // contact to step over from there.
        let stepped = |skip, take| {
            Some(Run {
                from: None,
                skip,
                take,
            })
        };
        assert_eq!(run(NewestFirst, 1024, 20), stepped(1005, 20));
        assert_eq!(run(NewestFirst, 2040, 100), stepped(0, 9), "the last page");
        assert_eq!(run(NewestFirst, 1024, 1), run_from(1024, 1, 1));

        // Deleting contacts changes the counts, not the bounds: block 1's first time
        // still separates it from block 0 though its first contact is gone.
        conn.execute("DELETE FROM contacts WHERE seq BETWEEN 1024 AND 1033", [])
            .unwrap();
        assert_eq!(
            creation_run(&conn, ws, OldestFirst, 1024, 20, 2039).unwrap(),
            run_from(1024, 1, 20)
        );
        // Name and update orders are never sought.
        assert_eq!(
            creation_run(&conn, ws, SortOrder::NameAscending, 1500, 20, 2039).unwrap(),
            None
        );
    }

    #[test]
    fn a_contact_created_before_an_earlier_one_turns_the_seek_off() {
        let (conn, ws) = test_database();
        insert(&conn, ws, 1..=3000);
        let seeks = |total| {
            creation_run(&conn, ws, SortOrder::OldestFirst, 2000, 20, total)
                .unwrap()
                .is_some()
        };
        assert!(seeks(3000));

        // The same creation time as the latest: still in order (seq breaks the tie).
        insert_created(&conn, ws, 5000, &created(3000));
        assert!(seeks(3001));

        insert_created(&conn, ws, 5001, &created(2999));
        assert!(!seeks(3002));
        conn.execute("DELETE FROM contacts WHERE seq = 5001", [])
            .unwrap();
        assert!(
            !seeks(3001),
            "once out of order, always: a block's bounds may still hold its time"
        );
    }
}
