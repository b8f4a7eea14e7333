//! Pages of a whole workspace in a name order, read from `contacts_by_name`.
//!
//! Both name orders list the contacts without a name last. The index keeps them last
//! too, so ascending is one walk of it; descending would need the named part walked
//! backwards and then the nameless part walked backwards, which SQLite does not do in
//! one walk (it sorted the whole workspace instead). So each part is read on its own,
//! the named part first, in the same way for both directions.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};

use super::list_order::{limit_offset, LIMIT_OFFSET};
use super::{StorageError, WorkspaceId};
use crate::domain::SortOrder;

/// The seqs of the page at `offset` in a name order, in that order, or `None` for an
/// order not by name. `filter` is more conditions on `contacts c` (each starting with
/// " AND ") with their values, or none; `total` is how many contacts it leaves, read in
/// the same transaction.
pub(super) fn name_page(
    conn: &Connection,
    workspace: WorkspaceId,
    sort: SortOrder,
    (limit, offset): (u64, u64),
    total: u64,
    filter: (&str, &[SqlValue]),
) -> Result<Option<Vec<i64>>, StorageError> {
    let descending = match sort {
        SortOrder::NameAscending => false,
        SortOrder::NameDescending => true,
        _ => return Ok(None),
    };
    let mut seqs = part(conn, workspace, filter, false, descending, (limit, offset))?;
    let short = limit.saturating_sub(seqs.len() as u64);
    if short > 0 {
        // The named part ended within or before this page: the rest comes from the
        // nameless part, counted from its start.
        let (condition, values) = filter;
        let values = std::iter::once(SqlValue::Integer(workspace.0)).chain(values.iter().cloned());
        let nameless: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM contacts c INDEXED BY contacts_by_name
                  WHERE c.workspace_id = ? AND (c.name IS NULL) = 1{condition}"
            ))?
            .query_row(params_from_iter(values), |row| row.get(0))?;
        let named = total.saturating_sub(nameless.max(0) as u64);
        let skip = offset.saturating_sub(named);
        seqs.extend(part(
            conn,
            workspace,
            filter,
            true,
            descending,
            (short, skip),
        )?);
    }
    Ok(Some(seqs))
}

/// `limit` seqs after `offset` of the named or the nameless part, in the order.
fn part(
    conn: &Connection,
    workspace: WorkspaceId,
    (condition, values): (&str, &[SqlValue]),
    nameless: bool,
    descending: bool,
    (limit, offset): (u64, u64),
) -> Result<Vec<i64>, StorageError> {
    let direction = if descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT c.seq FROM contacts c INDEXED BY contacts_by_name
          WHERE c.workspace_id = ? AND (c.name IS NULL) = ?{condition}
          ORDER BY c.search_text {direction}, c.seq {direction} {LIMIT_OFFSET}"
    );
    let values = [
        SqlValue::Integer(workspace.0),
        SqlValue::Integer(nameless.into()),
    ]
    .into_iter()
    .chain(values.iter().cloned())
    .chain(limit_offset(limit, offset));
    let mut stmt = conn.prepare_cached(&sql)?;
    let seqs = stmt
        .query_map(params_from_iter(values), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;
    use crate::storage::list_order::ListOrder;
    use crate::storage::workspaces::test_database;

    #[test]
    fn pages_span_the_named_and_the_nameless_parts_with_or_without_a_filter() {
        let (conn, ws) = test_database();
        for seq in 1..=40i64 {
            // Every third contact has no name; names repeat, so seq breaks ties.
            let name = (seq % 3 != 0).then(|| format!("kontak {}", seq % 7));
            conn.execute(
                "INSERT INTO contacts (seq, id, workspace_id, phone, name, search_text,
                                       created_at, updated_at)
                 VALUES (?1, ?1, ?2, '+62811' || ?1, ?3, coalesce(?3, '') || char(31), 't', 't')",
                params![seq, ws.0, name],
            )
            .unwrap();
        }
        let even = [SqlValue::Integer(0)];
        for (condition, values) in [("", &[][..]), (" AND c.seq % 2 = ?", &even[..])] {
            let total: i64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM contacts c WHERE c.workspace_id = {}{}",
                        ws.0,
                        condition.replace('?', "0")
                    ),
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            for sort in [SortOrder::NameAscending, SortOrder::NameDescending] {
                for offset in 0..=total as u64 {
                    let seqs = name_page(
                        &conn,
                        ws,
                        sort,
                        (4, offset),
                        total as u64,
                        (condition, values),
                    )
                    .unwrap()
                    .unwrap();
                    let expected: Vec<i64> = conn
                        .prepare(&format!(
                            "SELECT c.seq FROM contacts c WHERE c.workspace_id = ?1{}
                              ORDER BY {} LIMIT 4 OFFSET ?2",
                            condition.replace('?', "0"),
                            ListOrder::of(sort).sql()
                        ))
                        .unwrap()
                        .query_map(params![ws.0, offset as i64], |row| row.get(0))
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    assert_eq!(seqs, expected, "{sort:?}{condition} from {offset}");
                }
            }
        }
        assert_eq!(
            name_page(&conn, ws, SortOrder::NewestFirst, (4, 0), 40, ("", &[])).unwrap(),
            None
        );
    }
}
