//! HTTP routes, one file per resource, and the handlers for what matches no route.

mod contacts;
mod envelope;
mod health;

use actix_web::{web, HttpResponse};

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
