//! Storage: every SQL statement kontak runs lives below this module, as plain sync
//! functions over a `rusqlite::Connection`. The async side reaches them only through
//! [`Db::read`] and [`Db::write`], which run them on actix's blocking thread pool.

mod checkpointer;
mod connection;
mod contact_creates;
mod contact_json;
pub mod contact_list;
pub mod contact_updates;
pub mod contacts;
mod deep_pages;
mod email_domains;
mod error;
pub mod export;
pub mod idempotency;
pub mod import;
pub mod keys;
mod list_order;
pub mod maintenance;
mod name_pages;
pub mod schema;
pub mod search_queue;
mod search_tokens;
mod snapshot;
mod space_spans;
mod tag_filter;
pub mod tags;
pub mod trigrams;
pub mod workspaces;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use connection::open_connection;
pub use error::StorageError;
pub use snapshot::in_snapshot;
use trigrams::TrigramCounts;
pub use workspaces::WorkspaceId;
use writer::Writer;

use crate::domain::{Contact, NewContact};

/// Page cache of each read connection, in KiB (SQLite's default is 2,000). A search
/// reads each candidate's entry in `contacts_search_rows` and its trigrams' row lists:
/// a name search at a million contacts touched more pages than the default holds, so
/// every call read them again from the OS (a third of its time, in pread). 4 MiB holds
/// them; with 8 connections that is at most 32 MiB, and only once used. 64 MiB each
/// made the email-domain search (8,669 matches) answer 244–264 requests/s against
/// 183–191, but left the server at 166–172 MiB of RSS after a broad search, past the
/// 150 MiB target, and slowed that search by a tenth (bench/ANALYSIS.md).
const READER_CACHE_KIB: i64 = 4096;

/// How long a request waits for a pooled connection before it is told to retry (503).
const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// The database as the server sees it: a pool of read-only connections, and one writer.
///
/// SQLite admits one writer at a time. Funnelling this process's writes through one
/// writer thread means they queue here, in order, instead of contending for the file
/// lock and surfacing `SQLITE_BUSY`, and lets one commit carry many of them (see
/// [`writer`]); `busy_timeout` covers writers in other processes (the CLI).
#[derive(Clone)]
pub struct Db {
    path: PathBuf,
    busy_timeout: Duration,
    readers: Pool<SqliteConnectionManager>,
    writer: Writer,
    trigram_counts: Arc<TrigramCounts>,
}

impl Db {
    /// Opens (creating if needed) the database file, brings its schema up to date and
    /// builds the pools.
    /// `read_mmap_mib` is each read connection's `mmap_size`, in MiB.
    pub fn open(
        path: &Path,
        readers: u32,
        busy_timeout: Duration,
        read_mmap_mib: u64,
    ) -> Result<Self, StorageError> {
        let mut write_conn = open_connection(path, busy_timeout)?;
        schema::migrate(&mut write_conn)?;

        let reader_manager = SqliteConnectionManager::file(path).with_init(move |conn| {
            connection::configure(conn, busy_timeout)?;
            conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
            if read_mmap_mib > 0 {
                let bytes =
                    i64::try_from(read_mmap_mib.saturating_mul(1 << 20)).unwrap_or(i64::MAX);
                conn.pragma_update(None, "mmap_size", bytes)?;
            }
            // A reader that tries to write is a bug; make it fail loudly.
            conn.pragma_update(None, "query_only", true)
        });
        Ok(Self {
            path: path.to_path_buf(),
            busy_timeout,
            writer: Writer::start(write_conn, open_connection(path, busy_timeout)?),
            trigram_counts: Arc::default(),
            readers: Pool::builder()
                .max_size(readers)
                .min_idle(Some(1))
                // r2d2 checks each connection as it is handed out, and r2d2_sqlite's
                // check parses and runs `SELECT 1`: 4% of the server's CPU on a first
                // page. A connection to a local file does not go stale the way a
                // network connection does; a broken one fails its own statement.
                .test_on_check_out(false)
                .connection_timeout(POOL_CHECKOUT_TIMEOUT)
                .build(reader_manager)?,
        })
    }

    /// Runs `job` on a read-only connection, off the async executor.
    pub async fn read<T, F>(&self, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = self.readers.clone();
        web::block(move || job(&*pool.get()?))
            .await
            .map_err(|err| StorageError::Internal(err.to_string()))?
    }

    /// What searches of this database have learnt about its trigram index.
    pub fn trigram_counts(&self) -> Arc<TrigramCounts> {
        Arc::clone(&self.trigram_counts)
    }

    /// How many read connections are open and idle.
    pub fn read_pool_state(&self) -> r2d2::State {
        self.readers.state()
    }

    /// The bytes on disk: the database file and its write-ahead log.
    pub fn file_bytes(&self) -> u64 {
        let size = |suffix: &str| {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            std::fs::metadata(path).map_or(0, |m| m.len())
        };
        size("") + size("-wal")
    }

    /// Applies the queued search changes, then folds the WAL into the database file, on
    /// a connection of its own: a checkpoint cannot run inside the writer's transactions.
    pub async fn checkpoint_wal(&self) -> Result<(), StorageError> {
        self.write(|conn| search_queue::apply_search_queue(conn))
            .await?;
        let (path, busy_timeout) = (self.path.clone(), self.busy_timeout);
        web::block(move || maintenance::checkpoint_wal(&open_connection(&path, busy_timeout)?))
            .await
            .map_err(|err| StorageError::Internal(err.to_string()))?
    }

    /// Runs `job` on the writer thread, inside a transaction it may share with other
    /// writes, and returns once that transaction has committed. `job` must not open a
    /// transaction of its own; savepoints are fine.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        self.writer.write(job).await
    }

    /// Creates `contact` in `workspace` if the key `key_id` is live (`None` if not),
    /// and returns once it has committed. Creates that queue on the writer together
    /// are written together (see [`contact_creates`]); each gets its own answer.
    pub async fn create_contact(
        &self,
        key_id: String,
        workspace: WorkspaceId,
        contact: NewContact,
    ) -> Result<Option<Contact>, StorageError> {
        self.writer.create(key_id, workspace, contact).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `mmap_size` a read connection of a database opened with `read_mmap_mib` has.
    async fn reader_mmap_bytes(read_mmap_mib: u64) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kontak.db");
        let db = Db::open(&path, 1, Duration::from_secs(5), read_mmap_mib).unwrap();
        db.read(|conn| Ok(conn.query_row("PRAGMA mmap_size", [], |row| row.get(0))?))
            .await
            .unwrap()
    }

    #[actix_web::test]
    async fn read_connections_map_as_much_of_the_file_as_configured() {
        assert_eq!(reader_mmap_bytes(0).await, 0, "nothing mapped by default");
        assert_eq!(reader_mmap_bytes(64).await, 64 << 20);
    }
}
