//! HTTP routes, one file per resource, and the handlers for what matches no route.

mod contacts;
mod envelope;
mod health;

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::error::ApiError;

pub use envelope::{Envelope, PageMeta};

/// Registers every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    contacts::configure(cfg);
}

/// The app's default service: 404 in the envelope.
pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// A resource's default service: 405 in the envelope, with the methods it does allow.
pub async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}

/// Reads a JSON body with the app's `JsonConfig` (size limit, content type, envelope
/// errors). Handlers call this after their `RequireScope` extractor has passed:
/// as a handler argument, `web::Json` would be extracted alongside authentication
/// and could answer an unauthenticated caller with a 400 or 415 instead of a 401.
pub async fn json_body(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Value, actix_web::Error> {
    let web::Json(value) = web::Json::<Value>::from_request(req, &mut payload.into_inner()).await?;
    Ok(value)
}
