//! `GET /v1/contacts`: order, pagination, parameters and search.

mod common;

use common::{assert_error, phones, spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// Creates contacts with phones +6281000000001, …02, … in that order.
async fn seed(app: &TestApp, count: usize) -> Vec<String> {
    let mut created = Vec::new();
    for i in 1..=count {
        let phone = format!("+62810000000{i:02}");
        app.created(&json!({"phone": phone, "name": format!("Contact {i}")}))
            .await;
        created.push(phone);
    }
    created
}

#[actix_web::test]
async fn list_is_newest_first_with_meta() {
    let app = spawn_app().await;
    let mut created = seed(&app, 3).await;
    let body = app.listed("").await;
    assert_eq!(body["success"], true);
    created.reverse();
    assert_eq!(phones(&body), created);
    assert_eq!(
        body["meta"],
        json!({"page": 1, "per_page": 20, "total": 3, "has_more": false})
    );
}

#[actix_web::test]
async fn pages_walk_the_whole_list_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let mut created = seed(&app, 7).await;
    created.reverse();
    let mut walked = Vec::new();
    for page in 1..=3 {
        let body = app.listed(&format!("page={page}&per_page=3")).await;
        assert_eq!(body["meta"]["total"], 7);
        assert_eq!(body["meta"]["has_more"], page < 3, "page {page}");
        walked.extend(phones(&body));
    }
    assert_eq!(walked, created);
}

#[actix_web::test]
async fn a_page_past_the_end_is_empty_with_the_right_total() {
    let app = spawn_app().await;
    seed(&app, 2).await;
    let body = app.listed("page=5&per_page=1").await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(
        body["meta"],
        json!({"page": 5, "per_page": 1, "total": 2, "has_more": false})
    );
    let last = app.listed("page=2&per_page=1").await;
    assert_eq!(last["meta"]["has_more"], false);
    let huge = app.listed("page=4294967295&per_page=100").await;
    assert_eq!(huge["data"], json!([]));
}

#[actix_web::test]
async fn per_page_above_100_is_clamped_and_meta_says_so() {
    let app = spawn_app().await;
    let body = app.listed("per_page=1000").await;
    assert_eq!(body["meta"]["per_page"], 100);
}

#[actix_web::test]
async fn bad_paging_parameters_are_rejected_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, param) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("page=99999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=-5", "per_page"),
        ("per_page=ten", "per_page"),
        ("per_page=2.0", "per_page"),
    ] {
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
async fn search_matches_name_email_and_phone_case_insensitively() {
    let app = spawn_app().await;
    app.created(
        &json!({"phone": "628111111111", "name": "Hafari Putra", "email": "hp@example.com"}),
    )
    .await;
    app.created(&json!({"phone": "628222222222", "name": "Siti", "email": "SITI@Contoh.CO.ID"}))
        .await;
    app.created(&json!({"phone": "628333333333", "name": "Budi"}))
        .await;

    assert_eq!(app.listed_phones("search=hafari").await, ["+628111111111"]);
    assert_eq!(
        app.listed_phones("search=%20HAFARI%20").await,
        ["+628111111111"]
    );
    assert_eq!(
        app.listed_phones("search=contoh.co").await,
        ["+628222222222"]
    );
    assert_eq!(app.listed_phones("search=3333").await, ["+628333333333"]);
    let hits = app.listed("search=example").await;
    assert_eq!(hits["meta"]["total"], 1);
    assert_eq!(
        app.listed_phones("search=nobody").await,
        Vec::<String>::new()
    );
    assert_eq!(
        app.listed("search=").await["meta"]["total"],
        3,
        "blank search is no filter"
    );
}

#[actix_web::test]
async fn a_phone_like_search_matches_digits_whatever_the_punctuation() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "+62 812-3456-789"})).await;
    app.created(&json!({"phone": "+6599998888"})).await;
    for term in [
        "%2B628123456789",
        "628123456789",
        "812-3456",
        "%2B62%20812%203456",
        "(812)%203456",
    ] {
        assert_eq!(
            app.listed_phones(&format!("search={term}")).await,
            ["+628123456789"],
            "term {term}"
        );
    }
}

#[actix_web::test]
async fn percent_and_underscore_are_literal_in_search() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628111111111", "name": "100% Jaya"}))
        .await;
    app.created(&json!({"phone": "628222222222", "name": "1000 Jaya"}))
        .await;
    app.created(&json!({"phone": "628333333333", "email": "a_b@example.com"}))
        .await;
    app.created(&json!({"phone": "628444444444", "email": "axb@example.com"}))
        .await;

    assert_eq!(app.listed_phones("search=100%25").await, ["+628111111111"]);
    assert_eq!(app.listed_phones("search=a_b").await, ["+628333333333"]);
    assert_eq!(app.listed("search=%25").await["meta"]["total"], 1);
    assert_eq!(app.listed("search=_").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn search_folds_unicode_case() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628111111111", "name": "ÇELİK Ñúñez"}))
        .await;
    app.created(&json!({"phone": "628222222222", "name": "Ölçer"}))
        .await;
    assert_eq!(app.listed_phones("search=ñúñez").await, ["+628111111111"]);
    assert_eq!(
        app.listed_phones("search=%C3%B6l%C3%A7").await,
        ["+628222222222"]
    );
}

#[actix_web::test]
async fn search_combines_with_pagination_and_counts_only_matches() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.created(&json!({"phone": format!("62811111111{i}"), "name": format!("Agus {i}")}))
            .await;
        app.created(&json!({"phone": format!("62822222222{i}"), "name": format!("Wati {i}")}))
            .await;
    }
    let body = app.listed("search=agus&per_page=2&page=2").await;
    assert_eq!(
        body["meta"],
        json!({"page": 2, "per_page": 2, "total": 5, "has_more": true})
    );
    assert_eq!(phones(&body), ["+628111111112", "+628111111111"]);
}

#[actix_web::test]
async fn an_overlong_search_is_rejected() {
    let app = spawn_app().await;
    let query = format!("search={}", "a".repeat(201));
    let error = assert_error(
        app.list(&query).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_INVALID_PARAM",
    )
    .await;
    assert_eq!(error["field"], "search");
}

#[actix_web::test]
async fn a_repeated_parameter_is_an_envelope_error() {
    let app = spawn_app().await;
    assert_error(
        app.list("page=1&page=2").await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_INVALID_PARAM",
    )
    .await;
}

#[actix_web::test]
async fn search_sees_every_write_at_once() {
    let app = spawn_app().await;
    let created = app
        .created(&json!({"phone": "628111111111", "name": "Rahmat Hidayat"}))
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.listed_phones("search=hidayat").await, ["+628111111111"]);

    app.patch_contact(
        id,
        &json!({"name": "Rahmat Saputra", "phone": "628999000111"}),
    )
    .await;
    assert_eq!(
        app.listed("search=hidayat").await["meta"]["total"],
        0,
        "old name gone"
    );
    assert_eq!(app.listed_phones("search=saputra").await, ["+628999000111"]);
    assert_eq!(
        app.listed("search=8111111").await["meta"]["total"],
        0,
        "old number gone"
    );
    assert_eq!(app.listed_phones("search=999000").await, ["+628999000111"]);

    app.delete_contact(id).await;
    assert_eq!(app.listed("search=saputra").await["meta"]["total"], 0);
}

#[actix_web::test]
async fn short_and_long_terms_find_the_same_kind_of_matches() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628111111111", "name": "Yu Xi"}))
        .await;
    app.created(&json!({"phone": "628222222222", "name": "Ayu Lestari", "email": "ayu@xi.id"}))
        .await;
    // Two characters: too short for the index, served by a scan.
    assert_eq!(app.listed("search=yu").await["meta"]["total"], 2);
    assert_eq!(app.listed("search=11").await["meta"]["total"], 1);
    // Three and more: served by the index, same semantics, spaces included.
    assert_eq!(app.listed_phones("search=ayu").await, ["+628222222222"]);
    assert_eq!(app.listed_phones("search=u%20x").await, ["+628111111111"]);
    assert_eq!(app.listed_phones("search=%40xi.").await, ["+628222222222"]);
    assert_eq!(app.listed("search=111").await["meta"]["total"], 1);
}

#[actix_web::test]
async fn quotes_and_query_syntax_in_a_term_are_plain_text() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628111111111", "name": "Budi \"Bos\" Santoso"}))
        .await;
    app.created(&json!({"phone": "628222222222", "name": "Budi OR Santoso*"}))
        .await;
    assert_eq!(
        app.listed_phones("search=%22bos%22").await,
        ["+628111111111"]
    );
    assert_eq!(
        app.listed_phones("search=or%20santoso*").await,
        ["+628222222222"]
    );
    assert_eq!(app.listed("search=NEAR(budi)").await["meta"]["total"], 0);
}

#[actix_web::test]
async fn a_search_page_past_the_end_still_counts_the_matches() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.created(&json!({"phone": format!("62811111111{i}"), "name": format!("Agus {i}")}))
            .await;
    }
    let body = app.listed("search=agus&page=9").await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(
        body["meta"],
        json!({"page": 9, "per_page": 20, "total": 3, "has_more": false})
    );
}

#[actix_web::test]
async fn a_match_holds_the_whole_term_not_only_its_pieces() {
    let app = spawn_app().await;
    app.created(&json!({"phone": "628111111111", "name": "Budi Santoso"}))
        .await;
    app.created(&json!({"phone": "628222222222", "name": "Santoso Budi"}))
        .await;
    app.created(&json!({"phone": "628333333333", "name": "Budiman", "email": "santoso@toko.id"}))
        .await;
    // Every contact holds the trigrams of each term; only one holds each term.
    assert_eq!(
        app.listed_phones("search=budi%20santoso").await,
        ["+628111111111"]
    );
    assert_eq!(
        app.listed_phones("search=santoso%20budi").await,
        ["+628222222222"]
    );
    assert_eq!(
        app.listed("search=budi%20santoso").await["meta"]["total"],
        1
    );
    // Digits of one number do not join with another's.
    assert_eq!(app.listed("search=1112222").await["meta"]["total"], 0);
}

#[actix_web::test]
async fn search_results_keep_every_sort_order_of_the_plain_list() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let mut body =
            json!({"phone": format!("6281200000{i:02}"), "email": format!("c{i}@kantor.id")});
        if i % 4 != 0 {
            // Repeated names, so that ties fall to insertion order.
            body["name"] = json!(format!("Nama {}", i % 5));
        }
        ids.push(app.created(&body).await["id"].as_str().unwrap().to_owned());
    }
    // Touch a few, so that update order differs from creation order.
    for i in [3, 17, 8] {
        let response = app.patch_contact(&ids[i], &json!({"name": "Diubah"})).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    for sort in [
        "-created_at",
        "created_at",
        "-updated_at",
        "updated_at",
        "name",
        "-name",
    ] {
        for page in 1..=4 {
            let paging = format!("sort={sort}&per_page=7&page={page}");
            let plain = app.listed(&paging).await;
            let found = app.listed(&format!("{paging}&search=kantor")).await;
            assert_eq!(phones(&found), phones(&plain), "{paging}");
            assert_eq!(found["meta"], plain["meta"], "{paging}");
        }
    }
}
