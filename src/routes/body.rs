//! Reading a JSON request body: content type, size limit, syntax, each with its own code.

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde_json::Value;

use super::ApiSettings;
use crate::domain::{FieldError, ValidationCode};
use crate::error::ApiError;

/// Reads the body of `req` as JSON, at most `limit` bytes. Returns the raw bytes too,
/// for the idempotency check, which compares requests byte for byte.
///
/// Handlers call this after their `RequireScope` extractor: as a handler argument, a
/// body extractor would run alongside authentication and could answer an
/// unauthenticated caller with a 400 or 415 instead of a 401.
pub async fn read_json(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &ApiSettings,
) -> Result<(Bytes, Value), ApiError> {
    // A client that trickles its body would otherwise hold a connection and a worker
    // slot for as long as it likes.
    actix_web::rt::time::timeout(
        settings.body_timeout,
        read_within_limit(req, payload, settings.max_body_bytes),
    )
    .await
    .map_err(|_| ApiError::RequestTimeout)?
}

async fn read_within_limit(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<(Bytes, Value), ApiError> {
    if !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|err| invalid_json(format!("the body could not be read: {err}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let value = serde_json::from_slice(&body)
        .map_err(|err| invalid_json(format!("the request body is not valid JSON: {err}")))?;
    Ok((body, value))
}

/// `application/json`, or any `+json` type, with any parameters.
fn is_json(req: &HttpRequest) -> bool {
    let Some(content_type) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn invalid_json(message: String) -> ApiError {
    ApiError::Validation(FieldError::whole(ValidationCode::InvalidJson, message))
}
