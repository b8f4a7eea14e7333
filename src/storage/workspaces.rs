//! Workspaces: the tenants. Every contact, tag and key belongs to exactly one.

use rusqlite::{params, Connection, OptionalExtension};

use super::StorageError;
use crate::domain::{Timestamp, WorkspaceName};

/// The row id of a workspace. Every query on tenant data takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkspaceId(pub i64);

/// A workspace as `kontak workspace list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSummary {
    pub name: String,
    pub created_at: String,
    pub active_keys: i64,
    pub contacts: i64,
}

/// The workspace's id, creating the workspace if it does not exist yet.
pub fn ensure_workspace(
    conn: &Connection,
    name: &WorkspaceName,
    now: Timestamp,
) -> Result<WorkspaceId, StorageError> {
    conn.execute(
        "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name.as_str(), now.to_string()],
    )?;
    find_workspace(conn, name)?
        .ok_or_else(|| StorageError::Internal("workspace vanished after insert".into()))
}

pub fn find_workspace(
    conn: &Connection,
    name: &WorkspaceName,
) -> Result<Option<WorkspaceId>, StorageError> {
    Ok(conn
        .query_row(
            "SELECT id FROM workspaces WHERE name = ?1",
            params![name.as_str()],
            |row| row.get(0).map(WorkspaceId),
        )
        .optional()?)
}

/// How many contacts the workspace holds, as `workspace_stats` keeps it (schema.sql):
/// one row read, never a count.
pub(super) fn kept_contact_count(
    conn: &Connection,
    workspace: WorkspaceId,
) -> Result<u64, StorageError> {
    let kept: Option<i64> = conn
        .prepare_cached("SELECT contacts FROM workspace_stats WHERE workspace_id = ?1")?
        .query_row([workspace.0], |row| row.get(0))
        .optional()?;
    Ok(kept.unwrap_or(0).max(0) as u64)
}

pub fn list_workspaces(conn: &Connection) -> Result<Vec<WorkspaceSummary>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT w.name, w.created_at,
                (SELECT count(*) FROM api_keys k WHERE k.workspace_id = w.id AND k.revoked_at IS NULL),
                (SELECT count(*) FROM contacts c WHERE c.workspace_id = w.id)
           FROM workspaces w
          ORDER BY w.name",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(WorkspaceSummary {
            name: row.get(0)?,
            created_at: row.get(1)?,
            active_keys: row.get(2)?,
            contacts: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An in-memory database with the schema and one workspace, `acme`: the start of
/// the storage unit tests that need a workspace to write in.
#[cfg(test)]
pub(crate) fn test_database() -> (rusqlite::Connection, WorkspaceId) {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    super::schema::migrate(&mut conn).unwrap();
    let acme = crate::domain::WorkspaceName::parse("acme").unwrap();
    let ws = ensure_workspace(&conn, &acme, crate::domain::Timestamp::now()).unwrap();
    (conn, ws)
}
