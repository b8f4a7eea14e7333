//! `Idempotency-Key`: replay, reuse, concurrency, bounds, and per-key scoping.

mod common;

use common::{assert_error, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[actix_web::test]
async fn a_retry_replays_the_first_response_byte_for_byte() {
    let app = spawn_app().await;
    let body = json!({"phone": "628123456789", "name": "Hafari"});
    let send = || {
        app.call(Method::POST, "/v1/contacts", Some(&body))
            .header("idempotency-key", "create-1")
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let (location, etag) = (
        first.headers()["location"].clone(),
        first.headers()["etag"].clone(),
    );
    let first_body = first.bytes().await.unwrap();

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()["etag"], etag);
    assert_eq!(retry.headers()["content-type"], "application/json");
    assert_eq!(retry.bytes().await.unwrap(), first_body);
    assert_eq!(app.listed("").await["meta"]["total"], 1, "created once");
}

#[actix_web::test]
async fn the_same_key_with_a_different_body_is_422() {
    let app = spawn_app().await;
    let first = app
        .call(
            Method::POST,
            "/v1/contacts",
            Some(&json!({"phone": "628123456789"})),
        )
        .header("idempotency-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let other = app
        .call(
            Method::POST,
            "/v1/contacts",
            Some(&json!({"phone": "628999999999"})),
        )
        .header("idempotency-key", "k")
        .send()
        .await
        .unwrap();
    assert_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_eq!(app.listed("").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn errors_are_replayed_too_so_a_retry_cannot_change_the_outcome() {
    let app = spawn_app().await;
    let bad = json!({"phone": "0812"});
    for _ in 0..2 {
        let response = app
            .call(Method::POST, "/v1/contacts", Some(&bad))
            .header("idempotency-key", "bad-1")
            .send()
            .await
            .unwrap();
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "VALIDATION_INVALID_PHONE",
        )
        .await;
    }
}

#[actix_web::test]
async fn concurrent_requests_with_one_key_execute_once() {
    let app = spawn_app().await;
    let body = json!({"phone": "628123456789"});
    let requests = (0..12).map(|_| {
        app.call(Method::POST, "/v1/contacts", Some(&body))
            .header("idempotency-key", "race")
            .send()
    });
    let responses = futures::future::join_all(requests).await;
    let mut created = 0;
    for response in responses {
        let response = response.unwrap();
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                let error: Value = response.json().await.unwrap();
                assert_eq!(error["error"]["code"], "IDEMPOTENCY_KEY_IN_USE", "{error}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(created >= 1, "the first, and replays of it, are 201s");
    assert_eq!(
        app.listed("").await["meta"]["total"],
        1,
        "executed exactly once"
    );
}

#[actix_web::test]
async fn a_key_still_being_processed_is_409_in_use() {
    let app = spawn_app().await;
    let key_id = app
        .key
        .strip_prefix("chatera_sk_")
        .unwrap()
        .split('_')
        .next()
        .unwrap()
        .to_owned();
    let body = r#"{"phone":"628123456789"}"#;
    // The same request, claimed and still running, as a concurrent worker leaves it.
    let hash = hex::encode(Sha256::digest(format!("POST\n/v1/contacts\n{body}")));
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    conn.execute(
        "INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_hash, state, created_at)
         VALUES (?1, 'busy', ?2, 'started', ?3)",
        rusqlite::params![key_id, hash, kontak::domain::Timestamp::now().to_string()],
    )
    .unwrap();
    let response = app
        .call(Method::POST, "/v1/contacts", None)
        .header("content-type", "application/json")
        .header("idempotency-key", "busy")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::CONFLICT, "IDEMPOTENCY_KEY_IN_USE").await;
    assert_eq!(app.listed("").await["meta"]["total"], 0, "nothing ran");
}

#[actix_web::test]
async fn keys_are_scoped_per_api_key() {
    let app = spawn_app().await;
    let other = app.new_key("acme", common::READ_WRITE);
    let a = app
        .call(
            Method::POST,
            "/v1/contacts",
            Some(&json!({"phone": "628111111111"})),
        )
        .header("idempotency-key", "shared")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::CREATED);
    let b = app
        .call_as(
            &other,
            Method::POST,
            "/v1/contacts",
            Some(&json!({"phone": "628222222222"})),
        )
        .header("idempotency-key", "shared")
        .send()
        .await
        .unwrap();
    assert_eq!(
        b.status(),
        StatusCode::CREATED,
        "another API key's namespace"
    );
    assert!(!b.headers().contains_key("idempotent-replayed"));
}

#[actix_web::test]
async fn patch_and_delete_honour_the_key() {
    let app = spawn_app().await;
    let created = app.created(&json!({"phone": "628123456789"})).await;
    let path = format!("/v1/contacts/{}", created["id"].as_str().unwrap());
    for _ in 0..2 {
        let response = app
            .call(Method::DELETE, &path, None)
            .header("idempotency-key", "del")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a retried delete is not a 404"
        );
    }
    let patch = app
        .call(Method::PATCH, &path, Some(&json!({"name": "x"})))
        .header("idempotency-key", "del")
        .send()
        .await
        .unwrap();
    assert_error(
        patch,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
}

#[actix_web::test]
async fn malformed_keys_are_rejected() {
    let app = spawn_app().await;
    for key in ["".to_owned(), "x".repeat(256), "has space".to_owned()] {
        let response = app
            .call(
                Method::POST,
                "/v1/contacts",
                Some(&json!({"phone": "628123456789"})),
            )
            .header("idempotency-key", key.as_str())
            .send()
            .await
            .unwrap();
        let error = assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "VALIDATION_INVALID_HEADER",
        )
        .await;
        assert_eq!(error["field"], "Idempotency-Key");
    }
    assert_eq!(app.listed("").await["meta"]["total"], 0);
}
