//! `GET /openapi.json` (the OpenAPI 3.1 document of this API) and `GET /docs` (a
//! reference page rendered from it in the browser). Both are compiled into the binary,
//! so they work offline, and neither needs a key.

use std::sync::LazyLock;

use actix_web::http::header::{ContentType, CONTENT_SECURITY_POLICY};
use actix_web::{web, HttpResponse};
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

use super::resource;

/// The document, exactly as in the repository.
pub const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

/// The page: its own inline style and script, which fetch and render `/openapi.json`.
const DOCS_HTML: &str = include_str!("../../docs/index.html");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/openapi.json").route(web::get().to(openapi)));
    cfg.service(resource("/docs").route(web::get().to(docs)));
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(OPENAPI_JSON)
}

async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((CONTENT_SECURITY_POLICY, DOCS_CSP.as_str()))
        .body(DOCS_HTML)
}

/// The API's policy forbids everything; the page needs its own inline style and script
/// and a fetch of `/openapi.json`. They are allowed by hash, not with `unsafe-inline`,
/// so no other script could run in the page even if one got into it.
static DOCS_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(inline_block(DOCS_HTML, "script")),
        csp_hash(inline_block(DOCS_HTML, "style")),
    )
});

/// The text between `<tag>` and `</tag>`, as a browser hashes it for CSP.
fn inline_block<'a>(html: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = html.find(&open).map_or(0, |at| at + open.len());
    let end = html[start..].find(&close).map_or(start, |at| start + at);
    &html[start..end]
}

fn csp_hash(text: &str) -> String {
    format!("sha256-{}", Base64::encode_string(&Sha256::digest(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_exactly_one_inline_script_and_style_and_no_remote_assets() {
        assert_eq!(DOCS_HTML.matches("<script").count(), 1);
        assert_eq!(DOCS_HTML.matches("<style").count(), 1);
        assert!(inline_block(DOCS_HTML, "script").contains("fetch(\"/openapi.json\")"));
        assert!(inline_block(DOCS_HTML, "style").contains("body {"));
        for remote in ["http://", "https://", "//cdn", "src=", "@import"] {
            assert!(!DOCS_HTML.contains(remote), "the page refers to {remote}");
        }
    }

    #[test]
    fn the_policy_allows_the_inline_blocks_by_hash_only() {
        assert!(!DOCS_CSP.contains("unsafe"));
        assert!(DOCS_CSP.starts_with("default-src 'none'; script-src 'sha256-"));
        // The hash of an empty script, as `printf '' | openssl dgst -sha256 -binary |
        // base64` prints it: standard base64 with padding, as CSP wants.
        assert_eq!(
            csp_hash(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_json() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
