//! What can go wrong below the storage line, classified for the HTTP edge.

use rusqlite::ErrorCode;
use uuid::Uuid;

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The workspace already has a contact with this phone number.
    #[error("a contact with this phone number already exists ({existing_id})")]
    DuplicatePhone { existing_id: Uuid },
    /// No such row in this workspace.
    #[error("not found")]
    NotFound,
    /// The row's version is not the one the client's If-Match named.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A change that is only invalid in the light of what is stored (a merge that
    /// grows custom fields past their bound).
    #[error("{0}")]
    Invalid(FieldError),
    /// The database stayed locked longer than `busy_timeout`, or no pooled connection
    /// was free in time. The request may be retried.
    #[error("database busy: {0}")]
    Busy(String),
    /// The database cannot be written: a read-only file, a full disk, or the file
    /// system refusing the write.
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
            // An I/O error is the file system refusing (EPERM, EIO), not a bug in
            // kontak: the client may retry once the operator has fixed the disk.
            Some(
                ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure,
            ) => Self::ReadOnly(err.to_string()),
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

impl StorageError {
    /// The same failure, for each caller whose write shared the failed transaction.
    pub(super) fn for_each_caller(&self) -> Self {
        match self {
            Self::DuplicatePhone { existing_id } => Self::DuplicatePhone {
                existing_id: *existing_id,
            },
            Self::NotFound => Self::NotFound,
            Self::PreconditionFailed => Self::PreconditionFailed,
            Self::Invalid(err) => Self::Invalid(err.clone()),
            Self::Busy(cause) => Self::Busy(cause.clone()),
            Self::ReadOnly(cause) => Self::ReadOnly(cause.clone()),
            Self::Schema(cause) => Self::Schema(cause.clone()),
            Self::Sqlite(err) => Self::Internal(err.to_string()),
            Self::Internal(cause) => Self::Internal(cause.clone()),
        }
    }
}

/// True when `err` is a violation of a UNIQUE constraint or index.
pub(super) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}
