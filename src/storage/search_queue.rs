//! Applying queued contact changes to the trigram index and the `search_tokens`
//! index (search_tokens.rs).
//!
//! Triggers on `contacts` queue each change in `search_queue` (see schema.sql for why
//! they do not write the index directly), in the same transaction as the change. The
//! queue is applied to the index in order by [`apply_search_queue`]: by every import
//! batch and demo seeding before they commit, and by the server's writer once enough
//! has queued or once it is idle (see writer.rs), so that the index takes many
//! transactions' changes as one segment.
//!
//! Until then a change is still found: a search reads its candidates from the index
//! and from the queue ([`crate::storage::contact_list`]), and checks each against the
//! contact's current row. A committed contact is searchable at once either way.

use rusqlite::Connection;

use super::search_tokens::TokenWrites;
use super::{StorageError, WorkspaceId};

/// Queued changes at which a writing transaction applies the queue before it commits.
/// Until applied, a search reads them from the queue, about 0.1 µs each.
pub const APPLY_AT: u64 = 1_000;

/// Applies the queue if [`APPLY_AT`] changes or more wait in it: what the server's
/// writer does in each transaction (see writer.rs).
pub fn apply_search_queue_if_long(conn: &Connection) -> Result<(), StorageError> {
    if queued_changes(conn)? >= APPLY_AT {
        apply_search_queue(conn)?;
    }
    Ok(())
}

/// How many changes wait in the queue (ids are never reused while it holds rows, so
/// this is exact without counting them). Two subqueries, because SQLite reads a lone
/// `max()` or `min()` from the end of the index, but `max(id) - min(id)` scans the
/// table: that was 4% of the writer's time under concurrent creates.
pub fn queued_changes(conn: &Connection) -> Result<u64, StorageError> {
    let queued: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT max(id) FROM search_queue) - (SELECT min(id) FROM search_queue) + 1, 0)",
        )?
        .query_row([], |row| row.get(0))?;
    Ok(u64::try_from(queued).unwrap_or(0))
}

/// Applies the queued changes in the order they were made, then empties the queue.
pub fn apply_search_queue(conn: &Connection) -> Result<(), StorageError> {
    let changes = conn
        .prepare_cached("SELECT seq, text, workspace_id, old_text FROM search_queue ORDER BY id")?
        .query_map([], |row| {
            Ok(QueuedChange {
                seq: row.get(0)?,
                text: row.get(1)?,
                workspace: row.get::<_, Option<i64>>(2)?.map(WorkspaceId),
                old_text: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if changes.is_empty() {
        return Ok(());
    }
    let mut add = conn.prepare_cached("INSERT INTO contacts_fts (rowid, text) VALUES (?1, ?2)")?;
    let mut remove = conn.prepare_cached("DELETE FROM contacts_fts WHERE rowid = ?1")?;
    let mut tokens = TokenWrites::default();
    for change in changes {
        match &change.text {
            Some(text) => {
                add.execute((change.seq, text))?;
                tokens.add(conn, change.seq, change.workspace, text)?;
            }
            None => {
                remove.execute([change.seq])?;
                let old_text = change.old_text.as_deref();
                tokens.remove(conn, change.seq, change.workspace, old_text)?;
            }
        }
    }
    tokens.finish(conn)?;
    conn.prepare_cached("DELETE FROM search_queue")?
        .execute([])?;
    Ok(())
}

/// One row of `search_queue`.
struct QueuedChange {
    seq: i64,
    text: Option<String>,
    workspace: Option<WorkspaceId>,
    old_text: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::schema;
    use crate::storage::space_spans::rows_holding;

    fn found(conn: &Connection, trigram: &str) -> Vec<i64> {
        conn.prepare("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?1")
            .unwrap()
            .query_map([format!("\"{trigram}\"")], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Workspace 1 and a contact for each (seq, phone, folded name), with no email.
    fn insert_contacts(conn: &Connection, contacts: &[(i64, &str, &str)]) {
        conn.execute(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now')",
            [],
        )
        .unwrap();
        for &(seq, phone, name) in contacts {
            conn.execute(
                "INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
                 VALUES (?1, ?1, 1, ?2, ?3 || char(31), 'now', 'now')",
                (seq, phone, name),
            )
            .unwrap();
        }
    }

    #[test]
    fn changes_in_one_transaction_reach_the_index_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        insert_contacts(&tx, &[(1, "+628111", "budi"), (2, "+628222", "wati")]);
        tx.execute_batch(
            "UPDATE contacts SET search_text = 'sari' || char(31) WHERE seq = 1;
             DELETE FROM contacts WHERE seq = 2;",
        )
        .unwrap();
        assert!(
            found(&tx, "sar").is_empty(),
            "nothing reaches the index early"
        );
        // Two inserts, an update (out, then in) and a delete.
        assert_eq!(queued_changes(&tx).unwrap(), 5);
        apply_search_queue(&tx).unwrap();
        assert_eq!(queued_changes(&tx).unwrap(), 0);
        tx.commit().unwrap();

        assert_eq!(found(&conn, "sar"), vec![1]);
        assert!(found(&conn, "bud").is_empty(), "the old text is gone");
        assert!(found(&conn, "wat").is_empty(), "the deleted row is gone");
        assert_eq!(found(&conn, "811"), vec![1]);
        let queued: i64 = conn
            .query_row("SELECT count(*) FROM search_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(queued, 0);
        conn.execute(
            "INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn the_spaces_spans_follow_the_queued_changes() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        insert_contacts(
            &tx,
            &[
                (1, "+628111", "budi santoso"),
                (2, "+628222", "wati santoso"),
                (3, "+628333", "ani"),
            ],
        );
        apply_search_queue(&tx).unwrap();
        tx.execute_batch(
            "UPDATE contacts SET search_text = 'dewi lestari' || char(31) WHERE seq = 1;
             DELETE FROM contacts WHERE seq IN (2, 3);",
        )
        .unwrap();
        apply_search_queue(&tx).unwrap();
        tx.commit().unwrap();

        assert_eq!(rows_holding(&conn, "dewi lest"), [1]);
        assert!(
            rows_holding(&conn, "budi sant").is_empty(),
            "the old name's"
        );
        assert!(
            rows_holding(&conn, "wati sant").is_empty(),
            "the deleted row's"
        );
        conn.execute(
            "INSERT INTO search_tokens (search_tokens, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
    }
}
