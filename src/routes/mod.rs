//! HTTP routes, one file per resource, and the handlers for what matches no route.

mod body;
mod contacts;
mod contacts_by_phone;
mod envelope;
mod etag;
mod health;
mod idempotency;
mod tags;

use actix_web::{web, HttpResponse};

use crate::domain::PhoneRules;
use crate::error::ApiError;

pub use envelope::{Envelope, PageMeta};

/// The settings handlers need, shared through `web::Data`.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub phone_rules: PhoneRules,
    pub max_body_bytes: usize,
}

/// Registers every route of the API. `by-phone` comes before `{id}` so that the
/// literal segment is never taken for an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    contacts_by_phone::configure(cfg);
    contacts::configure(cfg);
    tags::configure(cfg);
}

/// The app's default service: 404 in the envelope.
pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// A resource's default service: 405 in the envelope, with the methods it does allow.
pub async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}
