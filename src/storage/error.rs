//! What can go wrong below the storage line, classified for the HTTP edge.

use rusqlite::ErrorCode;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The workspace already has a contact with this phone number.
    #[error("a contact with this phone number already exists ({existing_id})")]
    DuplicatePhone { existing_id: Uuid },
    /// The database stayed locked longer than `busy_timeout`, or no pooled connection
    /// was free in time. The request may be retried.
    #[error("database busy: {0}")]
    Busy(String),
    /// The database cannot be written: a read-only file or a full disk.
    #[error("database not writable: {0}")]
    ReadOnly(String),
    /// The file was written by a newer kontak, or its schema cannot be applied.
    #[error("{0}")]
    Schema(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Busy(err.to_string())
            }
            Some(ErrorCode::ReadOnly | ErrorCode::DiskFull | ErrorCode::CannotOpen) => {
                Self::ReadOnly(err.to_string())
            }
            _ => Self::Sqlite(err),
        }
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(err: r2d2::Error) -> Self {
        // r2d2 reports both "timed out waiting for a connection" and "could not open
        // one" this way; either way the caller may retry.
        Self::Busy(err.to_string())
    }
}
