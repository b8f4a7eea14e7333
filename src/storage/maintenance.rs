//! Whole-database operations: WAL checkpoint, online backup, integrity checks and the
//! readiness probe. Used by `kontak backup`/`check`, shutdown and `GET /readyz`.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::checkpointer::{checkpoint_patiently, CheckpointMode};
use super::schema::{user_version, SCHEMA_VERSION};
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

/// The outcome of `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: empty when
/// the database is sound, otherwise one line per problem found.
pub fn integrity_problems(conn: &Connection) -> Result<Vec<String>, StorageError> {
    let mut problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|line| line != "ok")
        .collect();
    let mut fk = conn.prepare("PRAGMA foreign_key_check")?;
    let violations = fk.query_map([], |row| {
        Ok(format!(
            "foreign key: row {} of table {} refers to a missing row of {}",
            row.get::<_, Option<i64>>(1)?
                .map_or_else(|| "?".into(), |r| r.to_string()),
            row.get::<_, String>(0)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    for violation in violations {
        problems.push(violation?);
    }
    Ok(problems)
}

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
