//! `kontak backup PATH` and `kontak check`: safe to run while a server uses the file.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context};

use crate::config::Settings;
use crate::storage::maintenance::{backup_into, integrity_problems};
use crate::storage::{open_connection, schema};
use rusqlite::Connection;

/// Writes a consistent copy of the database to `target`.
///
/// The copy is made under a temporary name beside `target`, flushed to disk, then
/// renamed into place, so `target` is never a half-written file: it is either absent,
/// the previous file (with `--force`), or the complete backup.
pub fn backup(settings: &Settings, target: &Path, force: bool) -> anyhow::Result<()> {
    if target.exists() && !force {
        bail!(
            "{} already exists; choose another path, or pass --force to replace it",
            target.display()
        );
    }
    let conn = open_existing(settings)?;
    let partial = partial_path(target);
    // A leftover from an interrupted run would make VACUUM INTO refuse.
    let _ = fs::remove_file(&partial);
    let result = backup_into(&conn, &partial)
        .map_err(anyhow::Error::from)
        .and_then(|()| Ok(fs::File::open(&partial)?.sync_all()?))
        .and_then(|()| Ok(fs::rename(&partial, target)?));
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result.with_context(|| format!("cannot write the backup to {}", target.display()))?;
    eprintln!(
        "Backed up {} to {}.",
        settings.db.display(),
        target.display()
    );
    Ok(())
}

/// Prints `ok`, or one line per problem on stdout, and fails if there is any.
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    let conn = open_existing(settings)?;
    let version = schema::user_version(&conn)?;
    eprintln!(
        "{}: schema version {version} (this kontak: {})",
        settings.db.display(),
        schema::SCHEMA_VERSION
    );
    let problems = integrity_problems(&conn)
        .with_context(|| format!("cannot check {}", settings.db.display()))?;
    if problems.is_empty() {
        println!("ok");
        return Ok(());
    }
    for problem in &problems {
        println!("{problem}");
    }
    bail!(
        "{} problem(s) found: restore the latest backup (see README, \"Backup and restore\")",
        problems.len()
    )
}

/// Opens the configured database, refusing to create it: backing up or checking a
/// file that is not there is a mistake in the path, not a request for a new database.
fn open_existing(settings: &Settings) -> anyhow::Result<Connection> {
    if !settings.db.is_file() {
        bail!("no database at {}", settings.db.display());
    }
    Ok(open_connection(&settings.db, settings.busy_timeout())?)
}

fn partial_path(target: &Path) -> std::path::PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    target.with_file_name(name)
}
