//! `/v1/contacts/by-phone/{phone}`: lookup in any spelling, and atomic upsert.

mod common;

use common::{assert_error, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[actix_web::test]
async fn lookup_accepts_every_spelling_of_the_number() {
    let app = spawn_app().await;
    let created = app
        .created(&json!({"phone": "628123456789", "name": "Hafari"}))
        .await;
    for spelling in [
        "628123456789",
        "%2B628123456789",
        "+628123456789",
        "%2B62%20812-3456-789",
        "(62)812.3456.789",
    ] {
        let response = app
            .call(
                Method::GET,
                &format!("/v1/contacts/by-phone/{spelling}"),
                None,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "spelling {spelling}");
        assert!(response.headers().contains_key("etag"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"], created, "spelling {spelling}");
    }
}

#[actix_web::test]
async fn lookup_of_an_invalid_or_unknown_number_is_400_or_404() {
    let app = spawn_app().await;
    let invalid = app
        .call(Method::GET, "/v1/contacts/by-phone/0812", None)
        .send()
        .await
        .unwrap();
    assert_error(invalid, StatusCode::BAD_REQUEST, "VALIDATION_INVALID_PHONE").await;
    let unknown = app
        .call(Method::GET, "/v1/contacts/by-phone/628000000001", None)
        .send()
        .await
        .unwrap();
    assert_error(unknown, StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND").await;
}

#[actix_web::test]
async fn put_creates_then_merge_patches() {
    let app = spawn_app().await;
    let path = "/v1/contacts/by-phone/%2B62%20812-3456-789";
    let body =
        json!({"name": "Hafari", "tags": ["lead"], "custom_fields": {"source": "web", "score": 1}});
    let created = app
        .call(Method::PUT, path, Some(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(created.headers().contains_key("location"));
    let created: Value = created.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!(created["phone"], "+628123456789");

    let patch = json!({"email": "h@example.com", "custom_fields": {"score": 2, "source": null}});
    let updated = app
        .call(Method::PUT, path, Some(&patch))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["name"], "Hafari");
    assert_eq!(updated["email"], "h@example.com");
    assert_eq!(updated["tags"], json!(["lead"]));
    assert_eq!(updated["custom_fields"], json!({"score": 2}));
    assert_eq!(app.listed("").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn put_rejects_a_different_number_in_the_body_and_bad_fields() {
    let app = spawn_app().await;
    let path = "/v1/contacts/by-phone/628123456789";
    let other = app
        .call(Method::PUT, path, Some(&json!({"phone": "628999999999"})))
        .send()
        .await
        .unwrap();
    let error = assert_error(other, StatusCode::BAD_REQUEST, "VALIDATION_INVALID_FIELD").await;
    assert_eq!(error["field"], "phone");
    let same = app
        .call(
            Method::PUT,
            path,
            Some(&json!({"phone": "+62 812 3456 789"})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    let bad = app
        .call(Method::PUT, path, Some(&json!({"email": "x"})))
        .send()
        .await
        .unwrap();
    assert_error(bad, StatusCode::BAD_REQUEST, "VALIDATION_INVALID_EMAIL").await;
}

#[actix_web::test]
async fn concurrent_upserts_of_one_number_create_exactly_one_contact() {
    let app = spawn_app().await;
    let bodies: Vec<Value> = (0..16)
        .map(|i| json!({"custom_fields": {format!("k{i}"): i}}))
        .collect();
    let requests = bodies.iter().map(|body| {
        app.call(
            Method::PUT,
            "/v1/contacts/by-phone/628123456789",
            Some(body),
        )
        .send()
    });
    let responses = futures::future::join_all(requests).await;
    let statuses: Vec<StatusCode> = responses.into_iter().map(|r| r.unwrap().status()).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        15,
        "{statuses:?}"
    );
    let listed = app.listed("").await;
    assert_eq!(listed["meta"]["total"], 1);
    let fields = listed["data"][0]["custom_fields"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(fields, 16, "every upsert merged its key");
}

#[actix_web::test]
async fn by_phone_is_blind_to_other_workspaces() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628123456789", "name": "Acme's"}))
        .await;
    let globex = app.new_key("globex", common::READ_WRITE);
    let path = "/v1/contacts/by-phone/628123456789";
    let lookup = app
        .call_as(&globex, Method::GET, path, None)
        .send()
        .await
        .unwrap();
    assert_error(lookup, StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND").await;
    let upsert = app
        .call_as(
            &globex,
            Method::PUT,
            path,
            Some(&json!({"name": "Globex's"})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        upsert.status(),
        StatusCode::CREATED,
        "globex gets its own contact"
    );
    let acme = app.listed("").await;
    assert_eq!(acme["data"][0]["name"], "Acme's");
}

#[actix_web::test]
async fn a_default_country_code_reads_local_numbers_everywhere() {
    let app = spawn_app_with(|s| s.default_country_code = Some("62".into())).await;
    let created = app.created(&json!({"phone": "0812-3456-789"})).await;
    assert_eq!(created["phone"], "+628123456789");
    let conflict = app.create_contact(&json!({"phone": "+628123456789"})).await;
    assert_error(conflict, StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS").await;
    let lookup = app
        .call(Method::GET, "/v1/contacts/by-phone/08123456789", None)
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), StatusCode::OK);
    assert_eq!(
        app.listed_phones("search=0812-345").await,
        ["+628123456789"]
    );
    let patched = app
        .patch_contact(
            created["id"].as_str().unwrap(),
            &json!({"phone": "0813 1111 2222"}),
        )
        .await;
    assert_eq!(
        patched.json::<Value>().await.unwrap()["data"]["phone"],
        "+6281311112222"
    );

    let strict = spawn_app().await;
    let response = strict
        .create_contact(&json!({"phone": "0812-3456-789"}))
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "VALIDATION_INVALID_PHONE",
    )
    .await;
}
