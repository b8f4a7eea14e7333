//! Workspace-level tags and their links to contacts.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::{StorageError, WorkspaceId};
use crate::domain::{Tag, Tags, Timestamp};

/// The tags of the contact `c` (a row of `contacts c`) as one column: a JSON array of
/// `[position, name]` pairs in no particular order. Read it with [`tags_from_column`].
/// A macro, so that queries can `concat!` it into their text.
///
/// Not `json_group_array(t.name ORDER BY ct.position)`: an aggregate with an ORDER BY
/// builds and drops a temporary b-tree each time it is evaluated, so once for every
/// contact read, which made it the largest single cost of reading a page of contacts.
macro_rules! tags_column {
    () => {
        "(SELECT json_group_array(json_array(ct.position, t.name))
            FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
           WHERE ct.contact_seq = c.seq)"
    };
}
pub(super) use tags_column;

/// The tag names from a [`tags_column!`], in the order the client gave them.
pub(super) fn tags_from_column(column: &str) -> Result<Vec<String>, StorageError> {
    let mut tags: Vec<(i64, String)> = serde_json::from_str(column)
        .map_err(|err| StorageError::Internal(format!("stored tags: {err}")))?;
    tags.sort_unstable_by_key(|(position, _)| *position);
    Ok(tags.into_iter().map(|(_, name)| name).collect())
}

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
    let mut names = Vec::with_capacity(tags.len());
    for (position, tag) in tags.iter().enumerate() {
        let (tag_id, name) = find_or_create_tag(tx, workspace, tag, now)?;
        link_tag(tx, contact_seq, tag_id, position)?;
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

/// Every tag of the workspace with how many contacts carry it (its kept count), by
/// case-folded name.
pub fn list_tags(
    conn: &Connection,
    workspace: WorkspaceId,
) -> Result<Vec<TagSummary>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name, t.contacts, t.created_at
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

/// Tag ids already resolved for one workspace, so that a bulk import links a million
/// contacts to a handful of tags without looking each tag up a million times. Tags are
/// never deleted or renamed, so a remembered id stays right for as long as the
/// transactions that resolved it committed.
pub(super) struct KnownTags {
    workspace: WorkspaceId,
    ids: HashMap<String, i64>,
}

impl KnownTags {
    pub(super) fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            ids: HashMap::new(),
        }
    }

    /// What [`attach_tags`] does, but each tag's id is looked up once per import.
    pub(super) fn attach(
        &mut self,
        tx: &Connection,
        contact_seq: i64,
        tags: &Tags,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        for (position, tag) in tags.iter().enumerate() {
            let tag_id = match self.ids.get(tag.key()) {
                Some(id) => *id,
                None => {
                    let (id, _) = find_or_create_tag(tx, self.workspace, tag, now)?;
                    self.ids.insert(tag.key().to_owned(), id);
                    id
                }
            };
            link_tag(tx, contact_seq, tag_id, position)?;
        }
        Ok(())
    }
}

/// The tag's id and the workspace's spelling of it, creating it on first use.
fn find_or_create_tag(
    tx: &Connection,
    workspace: WorkspaceId,
    tag: &Tag,
    now: Timestamp,
) -> Result<(i64, String), StorageError> {
    tx.prepare_cached(
        "INSERT INTO tags (workspace_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workspace_id, name_key) DO NOTHING",
    )?
    .execute(params![workspace.0, tag.name(), tag.key(), now.to_string()])?;
    Ok(tx
        .prepare_cached("SELECT id, name FROM tags WHERE workspace_id = ?1 AND name_key = ?2")?
        .query_row(params![workspace.0, tag.key()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?)
}

fn link_tag(
    tx: &Connection,
    contact_seq: i64,
    tag_id: i64,
    position: usize,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![contact_seq, tag_id, position as i64])?;
    Ok(())
}
