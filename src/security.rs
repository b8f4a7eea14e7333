//! Response hardening every route gets: the security headers, and CORS (off unless
//! `cors_allowed_origins` names origins).

use actix_cors::{Cors, CorsError};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, ResponseError};

use crate::error::ApiError;

/// Headers added to every response that does not set its own. The API serves JSON
/// only, so it can forbid everything a browser might otherwise do with a response:
/// sniff it into HTML, frame it, load anything from it, cache it, or leak the URL.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        // Responses carry customer data and depend on the key: no cache may keep them.
        .add((header::CACHE_CONTROL, "no-store"))
}

/// CORS for the configured origins. With none configured the middleware is not
/// installed at all (see `startup`), so no response carries `Access-Control-*` and
/// browsers refuse cross-origin calls, which is the safe default for bearer keys.
/// A request from an origin not on the list is served without CORS headers (the
/// browser then withholds the response); a preflight from one is refused with 400
/// `CORS_REJECTED` (see [`cors_errors_as_envelope`]).
pub fn cors(allowed_origins: &[String]) -> Cors {
    allowed_origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
        ])
        .max_age(600)
}

/// actix-cors answers a refused preflight in plain text; this puts that answer in the
/// envelope like every other error. Register around the CORS middleware.
pub async fn cors_errors_as_envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let refusal = res
        .response()
        .error()
        .and_then(|err| err.as_error::<CorsError>())
        .map(ToString::to_string);
    Ok(match refusal {
        None => res.map_into_left_body(),
        Some(reason) => {
            let (req, _) = res.into_parts();
            let response = ApiError::CorsRejected(reason).error_response();
            ServiceResponse::new(req, response).map_into_right_body()
        }
    })
}
