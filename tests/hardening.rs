//! Hostile or careless clients: security headers, CORS, the per-key rate limit and
//! the throttle on failed authentication.

mod common;

use std::net::IpAddr;

use common::{assert_error, spawn_app, spawn_app_with, READ_WRITE};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let responses = [
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        app.client.get(app.url("/nowhere")).send().await.unwrap(),
        app.client
            .get(app.url("/v1/contacts"))
            .send()
            .await
            .unwrap(),
        app.list("").await,
        app.list("page=zero").await,
    ];
    for response in responses {
        let h = response.headers();
        let status = response.status();
        assert_eq!(h["x-content-type-options"], "nosniff", "{status}");
        assert_eq!(h["x-frame-options"], "DENY", "{status}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{status}");
        assert_eq!(h["cache-control"], "no-store", "{status}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{status}: {csp}");
    }
}

#[actix_web::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let simple = app
        .client
        .get(app.url("/v1/contacts"))
        .bearer_auth(&app.key)
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), StatusCode::OK);
    assert_no_cors(simple.headers());
    let preflight = preflight(&app, "https://app.example.com").await;
    assert_no_cors(preflight.headers());
}

#[actix_web::test]
async fn cors_admits_exactly_the_configured_origins() {
    let app = spawn_app_with(|s| {
        s.cors_allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let allowed = preflight(&app, "https://app.example.com").await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{method} in {methods}");
    }
    // A browser upsert with a lost-update guard and a retry key.
    let upsert = app
        .client
        .request(
            Method::OPTIONS,
            app.url("/v1/contacts/by-phone/628123456789"),
        )
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,if-match,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(upsert.status().is_success(), "{}", upsert.status());

    let simple = app
        .client
        .get(app.url("/v1/contacts"))
        .bearer_auth(&app.key)
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    let h = simple.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    let exposed = h["access-control-expose-headers"].to_str().unwrap();
    for header in [
        "x-ratelimit-remaining",
        "etag",
        "location",
        "idempotent-replayed",
    ] {
        assert!(exposed.contains(header), "{header} in {exposed}");
    }

    let other = app
        .client
        .get(app.url("/v1/contacts"))
        .bearer_auth(&app.key)
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    // Without Access-Control-Allow-Origin the browser withholds the response.
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));
    assert_error(refused, StatusCode::BAD_REQUEST, "CORS_REJECTED").await;
}

#[actix_web::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after_and_counters_on_every_answer() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 3).await;
    for expected_remaining in ["2", "1", "0"] {
        let response = app.list("").await;
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], expected_remaining);
        assert!(
            h["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= 60
        );
    }
    let limited = app.list("").await;
    let h = limited.headers().clone();
    assert_error(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMIT_EXCEEDED",
    )
    .await;
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(h["x-ratelimit-remaining"], "0");

    // Writes count too, and another key has its own allowance.
    let response = app
        .create_contact(&serde_json::json!({"phone": "+628123456789"}))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = app.new_key("acme", READ_WRITE);
    let response = app.list_as(&other, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "2");
}

#[actix_web::test]
async fn unauthenticated_answers_and_a_disabled_limit_carry_no_rate_limit_headers() {
    let app = spawn_app_with(|s| s.rate_limit_per_minute = 0).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(!health.headers().contains_key("x-ratelimit-limit"));
    for _ in 0..5 {
        let response = app.list("").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key("x-ratelimit-limit"));
    }
}

/// An attacker at 127.0.0.2 guesses secrets for the victim's key id. Once the bound
/// is reached they get 429 without argon2 running, for that key id and for their
/// address, while the victim (whose key this process has verified) is unaffected and
/// a fresh key from another address still verifies.
#[actix_web::test]
async fn failed_authentication_is_throttled_per_key_id_and_address_without_locking_out_the_holder()
{
    let app = spawn_app_with(|s| s.auth_failures_per_minute = 3).await;
    assert_eq!(app.list("").await.status(), StatusCode::OK); // victim verified once

    let attacker = client_from("127.0.0.2");
    let wrong = wrong_secret(&app.key);
    for _ in 0..3 {
        let response = get_as(&attacker, &app, &wrong).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = get_as(&attacker, &app, &wrong).await;
    let retry: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_error(
        throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "AUTH_TOO_MANY_ATTEMPTS",
    )
    .await;

    // The same key id from elsewhere, even with the right secret, is not hashed
    // again until the bucket refills...
    let other_place = client_from("127.0.0.3");
    let response = get_as(&other_place, &app, &wrong).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but the holder's verified key keeps working.
    assert_eq!(app.list("").await.status(), StatusCode::OK);

    // The attacker's address is spent for every key id, real or not.
    let fresh = app.new_key("acme", READ_WRITE);
    let response = get_as(&attacker, &app, &fresh).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address with a fresh key is unaffected.
    let response = get_as(&other_place, &app, &fresh).await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn preflight(app: &common::TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/v1/contacts"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn assert_no_cors(headers: &HeaderMap) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "unexpected CORS headers {cors:?}");
}

/// A client whose connections come from `address` (any 127.x works on loopback).
fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn get_as(client: &Client, app: &common::TestApp, key: &str) -> reqwest::Response {
    client
        .get(app.url("/v1/contacts"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// The same key id with a different secret of the same shape.
fn wrong_secret(key: &str) -> String {
    let (id_part, secret) = key.rsplit_once('_').unwrap();
    format!("{id_part}_{}", "0".repeat(secret.len()))
}

/// Valid keys cost the throttle nothing: many keys, each used for the first time,
/// from one address (a client app, a test suite, a proxy) all verify.
#[actix_web::test]
async fn many_valid_keys_from_one_address_are_never_throttled() {
    let app = spawn_app_with(|s| s.auth_failures_per_minute = 2).await;
    for _ in 0..5 {
        let key = app.new_key("acme", READ_WRITE);
        assert_eq!(app.list_as(&key, "").await.status(), StatusCode::OK);
    }
}
