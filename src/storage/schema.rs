//! The schema, embedded from `schema.sql`, and the check that a database file is one
//! this binary understands.

use rusqlite::{Connection, TransactionBehavior};

use super::search_tokens::fill_tokens;
use super::StorageError;

/// The whole schema. Every statement is idempotent, so it is applied at every start.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// The `user_version` that `schema.sql` sets.
pub const SCHEMA_VERSION: i64 = 10;

/// Version 2 rebuilt the trigram index as one text column without positions
/// (`detail=none`). A version 1 file loses its old index before the schema is applied
/// and gets the new one filled from its contacts after, in the same transaction.
const DROP_V1_SEARCH_INDEX: &str = "
    DROP TRIGGER IF EXISTS contacts_fts_insert;
    DROP TRIGGER IF EXISTS contacts_fts_update;
    DROP TRIGGER IF EXISTS contacts_fts_delete;
    DROP TABLE IF EXISTS contacts_fts;
";
const FILL_SEARCH_INDEX: &str = "
    INSERT INTO contacts_fts (rowid, text)
    SELECT seq, search_text || char(31) || substr(phone, 2) FROM contacts;
";

/// Version 3 added the creation-order columns to `workspace_stats`, whose insert
/// trigger now keeps them, and `contact_seq_buckets`. An older file loses the old
/// trigger and gains the columns (version 1 had no such table: the schema makes it
/// whole) before the schema is applied.
const DROP_V2_STATS_TRIGGER: &str = "DROP TRIGGER IF EXISTS workspace_stats_insert;";
const V3_STATS_COLUMNS: [(&str, &str); 2] = [
    ("newest_created_at", "TEXT NOT NULL DEFAULT ''"),
    ("created_in_seq_order", "INTEGER NOT NULL DEFAULT 1"),
];
/// After the schema: the kept counts recomputed from the contacts themselves (a version
/// 1 file never had them), whether each workspace's creation times follow its seq
/// order, and the per-block counts.
const FILL_V3_COUNTS: &str = "
    DELETE FROM workspace_stats;
    INSERT INTO workspace_stats (workspace_id, contacts, newest_created_at, created_in_seq_order)
    SELECT workspace_id, count(*), max(created_at), min(in_order)
      FROM (SELECT workspace_id, created_at,
                   created_at >= coalesce(max(created_at) OVER (
                       PARTITION BY workspace_id ORDER BY seq
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), '') AS in_order
              FROM contacts)
     GROUP BY workspace_id;
    DELETE FROM contact_seq_buckets;
    INSERT INTO contact_seq_buckets (workspace_id, bucket, contacts, oldest_created_at)
    SELECT workspace_id, seq >> 10, count(*), min(created_at)
      FROM contacts GROUP BY workspace_id, seq >> 10;
";

/// Version 4 added each tag's count of contacts, kept by triggers, and the name-order
/// index (which the schema creates). An older file gains the column before the schema
/// is applied and has it counted after.
const V4_TAG_COLUMNS: [(&str, &str); 1] = [("contacts", "INTEGER NOT NULL DEFAULT 0")];
const FILL_V4_TAG_COUNTS: &str = "
    UPDATE tags SET contacts = (SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = tags.id);
";

/// Version 5 keeps each contact's tag names on its row. An older file gains the column
/// before the schema is applied and has it filled from the links after.
const V5_CONTACT_COLUMNS: [(&str, &str); 1] = [("tag_names", "TEXT NOT NULL DEFAULT '[]'")];
const FILL_V5_TAG_NAMES: &str = "
    UPDATE contacts SET tag_names = (
        SELECT json_group_array(t.name ORDER BY ct.position)
          FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.contact_seq = contacts.seq)
     WHERE seq IN (SELECT contact_seq FROM contact_tags);
";

/// Version 6 narrowed `contacts_search_rows` to what every search reads. An older file
/// loses the wide index before the schema is applied, which builds the narrow one.
const DROP_V5_SEARCH_ROWS: &str = "DROP INDEX IF EXISTS contacts_search_rows;";

/// Version 7 kept the spaces' spans (space_spans.rs) in a table keyed by span, version 8
/// in a full-text index of their own, `space_spans`; version 9 kept them with the email
/// domains in `search_tokens` (for a while with a vocabulary table over it); version 10
/// also counts each domain's rows there (`email_domain_counts`). A version 7 or 8 file
/// loses its `space_spans`, a version 9 file its `search_tokens`, before the schema is
/// applied; every older file has `search_tokens` and the counts filled from its
/// contacts after.
const DROP_V8_SPANS: &str = "DROP TABLE IF EXISTS space_spans;";
const DROP_V9_TOKENS: &str = "
    DROP TABLE IF EXISTS search_tokens_terms;
    DROP TABLE IF EXISTS search_tokens;
";

/// Version 9 queued each change's workspace, for its email domain's token; version 10
/// also what a row taken out had, for its domain's count. An older file's queue gains
/// the columns and its triggers are replaced before the schema is applied.
const V10_QUEUE_COLUMNS: [(&str, &str); 2] = [("workspace_id", "INTEGER"), ("old_text", "TEXT")];
const DROP_V9_QUEUE_TRIGGERS: &str = "
    DROP TRIGGER IF EXISTS contacts_fts_insert;
    DROP TRIGGER IF EXISTS contacts_fts_update;
    DROP TRIGGER IF EXISTS contacts_fts_delete;
";
/// After the schema, the changes still queued: each addition gets its contact's
/// workspace; each removal, the text and workspace of the last addition of its row
/// queued before it. The fill leaves every queued row to the queue, so only such an
/// addition is counted in its domain, and only its removal must count it down. A
/// removal with none takes out a row the fill left out: nothing to count down.
const FILL_V10_QUEUED_CHANGES: &str = "
    UPDATE search_queue
       SET workspace_id = (SELECT workspace_id FROM contacts c WHERE c.seq = search_queue.seq)
     WHERE text IS NOT NULL AND workspace_id IS NULL;
    UPDATE search_queue
       SET (old_text, workspace_id) = (
           SELECT added.text, added.workspace_id FROM search_queue added
            WHERE added.seq = search_queue.seq AND added.id < search_queue.id
              AND added.text IS NOT NULL
            ORDER BY added.id DESC LIMIT 1)
     WHERE text IS NULL AND old_text IS NULL;
";

/// Brings the database to [`SCHEMA_VERSION`], in one transaction: either the whole
/// schema is there afterwards or nothing changed. A database from a newer kontak is
/// refused rather than half-understood.
pub fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StorageError::Schema(format!(
            "the database has schema version {found}, but this kontak knows only up to \
             {SCHEMA_VERSION}; it was written by a newer kontak: upgrade kontak, or point \
             --db at another file"
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have upgraded meanwhile.
    // Version 0 is a new, empty file.
    let from = user_version(&tx)?;
    let older_than = |version: i64| (1..version).contains(&from);
    if from == 1 {
        tx.execute_batch(DROP_V1_SEARCH_INDEX)?;
    }
    if older_than(3) {
        tx.execute_batch(DROP_V2_STATS_TRIGGER)?;
        add_missing_columns(&tx, "workspace_stats", &V3_STATS_COLUMNS)?;
    }
    if older_than(4) {
        add_missing_columns(&tx, "tags", &V4_TAG_COLUMNS)?;
    }
    if older_than(5) {
        add_missing_columns(&tx, "contacts", &V5_CONTACT_COLUMNS)?;
    }
    if older_than(6) {
        tx.execute_batch(DROP_V5_SEARCH_ROWS)?;
    }
    if (7..=8).contains(&from) {
        tx.execute_batch(DROP_V8_SPANS)?;
    }
    if from == 9 {
        tx.execute_batch(DROP_V9_TOKENS)?;
    }
    if older_than(10) {
        add_missing_columns(&tx, "search_queue", &V10_QUEUE_COLUMNS)?;
        tx.execute_batch(DROP_V9_QUEUE_TRIGGERS)?;
    }
    tx.execute_batch(SCHEMA_SQL)?;
    if from == 1 {
        tx.execute_batch(FILL_SEARCH_INDEX)?;
    }
    if older_than(3) {
        tx.execute_batch(FILL_V3_COUNTS)?;
    }
    if older_than(4) {
        tx.execute_batch(FILL_V4_TAG_COUNTS)?;
    }
    if older_than(5) {
        tx.execute_batch(FILL_V5_TAG_NAMES)?;
    }
    if older_than(10) {
        tx.execute_batch(FILL_V10_QUEUED_CHANGES)?;
        fill_tokens(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

pub fn user_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Adds each column the table lacks; a table that does not exist yet is left to the
/// schema. Names and types are this file's constants, never input.
fn add_missing_columns(
    conn: &Connection,
    table: &str,
    columns: &[(&str, &str)],
) -> Result<(), StorageError> {
    let mut present = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let present: Vec<String> = present
        .query_map([table], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if present.is_empty() {
        return Ok(());
    }
    for (name, kind) in columns {
        if !present.iter().any(|p| p == name) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::email_domains::{domain_query, term_domain_token};
    use crate::storage::maintenance::integrity_problems;
    use crate::storage::search_tokens::{domain_rows, rows_matching};
    use crate::storage::space_spans::rows_holding;
    use crate::storage::tags::tag_names_from_column;
    use crate::storage::WorkspaceId;

    /// The first column of every row `sql` selects, as text.
    fn texts(conn: &Connection, sql: &str) -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Workspace 1 and these contacts (`rows` of seq, id, workspace_id, phone, name,
    /// search_text, created_at, updated_at), with the search queue applied, as a
    /// server leaves a file when it has been idle.
    fn indexed_contacts(conn: &Connection, rows: &str) {
        conn.execute_batch(&format!(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                   created_at, updated_at)
             VALUES {rows};"
        ))
        .unwrap();
        apply(conn);
    }

    /// The rows the index holds at workspace 1's ptabc.co.id, and their kept count.
    fn at_domain(conn: &Connection) -> (Vec<i64>, u64) {
        let query = domain_query(WorkspaceId(1), "@ptabc.co.id").unwrap();
        let token = term_domain_token(WorkspaceId(1), "@ptabc.co.id").unwrap();
        (
            rows_matching(conn, &query),
            domain_rows(conn, &token).unwrap(),
        )
    }

    fn apply(conn: &Connection) {
        crate::storage::search_queue::apply_search_queue(conn).unwrap();
    }

    /// Migrates, and checks the file reached this version with no table or index named
    /// like `gone` (a LIKE pattern) left.
    fn migrate_dropping(conn: &mut Connection, gone: &str) {
        migrate(conn).unwrap();
        assert_eq!(user_version(conn).unwrap(), SCHEMA_VERSION);
        let left: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE name LIKE ?1")
            .unwrap()
            .query_map([gone], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, Vec::<String>::new(), "left over from {gone}");
    }

    #[test]
    fn schema_sql_sets_the_version_the_code_expects() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn applying_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_version_1_database_gets_the_new_search_index_filled_from_its_contacts() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Turn it into a version 1 file: the old index shape, one contact in it.
        conn.execute_batch(DROP_V1_SEARCH_INDEX).unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE contacts_fts USING fts5(
                 search_text, phone_digits, content = '', contentless_delete = 1,
                 tokenize = 'trigram case_sensitive 1');
             INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                   created_at, updated_at)
             VALUES (7, 'c', 1, '+628111', 'Budi', 'budi' || char(31), 'now', 'now');
             PRAGMA user_version = 1;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        for term in ["\"udi\"", "\"811\""] {
            let found: Vec<i64> = conn
                .prepare("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?1")
                .unwrap()
                .query_map([term], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(found, vec![7], "{term}");
        }
    }

    #[test]
    fn a_version_2_database_gets_its_counts_and_creation_order_worked_out() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Turn it into a version 2 file: the old counts, and contacts in two workspaces,
        // w1's created in seq order and w2's not.
        conn.execute_batch(
            "DROP TRIGGER contact_seq_buckets_insert;
             DROP TRIGGER contact_seq_buckets_delete;
             DROP TABLE contact_seq_buckets;
             DROP TRIGGER workspace_stats_insert;
             DROP TRIGGER workspace_stats_delete;
             DROP TABLE workspace_stats;
             CREATE TABLE workspace_stats (
                 workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
                 contacts     INTEGER NOT NULL DEFAULT 0
             ) STRICT;
             CREATE TRIGGER workspace_stats_insert AFTER INSERT ON contacts BEGIN
                 INSERT INTO workspace_stats (workspace_id, contacts) VALUES (new.workspace_id, 1)
                 ON CONFLICT (workspace_id) DO UPDATE SET contacts = contacts + 1;
             END;
             CREATE TRIGGER workspace_stats_delete AFTER DELETE ON contacts BEGIN
                 UPDATE workspace_stats SET contacts = contacts - 1 WHERE workspace_id = old.workspace_id;
             END;
             INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w1', 'now'), (2, 'w2', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (1, 'a', 1, '+62811', '', '2026-01-01T00:00:01.000Z', 'x'),
                    (2, 'b', 2, '+62811', '', '2026-01-01T00:00:05.000Z', 'x'),
                    (1030, 'c', 1, '+62812', '', '2026-01-01T00:00:01.000Z', 'x'),
                    (1031, 'd', 2, '+62812', '', '2026-01-01T00:00:04.000Z', 'x'),
                    (2050, 'e', 1, '+62813', '', '2026-01-01T00:00:09.000Z', 'x');
             PRAGMA user_version = 2;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let stats: Vec<(i64, i64, String, bool)> = conn
            .prepare("SELECT * FROM workspace_stats ORDER BY workspace_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            stats,
            vec![
                (1, 3, "2026-01-01T00:00:09.000Z".into(), true),
                (2, 2, "2026-01-01T00:00:05.000Z".into(), false),
            ]
        );
        let buckets: Vec<(i64, i64, i64)> = conn
            .prepare("SELECT workspace_id, bucket, contacts FROM contact_seq_buckets")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            buckets,
            vec![(1, 0, 1), (1, 1, 1), (1, 2, 1), (2, 0, 1), (2, 1, 1)]
        );

        // The new triggers keep both from here on.
        conn.execute_batch(
            "INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (2051, 'f', 1, '+62814', '', '2026-01-01T00:00:08.000Z', 'x');",
        )
        .unwrap();
        let (contacts, in_order): (i64, bool) = conn
            .query_row(
                "SELECT contacts, created_in_seq_order FROM workspace_stats WHERE workspace_id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((contacts, in_order), (4, false));
    }

    #[test]
    fn a_version_3_database_gets_its_tags_counted_and_the_name_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Turn it into a version 3 file: no tag counts, no name index.
        conn.execute_batch(
            "DROP TRIGGER tags_count_insert;
             DROP TRIGGER tags_count_delete;
             DROP INDEX contacts_by_name;
             ALTER TABLE tags DROP COLUMN contacts;
             INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (1, 'a', 1, '+62811', '', 'now', 'now'), (2, 'b', 1, '+62812', '', 'now', 'now');
             INSERT INTO tags (id, workspace_id, name, name_key, created_at)
             VALUES (1, 1, 'VIP', 'vip', 'now'), (2, 1, 'lead', 'lead', 'now'),
                    (3, 1, 'old', 'old', 'now');
             INSERT INTO contact_tags (contact_seq, tag_id, position)
             VALUES (1, 1, 0), (2, 1, 0), (2, 2, 1);
             PRAGMA user_version = 3;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let counts = |conn: &Connection| -> Vec<(String, i64)> {
            conn.prepare("SELECT name_key, contacts FROM tags ORDER BY id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            counts(&conn),
            [("vip".into(), 2), ("lead".into(), 1), ("old".into(), 0)]
        );
        let index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'contacts_by_name'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 1);

        // The triggers keep the counts from here on, through the cascade of a delete.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (1, 3, 1);
             DELETE FROM contacts WHERE seq = 2;",
        )
        .unwrap();
        assert_eq!(
            counts(&conn),
            [("vip".into(), 1), ("lead".into(), 0), ("old".into(), 1)]
        );
    }

    #[test]
    fn a_version_4_database_gets_each_contacts_tag_names_from_its_links() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Turn it into a version 4 file: no tag names on the rows. Contact 1's links
        // were written in another order than their positions.
        conn.execute_batch(
            "ALTER TABLE contacts DROP COLUMN tag_names;
             INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (1, 'a', 1, '+62811', '', 'now', 'now'), (2, 'b', 1, '+62812', '', 'now', 'now');
             INSERT INTO tags (id, workspace_id, name, name_key, created_at)
             VALUES (1, 1, 'VIP', 'vip', 'now'), (2, 1, 'lead', 'lead', 'now'),
                    (3, 1, 'Çelik \"q\"', 'çelik \"q\"', 'now');
             INSERT INTO contact_tags (contact_seq, tag_id, position)
             VALUES (1, 1, 2), (1, 3, 0), (1, 2, 1);
             PRAGMA user_version = 4;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let names: Vec<Vec<String>> = texts(&conn, "SELECT tag_names FROM contacts ORDER BY seq")
            .iter()
            .map(|column| tag_names_from_column(column).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                vec!["Çelik \"q\"".to_owned(), "lead".into(), "VIP".into()],
                vec![]
            ]
        );
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_version_5_database_gets_the_narrow_search_rows_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Turn it into a version 5 file: the wide index of that version.
        conn.execute_batch(
            "DROP INDEX contacts_search_rows;
             CREATE INDEX contacts_search_rows
                 ON contacts(seq, workspace_id, created_at, updated_at, name, search_text, phone);
             PRAGMA user_version = 5;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let columns = texts(
            &conn,
            "SELECT name FROM pragma_index_info('contacts_search_rows') ORDER BY seqno",
        );
        assert_eq!(columns, ["seq", "workspace_id", "search_text", "phone"]);
    }

    #[test]
    fn a_version_7_database_gets_its_spaces_spans_indexed_from_its_contacts() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        indexed_contacts(
            &conn,
            "(4, 'a', 1, '+62811', 'Budi Santoso', 'budi santoso' || char(31), 'now', 'now')",
        );
        // Turn it into a version 7 file: the spans in a table keyed by span.
        conn.execute_batch(
            "DROP TABLE search_tokens;
             CREATE TABLE space_spans (
                 span TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (span, seq)
             ) STRICT, WITHOUT ROWID;
             CREATE INDEX space_spans_by_seq ON space_spans(seq);
             INSERT INTO space_spans (span, seq) VALUES ('budi sant', 4);
             PRAGMA user_version = 7;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(rows_holding(&conn, "budi sant"), [4]);
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_version_8_database_gets_its_spans_and_email_domains_in_one_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        indexed_contacts(
            &conn,
            "(4, 'a', 1, '+62811', 'Budi Santoso', 'budi santoso' || char(31) || 'b@ptabc.co.id',
              'now', 'now'),
             (7, 'd', 1, '+62817', 'Dewi', 'dewi' || char(31) || 'd@ptabc.co.id', 'now', 'now')",
        );
        // Turn it into a version 8 file: the spans alone, in an index of their own, and
        // a queue without workspaces or old texts, where changes of every kind wait: a
        // new contact renamed (5), one created and deleted again (6), an indexed one
        // deleted (7) and an indexed one renamed (4).
        conn.execute_batch(
            "DROP TABLE search_tokens;
             DROP TABLE email_domain_counts;
             CREATE VIRTUAL TABLE space_spans USING fts5(
                 spans, content = '', contentless_delete = 1, detail = none,
                 tokenize = 'ascii'
             );
             INSERT INTO space_spans (rowid, spans) VALUES (4, '627564692073616e74');
             DROP TRIGGER contacts_fts_insert;
             DROP TRIGGER contacts_fts_update;
             DROP TRIGGER contacts_fts_delete;
             ALTER TABLE search_queue DROP COLUMN workspace_id;
             ALTER TABLE search_queue DROP COLUMN old_text;
             CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
                 INSERT INTO search_queue (seq, text)
                 VALUES (new.seq, new.search_text || char(31) || substr(new.phone, 2));
             END;
             CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text, phone ON contacts BEGIN
                 INSERT INTO search_queue (seq, text) VALUES (old.seq, NULL);
                 INSERT INTO search_queue (seq, text)
                 VALUES (new.seq, new.search_text || char(31) || substr(new.phone, 2));
             END;
             CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
                 INSERT INTO search_queue (seq, text) VALUES (old.seq, NULL);
             END;
             INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                   created_at, updated_at)
             VALUES (5, 'b', 1, '+62812', 'Wati', 'wati' || char(31) || 'w@ptabc.co.id',
                     'now', 'now'),
                    (6, 'c', 1, '+62813', 'Sari', 'sari' || char(31) || 's@ptabc.co.id',
                     'now', 'now');
             DELETE FROM contacts WHERE seq IN (6, 7);
             UPDATE contacts SET search_text = 'budi s' || char(31) || 'b@ptabc.co.id' WHERE seq = 4;
             UPDATE contacts SET search_text = 'wati w' || char(31) || 'w@ptabc.co.id' WHERE seq = 5;
             PRAGMA user_version = 8;",
        )
        .unwrap();

        migrate_dropping(&mut conn, "space_spans%");
        assert_eq!(
            at_domain(&conn),
            (vec![], 0),
            "all of them wait in the queue"
        );
        apply(&conn);
        assert_eq!(at_domain(&conn), (vec![4, 5], 2));
        assert!(rows_holding(&conn, "budi sant").is_empty(), "renamed");
        // Changed after the upgrade, through its triggers.
        conn.execute_batch(
            "UPDATE contacts SET search_text = 'budi santoso' || char(31) || 'b@ptabc.co.id'
              WHERE seq = 4;
             DELETE FROM contacts WHERE seq = 5;",
        )
        .unwrap();
        apply(&conn);
        assert_eq!(at_domain(&conn), (vec![4], 1));
        assert_eq!(rows_holding(&conn, "budi sant"), [4]);
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_version_9_database_gets_its_email_domains_counted() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        indexed_contacts(
            &conn,
            "(3, 'c', 1, '+62813', 'Ani', 'ani' || char(31) || 'a@ptabc.co.id', 'now', 'now'),
             (4, 'a', 1, '+62811', 'Budi', 'budi' || char(31) || 'b@ptabc.co.id', 'now', 'now')",
        );
        // Turn it into a version 9 file: no counts, a vocabulary table instead, and a
        // queue whose removals carry no old text, where a rename and a new contact wait.
        conn.execute_batch(
            "DROP TABLE email_domain_counts;
             CREATE VIRTUAL TABLE search_tokens_terms USING fts5vocab(search_tokens, 'row');
             DROP TRIGGER contacts_fts_update;
             DROP TRIGGER contacts_fts_delete;
             ALTER TABLE search_queue DROP COLUMN old_text;
             CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text, phone ON contacts BEGIN
                 INSERT INTO search_queue (seq, text) VALUES (old.seq, NULL);
                 INSERT INTO search_queue (seq, text, workspace_id)
                 VALUES (new.seq, new.search_text || char(31) || substr(new.phone, 2),
                         new.workspace_id);
             END;
             CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
                 INSERT INTO search_queue (seq, text) VALUES (old.seq, NULL);
             END;
             UPDATE contacts SET search_text = 'budi s' || char(31) || 'b@ptabc.co.id' WHERE seq = 4;
             INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                   created_at, updated_at)
             VALUES (5, 'b', 1, '+62812', 'Wati', 'wati' || char(31) || 'w@ptabc.co.id',
                     'now', 'now');
             PRAGMA user_version = 9;",
        )
        .unwrap();

        migrate_dropping(&mut conn, "search_tokens_terms");
        assert_eq!(
            at_domain(&conn),
            (vec![3], 1),
            "the other two wait in the queue"
        );
        apply(&conn);
        assert_eq!(at_domain(&conn), (vec![3, 4, 5], 3));
        conn.execute("DELETE FROM contacts WHERE seq = 5", [])
            .unwrap();
        apply(&conn);
        assert_eq!(at_domain(&conn), (vec![3, 4], 2));
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn changes_queued_in_an_older_file_reach_the_spans_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // A version 6 file whose last changes still wait in the queue: a new contact
        // and a renamed one, neither in any index yet.
        conn.execute_batch(
            "DROP TABLE search_tokens;
             INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 'now');
             INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                   created_at, updated_at)
             VALUES (4, 'a', 1, '+62811', 'Budi Santoso', 'budi santoso' || char(31), 'now', 'now'),
                    (5, 'b', 1, '+62812', 'Wati Santoso', 'wati santoso' || char(31), 'now', 'now');
             UPDATE contacts SET search_text = 'wati lestari' || char(31) WHERE seq = 5;
             PRAGMA user_version = 6;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();
        apply(&conn);

        assert_eq!(rows_holding(&conn, "budi sant"), [4]);
        assert_eq!(rows_holding(&conn, "wati lest"), [5]);
        assert!(rows_holding(&conn, "wati sant").is_empty());
        conn.execute(
            "INSERT INTO search_tokens (search_tokens, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_version_6_database_gets_its_spaces_spans_from_its_contacts() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // One contact with a whole name and one without a name.
        indexed_contacts(
            &conn,
            "(4, 'a', 1, '+62811', 'Budi Santoso', 'budi santoso' || char(31), 'now', 'now'),
             (5, 'b', 1, '+62812', NULL, char(31), 'now', 'now')",
        );
        // Turn it into a version 6 file: no spans.
        conn.execute_batch("DROP TABLE search_tokens; PRAGMA user_version = 6;")
            .unwrap();

        migrate(&mut conn).unwrap();

        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(rows_holding(&conn, "budi sant"), [4]);
        let indexed = texts(&conn, "SELECT CAST(rowid AS TEXT) FROM search_tokens");
        assert_eq!(indexed, ["4"], "a contact without spans is not indexed");
    }

    #[test]
    fn a_newer_database_is_refused_with_a_clear_message() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer kontak"), "message: {err}");
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "nothing may be created in a refused database");
    }
}
