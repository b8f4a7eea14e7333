//! `POST /v1/contacts`: validation, normalisation, duplicates, and the shape of a contact.

mod common;

use common::{assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[actix_web::test]
async fn create_returns_201_with_the_reference_shape_and_location() {
    let app = spawn_app().await;
    let response = app
        .create_contact(&json!({
            "phone": "628123456789",
            "name": "Hafari",
            "email": "hafari@example.com",
            "tags": ["customer"],
            "custom_fields": {"company": "PT ABC", "tier": "gold"}
        }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], true);
    let contact = &body["data"];
    let id = contact["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(location, format!("/v1/contacts/{id}"));
    assert_eq!(contact["phone"], "+628123456789");
    assert_eq!(contact["name"], "Hafari");
    assert_eq!(contact["email"], "hafari@example.com");
    assert_eq!(contact["tags"], json!(["customer"]));
    assert_eq!(
        contact["custom_fields"],
        json!({"company": "PT ABC", "tier": "gold"})
    );
    let created_at = contact["created_at"].as_str().unwrap();
    assert_eq!(
        created_at.len(),
        "2026-04-27T11:20:00Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z'));
    assert_eq!(contact["updated_at"], contact["created_at"]);
    let mut keys: Vec<&str> = contact
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "custom_fields",
            "email",
            "id",
            "name",
            "phone",
            "tags",
            "updated_at"
        ]
    );
}

#[actix_web::test]
async fn a_phone_only_contact_has_null_name_and_email_and_empty_tags_and_fields() {
    let app = spawn_app().await;
    let contact = app.created(&json!({"phone": "+628123456789"})).await;
    assert_eq!(contact["name"], Value::Null);
    assert_eq!(contact["email"], Value::Null);
    assert_eq!(contact["tags"], json!([]));
    assert_eq!(contact["custom_fields"], json!({}));
}

#[actix_web::test]
async fn every_spelling_of_a_number_is_one_contact() {
    let app = spawn_app().await;
    let first = app.created(&json!({"phone": "628123456789"})).await;
    assert_eq!(first["phone"], "+628123456789");
    for spelling in ["+628123456789", "+62 812-3456-789", "(62) 812.3456.789"] {
        let response = app.create_contact(&json!({"phone": spelling})).await;
        let error = assert_error(response, StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS").await;
        assert_eq!(error["field"], "phone");
        assert_eq!(
            error["details"]["existing_id"], first["id"],
            "spelling {spelling}"
        );
    }
    assert_eq!(app.listed("").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn invalid_bodies_get_the_precise_code_and_field() {
    let app = spawn_app().await;
    let long_name = "n".repeat(201);
    let cases: Vec<(&str, Value, &str, Option<&str>)> = vec![
        (
            "missing phone",
            json!({"name": "A"}),
            "VALIDATION_MISSING_FIELD",
            Some("phone"),
        ),
        (
            "null phone",
            json!({"phone": null}),
            "VALIDATION_MISSING_FIELD",
            Some("phone"),
        ),
        (
            "empty phone",
            json!({"phone": ""}),
            "VALIDATION_MISSING_FIELD",
            Some("phone"),
        ),
        (
            "blank phone",
            json!({"phone": "   "}),
            "VALIDATION_MISSING_FIELD",
            Some("phone"),
        ),
        (
            "short phone",
            json!({"phone": "6281234"}),
            "VALIDATION_INVALID_PHONE",
            Some("phone"),
        ),
        (
            "long phone",
            json!({"phone": "6281234567890123"}),
            "VALIDATION_INVALID_PHONE",
            Some("phone"),
        ),
        (
            "local phone",
            json!({"phone": "08123456789"}),
            "VALIDATION_INVALID_PHONE",
            Some("phone"),
        ),
        (
            "letters",
            json!({"phone": "62812abc6789"}),
            "VALIDATION_INVALID_PHONE",
            Some("phone"),
        ),
        (
            "numeric phone",
            json!({"phone": 628123456789u64}),
            "VALIDATION_INVALID_FIELD",
            Some("phone"),
        ),
        (
            "bad email",
            json!({"phone": "628123456789", "email": "hafari@"}),
            "VALIDATION_INVALID_EMAIL",
            Some("email"),
        ),
        (
            "empty email",
            json!({"phone": "628123456789", "email": ""}),
            "VALIDATION_INVALID_EMAIL",
            Some("email"),
        ),
        (
            "numeric email",
            json!({"phone": "628123456789", "email": 1}),
            "VALIDATION_INVALID_FIELD",
            Some("email"),
        ),
        (
            "object name",
            json!({"phone": "628123456789", "name": {}}),
            "VALIDATION_INVALID_FIELD",
            Some("name"),
        ),
        (
            "long name",
            json!({"phone": "628123456789", "name": long_name}),
            "VALIDATION_INVALID_FIELD",
            Some("name"),
        ),
        (
            "tags string",
            json!({"phone": "628123456789", "tags": "vip"}),
            "VALIDATION_INVALID_FIELD",
            Some("tags"),
        ),
        (
            "tag number",
            json!({"phone": "628123456789", "tags": ["vip", 1]}),
            "VALIDATION_INVALID_FIELD",
            Some("tags[1]"),
        ),
        (
            "blank tag",
            json!({"phone": "628123456789", "tags": [" "]}),
            "VALIDATION_INVALID_FIELD",
            Some("tags[0]"),
        ),
        (
            "fields array",
            json!({"phone": "628123456789", "custom_fields": []}),
            "VALIDATION_INVALID_FIELD",
            Some("custom_fields"),
        ),
        (
            "null value",
            json!({"phone": "628123456789", "custom_fields": {"a": null}}),
            "VALIDATION_INVALID_FIELD",
            Some("custom_fields.a"),
        ),
        (
            "array value",
            json!({"phone": "628123456789", "custom_fields": {"a": [1]}}),
            "VALIDATION_INVALID_FIELD",
            Some("custom_fields.a"),
        ),
        (
            "object value",
            json!({"phone": "628123456789", "custom_fields": {"a": {"b": 1}}}),
            "VALIDATION_INVALID_FIELD",
            Some("custom_fields.a"),
        ),
        (
            "unknown field",
            json!({"phone": "628123456789", "emial": "a@b.co"}),
            "VALIDATION_UNKNOWN_FIELD",
            Some("emial"),
        ),
        (
            "array body",
            json!([{"phone": "628123456789"}]),
            "VALIDATION_INVALID_JSON",
            None,
        ),
        (
            "string body",
            json!("628123456789"),
            "VALIDATION_INVALID_JSON",
            None,
        ),
    ];
    for (case, body, code, field) in cases {
        let response = app.create_contact(&body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "case {case}");
        let error: Value = response.json::<Value>().await.unwrap()["error"].clone();
        assert_eq!(error["code"], code, "case {case}: {error}");
        assert_eq!(error["field"].as_str(), field, "case {case}: {error}");
    }
    let listed = app.listed("").await;
    assert_eq!(
        listed["meta"]["total"], 0,
        "a rejected request writes nothing"
    );
}

#[actix_web::test]
async fn a_rejected_request_creates_no_tags() {
    let app = spawn_app().await;
    let response = app
        .create_contact(&json!({"phone": "1", "tags": ["ghost"]}))
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "VALIDATION_INVALID_PHONE",
    )
    .await;
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let tags: i64 = conn
        .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tags, 0);
}

#[actix_web::test]
async fn malformed_json_is_invalid_json() {
    let app = spawn_app().await;
    for raw in ["{\"phone\":", "", "{'phone': '628123456789'}", "nul"] {
        let response = app
            .client
            .post(app.url("/v1/contacts"))
            .bearer_auth(&app.key)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, "VALIDATION_INVALID_JSON").await;
    }
}

#[actix_web::test]
async fn tags_are_trimmed_deduplicated_case_insensitively_and_share_the_first_spelling() {
    let app = spawn_app().await;
    let first = app
        .created(
            &json!({"phone": "628111111111", "tags": [" VIP ", "customer", "vip", "Customer"]}),
        )
        .await;
    assert_eq!(first["tags"], json!(["VIP", "customer"]));
    // Tags are workspace records: a later "vip" is the same tag, spelt as first created.
    let second = app
        .created(&json!({"phone": "628222222222", "tags": ["lead", "vip"]}))
        .await;
    assert_eq!(second["tags"], json!(["lead", "VIP"]));
    let listed = app.listed("").await;
    assert_eq!(listed["data"][0]["tags"], json!(["lead", "VIP"]));
    assert_eq!(listed["data"][1]["tags"], json!(["VIP", "customer"]));
}

#[actix_web::test]
async fn custom_field_numbers_keep_their_type_and_keys_their_order() {
    let app = spawn_app().await;
    let fields = json!({
        "customer_id": "CUST-2026-0042",
        "lifetime_value": 12500000,
        "discount": 0.25,
        "is_subscriber": true,
        "last_purchase_at": "2026-04-15"
    });
    let created = app
        .created(&json!({"phone": "628123456789", "custom_fields": fields}))
        .await;
    let listed = app.listed("").await;
    for contact in [&created, &listed["data"][0]] {
        let text = contact["custom_fields"].to_string();
        assert_eq!(
            text,
            r#"{"customer_id":"CUST-2026-0042","lifetime_value":12500000,"discount":0.25,"is_subscriber":true,"last_purchase_at":"2026-04-15"}"#
        );
    }
}

#[actix_web::test]
async fn names_are_trimmed_unicode_is_kept_and_blank_becomes_null() {
    let app = spawn_app().await;
    let named = app
        .created(&json!({"phone": "628111111111", "name": "  Dewi Lestari 🌺 Ñúñez  "}))
        .await;
    assert_eq!(named["name"], "Dewi Lestari 🌺 Ñúñez");
    let blank = app
        .created(&json!({"phone": "628222222222", "name": "   ", "email": null}))
        .await;
    assert_eq!(blank["name"], Value::Null);
    assert_eq!(blank["email"], Value::Null);
}

#[actix_web::test]
async fn concurrent_creates_of_one_number_give_exactly_one_201() {
    let app = spawn_app().await;
    let attempts = 24;
    let bodies: Vec<Value> = (0..attempts)
        .map(|i| {
            let spelling = if i % 2 == 0 {
                "628123456789"
            } else {
                "+62 812-3456-789"
            };
            json!({"phone": spelling, "name": format!("racer {i}")})
        })
        .collect();
    let responses = futures::future::join_all(bodies.iter().map(|b| app.create_contact(b))).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (created, conflicts),
        (1, attempts - 1),
        "statuses {statuses:?}"
    );
    assert_eq!(app.listed("").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn the_same_phone_may_exist_once_in_each_workspace() {
    let app = spawn_app().await;
    let other = app.new_key("globex", common::READ_WRITE);
    app.created(&json!({"phone": "628123456789"})).await;
    let response = app
        .create_contact_as(&other, &json!({"phone": "628123456789"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}
