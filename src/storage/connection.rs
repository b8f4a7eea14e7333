//! Per-connection settings, in one place for the pools and the CLI alike.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StorageError;

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
    Ok(())
}

/// For the writer, which gives every queued write a savepoint of its own. A savepoint
/// keeps the original of each page it changes in a statement journal, and SQLite
/// moves that journal to a temporary file once it passes 64 KiB: with group commit
/// that was a file written (and created and unlinked) on most writes, a sixth of the
/// writer's time under concurrent creates. In memory it is bounded by the pages one
/// write touches. Only the writer: on the readers this would also keep large sorts in
/// memory.
pub(super) fn keep_savepoints_in_memory(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "temp_store", "MEMORY")
}
