//! Changing contacts: merge-patch by id, and upsert by phone.

use rusqlite::{params, Connection};

use super::connection::in_savepoint;
use super::contacts::{
    find_by_id, find_by_phone, find_by_seq, insert_in, phone_conflict, search_text, StoredContact,
};
use super::tags::{tag_names_column, KnownTags};
use super::{StorageError, WorkspaceId};
use crate::domain::{Contact, ContactPatch, IfMatch, NewContact, Phone, Timestamp};

/// Applies `patch` to the workspace's contact `id`. Nothing is written when the patch
/// changes nothing, so `updated_at` and the ETag move only on a real change.
pub fn update_contact(
    conn: &mut Connection,
    workspace: WorkspaceId,
    id: &str,
    patch: &ContactPatch,
    if_match: &IfMatch,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    in_savepoint(conn, || {
        let stored = find_by_id(conn, workspace, id)?.ok_or(StorageError::NotFound)?;
        patch_in(conn, workspace, stored, patch, if_match, now)
    })
}

/// What an upsert did.
pub enum Upserted {
    Created(Contact),
    Updated(Contact),
}

/// Creates the contact with this phone, or patches the one that has it, in one write
/// transaction: two concurrent upserts of a number cannot both create it.
pub fn upsert_by_phone(
    conn: &mut Connection,
    workspace: WorkspaceId,
    phone: &Phone,
    (new, patch): (&NewContact, &ContactPatch),
    if_match: &IfMatch,
    now: Timestamp,
) -> Result<Upserted, StorageError> {
    in_savepoint(conn, || {
        Ok(match find_by_phone(conn, workspace, phone)? {
            Some(stored) => {
                Upserted::Updated(patch_in(conn, workspace, stored, patch, if_match, now)?)
            }
            // If-Match promises an existing resource; there is none.
            None if *if_match != IfMatch::Anything => return Err(StorageError::PreconditionFailed),
            None => Upserted::Created(insert_in(conn, workspace, new, now)?),
        })
    })
}

fn patch_in(
    tx: &Connection,
    workspace: WorkspaceId,
    stored: StoredContact,
    patch: &ContactPatch,
    if_match: &IfMatch,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    if !if_match.allows(stored.contact.version) {
        return Err(StorageError::PreconditionFailed);
    }
    let fields = patch
        .apply(&stored.contact)
        .map_err(StorageError::Invalid)?;
    if !fields.changes(&stored.contact) {
        return Ok(stored.contact);
    }
    let mut known_tags = KnownTags::new(workspace);
    let tag_names = match &fields.tags {
        Some(tags) => Some(tag_names_column(&known_tags.names(tx, tags)?)),
        None => None,
    };
    let updated = tx
        .prepare_cached(
            "UPDATE contacts
                SET phone = ?2, name = ?3, email = ?4, custom_fields = ?5, search_text = ?6,
                    tag_names = coalesce(?8, tag_names), updated_at = ?7,
                    version = version + 1
              WHERE seq = ?1",
        )?
        .execute(params![
            stored.seq,
            fields.phone.as_str(),
            fields.name,
            fields.email,
            fields.custom_fields.to_json_text(),
            search_text(fields.name.as_deref(), fields.email.as_deref()),
            now.to_storage(),
            tag_names,
        ]);
    if let Err(err) = updated {
        return Err(phone_conflict(tx, workspace, &fields.phone, err));
    }
    if let Some(tags) = &fields.tags {
        tx.execute(
            "DELETE FROM contact_tags WHERE contact_seq = ?1",
            params![stored.seq],
        )?;
        known_tags.attach(tx, stored.seq, tags, now)?;
    }
    Ok(find_by_seq(tx, stored.seq)?.contact)
}
