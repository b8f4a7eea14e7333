//! Reading, patching and deleting one contact: merge-patch, ETags, tombstones.

mod common;

use common::{assert_error, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn full_contact(app: &TestApp) -> Value {
    app.created(&json!({
        "phone": "628123456789",
        "name": "Hafari",
        "email": "hafari@example.com",
        "tags": ["customer", "vip"],
        "custom_fields": {"company": "PT ABC", "tier": "gold", "visits": 3}
    }))
    .await
}

async fn data(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json::<Value>().await.unwrap()["data"].clone()
}

#[actix_web::test]
async fn get_by_id_returns_the_contact_with_an_etag() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let response = app.get_contact(created["id"].as_str().unwrap()).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong etag {etag}"
    );
    assert_eq!(data(response, StatusCode::OK).await, created);
}

#[actix_web::test]
async fn tags_read_back_in_the_order_the_client_gave_them() {
    let app = spawn_app().await;
    // The tags exist in the order alpha, beta, gamma; the second contact lists them
    // otherwise, so neither the tags' age nor their names give its order.
    app.created(&json!({"phone": "628111111111", "tags": ["alpha", "beta", "gamma"]}))
        .await;
    let created = app
        .created(&json!({"phone": "628222222222", "tags": ["gamma", "alpha", "beta"]}))
        .await;
    let expected = json!(["gamma", "alpha", "beta"]);
    assert_eq!(created["tags"], expected);

    let response = app.get_contact(created["id"].as_str().unwrap()).await;
    assert_eq!(data(response, StatusCode::OK).await["tags"], expected);
    let listed = app.listed("search=628222222222").await;
    assert_eq!(listed["data"][0]["tags"], expected, "{listed}");
}

#[actix_web::test]
async fn unknown_malformed_and_foreign_ids_are_one_404() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let id = created["id"].as_str().unwrap();
    let globex = app.new_key("globex", common::READ_WRITE);
    let mut messages = Vec::new();
    for (key, path_id) in [
        (app.key.as_str(), "01a210c6-0000-7000-8000-000000000000"),
        (app.key.as_str(), "not-a-uuid"),
        (app.key.as_str(), "by-phone"),
        (globex.as_str(), id),
    ] {
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({"name": "x"}));
            let response = app
                .call_as(
                    key,
                    method.clone(),
                    &format!("/v1/contacts/{path_id}"),
                    body.as_ref(),
                )
                .send()
                .await
                .unwrap();
            let error = assert_error(response, StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND").await;
            messages.push(error["message"].clone());
        }
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:?}");
    // And the contact is untouched by globex's attempts.
    assert_eq!(
        data(app.get_contact(id).await, StatusCode::OK).await,
        created
    );
}

#[actix_web::test]
async fn patch_has_merge_patch_semantics() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let id = created["id"].as_str().unwrap();
    let patched = data(
        app.patch_contact(
            id,
            &json!({
                "email": null,
                "tags": ["lead"],
                "custom_fields": {"tier": null, "visits": 4, "ltv": 12500000}
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["name"], "Hafari", "absent fields are untouched");
    assert_eq!(patched["email"], Value::Null, "null clears");
    assert_eq!(patched["tags"], json!(["lead"]), "tags replace the set");
    assert_eq!(
        patched["custom_fields"],
        json!({"company": "PT ABC", "visits": 4, "ltv": 12500000}),
        "custom fields merge key by key; null removes"
    );
    assert_eq!(patched["created_at"], created["created_at"]);
    assert_eq!(
        data(app.get_contact(id).await, StatusCode::OK).await,
        patched
    );

    let cleared = data(
        app.patch_contact(
            id,
            &json!({"name": null, "tags": null, "custom_fields": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            &cleared["name"],
            &cleared["tags"],
            &cleared["custom_fields"]
        ),
        (&Value::Null, &json!([]), &json!({}))
    );
}

#[actix_web::test]
async fn a_patch_that_changes_nothing_keeps_updated_at_and_the_etag() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let id = created["id"].as_str().unwrap();
    let before = app.get_contact(id).await.headers()["etag"].clone();
    for body in [
        json!({}),
        json!({"name": "Hafari", "tags": ["CUSTOMER", "vip"], "phone": "+62 812-3456-789"}),
    ] {
        let response = app.patch_contact(id, &body).await;
        assert_eq!(response.headers()["etag"], before, "body {body}");
        assert_eq!(data(response, StatusCode::OK).await, created, "body {body}");
    }
    let changed = app.patch_contact(id, &json!({"name": "Hafari P."})).await;
    assert_ne!(changed.headers()["etag"], before);
}

#[actix_web::test]
async fn patch_validates_like_create() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let id = created["id"].as_str().unwrap();
    for (body, code, field) in [
        (
            json!({"phone": "0812"}),
            "VALIDATION_INVALID_PHONE",
            "phone",
        ),
        (json!({"phone": null}), "VALIDATION_INVALID_FIELD", "phone"),
        (
            json!({"email": "nope"}),
            "VALIDATION_INVALID_EMAIL",
            "email",
        ),
        (json!({"tags": [1]}), "VALIDATION_INVALID_FIELD", "tags[0]"),
        (
            json!({"custom_fields": {"a": [1]}}),
            "VALIDATION_INVALID_FIELD",
            "custom_fields.a",
        ),
        (json!({"nmae": "typo"}), "VALIDATION_UNKNOWN_FIELD", "nmae"),
    ] {
        let error = assert_error(
            app.patch_contact(id, &body).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
        assert_eq!(error["field"], field, "body {body}");
    }
    assert_eq!(
        data(app.get_contact(id).await, StatusCode::OK).await,
        created,
        "nothing written"
    );
}

#[actix_web::test]
async fn changing_the_phone_into_another_contacts_number_is_409_with_its_id() {
    let app = spawn_app().await;
    let first = full_contact(&app).await;
    let second = app.created(&json!({"phone": "628999999999"})).await;
    let response = app
        .patch_contact(
            second["id"].as_str().unwrap(),
            &json!({"phone": "+62 812-3456-789", "name": "x"}),
        )
        .await;
    let error = assert_error(response, StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS").await;
    assert_eq!(error["details"]["existing_id"], first["id"]);
    let unchanged = data(
        app.get_contact(second["id"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged, second, "a rejected patch writes nothing");

    let moved = data(
        app.patch_contact(
            second["id"].as_str().unwrap(),
            &json!({"phone": "628777777777"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["phone"], "+628777777777");
}

#[actix_web::test]
async fn if_match_with_a_stale_etag_is_412_and_a_current_one_applies() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let path = format!("/v1/contacts/{}", created["id"].as_str().unwrap());
    let etag = app
        .get_contact(created["id"].as_str().unwrap())
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let first = app
        .call(Method::PATCH, &path, Some(&json!({"name": "A"})))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let lost = app
        .call(Method::PATCH, &path, Some(&json!({"name": "B"})))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_error(lost, StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED").await;
    let stale_delete = app
        .call(Method::DELETE, &path, None)
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_error(
        stale_delete,
        StatusCode::PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
    )
    .await;

    let current = app.get_contact(created["id"].as_str().unwrap()).await;
    let current_etag = current.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(data(current, StatusCode::OK).await["name"], "A");
    let star = app
        .call(Method::PATCH, &path, Some(&json!({"name": "C"})))
        .header("if-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(star.status(), StatusCode::OK);
    let with_current = app
        .call(Method::PATCH, &path, Some(&json!({"name": "D"})))
        .header("if-match", current_etag)
        .send()
        .await
        .unwrap();
    assert_error(
        with_current,
        StatusCode::PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
    )
    .await;
}

#[actix_web::test]
async fn delete_removes_the_contact_from_every_read() {
    let app = spawn_app().await;
    let created = full_contact(&app).await;
    let id = created["id"].as_str().unwrap();
    let deleted = data(app.delete_contact(id).await, StatusCode::OK).await;
    assert_eq!(deleted, json!({"id": id, "deleted": true}));

    assert_error(
        app.get_contact(id).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    .await;
    let by_phone = app
        .call(Method::GET, "/v1/contacts/by-phone/628123456789", None)
        .send()
        .await
        .unwrap();
    assert_error(by_phone, StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND").await;
    assert_eq!(app.listed("").await["meta"]["total"], 0);
    assert_eq!(app.listed("search=hafari").await["meta"]["total"], 0);
    assert_error(
        app.delete_contact(id).await,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    .await;
    let tags: Value = app
        .call(Method::GET, "/v1/tags", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        tags["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["contact_count"] == 0),
        "{tags}"
    );

    // The number is free again.
    assert_eq!(
        app.create_contact(&json!({"phone": "628123456789"}))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn single_contact_responses_carry_the_etag_of_the_current_version() {
    let app = spawn_app().await;
    let response = app.create_contact(&json!({"phone": "628123456789"})).await;
    let created_etag = response.headers()["etag"].clone();
    let id = data(response, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get_contact(&id).await.headers()["etag"], created_etag);
    let patched = app.patch_contact(&id, &json!({"name": "N"})).await;
    assert_ne!(patched.headers()["etag"], created_etag);
    assert_eq!(
        app.get_contact(&id).await.headers()["etag"],
        patched.headers()["etag"]
    );
}
