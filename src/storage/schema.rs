//! The schema, embedded from `schema.sql`, and the check that a database file is one
//! this binary understands.

use rusqlite::{Connection, TransactionBehavior};

use super::StorageError;

/// The whole schema. Every statement is idempotent, so it is applied at every start.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// The `user_version` that `schema.sql` sets.
pub const SCHEMA_VERSION: i64 = 2;

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
    let from_v1 = user_version(&tx)? == 1;
    if from_v1 {
        tx.execute_batch(DROP_V1_SEARCH_INDEX)?;
    }
    tx.execute_batch(SCHEMA_SQL)?;
    if from_v1 {
        tx.execute_batch(FILL_SEARCH_INDEX)?;
    }
    tx.commit()?;
    Ok(())
}

pub fn user_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
