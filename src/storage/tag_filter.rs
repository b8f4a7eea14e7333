//! Lists filtered by tags, found through `contact_tags_by_tag` rather than by testing
//! every contact of the workspace.
//!
//! Testing each contact for a tag read every contact: `tag=vip` took 4.8 s at a million
//! contacts. The tag's own entries in `contact_tags_by_tag` are its contacts in seq
//! order, so a filter by tags is driven from them: the first tag gives the candidates,
//! each further tag is one lookup of `contact_tags`' primary key per candidate. When
//! nothing else filters and the workspace's creation times follow its seq order
//! (`workspace_stats.created_in_seq_order` in schema.sql), a creation-time page is a run
//! of those entries, and a one-tag total is the tag's kept count.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};

use super::deep_pages::created_in_seq_order;
use super::{StorageError, WorkspaceId};
use crate::domain::{ListFilter, SortOrder};

/// The workspace's id for a tag key; NULL (so no link matches) when it has no such tag.
/// Binds the workspace and the key.
const TAG_ID: &str = "(SELECT t.id FROM tags t WHERE t.workspace_id = ? AND t.name_key = ?)";

/// The condition that `seq` is one of the tag's contacts, as the candidates a list
/// is driven from. Binds [`tag_values`].
pub(super) fn tag_members(seq: &str) -> String {
    format!("{seq} IN (SELECT ct.contact_seq FROM contact_tags ct WHERE ct.tag_id = {TAG_ID})")
}

/// The condition that the contact with this `seq` carries the tag: one primary-key
/// lookup. Binds [`tag_values`].
pub(super) fn has_tag(seq: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM contact_tags o WHERE o.contact_seq = {seq} AND o.tag_id = {TAG_ID})"
    )
}

pub(super) fn tag_values(workspace: WorkspaceId, key: &str) -> [SqlValue; 2] {
    [
        SqlValue::Integer(workspace.0),
        SqlValue::Text(key.to_owned()),
    ]
}

/// A page of a tag-filtered list as seqs straight from the tag's index entries, and the
/// list's total.
#[derive(Debug)]
pub(super) struct TaggedRun {
    pub total: u64,
    /// Selects the page's seqs; binds `values`.
    pub seqs_sql: String,
    pub values: Vec<SqlValue>,
}

/// The page as a run of the first tag's entries, or `None` when it cannot be one: any
/// filter besides tags, an order other than by creation, or a workspace whose creation
/// times do not follow its seq order.
pub(super) fn tagged_run(
    conn: &Connection,
    workspace: WorkspaceId,
    filter: &ListFilter,
    sort: SortOrder,
    (limit, offset): (u64, u64),
) -> Result<Option<TaggedRun>, StorageError> {
    let direction = match sort {
        SortOrder::NewestFirst => "DESC",
        SortOrder::OldestFirst => "ASC",
        _ => return Ok(None),
    };
    let keys = rarest_first(conn, workspace, &filter.tag_keys)?;
    let Some((first, rest)) = keys.split_first() else {
        return Ok(None);
    };
    let tags_only = ListFilter {
        tag_keys: filter.tag_keys.clone(),
        ..ListFilter::default()
    };
    if *filter != tags_only || !created_in_seq_order(conn, workspace)? {
        return Ok(None);
    }
    let mut condition = format!("ct.tag_id = {TAG_ID}");
    let mut values = tag_values(workspace, first).to_vec();
    for key in rest {
        condition.push_str(" AND ");
        condition.push_str(&has_tag("ct.contact_seq"));
        values.extend(tag_values(workspace, key));
    }
    let total = if rest.is_empty() {
        kept_count(conn, workspace, first)?
    } else {
        let counted: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM contact_tags ct WHERE {condition}"
            ))?
            .query_row(rusqlite::params_from_iter(values.iter()), |row| row.get(0))?;
        counted as u64
    };
    let count = |n: u64| SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    values.extend([count(limit), count(offset)]);
    Ok(Some(TaggedRun {
        total,
        // `? + 0`: see LIMIT_OFFSET in contact_list.rs.
        seqs_sql: format!(
            "SELECT ct.contact_seq FROM contact_tags ct WHERE {condition}
              ORDER BY ct.contact_seq {direction} LIMIT ? + 0 OFFSET ? + 0"
        ),
        values,
    }))
}

/// The tag keys, the one fewest contacts carry first: the list is driven from the first.
pub(super) fn rarest_first<'k>(
    conn: &Connection,
    workspace: WorkspaceId,
    keys: &'k [String],
) -> Result<Vec<&'k str>, StorageError> {
    let mut counted = keys
        .iter()
        .map(|key| Ok((kept_count(conn, workspace, key)?, key.as_str())))
        .collect::<Result<Vec<_>, StorageError>>()?;
    counted.sort_by_key(|(count, _)| *count);
    Ok(counted.into_iter().map(|(_, key)| key).collect())
}

/// How many contacts carry the tag, as `tags.contacts` keeps it.
fn kept_count(conn: &Connection, workspace: WorkspaceId, key: &str) -> Result<u64, StorageError> {
    let kept: Option<i64> = conn
        .prepare_cached("SELECT contacts FROM tags WHERE workspace_id = ?1 AND name_key = ?2")?
        .query_row(rusqlite::params![workspace.0, key], |row| row.get(0))
        .optional()?;
    Ok(kept.unwrap_or(0).max(0) as u64)
}
