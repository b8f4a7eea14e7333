//! The `search_tokens` index: tokens a contact's text holds by construction, kept
//! beside its trigrams. They are the spans where its words meet (space_spans.rs) and
//! its email's domain in its workspace (email_domains.rs), all in one document per
//! contact, whose rowid is its seq.
//!
//! Fed from the search queue with the trigram index (search_queue.rs), so a row whose
//! change is still queued may have stale tokens here: searches take such rows from the
//! queue instead (contact_list.rs).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use super::email_domains::domain_token;
use super::space_spans::span_tokens;
use super::trigrams::quoted;
use super::{StorageError, WorkspaceId};

/// Writes to the index, with `email_domain_counts` kept in step: every write to
/// `search_tokens` goes through one, and [`finish`](Self::finish) writes the counts.
/// The counts change in memory meanwhile, so a thousand queued creates at a few
/// domains cost a few writes to the table, not a thousand.
#[derive(Default)]
#[must_use = "the domain counts are written by finish()"]
pub struct TokenWrites {
    domain_rows: HashMap<String, i64>,
}

impl TokenWrites {
    /// Keeps the tokens of a row's text: a queued change that adds the row. Its
    /// domain's token needs the row's workspace, queued with the text.
    pub fn add(
        &mut self,
        conn: &Connection,
        seq: i64,
        workspace: Option<WorkspaceId>,
        text: &str,
    ) -> Result<(), StorageError> {
        let domain = workspace.and_then(|workspace| domain_token(workspace, text));
        let tokens: Vec<String> = span_tokens(text).chain(domain.clone()).collect();
        if !tokens.is_empty() {
            conn.prepare_cached("INSERT INTO search_tokens (rowid, tokens) VALUES (?1, ?2)")?
                .execute((seq, tokens.join(" ")))?;
        }
        if let Some(domain) = domain {
            *self.domain_rows.entry(domain).or_default() += 1;
        }
        Ok(())
    }

    /// Forgets a row's tokens: a queued change that takes the row out. `old_text`
    /// (with `workspace`) is what was added for it, whose domain is counted down;
    /// `None` when no add of it was counted (a change queued by an older kontak,
    /// whose row the upgrade left to the queue: see schema.rs).
    pub fn remove(
        &mut self,
        conn: &Connection,
        seq: i64,
        workspace: Option<WorkspaceId>,
        old_text: Option<&str>,
    ) -> Result<(), StorageError> {
        conn.prepare_cached("DELETE FROM search_tokens WHERE rowid = ?1")?
            .execute([seq])?;
        let old_domain = workspace
            .zip(old_text)
            .and_then(|(ws, text)| domain_token(ws, text));
        if let Some(domain) = old_domain {
            *self.domain_rows.entry(domain).or_default() -= 1;
        }
        Ok(())
    }

    /// Writes the domains' counts.
    pub fn finish(self, conn: &Connection) -> Result<(), StorageError> {
        let mut upsert = conn.prepare_cached(
            "INSERT INTO email_domain_counts (token, contacts) VALUES (?1, ?2)
             ON CONFLICT (token) DO UPDATE SET contacts = contacts + excluded.contacts",
        )?;
        for (token, change) in self.domain_rows {
            if change != 0 {
                upsert.execute((token, change))?;
            }
        }
        Ok(())
    }
}

/// How many rows of the index hold an email domain's token (email_domains.rs).
pub fn domain_rows(conn: &Connection, token: &str) -> Result<u64, StorageError> {
    let count: Option<i64> = conn
        .prepare_cached("SELECT contacts FROM email_domain_counts WHERE token = ?1")?
        .query_row([token], |row| row.get(0))
        .optional()?;
    Ok(count.map_or(0, |count| u64::try_from(count).unwrap_or(0)))
}

/// Each email domain whose kept count differs from how many rows of the index hold its
/// token: the token, those rows, and the kept count. Both are written in the same
/// transaction; a difference means the file was changed behind kontak's back, and a
/// search for the domain would show a wrong total.
pub fn miscounted_domains(conn: &Connection) -> Result<Vec<(String, u64, u64)>, StorageError> {
    let kept: Vec<(String, i64)> = conn
        .prepare("SELECT token, contacts FROM email_domain_counts ORDER BY token")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut holding =
        conn.prepare("SELECT count(*) FROM search_tokens WHERE search_tokens MATCH ?1")?;
    let mut miscounted = Vec::new();
    for (token, kept) in kept {
        let rows: i64 = holding.query_row([quoted(&token)], |row| row.get(0))?;
        if rows != kept {
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            miscounted.push((token, count(rows), count(kept)));
        }
    }
    Ok(miscounted)
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
    let mut writes = TokenWrites::default();
    while let Some(row) = rows.next()? {
        let text: String = row.get(2)?;
        writes.add(conn, row.get(0)?, Some(WorkspaceId(row.get(1)?)), &text)?;
    }
    writes.finish(conn)
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
    use crate::storage::email_domains::{domain_query, term_domain_token};
    use crate::storage::space_spans::rows_holding;

    #[test]
    fn a_rows_spans_and_domain_are_one_document_and_the_domains_are_counted() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::storage::schema::migrate(&mut conn).unwrap();
        let (acme, other) = (WorkspaceId(1), WorkspaceId(2));
        let budi = "budi santoso\u{1f}b@ptabc.co.id\u{1f}62811";
        let mut writes = TokenWrites::default();
        writes.add(&conn, 7, Some(acme), budi).unwrap();
        writes
            .add(
                &conn,
                8,
                Some(other),
                "budi santoso\u{1f}c@ptabc.co.id\u{1f}62812",
            )
            .unwrap();
        writes
            .add(&conn, 9, Some(acme), "wati\u{1f}w@ptabc.co.id\u{1f}62813")
            .unwrap();
        writes.finish(&conn).unwrap();
        let at = |ws, term| rows_matching(&conn, &domain_query(ws, term).unwrap());
        let counted = |ws, term| domain_rows(&conn, &term_domain_token(ws, term).unwrap()).unwrap();
        assert_eq!(at(acme, "@ptabc.co.id"), [7, 9]);
        assert_eq!(at(other, "ptabc.co.id"), [8]);
        assert!(
            at(acme, "@ptabc.co").is_empty(),
            "a domain is matched whole"
        );
        assert_eq!(rows_holding(&conn, "budi sant"), [7, 8]);
        assert_eq!(
            (counted(acme, "ptabc.co.id"), counted(other, "ptabc.co.id")),
            (2, 1)
        );

        // Taking a row out takes out its spans and its domain together, and counts the
        // domain down; a row taken out without its old text is not counted down.
        let mut writes = TokenWrites::default();
        writes.remove(&conn, 7, Some(acme), Some(budi)).unwrap();
        writes.remove(&conn, 8, Some(other), None).unwrap();
        writes.finish(&conn).unwrap();
        assert_eq!(at(acme, "@ptabc.co.id"), [9]);
        assert!(at(other, "ptabc.co.id").is_empty());
        assert!(rows_holding(&conn, "budi sant").is_empty());
        assert_eq!(
            (counted(acme, "ptabc.co.id"), counted(other, "ptabc.co.id")),
            (1, 1)
        );
        assert_eq!(counted(acme, "ptabc.co.idn"), 0, "never seen");
        conn.execute(
            "INSERT INTO search_tokens (search_tokens, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
    }
}
