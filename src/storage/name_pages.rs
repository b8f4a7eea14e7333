//! Pages of a whole workspace in a name order, read from `contacts_by_name`.
//!
//! Both name orders list the contacts without a name last. The index keeps them last
//! too, so ascending is one walk of it; descending would need the named part walked
//! backwards and then the nameless part walked backwards, which SQLite does not do in
//! one walk (it sorted the whole workspace instead). So each part is read on its own,
//! the named part first, in the same way for both directions.

use rusqlite::{params, Connection};

use super::{StorageError, WorkspaceId};
use crate::domain::SortOrder;

/// The seqs of the page at `offset` in a name order, in that order, or `None` for an
/// order not by name. `total` is the workspace's count, read in the same transaction.
pub(super) fn name_page(
    conn: &Connection,
    workspace: WorkspaceId,
    sort: SortOrder,
    (limit, offset): (u64, u64),
    total: u64,
) -> Result<Option<Vec<i64>>, StorageError> {
    let descending = match sort {
        SortOrder::NameAscending => false,
        SortOrder::NameDescending => true,
        _ => return Ok(None),
    };
    let mut seqs = part(conn, workspace, false, descending, (limit, offset))?;
    let short = limit.saturating_sub(seqs.len() as u64);
    if short > 0 {
        // The named part ended within or before this page: the rest comes from the
        // nameless part, counted from its start.
        let nameless: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM contacts c
                  WHERE c.workspace_id = ?1 AND (c.name IS NULL) = 1",
            )?
            .query_row(params![workspace.0], |row| row.get(0))?;
        let named = total.saturating_sub(nameless.max(0) as u64);
        let skip = offset.saturating_sub(named);
        seqs.extend(part(conn, workspace, true, descending, (short, skip))?);
    }
    Ok(Some(seqs))
}

/// `limit` seqs after `offset` of the named or the nameless part, in the order.
fn part(
    conn: &Connection,
    workspace: WorkspaceId,
    nameless: bool,
    descending: bool,
    (limit, offset): (u64, u64),
) -> Result<Vec<i64>, StorageError> {
    // Whole statements rather than a direction spliced in: each is prepared once.
    // `? + 0`: see LIMIT_OFFSET in contact_list.rs.
    let sql = if descending {
        "SELECT c.seq FROM contacts c WHERE c.workspace_id = ?1 AND (c.name IS NULL) = ?2
          ORDER BY c.search_text DESC, c.seq DESC LIMIT ?3 + 0 OFFSET ?4 + 0"
    } else {
        "SELECT c.seq FROM contacts c WHERE c.workspace_id = ?1 AND (c.name IS NULL) = ?2
          ORDER BY c.search_text ASC, c.seq ASC LIMIT ?3 + 0 OFFSET ?4 + 0"
    };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(sql)?;
    let seqs = stmt
        .query_map(
            params![workspace.0, nameless, count(limit), count(offset)],
            |row| row.get(0),
        )?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}
