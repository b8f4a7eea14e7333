//! Regression tests for what the property tests and the schemathesis run
//! (`tests/contract/schemathesis.sh`) found, each at the HTTP edge where a client
//! would have met it.

mod common;

use common::{assert_error, spawn_app};
use reqwest::StatusCode;

/// `9999-12-31T23:59:59-00:01` is a valid RFC 3339 time whose UTC instant is in year
/// 10000. Converting it panicked in the worker, and the client got a dropped
/// connection instead of an answer.
#[actix_web::test]
async fn a_since_time_past_year_9999_in_utc_is_400_not_a_dropped_connection() {
    let app = spawn_app().await;
    for param in ["updated_since", "created_since"] {
        let response = app
            .list(&format!("{param}=9999-12-31T23:59:59-00:01"))
            .await;
        let error = assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "VALIDATION_INVALID_PARAM",
        )
        .await;
        assert_eq!(error["field"], param);
    }
    // The server is still whole afterwards.
    assert_eq!(app.list("").await.status(), StatusCode::OK);
}

/// Schemathesis (stateful, random seed) created a contact with an `Idempotency-Key` it
/// had used before, got 201, and then 404 for the id. Not a bug: the key's first create
/// had made that contact, a later step had deleted it, and the retry got the stored
/// answer, as promised. The document now says so, and this pins it down.
#[actix_web::test]
async fn a_replayed_create_names_the_contact_it_made_even_after_a_delete() {
    let app = spawn_app().await;
    let body = serde_json::json!({"phone": "+628123456789"});
    let create = || {
        app.call(reqwest::Method::POST, "/v1/contacts", Some(&body))
            .header("Idempotency-Key", "0")
    };
    let first = create().send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    let id = first["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete_contact(&id).await.status(), StatusCode::OK);

    let retry = create().send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_error(
        app.get_contact(&id).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    .await;
}
