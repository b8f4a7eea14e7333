//! Who is calling, and the only way a handler reaches that caller's workspace.
//!
//! A key whose secret this process has verified is taken from memory without touching
//! the database; whether it is still live (not revoked, not removed) is checked inside
//! the request's own storage call, on the same connection and in the same hand-off to
//! the blocking pool. A revoke made by any process still refuses the very next request,
//! and an authenticated request costs one trip off the async executor instead of two.
//! The workspace id is private to this type, so a handler cannot read or write a
//! workspace without that check.

use rusqlite::Connection;

use super::Scopes;
use crate::domain::{Contact, NewContact};
use crate::error::ApiError;
use crate::storage::keys::key_is_live;
use crate::storage::{in_snapshot, Db, StorageError, WorkspaceId};

#[derive(Debug, Clone)]
pub struct Identity {
    pub key_id: String,
    pub scopes: Scopes,
    workspace_id: WorkspaceId,
}

impl Identity {
    pub(super) fn new(key_id: String, workspace_id: WorkspaceId, scopes: Scopes) -> Self {
        Self {
            key_id,
            scopes,
            workspace_id,
        }
    }

    /// Runs `job` on a read-only connection for the caller's workspace, once the key
    /// is confirmed live on that connection; a key revoked meanwhile gets 401.
    pub async fn read<T, F>(&self, db: &Db, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, WorkspaceId) -> Result<T, StorageError> + Send + 'static,
    {
        let (key_id, workspace) = (self.key_id.clone(), self.workspace_id);
        // One snapshot for the check and the job: one read transaction, not two.
        db.read(move |conn| {
            in_snapshot(conn, || {
                if !key_is_live(conn, &key_id)? {
                    return Ok(None);
                }
                job(conn, workspace).map(Some)
            })
        })
        .await?
        .ok_or(ApiError::InvalidKey)
    }

    /// As [`Identity::read`], for a write: the check runs on the writer, inside the
    /// transaction the write commits in.
    pub async fn write<T, F>(&self, db: &Db, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, WorkspaceId) -> Result<T, StorageError> + Send + 'static,
    {
        let (key_id, workspace) = (self.key_id.clone(), self.workspace_id);
        db.write(move |conn| {
            if !key_is_live(conn, &key_id)? {
                return Ok(None);
            }
            job(conn, workspace).map(Some)
        })
        .await?
        .ok_or(ApiError::InvalidKey)
    }

    /// Creates a contact in the caller's workspace. As with [`Identity::write`], the key
    /// is confirmed live inside the transaction the contact commits in.
    pub async fn create_contact(&self, db: &Db, contact: NewContact) -> Result<Contact, ApiError> {
        db.create_contact(self.key_id.clone(), self.workspace_id, contact)
            .await?
            .ok_or(ApiError::InvalidKey)
    }
}
