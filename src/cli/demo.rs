//! `kontak demo seed`, and the seeding behind `kontak serve --demo`.

use rusqlite::Connection;

use crate::config::Settings;
use crate::demo::{demo_contacts, DEFAULT_DEMO_CONTACTS};
use crate::domain::{Timestamp, WorkspaceName};
use crate::storage::contacts::seed_empty_workspace;
use crate::storage::workspaces::ensure_workspace;
use crate::storage::{open_connection, schema, StorageError};

/// Fills `workspace` with demo contacts if it holds none; says what it did on stderr.
pub fn seed(
    conn: &mut Connection,
    workspace: &WorkspaceName,
    count: usize,
) -> Result<usize, StorageError> {
    let now = Timestamp::now();
    let workspace_id = ensure_workspace(conn, workspace, now)?;
    let seeded = seed_empty_workspace(conn, workspace_id, &demo_contacts(count, now))?;
    if seeded == 0 {
        eprintln!(
            "Workspace {:?} already holds contacts; demo data is only added to an empty workspace.",
            workspace.as_str()
        );
    } else {
        eprintln!(
            "Added {seeded} demo contacts to workspace {:?}.",
            workspace.as_str()
        );
    }
    Ok(seeded)
}

pub fn run_seed(settings: &Settings, workspace: &str, count: Option<usize>) -> anyhow::Result<()> {
    let workspace = WorkspaceName::parse(workspace).map_err(|e| anyhow::anyhow!(e.message))?;
    let count = count.unwrap_or(DEFAULT_DEMO_CONTACTS);
    if !(1..=10_000).contains(&count) {
        anyhow::bail!("--count must be from 1 to 10000");
    }
    let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
    schema::migrate(&mut conn)?;
    seed(&mut conn, &workspace, count)?;
    Ok(())
}
