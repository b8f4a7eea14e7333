//! Contact rows: create, read, delete. Every statement names the workspace, so an id
//! from another workspace is indistinguishable from one that does not exist.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use uuid::Uuid;

use super::connection::in_savepoint;
use super::error::is_unique_violation;
use super::search_queue::apply_search_queue;
use super::tags::{tag_names_column, tag_names_from_column, KnownTags};
use super::{StorageError, WorkspaceId};
use crate::domain::{fold_case, Contact, CustomFields, IfMatch, NewContact, Phone, Timestamp};

/// Joins the case-folded name and email. A search term cannot contain this control
/// character, so no match can span the two; and since the name comes first, sorting
/// by this column sorts by case-folded name.
const SEARCH_SEPARATOR: char = '\u{1f}';

/// The columns every contact read selects from `contacts c`, in the order
/// [`contact_from_row`] reads them.
pub(super) const CONTACT_COLUMNS: &str =
    "c.id, c.phone, c.name, c.email, c.custom_fields, c.created_at, c.updated_at, c.version, \
     c.tag_names, c.seq";

/// A contact with its row id, for writes that follow a read.
pub(super) struct StoredContact {
    pub seq: i64,
    pub contact: Contact,
}

/// Inserts a contact and its tags in one transaction. A phone the workspace already has
/// is reported with the existing contact's id, and nothing is written.
pub fn insert_contact(
    conn: &mut Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    in_savepoint(conn, || insert_in(conn, workspace, new, now))
}

pub(super) fn insert_in(
    tx: &Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    let id = Uuid::now_v7();
    let mut known_tags = KnownTags::new(workspace);
    let tags = known_tags.names(tx, &new.tags)?;
    let Some(seq) = insert_contact_row(tx, workspace, new, &tags, id, now)? else {
        let holder = find_by_phone(tx, workspace, &new.phone)?
            .ok_or_else(|| StorageError::Internal("conflicting contact not found".into()))?;
        return Err(StorageError::DuplicatePhone {
            existing_id: holder.contact.id,
        });
    };
    known_tags.attach(tx, seq, &new.tags, now)?;
    Ok(Contact {
        id,
        phone: new.phone.clone(),
        name: new.name.as_ref().map(|n| n.as_str().to_owned()),
        email: new.email.as_ref().map(|e| e.as_str().to_owned()),
        tags,
        custom_fields: new.custom_fields.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

/// Writes the contact's own row, with its tags' names as the workspace spells them (from
/// [`KnownTags::names`]) but not its links to them, and returns its `seq`, or `None`
/// when the workspace already has the phone. The one place a contact row is written, so
/// the API and `kontak import` store contacts identically (the counts follow through
/// the schema's triggers; the search index through the search queue).
pub(super) fn insert_contact_row(
    tx: &Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    tag_names: &[String],
    id: Uuid,
    now: Timestamp,
) -> Result<Option<i64>, StorageError> {
    let name = new.name.as_ref().map(|n| n.as_str());
    let email = new.email.as_ref().map(|e| e.as_str());
    // The unique index settles duplicates; DO NOTHING turns a clash into "0 rows" for
    // the caller to report, rather than an error that would abort a bulk import.
    let inserted = tx
        .prepare_cached(
            "INSERT INTO contacts
                 (id, workspace_id, phone, name, email, custom_fields, search_text, tag_names,
                  created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (workspace_id, phone) DO NOTHING",
        )?
        .execute(params![
            id.to_string(),
            workspace.0,
            new.phone.as_str(),
            name,
            email,
            new.custom_fields.to_json_text(),
            search_text(name, email),
            tag_names_column(tag_names),
            now.to_storage(),
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// Turns a unique violation on the phone into `DuplicatePhone` naming the holder.
pub(super) fn phone_conflict(
    conn: &Connection,
    workspace: WorkspaceId,
    phone: &Phone,
    err: rusqlite::Error,
) -> StorageError {
    if !is_unique_violation(&err) {
        return err.into();
    }
    match find_by_phone(conn, workspace, phone) {
        Ok(Some(holder)) => StorageError::DuplicatePhone {
            existing_id: holder.contact.id,
        },
        Ok(None) => StorageError::Internal("conflicting contact not found".into()),
        Err(other) => other,
    }
}

/// The workspace's contact with this id. A malformed id finds nothing, like any other
/// unknown id.
pub fn get_contact(
    conn: &Connection,
    workspace: WorkspaceId,
    id: &str,
) -> Result<Option<Contact>, StorageError> {
    Ok(find_by_id(conn, workspace, id)?.map(|stored| stored.contact))
}

pub fn get_contact_by_phone(
    conn: &Connection,
    workspace: WorkspaceId,
    phone: &Phone,
) -> Result<Option<Contact>, StorageError> {
    Ok(find_by_phone(conn, workspace, phone)?.map(|stored| stored.contact))
}

pub(super) fn find_by_id(
    conn: &Connection,
    workspace: WorkspaceId,
    id: &str,
) -> Result<Option<StoredContact>, StorageError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    find_one(
        conn,
        "c.workspace_id = ?1 AND c.id = ?2",
        workspace,
        &id.to_string(),
    )
}

pub(super) fn find_by_phone(
    conn: &Connection,
    workspace: WorkspaceId,
    phone: &Phone,
) -> Result<Option<StoredContact>, StorageError> {
    find_one(
        conn,
        "c.workspace_id = ?1 AND c.phone = ?2",
        workspace,
        phone.as_str(),
    )
}

pub(super) fn find_by_seq(conn: &Connection, seq: i64) -> Result<StoredContact, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.seq = ?1"
    ))?
    .query_row(params![seq], |row| Ok(stored_from_row(row)))?
}

fn find_one(
    conn: &Connection,
    condition: &str,
    workspace: WorkspaceId,
    key: &str,
) -> Result<Option<StoredContact>, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE {condition}"
    ))?
    .query_row(params![workspace.0, key], |row| Ok(stored_from_row(row)))
    .optional()?
    .transpose()
}

/// Deletes the contact and leaves a tombstone for sync feeds. Returns the deleted id.
pub fn delete_contact(
    conn: &mut Connection,
    workspace: WorkspaceId,
    id: &str,
    if_match: &IfMatch,
    now: Timestamp,
) -> Result<Uuid, StorageError> {
    in_savepoint(conn, || {
        let stored = find_by_id(conn, workspace, id)?.ok_or(StorageError::NotFound)?;
        if !if_match.allows(stored.contact.version) {
            return Err(StorageError::PreconditionFailed);
        }
        conn.execute("DELETE FROM contacts WHERE seq = ?1", params![stored.seq])?;
        conn.execute(
            "INSERT INTO deleted_contacts (id, workspace_id, deleted_at) VALUES (?1, ?2, ?3)",
            params![stored.contact.id.to_string(), workspace.0, now.to_storage()],
        )?;
        Ok(stored.contact.id)
    })
}

pub(super) fn search_text(name: Option<&str>, email: Option<&str>) -> String {
    format!(
        "{}{SEARCH_SEPARATOR}{}",
        fold_case(name.unwrap_or_default()),
        fold_case(email.unwrap_or_default())
    )
}

pub(super) fn contact_from_row(row: &Row<'_>) -> Result<Contact, StorageError> {
    let custom_fields: String = row.get(4)?;
    let tags: String = row.get(8)?;
    Ok(Contact {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        phone: Phone::from_trusted(row.get(1)?),
        name: row.get(2)?,
        email: row.get(3)?,
        custom_fields: CustomFields::from_stored(custom_fields).map_err(StorageError::Internal)?,
        created_at: parse_timestamp(&row.get::<_, String>(5)?)?,
        updated_at: parse_timestamp(&row.get::<_, String>(6)?)?,
        version: row.get(7)?,
        tags: tag_names_from_column(&tags)?,
    })
}

fn stored_from_row(row: &Row<'_>) -> Result<StoredContact, StorageError> {
    Ok(StoredContact {
        contact: contact_from_row(row)?,
        seq: row.get(9)?,
    })
}

pub(super) fn parse_uuid(text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text)
        .map_err(|err| StorageError::Internal(format!("stored id {text:?}: {err}")))
}

pub(super) fn parse_timestamp(text: &str) -> Result<Timestamp, StorageError> {
    Timestamp::parse(text).ok_or_else(|| StorageError::Internal(format!("stored time {text:?}")))
}

/// Inserts `contacts` (each with its creation time) into the workspace if it holds no
/// contacts yet, in one transaction. Returns how many were inserted: 0 when the
/// workspace already had contacts, which are never touched.
pub fn seed_empty_workspace(
    conn: &mut Connection,
    workspace: WorkspaceId,
    contacts: &[(NewContact, Timestamp)],
) -> Result<usize, StorageError> {
    // Called from the CLI, beside a possibly running server: take the write lock before
    // reading, so the count cannot go stale before the inserts.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: i64 = tx.query_row(
        "SELECT count(*) FROM contacts WHERE workspace_id = ?1",
        params![workspace.0],
        |row| row.get(0),
    )?;
    if existing > 0 {
        return Ok(0);
    }
    for (contact, created_at) in contacts {
        insert_in(&tx, workspace, contact, *created_at)?;
    }
    apply_search_queue(&tx)?;
    tx.commit()?;
    Ok(contacts.len())
}
