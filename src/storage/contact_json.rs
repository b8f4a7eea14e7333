//! A listed contact's JSON, written straight from its row.
//!
//! Storage writes each column in the form the API shows (the id and phone as text,
//! tags and custom fields as JSON), except the times, which keep their milliseconds.
//! So a page need not build a [`Contact`] per row only to write it out again: parsing
//! rows into contacts and serialising those had been about half of a first page's
//! reading time (perf). Written from the rows, a first page of the bench's million
//! takes 326,000 instructions in the server rather than 363,000 (callgrind, 300
//! requests after 5; bench/ANALYSIS.md).

use rusqlite::Row;
use serde::Serialize;
use serde_json::value::RawValue;

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

/// The JSON of the contact in `row`, which selects
/// [`CONTACT_COLUMNS`](super::contacts::CONTACT_COLUMNS): the same text as the
/// [`Contact`] that [`contact_from_row`](super::contacts::contact_from_row) reads
/// from it would serialise to.
pub(super) fn contact_json_from_row(row: &Row<'_>) -> Result<Box<RawValue>, StorageError> {
    let text = |column: usize| -> Result<&str, StorageError> {
        row.get_ref(column)?
            .as_str()
            .map_err(|err| StorageError::Internal(format!("stored column {column}: {err}")))
    };
    let optional_text = |column: usize| -> Result<Option<&str>, StorageError> {
        row.get_ref(column)?
            .as_str_or_null()
            .map_err(|err| StorageError::Internal(format!("stored column {column}: {err}")))
    };
    let json = |column: usize| -> Result<&RawValue, StorageError> {
        serde_json::from_str(text(column)?)
            .map_err(|err| StorageError::Internal(format!("stored column {column}: {err}")))
    };
    let shown = ShownRow {
        id: text(0)?,
        phone: text(1)?,
        name: optional_text(2)?,
        email: optional_text(3)?,
        custom_fields: json(4)?,
        created_at: StoredTime(text(5)?),
        updated_at: StoredTime(text(6)?),
        tags: json(8)?,
    };
    serde_json::value::to_raw_value(&shown)
        .map_err(|err| StorageError::Internal(format!("stored contact as JSON: {err}")))
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
