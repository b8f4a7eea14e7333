//! `kontak workspace list`.

use crate::config::Settings;
use crate::storage::workspaces::list_workspaces;
use crate::storage::{open_connection, schema};

pub fn list(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
    schema::migrate(&mut conn)?;
    eprintln!("NAME\tCREATED\tACTIVE_KEYS\tCONTACTS");
    for workspace in list_workspaces(&conn)? {
        println!(
            "{}\t{}\t{}\t{}",
            workspace.name, workspace.created_at, workspace.active_keys, workspace.contacts
        );
    }
    Ok(())
}
