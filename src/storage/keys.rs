//! API key rows. Only the argon2id hash of a key's secret is ever written.

use rusqlite::{params, Connection, OptionalExtension};

use super::{StorageError, WorkspaceId};
use crate::domain::{Timestamp, WorkspaceName};

/// What a request needs to know about the key it presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub secret_hash: String,
    pub scopes: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A key as `kontak key list` shows it: everything but the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListing {
    pub id: String,
    pub workspace: String,
    pub scopes: String,
    pub label: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The fields of a key to insert; the secret is already hashed.
pub struct NewKey<'a> {
    pub id: &'a str,
    pub workspace_id: WorkspaceId,
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub label: Option<&'a str>,
}

pub fn insert_key(conn: &Connection, key: &NewKey<'_>, now: Timestamp) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO api_keys (id, workspace_id, secret_hash, scopes, label, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.id,
            key.workspace_id.0,
            key.secret_hash,
            key.scopes,
            key.label,
            now.to_string()
        ],
    )?;
    Ok(())
}

/// Whether the key exists and is not revoked: what every authenticated request
/// confirms in its own storage call. One primary-key lookup.
pub fn key_is_live(conn: &Connection, id: &str) -> Result<bool, StorageError> {
    let live = conn
        .prepare_cached("SELECT revoked_at IS NULL FROM api_keys WHERE id = ?1")?
        .query_row(params![id], |row| row.get::<_, bool>(0))
        .optional()?;
    Ok(live.unwrap_or(false))
}

/// The key with this public id, revoked or not: read when a key is first presented
/// to this process, before argon2 checks its secret.
pub fn find_key_by_id(conn: &Connection, id: &str) -> Result<Option<KeyRow>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, workspace_id, secret_hash, scopes, last_used_at, revoked_at IS NOT NULL
           FROM api_keys WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row(params![id], |row| {
            Ok(KeyRow {
                id: row.get(0)?,
                workspace_id: WorkspaceId(row.get(1)?),
                secret_hash: row.get(2)?,
                scopes: row.get(3)?,
                last_used_at: row.get(4)?,
                revoked: row.get(5)?,
            })
        })
        .optional()?)
}

/// Records that the key was used. Callers rate-limit this to about once a minute.
pub fn touch_key(conn: &Connection, id: &str, now: Timestamp) -> Result<(), StorageError> {
    conn.execute(
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
        params![id, now.to_string()],
    )?;
    Ok(())
}

pub fn count_keys(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row("SELECT count(*) FROM api_keys", [], |row| row.get(0))?)
}

/// All keys, or those of one workspace, oldest first.
pub fn list_keys(
    conn: &Connection,
    workspace: Option<&WorkspaceName>,
) -> Result<Vec<KeyListing>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT k.id, w.name, k.scopes, k.label, k.created_at, k.last_used_at, k.revoked_at
           FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
          WHERE ?1 IS NULL OR w.name = ?1
          ORDER BY k.created_at, k.rowid",
    )?;
    let rows = stmt.query_map(params![workspace.map(WorkspaceName::as_str)], |row| {
        Ok(KeyListing {
            id: row.get(0)?,
            workspace: row.get(1)?,
            scopes: row.get(2)?,
            label: row.get(3)?,
            created_at: row.get(4)?,
            last_used_at: row.get(5)?,
            revoked_at: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What `revoke_key` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
}

pub fn revoke_key(
    conn: &Connection,
    id: &str,
    now: Timestamp,
) -> Result<RevokeOutcome, StorageError> {
    let changed = conn.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now.to_string()],
    )?;
    if changed == 1 {
        return Ok(RevokeOutcome::Revoked);
    }
    let exists = conn
        .query_row("SELECT 1 FROM api_keys WHERE id = ?1", params![id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    Ok(if exists {
        RevokeOutcome::AlreadyRevoked
    } else {
        RevokeOutcome::NotFound
    })
}
