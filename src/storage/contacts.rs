//! Contact rows: create, read, delete. Every statement names the workspace, so an id
//! from another workspace is indistinguishable from one that does not exist.

use std::collections::HashMap;
use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, TransactionBehavior};
use uuid::Uuid;

use super::connection::in_savepoint;
use super::error::is_unique_violation;
use super::search_queue::apply_search_queue;
use super::tags::{link_tags, tag_names_column, tag_names_from_column, KnownTags};
use super::{StorageError, WorkspaceId};
use crate::domain::{fold_case, Contact, CustomFields, IfMatch, NewContact, Phone, Timestamp};

/// Joins the case-folded name and email. A search term cannot contain this control
/// character, so no match can span the two; and since the name comes first, sorting
/// by this column sorts by case-folded name. The triggers also join the phone digits
/// with it (`char(31)`) in the text they queue for the search indexes.
pub(super) const SEARCH_SEPARATOR: char = '\u{1f}';

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
/// is reported with the existing contact's id, and nothing is written. The tests'
/// shorthand: the server's creates go through its writer (contact_creates.rs).
#[cfg(test)]
pub fn insert_contact(
    conn: &mut Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    in_savepoint(conn, || insert_in(conn, workspace, new, now))
}

/// One contact, created at `now` in the caller's transaction: for PUT by phone and
/// the demo's seeding, which each write a contact alone.
pub(super) fn insert_in(
    tx: &Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    let mut tags = KnownTags::new(workspace);
    let written = insert_new_contacts(tx, &mut tags, workspace, &[new], now)?
        .pop()
        .flatten();
    created_or_duplicate(tx, workspace, new, written, now)
}

/// A contact just written: its id and its tags' names as the workspace spells them.
pub(super) struct Written {
    pub id: Uuid,
    pub tag_names: Vec<String>,
}

/// The answer to a create: the contact `written` at `now`, or, where it was not written
/// (`None`) because the workspace already has its phone, `DuplicatePhone` naming the
/// holder.
pub(super) fn created_or_duplicate(
    tx: &Connection,
    workspace: WorkspaceId,
    new: &NewContact,
    written: Option<Written>,
    now: Timestamp,
) -> Result<Contact, StorageError> {
    let Some(Written { id, tag_names }) = written else {
        let holder = find_by_phone(tx, workspace, &new.phone)?
            .ok_or_else(|| StorageError::Internal("conflicting contact not found".into()))?;
        return Err(StorageError::DuplicatePhone {
            existing_id: holder.contact.id,
        });
    };
    Ok(Contact {
        id,
        phone: new.phone.clone(),
        name: new.name.as_ref().map(|n| n.as_str().to_owned()),
        email: new.email.as_ref().map(|e| e.as_str().to_owned()),
        tags: tag_names,
        custom_fields: new.custom_fields.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

/// Writes up to [`MAX_ROWS_PER_INSERT`] new contacts of one workspace, all created at
/// `now`, with their tag links: one statement for the rows, one for the links (see
/// [`insert_contact_rows`] for why statements are few). Returns, in `contacts`' order,
/// each one written, or `None` where the workspace already has its phone (or an earlier
/// one of `contacts` has it). `tags` may be kept across calls within a transaction.
///
/// Every new contact is written here, one or many: the API's creates and upserts,
/// `kontak import`'s chunks, the demo's seeding. So they are all stored alike; the
/// counts follow through the schema's triggers, the search index through its queue.
pub(super) fn insert_new_contacts(
    tx: &Connection,
    tags: &mut KnownTags,
    workspace: WorkspaceId,
    contacts: &[&NewContact],
    now: Timestamp,
) -> Result<Vec<Option<Written>>, StorageError> {
    let mut rows = Vec::with_capacity(contacts.len());
    let mut names = Vec::with_capacity(contacts.len());
    for new in contacts {
        let tag_names = tags.names(tx, &new.tags)?;
        rows.push(NewRow {
            contact: new,
            tag_names: tag_names_column(&tag_names),
            id: Uuid::now_v7(),
        });
        names.push(tag_names);
    }
    let seqs = insert_contact_rows(tx, workspace, &rows, now)?;
    let mut links = Vec::new();
    let mut written = Vec::with_capacity(rows.len());
    for ((row, tag_names), seq) in rows.iter().zip(names).zip(seqs) {
        written.push(match seq {
            Some(seq) => {
                links.extend(tags.links(tx, seq, &row.contact.tags, now)?);
                Some(Written {
                    id: row.id,
                    tag_names,
                })
            }
            None => None,
        });
    }
    link_tags(tx, &links)?;
    Ok(written)
}

/// A contact row to write: the contact, its tags' names (a `tag_names` column, from
/// [`tag_names_column`]) and its id.
pub(super) struct NewRow<'a> {
    pub contact: &'a NewContact,
    pub tag_names: String,
    pub id: Uuid,
}

/// Most contact rows one statement writes. SQLite allows 32,766 parameters; a row
/// takes 7.
pub(super) const MAX_ROWS_PER_INSERT: usize = 100;

/// Writes contacts' own rows (not their links to tags) in one statement, all created at
/// `now`, and returns each one's `seq` in `rows`' order, or `None` where the workspace
/// already has the phone (or an earlier row of `rows` has it).
///
/// One statement for many rows because inside a transaction SQLite gives each
/// statement that fires triggers a journal of the pages it changes, to undo it alone:
/// a row per statement copied about ten pages per contact, a third of an import's work.
pub(super) fn insert_contact_rows(
    tx: &Connection,
    workspace: WorkspaceId,
    rows: &[NewRow<'_>],
    now: Timestamp,
) -> Result<Vec<Option<i64>>, StorageError> {
    assert!(
        (1..=MAX_ROWS_PER_INSERT).contains(&rows.len()),
        "1 to {MAX_ROWS_PER_INSERT} rows per statement"
    );
    // Each statement text is built once: a million imported contacts pass ten thousand
    // full chunks, and the server's writer writes a few creates at a time, many times a
    // second. Building the text only to find the prepared statement in the cache was
    // 1.8% of an import's profile and 2% of the writer's under concurrent creates.
    static INSERT_SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
        (1..=MAX_ROWS_PER_INSERT)
            .map(insert_returning_sql)
            .collect()
    });
    let sql = &INSERT_SQL[rows.len() - 1];
    let values = shared_values(workspace, now)
        .into_iter()
        .chain(rows.iter().flat_map(row_values));
    let mut inserted: HashMap<String, i64> = tx
        .prepare_cached(sql)?
        .query_map(params_from_iter(values), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // SQLite does not promise RETURNING's order, so rows are matched by phone; of two
    // rows with one phone, the first was written.
    Ok(rows
        .iter()
        .map(|row| inserted.remove(row.contact.phone.as_str()))
        .collect())
}

/// [`insert_sql`] answering each written row's phone and seq.
fn insert_returning_sql(rows: usize) -> String {
    format!("{} RETURNING phone, seq", insert_sql(rows))
}

/// The INSERT of `rows` contact rows. ?1 (the time) and ?2 (the workspace) are shared,
/// from [`shared_values`]; then come 7 values a row, from [`row_values`]. The unique
/// index settles duplicates: DO NOTHING turns a clash into a row not written, rather
/// than an error that would abort a bulk import.
fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let own: Vec<String> = (3 + 7 * r..10 + 7 * r).map(|n| format!("?{n}")).collect();
            // The id, the workspace, the row's six other values, then both times.
            format!("({}, ?2, {}, ?1, ?1)", own[0], own[1..].join(", "))
        })
        .collect();
    format!(
        "INSERT INTO contacts
             (id, workspace_id, phone, name, email, custom_fields, search_text, tag_names,
              created_at, updated_at)
         VALUES {}
         ON CONFLICT (workspace_id, phone) DO NOTHING",
        tuples.join(", ")
    )
}

fn shared_values(workspace: WorkspaceId, now: Timestamp) -> [Value; 2] {
    [now.to_storage().into(), workspace.0.into()]
}

/// A row's own values for [`insert_sql`]: id, phone, name, email, custom fields, search
/// text, tag names.
fn row_values(row: &NewRow<'_>) -> [Value; 7] {
    let name = row.contact.name.as_ref().map(|n| n.as_str());
    let email = row.contact.email.as_ref().map(|e| e.as_str());
    [
        row.id.to_string().into(),
        row.contact.phone.as_str().to_owned().into(),
        name.map(str::to_owned).into(),
        email.map(str::to_owned).into(),
        row.contact.custom_fields.to_json_text().into(),
        search_text(name, email).into(),
        row.tag_names.clone().into(),
    ]
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
    read_by_seq(conn, seq, stored_from_row)
}

/// The contact with this seq, as `read` takes it from its row of [`CONTACT_COLUMNS`].
pub(super) fn read_by_seq<T>(
    conn: &Connection,
    seq: i64,
    read: impl FnOnce(&Row<'_>) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.seq = ?1"
    ))?
    .query_row(params![seq], |row| Ok(read(row)))?
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

/// The text a contact's name and email are searched in: both case-folded, joined by
/// [`SEARCH_SEPARATOR`]. Public for the bench's floor (bench/sqlite_floor.rs), which
/// writes its rows with plain SQL but must store the same text.
pub fn search_text(name: Option<&str>, email: Option<&str>) -> String {
    format!(
        "{}{SEARCH_SEPARATOR}{}",
        fold_case(name.unwrap_or_default()),
        fold_case(email.unwrap_or_default())
    )
}

/// Whether a contact's [`search_text`] is that of a contact without a name: a name is
/// never empty (nor is its folded form), so only then does the text start with the
/// separator. Name-ordered searches rank by the text alone (list_order.rs).
pub(super) fn names_nobody(search_text: &str) -> bool {
    search_text.starts_with(SEARCH_SEPARATOR)
}

/// Text column `column` of `row`, read in place rather than copied into a String.
pub(super) fn stored_text<'r>(row: &'r Row<'_>, column: usize) -> Result<&'r str, StorageError> {
    row.get_ref(column)?.as_str().map_err(stored_column(column))
}

/// As [`stored_text`], with `None` for NULL.
pub(super) fn stored_text_or_null<'r>(
    row: &'r Row<'_>,
    column: usize,
) -> Result<Option<&'r str>, StorageError> {
    row.get_ref(column)?
        .as_str_or_null()
        .map_err(stored_column(column))
}

/// The error for a stored column that is not what kontak wrote there.
pub(super) fn stored_column<E: std::fmt::Display>(column: usize) -> impl Fn(E) -> StorageError {
    move |err| StorageError::Internal(format!("stored column {column}: {err}"))
}

/// Columns only parsed are read in place ([`stored_text`]), not copied into a String
/// first: a page of contacts reads twenty rows of them.
pub(super) fn contact_from_row(row: &Row<'_>) -> Result<Contact, StorageError> {
    let text = |column: usize| stored_text(row, column);
    Ok(Contact {
        id: parse_uuid(text(0)?)?,
        phone: Phone::from_trusted(row.get(1)?),
        name: row.get(2)?,
        email: row.get(3)?,
        custom_fields: CustomFields::from_stored(row.get(4)?).map_err(StorageError::Internal)?,
        created_at: parse_timestamp(text(5)?)?,
        updated_at: parse_timestamp(text(6)?)?,
        version: row.get(7)?,
        tags: tag_names_from_column(text(8)?)?,
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
