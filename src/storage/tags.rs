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

/// A workspace's tags as one writer has seen them, by case-folded name: each tag's id
/// (`None` while it is yet to be created) and spelling. A bulk import keeps one for the
/// whole import, so a million contacts are linked to a handful of tags without looking
/// each tag up a million times; a single write uses a fresh one. Tags are never deleted
/// or renamed, so a remembered tag stays right for as long as the transactions that
/// resolved it committed.
pub(super) struct KnownTags {
    workspace: WorkspaceId,
    tags: HashMap<String, (Option<i64>, String)>,
}

impl KnownTags {
    pub(super) fn new(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            tags: HashMap::new(),
        }
    }

    /// Forgets the tags remembered as yet to be created. Call it at the start of each
    /// write transaction: another writer may have created them meanwhile, spelt its way.
    pub(super) fn forget_uncreated(&mut self) {
        self.tags.retain(|_, (id, _)| id.is_some());
    }

    /// Each tag's name as the contact will show it: the workspace's spelling of a tag it
    /// has (a tag keeps the spelling of its first use, whatever case a later contact
    /// uses), else the spelling this writer first saw, which [`Self::ids`] creates it
    /// with. Only reads, so a contact that turns out to be a duplicate creates no tag.
    pub(super) fn names(
        &mut self,
        tx: &Connection,
        tags: &Tags,
    ) -> Result<Vec<String>, StorageError> {
        let mut names = Vec::with_capacity(tags.len());
        for tag in tags.iter() {
            names.push(self.entry(tx, tag)?.1.clone());
        }
        Ok(names)
    }

    /// Each tag's id, creating the ones the workspace does not have yet with the
    /// spelling [`Self::names`] gave them.
    fn ids(
        &mut self,
        tx: &Connection,
        tags: &Tags,
        now: Timestamp,
    ) -> Result<Vec<i64>, StorageError> {
        let workspace = self.workspace;
        let mut ids = Vec::with_capacity(tags.len());
        for tag in tags.iter() {
            let (id, name) = self.entry(tx, tag)?;
            let id = match id {
                Some(id) => *id,
                None => *id.insert(create_tag(tx, workspace, name, tag.key(), now)?),
            };
            ids.push(id);
        }
        Ok(ids)
    }

    /// The links of the contact at `contact_seq` to `tags`, in the client's order,
    /// creating any tag the workspace does not have yet. [`Self::attach`] writes them
    /// for one contact; a bulk import gathers a chunk's for [`link_tags`].
    pub(super) fn links(
        &mut self,
        tx: &Connection,
        contact_seq: i64,
        tags: &Tags,
        now: Timestamp,
    ) -> Result<Vec<TagLink>, StorageError> {
        Ok(self
            .ids(tx, tags, now)?
            .into_iter()
            .enumerate()
            .map(|(position, tag_id)| (contact_seq, tag_id, position))
            .collect())
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
        for (contact_seq, tag_id, position) in self.links(tx, contact_seq, tags, now)? {
            tx.prepare_cached(
                "INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![contact_seq, tag_id, position as i64])?;
        }
        Ok(())
    }

    /// The workspace's tag with this key, looked up once and then remembered; one it
    /// does not have is remembered as yet to be created, spelt as here.
    fn entry(
        &mut self,
        tx: &Connection,
        tag: &Tag,
    ) -> Result<&mut (Option<i64>, String), StorageError> {
        if !self.tags.contains_key(tag.key()) {
            let stored: Option<(i64, String)> = tx
                .prepare_cached(
                    "SELECT id, name FROM tags WHERE workspace_id = ?1 AND name_key = ?2",
                )?
                .query_row(params![self.workspace.0, tag.key()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let entry = match stored {
                Some((id, name)) => (Some(id), name),
                None => (None, tag.name().to_owned()),
            };
            self.tags.insert(tag.key().to_owned(), entry);
        }
        Ok(self
            .tags
            .get_mut(tag.key())
            .expect("the entry was just made"))
    }
}

/// A contact's link to a tag: (contact seq, tag id, position in the contact's list).
pub(super) type TagLink = (i64, i64, usize);

/// Writes `links` in one statement, whatever their number: new contacts are linked a
/// chunk or a batch of creates at once (see [`insert_contact_rows`](super::contacts)
/// for why statements are few). [`KnownTags::attach`] writes the few links of one
/// contact whose tags change, a statement each.
pub(super) fn link_tags(tx: &Connection, links: &[TagLink]) -> Result<(), StorageError> {
    if links.is_empty() {
        return Ok(());
    }
    let links = serde_json::to_string(links)
        .map_err(|err| StorageError::Internal(format!("tag links: {err}")))?;
    tx.prepare_cached(
        "INSERT INTO contact_tags (contact_seq, tag_id, position)
         SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)",
    )?
    .execute(params![links])?;
    Ok(())
}

/// Creates the tag, which [`KnownTags`] found missing within the same write
/// transaction, and returns its id.
fn create_tag(
    tx: &Connection,
    workspace: WorkspaceId,
    name: &str,
    key: &str,
    now: Timestamp,
) -> Result<i64, StorageError> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO tags (workspace_id, name, name_key, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )?
        .query_row(params![workspace.0, name, key, now.to_string()], |row| {
            row.get(0)
        })?)
}
