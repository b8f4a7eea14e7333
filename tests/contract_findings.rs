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
