//! Per-connection settings, in one place for the pools and the CLI alike.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StorageError;

/// Prepared statements each connection keeps.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// Opens one connection with kontak's settings, creating the file if it does not exist.
pub fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn, busy_timeout)?;
    Ok(conn)
}

/// Applied to every connection as it opens.
pub(super) fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    // Another process (the CLI, a second server) may hold the write lock for a moment;
    // wait for it rather than failing with SQLITE_BUSY.
    conn.busy_timeout(busy_timeout)?;
    // WAL lets readers run while one writer commits. It is a property of the file,
    // so this is a no-op after the first connection, but cheap and self-healing.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    // In WAL mode NORMAL still never corrupts and never loses a commit to a process
    // crash; only a power cut can roll back the last commits. FULL would fsync on
    // every commit for that last guarantee.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // SQLite leaves foreign keys off by default, per connection.
    conn.pragma_update(None, "foreign_keys", true)?;
    // rusqlite keeps 16 prepared statements by default. A create alone runs a dozen on
    // the writer (its savepoints among them), and the list shapes each have their own
    // text on the readers: past the cache, statements are parsed again.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // temp_store stays the default, on purpose. Every write that fires triggers, and
    // every savepoint, keeps the original of each page it changes in a statement
    // journal. kontak's SQLite build (STMTJRNL_SPILL in .cargo/config.toml) holds that
    // journal in memory as one block of 16 MiB, allocated once per statement, and
    // writes it to a temporary file only past that. SQLite's default of 64 KiB sent
    // most writes' journals to a file (41% of an import's time in pwrite); with
    // temp_store=MEMORY, which the writer and the import used instead, the journal grew
    // in 1 KiB blocks, each malloc'd and freed (15% of a million-contact import's
    // writer). One block, alternated with 1 KiB blocks: a million imported in 60.6 /
    // 70.0 s against 85.4 / 81.3 s; the server's writer thread 87 µs of CPU per create
    // against 90 (medians of 8 rounds of creates).
    Ok(())
}

/// Runs `write` in a savepoint of its own: kept if it succeeds, undone if it fails, so
/// that a write failing halfway leaves nothing behind, inside a transaction or not.
///
/// Not rusqlite's `Savepoint`, which has SQLite parse its statements afresh every time:
/// a create passes through two savepoints (the writer's and its own), and parsing their
/// statements was 2.6% of its instructions. These come from the statement cache.
pub(super) fn in_savepoint<T>(
    conn: &Connection,
    write: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    execute_cached(conn, "SAVEPOINT write")?;
    let result = write();
    if result.is_err() {
        execute_cached(conn, "ROLLBACK TO write")?;
    }
    execute_cached(conn, "RELEASE write")?;
    result
}

/// Runs a statement without parameters from the connection's statement cache. For the
/// transaction and savepoint statements that run on every read or write: `execute_batch`
/// and rusqlite's transactions would have SQLite parse them afresh each time.
pub(super) fn execute_cached(conn: &Connection, sql: &str) -> Result<(), StorageError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn statement_journals_stay_in_memory_in_one_block_of_16_mib() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("k.db"), Duration::from_secs(1)).unwrap();
        let temp_store: i64 = conn
            .query_row("PRAGMA temp_store", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            temp_store, 0,
            "the default, which the spill size applies to"
        );
        // Without the build flag every write's journal would go to a temporary file past
        // 64 KiB (a LIBSQLITE3_FLAGS in the environment replaces the one in
        // .cargo/config.toml).
        let spill: Vec<String> = conn
            .prepare(
                "SELECT compile_options FROM pragma_compile_options
                  WHERE compile_options LIKE 'STMTJRNL_SPILL=%'",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(spill, ["STMTJRNL_SPILL=16777216"]);
    }

    #[test]
    fn a_failed_write_is_undone_and_a_good_one_kept_within_one_transaction() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER); BEGIN")
            .unwrap();
        in_savepoint(&conn, || Ok(conn.execute("INSERT INTO t VALUES (1)", [])?)).unwrap();
        let failed: Result<(), StorageError> = in_savepoint(&conn, || {
            conn.execute("INSERT INTO t VALUES (2)", [])?;
            // A nested write that succeeded is undone with the one around it.
            in_savepoint(&conn, || Ok(conn.execute("INSERT INTO t VALUES (3)", [])?))?;
            Err(StorageError::NotFound)
        });
        assert!(matches!(failed, Err(StorageError::NotFound)));
        in_savepoint(&conn, || Ok(conn.execute("INSERT INTO t VALUES (4)", [])?)).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&conn), [1, 4]);
    }

    #[test]
    fn outside_a_transaction_a_write_commits_or_leaves_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let failed: Result<(), StorageError> = in_savepoint(&conn, || {
            conn.execute("INSERT INTO t VALUES (1)", [])?;
            Err(StorageError::NotFound)
        });
        assert!(failed.is_err());
        assert!(conn.is_autocommit(), "the savepoint was left open");
        in_savepoint(&conn, || Ok(conn.execute("INSERT INTO t VALUES (2)", [])?)).unwrap();
        assert!(conn.is_autocommit());
        assert_eq!(rows(&conn), [2]);
    }
}
