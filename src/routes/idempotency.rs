//! `Idempotency-Key` on writes: the first response to a key is stored and replayed,
//! byte for byte, on a retry of the same request.

use std::future::Future;

use actix_web::body::{to_bytes, BoxBody};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use crate::auth::Identity;
use crate::domain::{FieldError, Timestamp, ValidationCode};
use crate::error::ApiError;
use crate::storage::idempotency::{claim_key, finish_key, release_key, Claim, StoredResponse};
use crate::storage::Db;

const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_LEN: usize = 255;
/// Headers a replay must repeat; the rest (date, request id) belong to each response.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// Runs `handler` at most once per `Idempotency-Key` of this API key. Without the
/// header, it simply runs. A retry with the same method, path and body gets the stored
/// response with `Idempotent-Replayed: true`; the same key with another request is 422
/// `IDEMPOTENCY_KEY_REUSED`; a retry while the first is still running is 409
/// `IDEMPOTENCY_KEY_IN_USE`. Server errors (5xx) are not stored, so a retry re-runs.
pub async fn idempotent<F, Fut>(
    req: &HttpRequest,
    identity: &Identity,
    body: &[u8],
    db: &Db,
    handler: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = idempotency_key(req)? else {
        return handler().await;
    };
    let api_key = identity.key_id.clone();
    let hash = request_hash(req, body);
    // Claimed through the caller's identity, so a key revoked since it was verified
    // is refused before anything is stored under it.
    let claim = {
        let (api_key, key) = (api_key.clone(), key.clone());
        identity
            .write(db, move |conn, _| {
                claim_key(conn, &api_key, &key, &hash, Timestamp::now())
            })
            .await?
    };
    match claim {
        Claim::Replay(stored) => Ok(replay(stored)),
        Claim::Reused => Err(ApiError::IdempotencyKeyReused),
        Claim::InUse => Err(ApiError::IdempotencyKeyInUse),
        Claim::Fresh => {
            let response = handler().await.unwrap_or_else(|err| err.error_response());
            record(db, api_key, key, response).await
        }
    }
}

/// The header's value, if sent: 1–255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().ok().filter(|k| {
        (1..=MAX_KEY_LEN).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
    });
    match key {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(ApiError::Validation(FieldError::new(
            ValidationCode::InvalidHeader,
            HEADER,
            format!("{HEADER} must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ))),
    }
}

fn request_hash(req: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b"\n");
    hasher.update(req.uri().to_string());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Stores the response (or forgets the key, for a 5xx) and hands it on unchanged.
async fn record(
    db: &Db,
    api_key: String,
    key: String,
    response: HttpResponse,
) -> Result<HttpResponse, ApiError> {
    let status = response.status();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| ApiError::internal("response body unreadable"))?;
    if status.is_server_error() {
        db.write(move |conn| release_key(conn, &api_key, &key))
            .await?;
    } else {
        let stored = StoredResponse {
            status: status.as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = head.headers().get(*name)?.to_str().ok()?;
                    Some(((*name).to_owned(), value.to_owned()))
                })
                .collect(),
            body: bytes.to_vec(),
        };
        db.write(move |conn| finish_key(conn, &api_key, &key, &stored))
            .await?;
    }
    Ok(head.set_body(BoxBody::new(bytes)))
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.insert_header((name, value));
        }
    }
    response.insert_header(("Idempotent-Replayed", "true"));
    response.body(stored.body)
}
