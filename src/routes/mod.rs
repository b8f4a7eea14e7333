//! HTTP routes, one file per resource, and the handlers for what matches no route.

mod api_docs;
mod body;
mod contacts;
mod contacts_by_phone;
mod envelope;
mod etag;
mod health;
mod idempotency;
mod tags;

use std::sync::LazyLock;

use actix_web::{web, HttpResponse, Resource};

use crate::domain::PhoneRules;
use crate::error::ApiError;

pub use envelope::{Envelope, PageMeta};

/// The settings handlers need, shared through `web::Data`.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub phone_rules: PhoneRules,
    pub max_body_bytes: usize,
    /// How long a client has to send a request body.
    pub body_timeout: std::time::Duration,
}

pub use api_docs::OPENAPI_JSON;

/// Every route kontak serves: path template and the methods it takes, in `Allow`'s
/// order. `docs/openapi.json` must describe exactly these, and the server must serve
/// exactly these (`tests/contract.rs` checks both), so a route added to
/// [`configure`] without a line here, or without its document, fails the tests.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["GET"]),
    ("/readyz", &["GET"]),
    ("/openapi.json", &["GET"]),
    ("/docs", &["GET"]),
    ("/v1/contacts", &["GET", "POST"]),
    ("/v1/contacts/{id}", &["GET", "PATCH", "DELETE"]),
    ("/v1/contacts/by-phone/{phone}", &["GET", "PUT"]),
    ("/v1/tags", &["GET"]),
];

/// The `Allow` value of each path in [`ROUTES`].
static ALLOW: LazyLock<Vec<(&str, String)>> = LazyLock::new(|| {
    ROUTES
        .iter()
        .map(|(path, methods)| (*path, methods.join(", ")))
        .collect()
});

/// The resource at `path`, answering 405 with `Allow` for any method [`ROUTES`] does
/// not list for it. Every route is registered through this, so a path missing from
/// `ROUTES` stops the server from being built (and every test with it).
fn resource(path: &'static str) -> Resource {
    let allow: &'static str = ALLOW
        .iter()
        .find(|(listed, _)| *listed == path)
        .map(|(_, allow)| allow.as_str())
        .unwrap_or_else(|| panic!("route {path} is not listed in routes::ROUTES"));
    web::resource(path).default_service(web::to(move || method_not_allowed(allow)))
}

/// Registers every route of the API (each listed in [`ROUTES`]). A request takes the
/// first route that matches, in this order. `by-phone` comes before `{id}` so that the
/// literal segment is never taken for an id. `/v1/contacts` comes before both: a path
/// with a parameter is matched by a regex, which cost a list or a create about 8,000
/// instructions (2% of a first page) each time it was tried first.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    api_docs::configure(cfg);
    contacts::configure_collection(cfg);
    contacts_by_phone::configure(cfg);
    contacts::configure_items(cfg);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "not listed in routes::ROUTES")]
    fn a_route_missing_from_the_list_cannot_be_registered() {
        let _ = resource("/v1/unlisted");
    }

    #[test]
    fn allow_lists_the_methods_in_order() {
        let allow = ALLOW.iter().find(|(path, _)| *path == "/v1/contacts/{id}");
        assert_eq!(allow.unwrap().1, "GET, PATCH, DELETE");
    }
}
