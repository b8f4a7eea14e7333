//! Storage: every SQL statement kontak runs lives below this module, as plain sync
//! functions over a `rusqlite::Connection`. The async side reaches them only through
//! [`Db::read`] and [`Db::write`], which run them on actix's blocking thread pool.

mod connection;
pub mod contacts;
mod error;
pub mod export;
pub mod import;
pub mod keys;
pub mod schema;
mod tags;
pub mod workspaces;

use std::path::Path;
use std::time::Duration;

use actix_web::web;
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use connection::open_connection;
pub use error::StorageError;
pub use workspaces::WorkspaceId;

/// How long a request waits for a pooled connection before it is told to retry (503).
const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// The database as the server sees it: a pool of read-only connections, and one writer.
///
/// SQLite admits one writer at a time. Funnelling this process's writes through a pool
/// of one means they queue here, in order, instead of contending for the file lock and
/// surfacing `SQLITE_BUSY`; `busy_timeout` covers writers in other processes (the CLI).
#[derive(Clone)]
pub struct Db {
    readers: Pool<SqliteConnectionManager>,
    writer: Pool<SqliteConnectionManager>,
}

impl Db {
    /// Opens (creating if needed) the database file, brings its schema up to date and
    /// builds the pools.
    pub fn open(path: &Path, readers: u32, busy_timeout: Duration) -> Result<Self, StorageError> {
        let mut setup = open_connection(path, busy_timeout)?;
        schema::migrate(&mut setup)?;
        drop(setup);

        let writer_manager = SqliteConnectionManager::file(path)
            .with_init(move |conn| connection::configure(conn, busy_timeout));
        let reader_manager = SqliteConnectionManager::file(path).with_init(move |conn| {
            connection::configure(conn, busy_timeout)?;
            // A reader that tries to write is a bug; make it fail loudly.
            conn.pragma_update(None, "query_only", true)
        });
        Ok(Self {
            writer: Pool::builder()
                .max_size(1)
                .connection_timeout(POOL_CHECKOUT_TIMEOUT)
                .build(writer_manager)?,
            readers: Pool::builder()
                .max_size(readers)
                .min_idle(Some(1))
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

    /// Runs `job` on the single writer connection, off the async executor.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let pool = self.writer.clone();
        web::block(move || job(&mut *pool.get()?))
            .await
            .map_err(|err| StorageError::Internal(err.to_string()))?
    }
}
