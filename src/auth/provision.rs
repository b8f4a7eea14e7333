//! Creating keys: for `kontak key create`, and the first key of a new database.

use rusqlite::{Connection, TransactionBehavior};

use super::{MintedKey, Scopes};
use crate::domain::{Timestamp, WorkspaceName};
use crate::storage::keys::{count_keys, insert_key, NewKey};
use crate::storage::workspaces::ensure_workspace;
use crate::storage::StorageError;

/// Mints a key for `workspace` (creating the workspace if needed) and stores its hash.
/// The returned key is the only copy of the secret there will ever be.
pub fn create_key(
    conn: &mut Connection,
    workspace: &WorkspaceName,
    scopes: &Scopes,
    label: Option<&str>,
) -> Result<MintedKey, StorageError> {
    let minted = mint()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    store(&tx, &minted, workspace, scopes, label)?;
    tx.commit()?;
    Ok(minted)
}

/// On a database with no keys at all, creates workspace `default` and one key with
/// every scope, and returns it. Returns `None` once any key exists, so the key is shown
/// once and never again. Two servers starting at once cannot both create one: the
/// check and the insert share one write transaction.
pub fn create_first_key_if_none(conn: &mut Connection) -> Result<Option<MintedKey>, StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if count_keys(&tx)? > 0 {
        return Ok(None);
    }
    let minted = mint()?;
    let workspace = WorkspaceName::default_workspace();
    store(&tx, &minted, &workspace, &Scopes::all(), Some("first key"))?;
    tx.commit()?;
    Ok(Some(minted))
}

fn mint() -> Result<MintedKey, StorageError> {
    MintedKey::generate().map_err(|err| StorageError::Internal(format!("hashing the key: {err}")))
}

fn store(
    conn: &Connection,
    minted: &MintedKey,
    workspace: &WorkspaceName,
    scopes: &Scopes,
    label: Option<&str>,
) -> Result<(), StorageError> {
    let now = Timestamp::now();
    let workspace_id = ensure_workspace(conn, workspace, now)?;
    insert_key(
        conn,
        &NewKey {
            id: &minted.id,
            workspace_id,
            secret_hash: &minted.secret_hash,
            scopes: &scopes.to_stored(),
            label,
        },
        now,
    )
}
