//! Reads that must agree with one another, in one read transaction.

use rusqlite::Connection;

use super::connection::execute_cached;
use super::StorageError;

/// Runs `read` in one read transaction, so that every statement in it sees the same
/// committed state; inside a transaction already open, it simply runs in that one.
///
/// rusqlite's transactions prepare `BEGIN` and `COMMIT` afresh each time; these come
/// from the connection's statement cache, which for a first page of contacts was 5% of
/// the read thread's time.
pub fn in_snapshot<T>(
    conn: &Connection,
    read: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    if !conn.is_autocommit() {
        return read();
    }
    execute_cached(conn, "BEGIN")?;
    let result = read();
    // A read transaction has nothing to keep or undo: either ending releases the snapshot.
    let end = execute_cached(conn, if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
    let value = result?;
    end?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn reads_in_a_snapshot_do_not_see_later_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let reader = Connection::open(&path).unwrap();
        reader
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let writer = Connection::open(&path).unwrap();

        let (before, after) = in_snapshot(&reader, || {
            let before = count(&reader);
            writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
            // A nested snapshot is the same transaction.
            let after = in_snapshot(&reader, || Ok(count(&reader)))?;
            Ok((before, after))
        })
        .unwrap();
        assert_eq!((before, after), (1, 1));
        assert!(reader.is_autocommit(), "the snapshot ended");
        assert_eq!(count(&reader), 2, "a new read sees the commit");
    }

    #[test]
    fn a_failed_read_ends_its_snapshot_too() {
        let conn = Connection::open_in_memory().unwrap();
        let result: Result<(), _> = in_snapshot(&conn, || Err(StorageError::Internal("no".into())));
        assert!(result.is_err());
        assert!(conn.is_autocommit());
    }
}
