//! The `search_tokens` index: tokens a contact's text holds by construction, kept
//! beside its trigrams. They are the spans where its words meet (space_spans.rs) and
//! its email's domain in its workspace (email_domains.rs), all in one document per
//! contact, whose rowid is its seq.
//!
//! Fed from the search queue with the trigram index (search_queue.rs), so a row whose
//! change is still queued may have stale tokens here: searches take such rows from the
//! queue instead (contact_list.rs).

use rusqlite::Connection;

use super::email_domains::domain_token;
use super::space_spans::span_tokens;
use super::{StorageError, WorkspaceId};

/// The vocabulary of `search_tokens` (schema.sql).
pub const TOKEN_VOCABULARY: &str = "search_tokens_terms";

/// The tokens of a row's queued text, as the index's text. The domain's needs the
/// row's workspace, queued with the text (`None` only in a test).
fn indexed_text(workspace: Option<WorkspaceId>, text: &str) -> String {
    let domain = workspace.and_then(|workspace| domain_token(workspace, text));
    span_tokens(text)
        .chain(domain)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keeps the tokens of a row's text: a queued change that adds the row.
pub fn add_tokens(
    conn: &Connection,
    seq: i64,
    workspace: Option<WorkspaceId>,
    text: &str,
) -> Result<(), StorageError> {
    let tokens = indexed_text(workspace, text);
    if !tokens.is_empty() {
        conn.prepare_cached("INSERT INTO search_tokens (rowid, tokens) VALUES (?1, ?2)")?
            .execute((seq, tokens))?;
    }
    Ok(())
}

/// Forgets a row's tokens: a queued change that takes the row out.
pub fn remove_tokens(conn: &Connection, seq: i64) -> Result<(), StorageError> {
    conn.prepare_cached("DELETE FROM search_tokens WHERE rowid = ?1")?
        .execute([seq])?;
    Ok(())
}

/// Fills the index from every contact's current text, as the trigger queues it: for a
/// file from before it was kept. A contact whose change still waits in the queue is
/// left to the queue, which adds it when applied: filled now too, it would be added
/// twice.
pub fn fill_tokens(conn: &Connection) -> Result<(), StorageError> {
    let mut contacts = conn.prepare(
        "SELECT seq, workspace_id, search_text || char(31) || substr(phone, 2) FROM contacts
          WHERE seq NOT IN (SELECT seq FROM search_queue)",
    )?;
    let mut rows = contacts.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(2)?;
        add_tokens(conn, row.get(0)?, Some(WorkspaceId(row.get(1)?)), &text)?;
    }
    Ok(())
}

/// The rows a full-text query over the index finds, in seq order.
#[cfg(test)]
pub fn rows_matching(conn: &Connection, query: &str) -> Vec<i64> {
    conn.prepare("SELECT rowid FROM search_tokens WHERE search_tokens MATCH ?1 ORDER BY rowid")
        .unwrap()
        .query_map([query], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::email_domains::domain_query;
    use crate::storage::space_spans::rows_holding;

    #[test]
    fn a_rows_spans_and_domain_are_one_document() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::storage::schema::migrate(&mut conn).unwrap();
        let (acme, other) = (WorkspaceId(1), WorkspaceId(2));
        add_tokens(
            &conn,
            7,
            Some(acme),
            "budi santoso\u{1f}b@ptabc.co.id\u{1f}62811",
        )
        .unwrap();
        add_tokens(
            &conn,
            8,
            Some(other),
            "budi santoso\u{1f}c@ptabc.co.id\u{1f}62812",
        )
        .unwrap();
        let at = |ws, term| rows_matching(&conn, &domain_query(ws, term).unwrap());
        assert_eq!(at(acme, "@ptabc.co.id"), [7]);
        assert_eq!(at(other, "ptabc.co.id"), [8]);
        assert!(
            at(acme, "@ptabc.co").is_empty(),
            "a domain is matched whole"
        );
        assert_eq!(rows_holding(&conn, "budi sant"), [7, 8]);

        // Taking a row out takes out its spans and its domain together.
        remove_tokens(&conn, 7).unwrap();
        assert!(at(acme, "@ptabc.co.id").is_empty());
        assert_eq!(at(other, "ptabc.co.id"), [8]);
        assert_eq!(rows_holding(&conn, "budi sant"), [8]);
        conn.execute(
            "INSERT INTO search_tokens (search_tokens, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
    }
}
