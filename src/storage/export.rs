//! Bulk export: every contact of a workspace, streamed row by row.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::tags::tag_names_from_column;
use super::{StorageError, WorkspaceId};
use crate::domain::CustomFields;

/// A stored contact as a create body: exactly the fields `POST /v1/contacts` (and so
/// `kontak import`) takes, so an export is importable as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactBody {
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: CustomFields,
}

/// Calls `visit` with each of the workspace's contacts, oldest first, and returns how
/// many there were. One statement streams the rows, so memory stays flat however large
/// the workspace is, and the rows are one consistent snapshot (WAL lets writers go on).
/// Oldest first, so that importing the output recreates the list in the same order.
pub fn for_each_contact<E>(
    conn: &Connection,
    workspace: WorkspaceId,
    mut visit: impl FnMut(ContactBody) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<StorageError>,
{
    // contacts_newest_first serves this order read backwards, so nothing is sorted.
    let mut stmt = conn
        .prepare(
            "SELECT c.phone, c.name, c.email, c.custom_fields, c.tag_names
               FROM contacts c
              WHERE c.workspace_id = ?1
              ORDER BY c.created_at, c.seq",
        )
        .map_err(StorageError::from)?;
    let mut rows = stmt
        .query(params![workspace.0])
        .map_err(StorageError::from)?;
    let mut count = 0;
    while let Some(row) = rows.next().map_err(StorageError::from)? {
        visit(body_from_row(row)?)?;
        count += 1;
    }
    Ok(count)
}

fn body_from_row(row: &rusqlite::Row<'_>) -> Result<ContactBody, StorageError> {
    let custom_fields: String = row.get(3)?;
    let tags: String = row.get(4)?;
    Ok(ContactBody {
        phone: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        tags: tag_names_from_column(&tags)?,
        custom_fields: CustomFields::from_stored(custom_fields).map_err(StorageError::Internal)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::workspaces::test_database;

    #[test]
    fn the_export_query_reads_the_list_index_without_sorting() {
        let (conn, ws) = test_database();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT c.phone FROM contacts c
                  WHERE c.workspace_id = ?1 ORDER BY c.created_at, c.seq",
            )
            .unwrap()
            .query_map(params![ws.0], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("contacts_newest_first"), "plan: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "plan: {plan}");
    }
}
