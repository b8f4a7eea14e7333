//! Workspace-level tags and their links to contacts.

use rusqlite::{params, Connection};

use super::{StorageError, WorkspaceId};
use crate::domain::{Tags, Timestamp};

/// Links the contact at `contact_seq` to `tags`, creating any tag the workspace does not
/// have yet. Returns the tags' names as the workspace spells them: a tag keeps the
/// spelling of its first use, whatever case a later contact uses.
pub(super) fn attach_tags(
    tx: &Connection,
    workspace: WorkspaceId,
    contact_seq: i64,
    tags: &Tags,
    now: Timestamp,
) -> Result<Vec<String>, StorageError> {
    let mut create = tx.prepare_cached(
        "INSERT INTO tags (workspace_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workspace_id, name_key) DO NOTHING",
    )?;
    let mut find =
        tx.prepare_cached("SELECT id, name FROM tags WHERE workspace_id = ?1 AND name_key = ?2")?;
    let mut link = tx.prepare_cached(
        "INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (?1, ?2, ?3)",
    )?;
    let now = now.to_string();
    let mut names = Vec::with_capacity(tags.len());
    for (position, tag) in tags.iter().enumerate() {
        create.execute(params![workspace.0, tag.name(), tag.key(), now])?;
        let (tag_id, name): (i64, String) = find
            .query_row(params![workspace.0, tag.key()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        link.execute(params![contact_seq, tag_id, position as i64])?;
        names.push(name);
    }
    Ok(names)
}

/// A workspace tag as `GET /v1/tags` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagSummary {
    pub name: String,
    pub contact_count: i64,
    pub created_at: String,
}

/// Every tag of the workspace with how many contacts carry it, by case-folded name.
pub fn list_tags(
    conn: &Connection,
    workspace: WorkspaceId,
) -> Result<Vec<TagSummary>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name, (SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = t.id), t.created_at
           FROM tags t WHERE t.workspace_id = ?1
          ORDER BY t.name_key",
    )?;
    let rows = stmt.query_map(params![workspace.0], |row| {
        Ok(TagSummary {
            name: row.get(0)?,
            contact_count: row.get(1)?,
            created_at: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
