//! Whole-database operations: WAL checkpoint, online backup, integrity checks and the
//! readiness probe. Used by `kontak backup`/`check`, shutdown and `GET /readyz`.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::checkpointer::{checkpoint_patiently, CheckpointMode};
use super::email_domains::described;
use super::schema::{user_version, SCHEMA_VERSION};
use super::search_tokens::miscounted_domains;
use super::StorageError;

/// How long [`checkpoint_wal`] tries again while another connection is checkpointing:
/// the server's background checkpoints (see `checkpointer.rs`) take milliseconds.
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(3);

/// Folds the write-ahead log back into the main file and empties it, so that the `.db`
/// file alone is the whole database (what an operator copies after a clean stop).
pub fn checkpoint_wal(conn: &Connection) -> Result<(), StorageError> {
    if checkpoint_patiently(conn, CheckpointMode::Truncate, CHECKPOINT_PATIENCE)? {
        Ok(())
    } else {
        Err(StorageError::Busy(
            "another connection kept the WAL from being checkpointed".into(),
        ))
    }
}

/// Writes a consistent copy of the database to `target`, which must not exist.
///
/// `VACUUM INTO` reads inside one read transaction: in WAL mode that is a snapshot
/// that writers in other processes do not disturb and are not blocked by, so this is
/// safe against a running server. The copy holds every transaction committed before it
/// began and none after.
pub fn backup_into(conn: &Connection, target: &Path) -> Result<(), StorageError> {
    let target = target
        .to_str()
        .ok_or_else(|| StorageError::Internal("the backup path is not valid UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// The outcome of `PRAGMA integrity_check`, `PRAGMA foreign_key_check` and the checks
/// of what kontak keeps in step ([`MISCOUNTED`], [`STALE_TAG_NAMES`]): empty when the
/// database is sound, otherwise one line per problem found.
pub fn integrity_problems(conn: &Connection) -> Result<Vec<String>, StorageError> {
    let mut problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|line| line != "ok")
        .collect();
    problems.extend(problem_lines(conn, "PRAGMA foreign_key_check", |row| {
        Ok(format!(
            "foreign key: row {} of table {} refers to a missing row of {}",
            row.get::<_, Option<i64>>(1)?
                .map_or_else(|| "?".into(), |r| r.to_string()),
            row.get::<_, String>(0)?,
            row.get::<_, String>(2)?,
        ))
    })?);
    problems.extend(problem_lines(conn, MISCOUNTED, |row| {
        Ok(format!(
            "kept count: workspace {} has {} contacts{}, but {} counts {}",
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, i64>(4)?,
        ))
    })?);
    for (token, indexed, kept) in miscounted_domains(conn)? {
        problems.push(format!(
            "kept count: search_tokens has {indexed} contacts at {}, but email_domain_counts counts {kept}",
            described(&token)
        ));
    }
    problems.extend(problem_lines(conn, STALE_TAG_NAMES, |row| {
        Ok(format!(
            "tag names: contact {} of workspace {} shows tags other than its links in contact_tags",
            row.get::<_, String>(1)?,
            row.get::<_, i64>(0)?,
        ))
    })?);
    Ok(problems)
}

/// One line per row a check query returns, as `line` words it.
fn problem_lines(
    conn: &Connection,
    sql: &str,
    line: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<String>,
) -> Result<Vec<String>, StorageError> {
    let mut stmt = conn.prepare(sql)?;
    let lines = stmt.query_map([], line)?.collect::<Result<_, _>>()?;
    Ok(lines)
}

/// Each kept count (per workspace, per block of seqs, per tag) that differs from a count
/// of the contacts themselves: workspace, contacts counted, which of them, the table that
/// keeps the count, and its count. Triggers keep them in the same transaction as every
/// change; a difference means the file was changed behind kontak's back, and lists would
/// show a wrong total or a wrong deep page.
const MISCOUNTED: &str = "
    SELECT workspace_id, sum(counted), '', 'workspace_stats', sum(kept) FROM (
        SELECT workspace_id, 1 AS counted, 0 AS kept FROM contacts
        UNION ALL
        SELECT workspace_id, 0, contacts FROM workspace_stats)
     GROUP BY workspace_id HAVING sum(counted) <> sum(kept)
    UNION ALL
    SELECT workspace_id, sum(counted),
           printf(' with seq %d to %d', bucket << 10, ((bucket + 1) << 10) - 1),
           'contact_seq_buckets', sum(kept) FROM (
        SELECT workspace_id, seq >> 10 AS bucket, 1 AS counted, 0 AS kept FROM contacts
        UNION ALL
        SELECT workspace_id, bucket, 0, contacts FROM contact_seq_buckets)
     GROUP BY workspace_id, bucket HAVING sum(counted) <> sum(kept)
    UNION ALL
    SELECT workspace_id, counted, printf(' tagged %s', name), 'tags', contacts FROM (
        SELECT t.workspace_id, t.name, t.contacts,
               (SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = t.id) AS counted
          FROM tags t)
     WHERE counted <> contacts";

/// Each contact (workspace, id) whose kept tag names differ from its links, name by name
/// and position by position. Both are written in the same transaction; a difference
/// means the file was changed behind kontak's back, and the contact would show tags
/// that filters do not find it by. CASE, not OR, so that text that is not JSON is
/// reported rather than failing the query.
const STALE_TAG_NAMES: &str = "
    SELECT c.workspace_id, c.id FROM contacts c
     WHERE CASE WHEN json_valid(c.tag_names) AND json_type(c.tag_names) = 'array' THEN
               json_array_length(c.tag_names)
                   <> (SELECT count(*) FROM contact_tags ct WHERE ct.contact_seq = c.seq)
               OR EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                           WHERE ct.contact_seq = c.seq
                             AND c.tag_names ->> ct.position IS NOT t.name)
           ELSE 1 END";

/// Ready means: this binary's schema is in place, and the database takes a commit.
///
/// The write is real (it rewrites `user_version` with its own value) because the
/// failures worth catching — a read-only file or mount, a full disk — show only when
/// something is written. It costs one page in the WAL.
pub fn check_ready(conn: &mut Connection) -> Result<(), StorageError> {
    let found = user_version(conn)?;
    if found != SCHEMA_VERSION {
        return Err(StorageError::Schema(format!(
            "schema version {found}, expected {SCHEMA_VERSION}"
        )));
    }
    // Run through the writer, this is part of its transaction, which it commits.
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::schema::migrate;

    fn fresh() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("k.db")).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        migrate(&mut conn).unwrap();
        (dir, conn)
    }

    #[test]
    fn a_fresh_database_is_sound_and_ready() {
        let (_dir, mut conn) = fresh();
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());
        check_ready(&mut conn).unwrap();
        checkpoint_wal(&conn).unwrap();
    }

    #[test]
    fn a_schema_other_than_this_binarys_is_not_ready() {
        let (_dir, mut conn) = fresh();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            check_ready(&mut conn),
            Err(StorageError::Schema(_))
        ));
    }

    #[test]
    fn a_dangling_foreign_key_is_reported() {
        let (_dir, conn) = fresh();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute(
            "INSERT INTO api_keys (id, workspace_id, secret_hash, scopes, created_at) \
             VALUES ('k', 42, 'h', 's', 't')",
            [],
        )
        .unwrap();
        let problems = integrity_problems(&conn).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("api_keys"), "{problems:?}");
    }

    #[test]
    fn kept_counts_that_disagree_with_the_contacts_are_reported() {
        let (_dir, conn) = fresh();
        conn.execute_batch(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'acme', 't');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, tag_names,
                                   created_at, updated_at)
             VALUES (1, 'a', 1, '+62811', '', '[\"VIP\"]', 't', 't'),
                    (2000, 'b', 1, '+62812', '', '[\"VIP\"]', 't', 't');
             INSERT INTO tags (id, workspace_id, name, name_key, created_at)
             VALUES (5, 1, 'VIP', 'vip', 't');
             INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (1, 5, 0), (2000, 5, 0);",
        )
        .unwrap();
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());

        conn.execute_batch(
            "UPDATE workspace_stats SET contacts = 1;
             UPDATE contact_seq_buckets SET contacts = 3 WHERE bucket = 1;
             UPDATE tags SET contacts = 7;",
        )
        .unwrap();
        assert_eq!(
            integrity_problems(&conn).unwrap(),
            vec![
                "kept count: workspace 1 has 2 contacts, but workspace_stats counts 1",
                "kept count: workspace 1 has 1 contacts with seq 1024 to 2047, \
                 but contact_seq_buckets counts 3",
                "kept count: workspace 1 has 2 contacts tagged VIP, but tags counts 7",
            ]
        );
    }

    #[test]
    fn an_email_domain_count_that_disagrees_with_the_index_is_reported() {
        let (_dir, conn) = fresh();
        conn.execute_batch(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'acme', 't');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, created_at, updated_at)
             VALUES (1, 'a', 1, '+62811', char(31) || 'a@ptabc.co.id', 't', 't'),
                    (2, 'b', 1, '+62812', char(31) || 'b@ptabc.co.id', 't', 't');",
        )
        .unwrap();
        crate::storage::search_queue::apply_search_queue(&conn).unwrap();
        assert_eq!(integrity_problems(&conn).unwrap(), Vec::<String>::new());

        conn.execute("UPDATE email_domain_counts SET contacts = 3", [])
            .unwrap();
        assert_eq!(
            integrity_problems(&conn).unwrap(),
            vec![
                "kept count: search_tokens has 2 contacts at ptabc.co.id in workspace 1, \
                 but email_domain_counts counts 3"
            ]
        );
    }

    #[test]
    fn tag_names_that_disagree_with_the_links_are_reported() {
        let (_dir, conn) = fresh();
        conn.execute_batch(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'acme', 't');
             INSERT INTO tags (id, workspace_id, name, name_key, created_at)
             VALUES (5, 1, 'VIP', 'vip', 't'), (6, 1, 'lead', 'lead', 't');
             INSERT INTO contacts (seq, id, workspace_id, phone, search_text, tag_names,
                                   created_at, updated_at)
             VALUES (1, 'right', 1, '+62811', '', '[\"VIP\",\"lead\"]', 't', 't'),
                    (2, 'none', 1, '+62812', '', '[]', 't', 't'),
                    (3, 'order', 1, '+62813', '', '[\"lead\",\"VIP\"]', 't', 't'),
                    (4, 'spelling', 1, '+62814', '', '[\"vip\"]', 't', 't'),
                    (5, 'missing', 1, '+62815', '', '[]', 't', 't'),
                    (6, 'extra', 1, '+62816', '', '[\"VIP\"]', 't', 't'),
                    (7, 'garbled', 1, '+62817', '', 'VIP', 't', 't');
             INSERT INTO contact_tags (contact_seq, tag_id, position)
             VALUES (1, 5, 0), (1, 6, 1), (3, 5, 0), (3, 6, 1), (4, 5, 0), (5, 6, 0);",
        )
        .unwrap();
        let stale: Vec<String> = integrity_problems(&conn)
            .unwrap()
            .into_iter()
            .filter(|line| line.starts_with("tag names:"))
            .collect();
        let ids: Vec<&str> = stale
            .iter()
            .map(|line| line.split(' ').nth(3).unwrap())
            .collect();
        assert_eq!(
            ids,
            ["order", "spelling", "missing", "extra", "garbled"],
            "{stale:?}"
        );
    }

    #[test]
    fn a_backup_is_a_complete_database_and_refuses_an_existing_target() {
        let (dir, conn) = fresh();
        conn.execute(
            "INSERT INTO workspaces (name, created_at) VALUES ('acme', 't')",
            [],
        )
        .unwrap();
        let target = dir.path().join("copy.db");
        backup_into(&conn, &target).unwrap();
        let copy = Connection::open(&target).unwrap();
        let names: String = copy
            .query_row("SELECT group_concat(name) FROM workspaces", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(names, "acme");
        assert!(backup_into(&conn, &target).is_err());
    }
}
