//! The schema, embedded from `schema.sql`, and the check that a database file is one
//! this binary understands.

use rusqlite::{Connection, TransactionBehavior};

use super::StorageError;

/// The whole schema. Every statement is idempotent, so it is applied at every start.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// The `user_version` that `schema.sql` sets.
pub const SCHEMA_VERSION: i64 = 1;

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
    tx.execute_batch(SCHEMA_SQL)?;
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
