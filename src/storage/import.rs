//! Bulk import: many contacts per transaction, duplicates skipped rather than refused.

use std::ffi::c_int;

use rusqlite::{Connection, TransactionBehavior};

use super::checkpointer::Checkpointer;
use super::contacts::{insert_new_contacts, MAX_ROWS_PER_INSERT};
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
    checkpointer: Option<Checkpointer>,
}

/// The WAL length (pages of 4 KiB, so 256 MiB) at which an import's writer checkpoints
/// itself. Background checkpoints copy each batch while the next is written, but the
/// WAL only starts over once the writer finds it fully copied when a batch begins,
/// which a busy writer seldom does; so every so often it checkpoints the last batch
/// itself, and the longer the WAL may grow, the less often. Importing a million
/// contacts here, wall time over one evening on a noisy machine (runs of one build
/// ranged widely): SQLite's automatic checkpoint at 16,384 pages, what this replaced,
/// 63.8–98.3 s over seven runs (86.1–98.3 s in the four alternated with the others);
/// background checkpoints with this at 16,384 pages 89.0 s (one run), 32,768 pages
/// 78.2–82.2 s (five), 65,536 pages 72.3–86.6 s (four), 131,072 pages 62.6 s (one).
const IMPORT_CHECKPOINT_FRAMES: c_int = 65_536;

impl ContactImporter {
    pub fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            tags: KnownTags::new(workspace),
            indexed_batches: 0,
            checkpointer: None,
        }
    }

    /// Copies the WAL into the database file on a thread and connection of its own
    /// (`own`), as the server's writer does (see checkpointer.rs), instead of SQLite's
    /// automatic checkpoint on `writer`. That one ran inside every few commits, while
    /// the import waited: 10% of its profile at a million contacts, with the second
    /// core mostly idle.
    pub fn checkpoint_in_background(&mut self, own: Connection, writer: &Connection) {
        self.checkpoint_in_background_at(own, writer, IMPORT_CHECKPOINT_FRAMES);
    }

    fn checkpoint_in_background_at(
        &mut self,
        own: Connection,
        writer: &Connection,
        writer_frames: c_int,
    ) {
        self.checkpointer = Some(Checkpointer::start(own, writer, writer_frames));
    }

    /// Inserts the batch in one transaction: after a crash, either all of it is there
    /// or none of it. A phone the workspace has (or that an earlier row of this import
    /// had) is counted as a duplicate and skipped, so re-running an import creates
    /// nothing twice. Every row of the batch gets the same creation time; rows keep
    /// their order through `seq`.
    ///
    /// The batch comes in parts, taken one at a time inside the transaction: the
    /// caller's iterator decides, as the transaction goes, how many more it holds.
    pub fn write_batch_in_parts<P: AsRef<[NewContact]>>(
        &mut self,
        conn: &mut Connection,
        parts: impl IntoIterator<Item = P>,
    ) -> Result<BatchOutcome, StorageError> {
        // IMMEDIATE takes the write lock up front, so a concurrent writer makes us wait
        // (busy_timeout) at BEGIN instead of failing halfway through the batch.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the lock, so that no contact a running server committed while we
        // waited has a later creation time than these: creation times then follow seq
        // order, which deep pages rely on (see deep_pages.rs).
        let now = Timestamp::now();
        self.tags.forget_uncreated();
        let mut outcome = BatchOutcome::default();
        for part in parts {
            for chunk in part.as_ref().chunks(MAX_ROWS_PER_INSERT) {
                self.write_chunk(&tx, chunk, now, &mut outcome)?;
            }
        }
        apply_search_queue(&tx)?;
        tx.commit()?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.after_commit(conn);
        }
        if outcome.created > 0 {
            self.indexed_batches += 1;
        }
        Ok(outcome)
    }

    /// A batch of one part, as the tests write them.
    #[cfg(test)]
    fn write_batch(
        &mut self,
        conn: &mut Connection,
        batch: &[NewContact],
    ) -> Result<BatchOutcome, StorageError> {
        self.write_batch_in_parts(conn, std::iter::once(batch))
    }

    /// Writes one statement's worth of rows and their tag links.
    fn write_chunk(
        &mut self,
        tx: &Connection,
        chunk: &[NewContact],
        now: Timestamp,
        outcome: &mut BatchOutcome,
    ) -> Result<(), StorageError> {
        let contacts: Vec<&NewContact> = chunk.iter().collect();
        for written in insert_new_contacts(tx, &mut self.tags, self.workspace, &contacts, now)? {
            match written {
                Some(_) => outcome.created += 1,
                None => outcome.duplicates += 1,
            }
        }
        Ok(())
    }

    /// Ends the import. When it indexed more than one batch, the search indexes (the
    /// trigrams and `search_tokens`) are each merged into one segment.
    ///
    /// Each batch's index entries go to disk as a segment of their own, and FTS5 merges
    /// segments a little at every later commit. Left as they were, a million imported
    /// contacts made the server's first creates about a fifth slower while it merged
    /// them (9,550 and 10,932 creates/s against 11,792 and 12,489 after a merge here).
    /// Merging them at once takes about 1.3 s at a million contacts.
    pub fn finish(self, conn: &mut Connection) -> Result<(), StorageError> {
        if self.indexed_batches > 1 {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(
                "INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize');
                 INSERT INTO search_tokens (search_tokens) VALUES ('optimize');",
            )?;
            tx.commit()?;
        }
        if let Some(checkpointer) = self.checkpointer {
            checkpointer.stop();
        }
        Ok(())
    }
}

/// Settings for the connection that writes a large import. Measured at a million rows
/// on 2 cores: 31.7 s with SQLite's defaults and 5,000-row batches, 17.4 s with these
/// and 10,000-row batches (and a WAL checkpointed at 64 MiB, which
/// [`ContactImporter::checkpoint_in_background`] now does better).
pub fn tune_for_import(conn: &Connection) -> Result<(), StorageError> {
    // The phone index is updated in random order, so each batch dirties pages all over
    // it. A page cache that holds the whole index (a million contacts need ~100 MiB)
    // keeps those pages in memory between batches. Negative means KiB; this connection
    // only, freed when it closes. Alternated with 256 MiB at a million contacts: 1 GiB
    // took 80.0 / 80.4 s against 72.2 / 73.7 s (more system time, 870 MB of RSS), and
    // 128 MiB 69.3 / 76.1 s against 71.6 / 73.1 s.
    conn.pragma_update(None, "cache_size", -262_144)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::storage::workspaces::{ensure_workspace, test_database};

    fn contact(body: serde_json::Value) -> NewContact {
        NewContact::from_json(&body, &crate::domain::PhoneRules::default()).unwrap()
    }

    /// How many segments a search index (`contacts_fts` or `search_tokens`) has, from
    /// FTS5's structure record: a 4-byte cookie, a 4-byte marker in its second version
    /// (which contentless_delete uses), then varints for the number of levels and of
    /// segments.
    fn search_segments(conn: &Connection, index: &str) -> u64 {
        let structure: Vec<u8> = conn
            .query_row(
                &format!("SELECT block FROM {index}_data WHERE id = 10"),
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
            let batch = [contact(json!({"phone": phone, "name": "Budi Santoso"}))];
            importer.write_batch(&mut conn, &batch).unwrap();
        }
        for index in ["contacts_fts", "search_tokens"] {
            assert_eq!(
                search_segments(&conn, index),
                3,
                "{index}: a segment per batch"
            );
        }
        importer.finish(&mut conn).unwrap();
        for index in ["contacts_fts", "search_tokens"] {
            assert_eq!(search_segments(&conn, index), 1, "{index}");
        }
        assert_eq!(
            crate::storage::space_spans::rows_holding(&conn, "budi sant"),
            [1, 2, 3],
            "every contact is still found by its span"
        );
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
    fn a_batch_in_parts_is_one_transaction_counting_duplicates_across_parts() {
        let (mut conn, ws) = test_database();
        let mut importer = ContactImporter::new(ws);
        let parts = [
            vec![
                contact(json!({"phone": "628111111111", "name": "Budi"})),
                contact(json!({"phone": "628222222222", "name": "Sari"})),
            ],
            vec![
                contact(json!({"phone": "+62 811-1111-111", "name": "Budi lagi"})),
                contact(json!({"phone": "628333333333", "name": "Wati"})),
            ],
        ];
        let outcome = importer.write_batch_in_parts(&mut conn, &parts).unwrap();
        assert_eq!(
            outcome,
            BatchOutcome {
                created: 3,
                duplicates: 1
            }
        );
        assert_eq!(
            search_segments(&conn, "contacts_fts"),
            1,
            "the index was written once"
        );
        let times: i64 = conn
            .query_row("SELECT count(DISTINCT created_at) FROM contacts", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(times, 1, "one batch, one creation time");
    }

    #[test]
    fn background_checkpoints_keep_the_wal_short_and_it_is_gone_after_the_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kontak.db");
        let wal = dir.path().join("kontak.db-wal");
        let open = || super::super::open_connection(&path, Duration::from_secs(5)).unwrap();
        let mut conn = open();
        super::super::schema::migrate(&mut conn).unwrap();
        let name = crate::domain::WorkspaceName::parse("acme").unwrap();
        let ws = ensure_workspace(&conn, &name, Timestamp::now()).unwrap();
        tune_for_import(&conn).unwrap();
        let mut importer = ContactImporter::new(ws);
        importer.checkpoint_in_background_at(open(), &conn, 200);
        // 40 batches write about 2,850 pages to the WAL (11.7 MB when nothing copies
        // them back); one batch writes about 70.
        let mut longest = 0;
        for b in 0..40 {
            let batch: Vec<NewContact> = (0..250)
                .map(|i| {
                    let phone = format!("62812{b:03}{i:05}");
                    contact(json!({"phone": phone, "name": format!("Budi {b} {i}")}))
                })
                .collect();
            importer.write_batch(&mut conn, &batch).unwrap();
            longest = longest.max(std::fs::metadata(&wal).unwrap().len());
        }
        const FRAME_BYTES: u64 = 24 + 4096;
        assert!(
            longest <= 400 * FRAME_BYTES,
            "the WAL grew to {longest} bytes"
        );
        importer.finish(&mut conn).unwrap();
        drop(conn);
        assert!(
            !wal.exists(),
            "the last connection to close removes the WAL"
        );
        let conn = open();
        let total: i64 = conn
            .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 10_000);
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

    fn tag_names_of(conn: &Connection, phone: &str) -> Vec<String> {
        let column: String = conn
            .query_row(
                "SELECT tag_names FROM contacts WHERE phone = ?1",
                [phone],
                |r| r.get(0),
            )
            .unwrap();
        crate::storage::tags::tag_names_from_column(&column).unwrap()
    }

    #[test]
    fn a_batch_of_many_statements_keeps_every_row_its_seq_tags_and_duplicates() {
        let (mut conn, ws) = test_database();
        // 250 rows: three statements' worth. Every seventh repeats an earlier phone
        // (across statement boundaries too), every row has tags, some new in its chunk.
        let batch: Vec<NewContact> = (0..250)
            .map(|i| {
                let n = if i % 7 == 6 { i - 100 } else { i };
                let n = n.max(0);
                contact(json!({
                    "phone": format!("62811{n:07}"),
                    "name": format!("Row {i}"),
                    "tags": [format!("T{}", i % 5), "shared", format!("t{}", i % 3)],
                }))
            })
            .collect();
        let outcome = ContactImporter::new(ws)
            .write_batch(&mut conn, &batch)
            .unwrap();
        let expected_duplicates = (0..250).filter(|i| i % 7 == 6).count() as u64;
        assert_eq!(
            outcome,
            BatchOutcome {
                created: 250 - expected_duplicates,
                duplicates: expected_duplicates,
            }
        );
        // Each stored contact is the first row with its phone, in seq order.
        let stored: Vec<(i64, String, String)> = conn
            .prepare("SELECT seq, phone, name FROM contacts ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let firsts: Vec<String> = (0..250)
            .filter(|i| i % 7 != 6)
            .map(|i| format!("Row {i}"))
            .collect();
        assert_eq!(
            stored
                .iter()
                .map(|(_, _, name)| name.clone())
                .collect::<Vec<_>>(),
            firsts
        );
        assert!(stored.windows(2).all(|w| w[0].0 < w[1].0));
        // "T0" and "t0" are one tag, spelt as first used: rows 0 to 2 bring "T0" to
        // "T2" first (and list each once), so the "t0" of row 3 shows as "T0".
        assert_eq!(tag_names_of(&conn, "+628110000002"), ["T2", "shared"]);
        assert_eq!(tag_names_of(&conn, "+628110000003"), ["T3", "shared", "T0"]);
        assert_eq!(tag_names_of(&conn, "+628110000004"), ["T4", "shared", "T1"]);
        assert_eq!(
            crate::storage::maintenance::integrity_problems(&conn).unwrap(),
            Vec::<String>::new(),
            "links, kept names and counts agree"
        );
    }

    #[test]
    fn a_tag_first_seen_on_a_duplicate_is_created_once_a_contact_uses_it_and_never_else() {
        let (mut conn, ws) = test_database();
        let mut importer = ContactImporter::new(ws);
        let existing = [contact(json!({"phone": "628111111111"}))];
        importer.write_batch(&mut conn, &existing).unwrap();

        // The duplicate brings "Gold" and "Solo"; only "gold" is used by a new contact.
        let batch = [
            contact(json!({"phone": "628111111111", "tags": ["Gold", "Solo"]})),
            contact(json!({"phone": "628222222222", "tags": ["gold"]})),
        ];
        importer.write_batch(&mut conn, &batch).unwrap();
        let tags: Vec<(String, i64)> = conn
            .prepare("SELECT name, contacts FROM tags ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tags.len(), 1, "{tags:?}");
        assert_eq!(tags[0].1, 1);
        assert_eq!(tag_names_of(&conn, "+628222222222"), [tags[0].0.clone()]);
    }

    #[test]
    fn a_tag_another_writer_created_between_batches_is_used_not_created_again() {
        let (mut conn, ws) = test_database();
        let mut importer = ContactImporter::new(ws);
        // "VIP" is seen only on a duplicate, so it stays uncreated...
        importer
            .write_batch(&mut conn, &[contact(json!({"phone": "628111111111"}))])
            .unwrap();
        importer
            .write_batch(
                &mut conn,
                &[contact(json!({"phone": "628111111111", "tags": ["VIP"]}))],
            )
            .unwrap();
        // ...until the server creates it, spelt its own way.
        let other = contact(json!({"phone": "628999999999", "tags": ["vip"]}));
        crate::storage::contacts::insert_contact(&mut conn, ws, &other, Timestamp::now()).unwrap();
        importer
            .write_batch(
                &mut conn,
                &[contact(json!({"phone": "628222222222", "tags": ["Vip"]}))],
            )
            .unwrap();
        assert_eq!(tag_names_of(&conn, "+628222222222"), ["vip"]);
        assert_eq!(
            crate::storage::maintenance::integrity_problems(&conn).unwrap(),
            Vec::<String>::new()
        );
    }
}
