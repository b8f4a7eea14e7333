//! `kontak key create | list | revoke`.

use anyhow::{bail, Context};

use super::KeyCommand;
use crate::auth::key::visible_prefix;
use crate::auth::provision::create_key;
use crate::auth::Scopes;
use crate::config::Settings;
use crate::domain::{Timestamp, WorkspaceName};
use crate::storage::keys::{list_keys, revoke_key, RevokeOutcome};
use crate::storage::{open_connection, schema};

pub fn run(command: KeyCommand, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
    schema::migrate(&mut conn)?;
    match command {
        KeyCommand::Create {
            workspace,
            scopes,
            name,
        } => {
            let workspace =
                WorkspaceName::parse(&workspace).map_err(|e| anyhow::anyhow!(e.message))?;
            let scopes = Scopes::parse_list(&scopes).map_err(anyhow::Error::msg)?;
            let label = name.as_deref().map(str::trim).filter(|l| !l.is_empty());
            let key =
                create_key(&mut conn, &workspace, &scopes, label).context("creating the key")?;
            eprintln!(
                "Created key {} in workspace {:?} with scopes {}. It is shown once, below:",
                key.id,
                workspace.as_str(),
                scopes.to_stored().replace(' ', ",")
            );
            println!("{}", key.reveal());
        }
        KeyCommand::List { workspace } => {
            let workspace = workspace
                .map(|w| WorkspaceName::parse(&w).map_err(|e| anyhow::anyhow!(e.message)))
                .transpose()?;
            let keys = list_keys(&conn, workspace.as_ref())?;
            eprintln!("ID\tPREFIX\tWORKSPACE\tSCOPES\tLABEL\tCREATED\tLAST_USED\tREVOKED");
            for key in keys {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    key.id,
                    visible_prefix(&key.id),
                    key.workspace,
                    key.scopes.replace(' ', ","),
                    key.label.as_deref().unwrap_or("-"),
                    key.created_at,
                    key.last_used_at.as_deref().unwrap_or("never"),
                    key.revoked_at.as_deref().unwrap_or("no"),
                );
            }
        }
        KeyCommand::Revoke { id } => match revoke_key(&conn, &id, Timestamp::now())? {
            RevokeOutcome::Revoked => eprintln!("Revoked key {id}."),
            RevokeOutcome::AlreadyRevoked => eprintln!("Key {id} was already revoked."),
            RevokeOutcome::NotFound => bail!("no key with id {id:?}; see `kontak key list`"),
        },
    }
    Ok(())
}
