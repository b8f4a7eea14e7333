//! What every response shares: the envelope, request ids, and actix's own rejections.

mod common;

use common::{assert_error, spawn_app, spawn_app_with, spawn_app_with_metrics};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[actix_web::test]
async fn healthz_answers_without_a_key() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "data": {"status": "ok"}}));
}

#[actix_web::test]
async fn unknown_routes_are_404_not_found_in_the_envelope() {
    let app = spawn_app().await;
    for path in ["/", "/v1", "/v2/contacts", "/v1/contacts/extra/segments"] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[actix_web::test]
async fn a_trailing_slash_reaches_the_same_endpoint() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/v1/contacts/"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[actix_web::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app().await;
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let response = app
            .request(method.clone(), "/v1/contacts")
            .await
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "GET, POST", "method {method}");
        assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        )
        .await;
    }
    let response = app
        .request(Method::POST, "/healthz")
        .await
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(|s| s.max_body_bytes = 4096).await;
    let big = json!({"phone": "628123456789", "name": "x".repeat(5000)});
    let response = app.create_contact(&big).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // Also when the client does not announce the length up front.
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(big.to_string())]);
    let response = app
        .client
        .post(app.url("/v1/contacts"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
}

#[actix_web::test]
async fn a_non_json_body_is_415() {
    let app = spawn_app().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(app.url("/v1/contacts"))
            .bearer_auth(&app.key)
            .body(r#"{"phone":"628123456789"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
    }
    let charset = app
        .client
        .post(app.url("/v1/contacts"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"phone":"628123456789"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(charset.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_a_sane_one_is_echoed() {
    let app = spawn_app().await;
    let generated = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "generated id {id}");

    let echoed = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "client-42.a")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "client-42.a");

    let insane = "x".repeat(300);
    let replaced = app
        .client
        .get(app.url("/v1/contacts"))
        .header("x-request-id", &insane)
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"].to_str().unwrap(), insane);
    assert_eq!(replaced.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn every_reference_example_round_trips() {
    let app = spawn_app().await;
    let created = app
        .created(&json!({
            "phone": "628123456789",
            "name": "Hafari",
            "email": "hafari@example.com",
            "tags": ["customer"],
            "custom_fields": {"company": "PT ABC", "tier": "gold"}
        }))
        .await;
    let listed = app.listed("page=1&per_page=20&search=hafari").await;
    assert_eq!(listed["data"], json!([created]));
    assert_eq!(
        listed["meta"],
        json!({"page": 1, "per_page": 20, "total": 1, "has_more": false})
    );
}

#[actix_web::test]
async fn metrics_are_served_only_on_their_own_listener() {
    let app = spawn_app_with_metrics().await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    app.client
        .get(app.url("/v1/contacts/abc"))
        .send()
        .await
        .unwrap();

    let text = app.metrics_text().await;
    assert!(text.contains(r#"kontak_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1"#), "{text}");
    assert!(
        text.contains(r#"route="/v1/contacts/{id}",status="401""#),
        "ids are not labels: {text}"
    );
    assert!(text.contains("kontak_db_size_bytes"));
    assert!(text.contains("kontak_db_read_pool_connections"));

    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_error(public, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[actix_web::test]
async fn a_body_that_stalls_gets_408_in_the_envelope() {
    use std::io::{Read, Write};
    let app = spawn_app_with(|s| s.request_timeout_secs = 1).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let key = app.key.clone();
    // A blocking socket on its own thread: the server runs on this test's runtime.
    let answer = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"phone\":"
        )
        .unwrap();
        // ...and nothing more: the rest of the body never comes.
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    });
    let answer = actix_web::rt::task::spawn_blocking(move || answer.join().unwrap())
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"REQUEST_TIMEOUT""#), "{answer}");
    assert_eq!(app.listed("").await["meta"]["total"], 0);
}
