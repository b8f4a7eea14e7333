//! Workspace-level tags and their links to contacts.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::{StorageError, WorkspaceId};
use crate::domain::{Tag, Tags, Timestamp};

/// A contact's tag names as its `tag_names` column keeps them: a JSON array, in the
/// order the client gave them, each as the workspace spells it.
///
/// The names are kept on the contact's row, besides its links in `contact_tags` (which
/// filters and counts use), because every contact read shows them: gathering them from
/// the links cost a subquery per contact, about a third of the time of reading a page.
/// Tags are never renamed, so the copy stays exact.
pub(super) fn tag_names_column(names: &[String]) -> String {
    serde_json::to_string(names).expect("a list of strings always serializes")
}

/// The tag names from a `tag_names` column.
pub(super) fn tag_names_from_column(column: &str) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(column)
        .map_err(|err| StorageError::Internal(format!("stored tags: {err}")))
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

/// A workspace's tags as one writer has seen them, by case-folded name: their ids and
/// spellings. A bulk import keeps one for the whole import, so a million contacts are
/// linked to a handful of tags without looking each tag up a million times; a single
/// write uses a fresh one. Tags are never deleted or renamed, so a remembered tag stays
/// right for as long as the transactions that resolved it committed.
pub(super) struct KnownTags {
    workspace: WorkspaceId,
    tags: HashMap<String, (i64, String)>,
}

impl KnownTags {
    pub(super) fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            tags: HashMap::new(),
        }
    }

    /// Each tag's name as the contact will show it: the workspace's spelling of a tag it
    /// has (a tag keeps the spelling of its first use, whatever case a later contact
    /// uses), the client's of one it does not have yet. Only reads, so a contact that
    /// turns out to be a duplicate creates no tag.
    pub(super) fn names(
        &mut self,
        tx: &Connection,
        tags: &Tags,
    ) -> Result<Vec<String>, StorageError> {
        let mut names = Vec::with_capacity(tags.len());
        for tag in tags.iter() {
            let name = match self.known(tx, tag)? {
                Some((_, name)) => name.clone(),
                None => tag.name().to_owned(),
            };
            names.push(name);
        }
        Ok(names)
    }

    /// Links the contact at `contact_seq` to `tags`, creating any tag the workspace
    /// does not have yet.
    pub(super) fn attach(
        &mut self,
        tx: &Connection,
        contact_seq: i64,
        tags: &Tags,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        for (position, tag) in tags.iter().enumerate() {
            let tag_id = match self.known(tx, tag)? {
                Some((id, _)) => *id,
                None => {
                    let id = create_tag(tx, self.workspace, tag, now)?;
                    let created = (id, tag.name().to_owned());
                    self.tags.insert(tag.key().to_owned(), created);
                    id
                }
            };
            link_tag(tx, contact_seq, tag_id, position)?;
        }
        Ok(())
    }

    /// The workspace's tag with this key, looked up once and then remembered.
    fn known(
        &mut self,
        tx: &Connection,
        tag: &Tag,
    ) -> Result<Option<&(i64, String)>, StorageError> {
        if !self.tags.contains_key(tag.key()) {
            let found = tx
                .prepare_cached(
                    "SELECT id, name FROM tags WHERE workspace_id = ?1 AND name_key = ?2",
                )?
                .query_row(params![self.workspace.0, tag.key()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let Some(found) = found else {
                return Ok(None);
            };
            self.tags.insert(tag.key().to_owned(), found);
        }
        Ok(self.tags.get(tag.key()))
    }
}

/// Creates the tag, which [`KnownTags::known`] just found missing within the same
/// write transaction, and returns its id.
fn create_tag(
    tx: &Connection,
    workspace: WorkspaceId,
    tag: &Tag,
    now: Timestamp,
) -> Result<i64, StorageError> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO tags (workspace_id, name, name_key, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )?
        .query_row(
            params![workspace.0, tag.name(), tag.key(), now.to_string()],
            |row| row.get(0),
        )?)
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
