//! Keys, scopes, revocation and workspace isolation over HTTP.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{assert_error, spawn_app, spawn_app_with_metrics};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[actix_web::test]
async fn no_authorization_header_is_missing_key_with_www_authenticate() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/v1/contacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_error(response, StatusCode::UNAUTHORIZED, "AUTH_MISSING_KEY").await;
    for header in ["", "Bearer", "Bearer   "] {
        let response = app
            .client
            .get(app.url("/v1/contacts"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::UNAUTHORIZED, "AUTH_MISSING_KEY").await;
    }
}

#[actix_web::test]
async fn unknown_wrong_malformed_and_revoked_keys_get_one_answer() {
    let app = spawn_app().await;
    let (id_part, secret) = app.key.rsplit_once('_').unwrap();
    let wrong_secret = format!("{id_part}_{}", "0".repeat(secret.len()));
    let unknown_id = format!("chatera_sk_{}_{secret}", "f".repeat(16));
    let revoked = app.new_key("acme", "contacts:read");
    revoke(&app.db_path, key_id(&revoked));

    let mut messages = Vec::new();
    for key in [
        wrong_secret.as_str(),
        &unknown_id,
        "chatera_sk_nope",
        "sk_live_123",
        &revoked,
    ] {
        let error = assert_error(
            app.list_as(key, "").await,
            StatusCode::UNAUTHORIZED,
            "AUTH_INVALID_KEY",
        )
        .await;
        messages.push(error["message"].clone());
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "one message for every bad key: {messages:?}"
    );

    let basic = app
        .client
        .get(app.url("/v1/contacts"))
        .header("authorization", format!("Basic {}", app.key))
        .send()
        .await
        .unwrap();
    assert_error(basic, StatusCode::UNAUTHORIZED, "AUTH_INVALID_KEY").await;
}

#[actix_web::test]
async fn an_unknown_key_id_costs_the_same_argon2_work_as_a_wrong_secret() {
    let app = spawn_app().await;
    let (id_part, secret) = app.key.rsplit_once('_').unwrap();
    let wrong_secret = format!("{id_part}_{}", "0".repeat(secret.len()));
    let unknown_id = format!("chatera_sk_{}_{secret}", "e".repeat(16));
    let malformed = "chatera_sk_x_y".to_owned();
    // Medians of a few runs each; argon2 (tens of ms) dwarfs everything else, so the
    // first two must be alike and far above a rejection that needs no hash at all.
    let wrong = median_latency(&app, &wrong_secret).await;
    let unknown = median_latency(&app, &unknown_id).await;
    let cheap = median_latency(&app, &malformed).await;
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.4..2.5).contains(&ratio),
        "unknown {unknown:?} vs wrong {wrong:?}"
    );
    assert!(
        unknown > cheap * 3,
        "unknown {unknown:?} vs malformed {cheap:?}"
    );
}

async fn median_latency(app: &common::TestApp, key: &str) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let response = app.list_as(key, "").await;
        samples.push(started.elapsed());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    samples.sort();
    samples[2]
}

#[actix_web::test]
async fn a_key_without_the_scope_gets_403() {
    let app = spawn_app().await;
    let read_only = app.new_key("acme", "contacts:read");
    let write_only = app.new_key("acme", "contacts:write");

    let response = app
        .create_contact_as(&read_only, &json!({"phone": "628123456789"}))
        .await;
    let error = assert_error(response, StatusCode::FORBIDDEN, "AUTH_INSUFFICIENT_SCOPE").await;
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("contacts:write"));
    assert_eq!(app.list_as(&read_only, "").await.status(), StatusCode::OK);

    assert_error(
        app.list_as(&write_only, "").await,
        StatusCode::FORBIDDEN,
        "AUTH_INSUFFICIENT_SCOPE",
    )
    .await;
    let created = app
        .create_contact_as(&write_only, &json!({"phone": "628123456789"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn authentication_is_checked_before_the_body() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/v1/contacts"))
        .header("content-type", "text/plain")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "AUTH_MISSING_KEY").await;
}

#[actix_web::test]
async fn workspaces_see_and_search_only_their_own_contacts() {
    let app = spawn_app().await;
    let globex = app.new_key("globex", common::READ_WRITE);
    app.created(&json!({"phone": "628111111111", "name": "Acme Person", "tags": ["shared"]}))
        .await;
    let response = app
        .create_contact_as(
            &globex,
            &json!({"phone": "628222222222", "name": "Globex Person", "tags": ["SHARED"]}),
        )
        .await;
    let globex_contact: serde_json::Value = response.json().await.unwrap();
    // Tags are per workspace: globex's first use sets its own spelling.
    assert_eq!(globex_contact["data"]["tags"], json!(["SHARED"]));

    let acme_list = app.listed("").await;
    assert_eq!(common::phones(&acme_list), ["+628111111111"]);
    let globex_list: serde_json::Value = app
        .list_as(&globex, "search=person")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(common::phones(&globex_list), ["+628222222222"]);
    assert_eq!(globex_list["meta"]["total"], 1);
    assert_eq!(app.listed("search=globex").await["meta"]["total"], 0);
}

#[actix_web::test]
async fn revoking_with_the_cli_bites_on_the_very_next_request() {
    let app = spawn_app().await;
    let key = app.new_key("acme", "contacts:read,contacts:write");
    // Twice: the second request is served from the verified-key cache.
    for _ in 0..2 {
        assert_eq!(app.list_as(&key, "").await.status(), StatusCode::OK);
    }
    revoke(&app.db_path, key_id(&key));
    assert_error(
        app.list_as(&key, "").await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_KEY",
    )
    .await;
    // Writes too, with or without an idempotency key, and nothing is written.
    assert_error(
        app.create_contact_as(&key, &json!({"phone": "+628111111111"}))
            .await,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_KEY",
    )
    .await;
    let with_idempotency_key = app
        .call_as(
            &key,
            Method::POST,
            "/v1/contacts",
            Some(&json!({"phone": "+628111111111"})),
        )
        .header("Idempotency-Key", "after-revoke")
        .send()
        .await
        .unwrap();
    assert_error(
        with_idempotency_key,
        StatusCode::UNAUTHORIZED,
        "AUTH_INVALID_KEY",
    )
    .await;
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let (contacts, claims): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM idempotency_keys)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((contacts, claims), (0, 0));
    assert_eq!(
        app.list("").await.status(),
        StatusCode::OK,
        "other keys keep working"
    );
}

#[actix_web::test]
async fn last_used_is_recorded_without_a_write_per_request() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(app.list("").await.status(), StatusCode::OK);
    }
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let last_used: Option<String> = loop {
        let value: Option<String> = conn
            .query_row(
                "SELECT last_used_at FROM api_keys WHERE id = ?1",
                [key_id(&app.key)],
                |r| r.get(0),
            )
            .unwrap();
        if value.is_some() || Instant::now() > deadline {
            break value;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(last_used.is_some_and(|t| t.ends_with('Z')));
}

fn key_id(key: &str) -> &str {
    key.strip_prefix("chatera_sk_")
        .unwrap()
        .split('_')
        .next()
        .unwrap()
}

fn revoke(db: &std::path::Path, id: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_kontak"))
        .args(["--db", db.to_str().unwrap(), "key", "revoke", id])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "revoke: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_web::test]
async fn a_burst_of_first_requests_with_one_key_pays_argon2_only_once_per_slot() {
    let app = spawn_app_with_metrics().await;
    // A key no request has brought yet.
    let key = app.new_key("acme", "contacts:read");

    // Sixteen clients' first requests at once, as after every start under load.
    let requests = (0..16).map(|_| {
        app.client
            .get(app.url("/v1/contacts"))
            .bearer_auth(&key)
            .send()
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }

    let text = app.metrics_text().await;
    let checks: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("kontak_key_checks_total "))
        .unwrap_or_else(|| panic!("no key check counter: {text}"))
        .parse()
        .unwrap();
    // Two argon2 slots (one worker, but never fewer than two): the requests that
    // waited for a slot were let in from memory once the first check passed.
    assert!(
        (1..=2).contains(&checks),
        "{checks} argon2 checks for one key"
    );
}
