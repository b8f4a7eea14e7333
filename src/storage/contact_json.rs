//! A listed contact's JSON, written straight from its row.
//!
//! Storage writes each column in the form the API shows (the id and phone as text,
//! tags and custom fields as JSON), except the times, which keep their milliseconds.
//! So a page need not build a [`Contact`] per row only to write it out again: parsing
//! rows into contacts and serialising those had been about half of a first page's
//! reading time (perf). Written from the rows, a first page of the bench's million
//! takes 326,000 instructions in the server rather than 363,000, and 310,000 with the
//! whole page written into one buffer (`bench/instructions.sh`; bench/ANALYSIS.md).

use std::cell::{Cell, RefCell};

use rusqlite::{Row, Rows};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::contacts::{stored_column, stored_text, stored_text_or_null};
use super::StorageError;
#[cfg(doc)]
use crate::domain::Contact;
use crate::domain::StoredTime;

/// A contact row as the API shows it: the fields and their order are [`Contact`]'s,
/// which the tests below hold it to.
#[derive(Serialize)]
struct ShownRow<'r> {
    id: &'r str,
    phone: &'r str,
    name: Option<&'r str>,
    email: Option<&'r str>,
    tags: &'r RawValue,
    custom_fields: &'r RawValue,
    created_at: StoredTime<'r>,
    updated_at: StoredTime<'r>,
}

/// The contacts of `rows` (which select
/// [`CONTACT_COLUMNS`](super::contacts::CONTACT_COLUMNS)) as one JSON array, each
/// written as SQLite steps to it, and how many there are. One buffer for the page,
/// rather than one per contact (grown twice or three times each, then copied into
/// the page): 17,000 fewer instructions per first page.
pub(super) fn contacts_json(rows: Rows<'_>) -> Result<(Box<RawValue>, usize), StorageError> {
    let shown = ShownRows {
        rows: RefCell::new(rows),
        count: Cell::new(0),
        failure: RefCell::new(None),
    };
    match serde_json::value::to_raw_value(&shown) {
        Ok(json) => Ok((json, shown.count.get())),
        Err(err) => Err(shown
            .failure
            .take()
            .unwrap_or_else(|| StorageError::Internal(format!("contacts as JSON: {err}")))),
    }
}

/// Rows serialised as a sequence while they are stepped through. A storage error met
/// on the way is kept aside, so that the caller gets it rather than a JSON error.
struct ShownRows<'s> {
    rows: RefCell<Rows<'s>>,
    count: Cell<usize>,
    failure: RefCell<Option<StorageError>>,
}

impl ShownRows<'_> {
    fn fail<E: serde::ser::Error>(&self, err: StorageError) -> E {
        let message = err.to_string();
        *self.failure.borrow_mut() = Some(err);
        E::custom(message)
    }
}

impl Serialize for ShownRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = self.rows.borrow_mut();
        let mut seq = serializer.serialize_seq(None)?;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(err) => return Err(self.fail(err.into())),
            };
            let shown = shown_row(row).map_err(|err| self.fail(err))?;
            seq.serialize_element(&shown)?;
            self.count.set(self.count.get() + 1);
        }
        seq.end()
    }
}

/// The JSON of the contact in `row`, which selects
/// [`CONTACT_COLUMNS`](super::contacts::CONTACT_COLUMNS): the same text as the
/// [`Contact`] that [`contact_from_row`](super::contacts::contact_from_row) reads
/// from it would serialise to.
pub(super) fn contact_json_from_row(row: &Row<'_>) -> Result<Box<RawValue>, StorageError> {
    serde_json::value::to_raw_value(&shown_row(row)?)
        .map_err(|err| StorageError::Internal(format!("stored contact as JSON: {err}")))
}

fn shown_row<'r>(row: &'r Row<'_>) -> Result<ShownRow<'r>, StorageError> {
    let text = |column: usize| stored_text(row, column);
    let json = |column: usize| -> Result<&RawValue, StorageError> {
        serde_json::from_str(text(column)?).map_err(stored_column(column))
    };
    Ok(ShownRow {
        id: text(0)?,
        phone: text(1)?,
        name: stored_text_or_null(row, 2)?,
        email: stored_text_or_null(row, 3)?,
        custom_fields: json(4)?,
        created_at: StoredTime(text(5)?),
        updated_at: StoredTime(text(6)?),
        tags: json(8)?,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};
    use serde_json::json;

    use super::*;
    use crate::domain::{ContactPatch, IfMatch, NewContact, PhoneRules, Timestamp};
    use crate::storage::contact_updates::update_contact;
    use crate::storage::contacts::{contact_from_row, insert_contact, CONTACT_COLUMNS};
    use crate::storage::workspaces::test_database;
    use crate::storage::WorkspaceId;

    fn create(conn: &mut Connection, ws: WorkspaceId, body: serde_json::Value) -> String {
        let new = NewContact::from_json(&body, &PhoneRules::default()).unwrap();
        insert_contact(conn, ws, &new, Timestamp::now())
            .unwrap()
            .id
            .to_string()
    }

    /// Each stored contact's JSON both ways: from the row, and through a [`Contact`].
    fn both_ways(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts c ORDER BY c.seq"
            ))
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut shown = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            let through_contact = serde_json::to_string(&contact_from_row(row).unwrap()).unwrap();
            shown.push((
                contact_json_from_row(row).unwrap().get().to_owned(),
                through_contact,
            ));
        }
        shown
    }

    #[test]
    fn rows_show_exactly_as_the_contacts_read_from_them() {
        let (mut conn, ws) = test_database();
        create(&mut conn, ws, json!({"phone": "+6281200000001"}));
        create(
            &mut conn,
            ws,
            json!({
                "phone": "+6281200000002",
                "name": "Siti \"Ani\" Rahayu \\ 王 😀",
                "email": "siti.rahayu@example.co.id",
                "tags": ["VIP", "pelanggan lama", "ünï"],
                "custom_fields": {
                    "kota": "Bandung\nJawa Barat",
                    "saldo": 12500000,
                    "rasio": 0.25,
                    "besar": 1.5e300,
                    "negatif": -3,
                    "aktif": true,
                    "kosong": ""
                }
            }),
        );
        let patched = create(
            &mut conn,
            ws,
            json!({"phone": "+6281200000003", "name": "Budi", "custom_fields": {"a": 1}}),
        );
        let patch = ContactPatch::from_json(
            &json!({"email": "budi@example.com", "tags": ["b", "a"], "custom_fields": {"z": "2", "a": null}}),
            &PhoneRules::default(),
        )
        .unwrap();
        update_contact(
            &mut conn,
            ws,
            &patched,
            &patch,
            &IfMatch::Anything,
            Timestamp::now(),
        )
        .unwrap();

        let shown = both_ways(&conn);
        assert_eq!(shown.len(), 3);
        for (from_row, through_contact) in &shown {
            assert_eq!(from_row, through_contact);
        }
        let budi: serde_json::Value = serde_json::from_str(&shown[2].0).unwrap();
        assert_eq!(budi["email"], "budi@example.com");
        assert_eq!(budi["tags"], json!(["b", "a"]));
        assert_eq!(budi["custom_fields"], json!({"z": "2"}));
    }

    /// Every stored contact as one array, from [`contacts_json`].
    fn all_as_array(conn: &Connection) -> Result<(Box<RawValue>, usize), StorageError> {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts c ORDER BY c.seq"
            ))
            .unwrap();
        let rows = stmt.query([]).unwrap();
        contacts_json(rows)
    }

    #[test]
    fn a_page_of_rows_is_the_array_of_their_contacts() {
        let (mut conn, ws) = test_database();
        let (empty, count) = all_as_array(&conn).unwrap();
        assert_eq!((empty.get(), count), ("[]", 0));
        for n in 0..3 {
            create(
                &mut conn,
                ws,
                json!({"phone": format!("+628120000000{n}"), "name": format!("Ani {n}"), "tags": ["a"]}),
            );
        }
        let (array, count) = all_as_array(&conn).unwrap();
        let one_by_one: Vec<String> = both_ways(&conn).into_iter().map(|(row, _)| row).collect();
        assert_eq!(count, 3);
        assert_eq!(array.get(), format!("[{}]", one_by_one.join(",")));
    }

    #[test]
    fn a_row_that_cannot_be_shown_fails_the_page_with_its_storage_error() {
        let (mut conn, ws) = test_database();
        create(&mut conn, ws, json!({"phone": "+6281200000001"}));
        create(&mut conn, ws, json!({"phone": "+6281200000002"}));
        conn.execute(
            "UPDATE contacts SET tag_names = 'not json' WHERE phone = '+6281200000002'",
            [],
        )
        .unwrap();
        let err = all_as_array(&conn).unwrap_err();
        assert!(
            matches!(&err, StorageError::Internal(message) if message.starts_with("stored column 8")),
            "{err:?}"
        );
    }

    #[test]
    fn times_stored_in_another_shape_show_as_their_contacts_do() {
        let (mut conn, ws) = test_database();
        create(&mut conn, ws, json!({"phone": "+6281200000001"}));
        conn.execute(
            "UPDATE contacts SET created_at = ?1, updated_at = ?2",
            params!["2026-04-27T18:20:00+07:00", "2026-04-27T11:20:00.5Z"],
        )
        .unwrap();
        let (from_row, through_contact) = both_ways(&conn).remove(0);
        assert_eq!(from_row, through_contact);
        assert!(from_row.contains(r#""created_at":"2026-04-27T11:20:00Z""#));
    }
}
