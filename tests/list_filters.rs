//! List filters (tag, updated_since, created_since), sorts, the deleted feed, and tags.

mod common;

use common::{assert_error, phones, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn seed(app: &TestApp) {
    for (phone, name, tags) in [
        ("628100000001", Some("budi"), json!(["vip", "customer"])),
        ("628100000002", Some("Adi"), json!(["customer"])),
        ("628100000003", None, json!(["VIP", "lead"])),
        ("628100000004", Some("citra"), json!([])),
    ] {
        app.created(&json!({"phone": phone, "name": name, "tags": tags}))
            .await;
    }
}

#[actix_web::test]
async fn tag_filters_are_case_insensitive_and_all_must_match() {
    let app = spawn_app().await;
    seed(&app).await;
    assert_eq!(
        app.listed_phones("tag=VIP").await,
        ["+628100000003", "+628100000001"]
    );
    assert_eq!(
        app.listed_phones("tag=vip&tag=customer").await,
        ["+628100000001"]
    );
    assert_eq!(app.listed("tag=vip&tag=customer").await["meta"]["total"], 1);
    assert_eq!(app.listed("tag=nobody").await["meta"]["total"], 0);
    assert_eq!(
        app.listed_phones("tag=customer&search=adi").await,
        ["+628100000002"]
    );
}

#[actix_web::test]
async fn sorts_order_the_list_and_names_missing_go_last() {
    let app = spawn_app().await;
    seed(&app).await;
    assert_eq!(
        app.listed_phones("sort=created_at").await,
        [
            "+628100000001",
            "+628100000002",
            "+628100000003",
            "+628100000004"
        ]
    );
    assert_eq!(
        app.listed_phones("sort=name").await,
        [
            "+628100000002",
            "+628100000001",
            "+628100000004",
            "+628100000003"
        ]
    );
    assert_eq!(
        app.listed_phones("sort=-name").await,
        [
            "+628100000004",
            "+628100000001",
            "+628100000002",
            "+628100000003"
        ]
    );
    let first = app.listed("sort=created_at").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch_contact(&first, &json!({"name": "Budi Baru"}))
        .await;
    assert_eq!(
        app.listed_phones("sort=-updated_at&per_page=1").await,
        ["+628100000001"]
    );
    assert_eq!(
        app.listed_phones("sort=updated_at").await.last().unwrap(),
        "+628100000001"
    );
    assert_error(
        app.list("sort=age").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_INVALID_PARAM",
    )
    .await;
}

#[actix_web::test]
async fn since_filters_select_by_time_and_bad_times_are_rejected() {
    let app = spawn_app().await;
    seed(&app).await;
    assert_eq!(
        app.listed("updated_since=2000-01-01T00:00:00Z").await["meta"]["total"],
        4
    );
    assert_eq!(
        app.listed("created_since=2999-01-01T00:00:00Z").await["meta"]["total"],
        0
    );
    assert_eq!(
        app.listed("updated_since=2000-01-01T07:00:00%2B07:00")
            .await["meta"]["total"],
        4
    );
    for query in [
        "updated_since=yesterday",
        "created_since=2026-01-01",
        "include_deleted=true",
        "include_deleted=1&updated_since=2000-01-01T00:00:00Z",
    ] {
        let param = query.split('=').next().unwrap();
        let error = assert_error(
            app.list(query).await,
            StatusCode::BAD_REQUEST,
            "VALIDATION_INVALID_PARAM",
        )
        .await;
        assert_eq!(error["field"], param, "query {query}");
    }
}

#[actix_web::test]
async fn a_sync_feed_reports_deleted_contacts_as_tombstones() {
    let app = spawn_app().await;
    seed(&app).await;
    let start = app.listed("sort=created_at").await;
    let gone = start["data"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete_contact(&gone).await.status(), StatusCode::OK);

    let feed = app
        .listed("updated_since=2000-01-01T00:00:00Z&include_deleted=true&sort=updated_at")
        .await;
    assert_eq!(feed["meta"]["total"], 4);
    let items = feed["data"].as_array().unwrap();
    let tombstone = items
        .iter()
        .find(|i| i["id"] == gone.as_str())
        .expect("tombstone in feed");
    assert_eq!(tombstone["deleted"], true);
    assert!(tombstone["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(tombstone.as_object().unwrap().len(), 3, "{tombstone}");
    assert_eq!(
        items.last().unwrap()["id"],
        gone.as_str(),
        "the deletion is the latest change"
    );

    let live_only = app.listed("updated_since=2000-01-01T00:00:00Z").await;
    assert_eq!(live_only["meta"]["total"], 3);
    let later = app
        .listed("updated_since=2999-01-01T00:00:00Z&include_deleted=true")
        .await;
    assert_eq!(later["meta"]["total"], 0);
    let paged = app
        .listed("updated_since=2000-01-01T00:00:00Z&include_deleted=true&per_page=3&page=2")
        .await;
    assert_eq!(paged["data"].as_array().unwrap().len(), 1);
    assert_eq!(paged["meta"]["has_more"], false);
}

#[actix_web::test]
async fn tombstones_are_per_workspace() {
    let app = spawn_app().await;
    let created = app.created(&json!({"phone": "628123456789"})).await;
    app.delete_contact(created["id"].as_str().unwrap()).await;
    let globex = app.new_key("globex", common::READ_WRITE);
    let feed: Value = app
        .list_as(
            &globex,
            "updated_since=2000-01-01T00:00:00Z&include_deleted=true",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["meta"]["total"], 0);
}

#[actix_web::test]
async fn tags_lists_the_workspaces_tags_with_counts() {
    let app = spawn_app().await;
    seed(&app).await;
    let globex = app.new_key("globex", common::READ_WRITE);
    app.create_contact_as(
        &globex,
        &json!({"phone": "628100000001", "tags": ["secret-globex-tag"]}),
    )
    .await;

    let body: Value = app
        .call(Method::GET, "/v1/tags", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tags: Vec<(&str, i64)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["contact_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tags, [("customer", 2), ("lead", 1), ("vip", 2)]);

    let write_only = app.new_key("acme", "contacts:write");
    let denied = app
        .call_as(&write_only, Method::GET, "/v1/tags", None)
        .send()
        .await
        .unwrap();
    assert_error(denied, StatusCode::FORBIDDEN, "AUTH_INSUFFICIENT_SCOPE").await;
}

#[actix_web::test]
async fn deleted_contacts_drop_out_of_filtered_lists() {
    let app = spawn_app().await;
    seed(&app).await;
    let vip = app.listed("tag=vip").await;
    let id = vip["data"][0]["id"].as_str().unwrap().to_owned();
    app.delete_contact(&id).await;
    assert_eq!(phones(&app.listed("tag=vip").await).len(), 1);
}
