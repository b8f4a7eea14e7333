//! Contact rows: create and list, scoped to one workspace in every statement.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::tags::attach_tags;
use super::{StorageError, WorkspaceId};
use crate::domain::{fold_case, Contact, CustomFields, ListQuery, NewContact, Phone, Timestamp};

/// Joins the case-folded name and email. A search term cannot contain this control
/// character, so no match can span the two.
const SEARCH_SEPARATOR: char = '\u{1f}';

/// The columns every contact read selects, in the order [`contact_from_row`] reads them.
const CONTACT_COLUMNS: &str =
    "c.id, c.phone, c.name, c.email, c.custom_fields, c.created_at, c.updated_at,
       (SELECT json_group_array(t.name ORDER BY ct.position)
          FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.contact_seq = c.seq)";

/// One page of a list, and how many contacts match in all.
#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    pub total: u64,
}

/// Inserts a contact and its tags in one transaction. A phone the workspace already has
/// is reported with the existing contact's id, and nothing is written.
pub fn insert_contact(
    conn: &mut Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = Uuid::now_v7();
    let Some(seq) = insert_contact_row(&tx, workspace, new, id, now)? else {
        let existing_id = find_id_by_phone(&tx, workspace, &new.phone)?
            .ok_or_else(|| StorageError::Internal("conflicting contact not found".into()))?;
        return Err(StorageError::DuplicatePhone { existing_id });
    };
    let tags = attach_tags(&tx, workspace, seq, &new.tags, now)?;
    tx.commit()?;
    Ok(Contact {
        id,
        phone: new.phone.clone(),
        name: new.name.as_ref().map(|n| n.as_str().to_owned()),
        email: new.email.as_ref().map(|e| e.as_str().to_owned()),
        tags,
        custom_fields: new.custom_fields.clone(),
        created_at: now,
        updated_at: now,
    })
}

/// Writes the contact's own row (not its tags) and returns its `seq`, or `None` when the
/// workspace already has the phone. The one place a contact row is written, so the API
/// and `kontak import` store contacts identically.
pub(super) fn insert_contact_row(
    tx: &Transaction<'_>,
    workspace: WorkspaceId,
    new: &NewContact,
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
                 (id, workspace_id, phone, name, email, custom_fields, search_text, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
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
            now.to_string(),
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// The id of the workspace's contact with this phone, if there is one.
pub fn find_id_by_phone(
    conn: &Connection,
    workspace: WorkspaceId,
    phone: &Phone,
) -> Result<Option<Uuid>, StorageError> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM contacts WHERE workspace_id = ?1 AND phone = ?2")?
        .query_row(params![workspace.0, phone.as_str()], |row| row.get(0))
        .optional()?;
    id.map(|id| parse_uuid(&id)).transpose()
}

/// A page of the workspace's contacts, newest first, and the total that match. Both
/// are read in one transaction so the total agrees with the page.
pub fn list_contacts(
    conn: &Connection,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    let folded = query.search.as_ref().map(|s| s.folded());
    let digits = query.search.as_ref().and_then(|s| s.phone_digits());
    // instr() matches literally, so '%' and '_' in a term are plain characters.
    let filter = "c.workspace_id = ?1
          AND (?2 IS NULL OR instr(c.search_text, ?2) > 0 OR instr(c.phone, ?3) > 0)";

    let tx = conn.unchecked_transaction()?;
    let total: i64 = tx
        .prepare_cached(&format!("SELECT count(*) FROM contacts c WHERE {filter}"))?
        .query_row(params![workspace.0, folded, digits], |row| row.get(0))?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE {filter}
          ORDER BY c.created_at DESC, c.seq DESC
          LIMIT ?4 OFFSET ?5"
    ))?;
    let offset = i64::try_from(query.offset()).unwrap_or(i64::MAX);
    let contacts = stmt
        .query_and_then(
            params![workspace.0, folded, digits, query.per_page, offset],
            contact_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    tx.finish()?;
    Ok(ContactPage {
        contacts,
        total: total as u64,
    })
}

fn search_text(name: Option<&str>, email: Option<&str>) -> String {
    format!(
        "{}{SEARCH_SEPARATOR}{}",
        fold_case(name.unwrap_or_default()),
        fold_case(email.unwrap_or_default())
    )
}

fn contact_from_row(row: &Row<'_>) -> Result<Contact, StorageError> {
    let custom_fields: String = row.get(4)?;
    let tags: Option<String> = row.get(7)?;
    Ok(Contact {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        phone: Phone::from_trusted(row.get(1)?),
        name: row.get(2)?,
        email: row.get(3)?,
        custom_fields: CustomFields::from_trusted(parse_json::<Map<String, Value>>(
            &custom_fields,
        )?),
        tags: tags
            .map(|t| parse_json(&t))
            .transpose()?
            .unwrap_or_default(),
        created_at: parse_timestamp(&row.get::<_, String>(5)?)?,
        updated_at: parse_timestamp(&row.get::<_, String>(6)?)?,
    })
}

fn parse_uuid(text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text)
        .map_err(|err| StorageError::Internal(format!("stored id {text:?}: {err}")))
}

fn parse_timestamp(text: &str) -> Result<Timestamp, StorageError> {
    Timestamp::parse(text).ok_or_else(|| StorageError::Internal(format!("stored time {text:?}")))
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|err| StorageError::Internal(format!("stored JSON: {err}")))
}
