//! Bulk import: many contacts per transaction, duplicates skipped rather than refused.

use rusqlite::{Connection, TransactionBehavior};
use uuid::Uuid;

use super::contacts::insert_contact_row;
use super::search_queue::apply_search_queue;
use super::tags::KnownTags;
use super::{StorageError, WorkspaceId};
use crate::domain::{NewContact, Timestamp};

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub created: u64,
    /// Phones the workspace already had, or that came earlier in the same import.
    pub duplicates: u64,
}

/// Writes contacts into one workspace, a batch per transaction. Contacts are stored
/// exactly as `POST /v1/contacts` stores them (the same row writer and the same tag
/// semantics); only the transaction boundary and the answer to a duplicate differ.
pub struct ContactImporter {
    workspace: WorkspaceId,
    tags: KnownTags,
    /// Batches that created at least one contact, and so wrote to the search index.
    indexed_batches: usize,
}

impl ContactImporter {
    pub fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            tags: KnownTags::new(workspace),
            indexed_batches: 0,
        }
    }

    /// Inserts the batch in one transaction: after a crash, either all of it is there
    /// or none of it. A phone the workspace has (or that an earlier row of this import
    /// had) is counted as a duplicate and skipped, so re-running an import creates
    /// nothing twice. Every row of the batch gets the same creation time; rows keep
    /// their order through `seq`.
    pub fn write_batch(
        &mut self,
        conn: &mut Connection,
        batch: &[NewContact],
    ) -> Result<BatchOutcome, StorageError> {
        // IMMEDIATE takes the write lock up front, so a concurrent writer makes us wait
        // (busy_timeout) at BEGIN instead of failing halfway through the batch.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the lock, so that no contact a running server committed while we
        // waited has a later creation time than these: creation times then follow seq
        // order, which deep pages rely on (see deep_pages.rs).
        let now = Timestamp::now();
        let mut outcome = BatchOutcome::default();
        for new in batch {
            let tag_names = self.tags.names(&tx, &new.tags)?;
            match insert_contact_row(&tx, self.workspace, new, &tag_names, Uuid::now_v7(), now)? {
                Some(seq) => {
                    self.tags.attach(&tx, seq, &new.tags, now)?;
                    outcome.created += 1;
                }
                None => outcome.duplicates += 1,
            }
        }
        apply_search_queue(&tx)?;
        tx.commit()?;
        if outcome.created > 0 {
            self.indexed_batches += 1;
        }
        Ok(outcome)
    }

    /// Ends the import. When it indexed more than one batch, the search index is merged
    /// into one segment.
    ///
    /// Each batch's index entries go to disk as a segment of their own, and FTS5 merges
    /// segments a little at every later commit. Left as they were, a million imported
    /// contacts made the server's first creates about a fifth slower while it merged
    /// them (9,550 and 10,932 creates/s against 11,792 and 12,489 after a merge here).
    /// Merging them at once takes about 1.3 s at a million contacts.
    pub fn finish(self, conn: &mut Connection) -> Result<(), StorageError> {
        if self.indexed_batches > 1 {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize')",
                [],
            )?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// Settings for the connection that writes a large import. Measured at a million rows
/// on 2 cores: 31.7 s with SQLite's defaults and 5,000-row batches, 17.4 s with these
/// and 10,000-row batches.
pub fn tune_for_import(conn: &Connection) -> Result<(), StorageError> {
    // The phone index is updated in random order, so each batch dirties pages all over
    // it. A page cache that holds the whole index (a million contacts need ~100 MiB)
    // keeps those pages in memory between batches. Negative means KiB; this connection
    // only, freed when it closes.
    conn.pragma_update(None, "cache_size", -262_144)?;
    // By default every commit over 1,000 WAL pages (4 MiB) triggers a checkpoint, which
    // copies the same hot index pages into the database file again after every batch.
    // Letting the WAL reach 64 MiB first copies each page once per many batches.
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    // Every insert fires triggers, so SQLite keeps a statement journal for it, and past
    // 64 KiB it moves that journal to a temporary file: at 300,000 contacts that was
    // most of 19 GB written for a 230 MB database, and 41% of the import's time in
    // pwrite. In memory it is bounded by the pages one insert touches.
    super::connection::keep_savepoints_in_memory(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::workspaces::test_database;

    fn contact(body: serde_json::Value) -> NewContact {
        NewContact::from_json(&body, &crate::domain::PhoneRules::default()).unwrap()
    }

    /// How many segments the search index has, from FTS5's structure record: a 4-byte
    /// cookie, a 4-byte marker in its second version (which contentless_delete uses),
    /// then varints for the number of levels and of segments.
    fn search_segments(conn: &Connection) -> u64 {
        let structure: Vec<u8> = conn
            .query_row(
                "SELECT block FROM contacts_fts_data WHERE id = 10",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let start = if structure[4..8] == [0xff, 0, 0, 1] {
            8
        } else {
            4
        };
        let mut varints = structure[start..].iter();
        let mut read_varint = || {
            let mut value = 0u64;
            for &byte in varints.by_ref() {
                value = (value << 7) | u64::from(byte & 0x7f);
                if byte & 0x80 == 0 {
                    break;
                }
            }
            value
        };
        let _levels = read_varint();
        read_varint()
    }

    #[test]
    fn an_import_of_several_batches_leaves_one_search_segment() {
        let (mut conn, ws) = test_database();
        let mut importer = ContactImporter::new(ws);
        for phone in ["628111111111", "628222222222", "628333333333"] {
            let batch = [contact(json!({"phone": phone, "name": "Budi"}))];
            importer.write_batch(&mut conn, &batch).unwrap();
        }
        assert_eq!(search_segments(&conn), 3, "a segment per batch");
        importer.finish(&mut conn).unwrap();
        assert_eq!(search_segments(&conn), 1);
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH 'bud'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 3, "every contact is still found");
    }

    #[test]
    fn duplicates_in_the_batch_and_across_batches_are_counted_not_written() {
        let (mut conn, ws) = test_database();
        let mut importer = ContactImporter::new(ws);
        let batch = [
            contact(json!({"phone": "628111111111", "tags": ["vip"]})),
            contact(json!({"phone": "+62 811-1111-111", "tags": ["VIP"]})),
            contact(json!({"phone": "628222222222", "tags": ["Vip", "lead"]})),
        ];
        let first = importer.write_batch(&mut conn, &batch).unwrap();
        assert_eq!(
            first,
            BatchOutcome {
                created: 2,
                duplicates: 1
            }
        );
        let again = ContactImporter::new(ws)
            .write_batch(&mut conn, &batch)
            .unwrap();
        assert_eq!(
            again,
            BatchOutcome {
                created: 0,
                duplicates: 3
            }
        );
        let tags: Vec<String> = conn
            .prepare("SELECT name FROM tags ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            tags,
            ["vip", "lead"],
            "first spelling wins, one row per tag"
        );
        let links: i64 = conn
            .query_row("SELECT count(*) FROM contact_tags", [], |r| r.get(0))
            .unwrap();
        assert_eq!(links, 3);
    }
}
