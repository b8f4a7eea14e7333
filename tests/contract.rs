//! The machine-readable contract: `docs/openapi.json` describes exactly the routes in
//! `kontak::routes::ROUTES`, the server serves exactly those, and `/openapi.json` and
//! `/docs` are served as documented.

mod common;

use std::collections::BTreeSet;

use common::{assert_error, spawn_app};
use kontak::routes::{OPENAPI_JSON, ROUTES};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("docs/openapi.json is JSON")
}

/// (METHOD, path template) of every operation the document describes.
fn documented_operations() -> BTreeSet<(String, String)> {
    let doc = document();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (key, _) in item.as_object().expect("path item") {
            let method = key.to_ascii_uppercase();
            if HTTP_METHODS.contains(&method.as_str()) {
                operations.insert((method, path.clone()));
            }
        }
    }
    operations
}

fn listed_routes() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .iter()
                .map(|method| ((*method).to_owned(), (*path).to_owned()))
        })
        .collect()
}

#[test]
fn the_document_describes_every_listed_route_and_nothing_else() {
    let documented = documented_operations();
    let listed = listed_routes();
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&listed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "operations in docs/openapi.json that routes::ROUTES does not list: {unserved:?}"
    );
}

#[test]
fn every_operation_has_an_id_and_documents_its_responses() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path) in documented_operations() {
        let op = &doc["paths"][&path][method.to_ascii_lowercase()];
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no response"
        );
    }
}

/// Every `$ref` in the document points at something that exists.
#[test]
fn every_reference_in_the_document_resolves() {
    fn walk(node: &Value, refs: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let doc = document();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {target}");
    }
}

/// The error codes the document promises are those of the README's error table.
#[test]
fn the_documented_error_codes_are_the_readmes() {
    let doc = document();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["Error"]["properties"]["code"]
        ["enum"]
        .as_array()
        .expect("code enum")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let readme = include_str!("../README.md");
    let table: BTreeSet<String> = readme
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim);
            let (_, status, code) = (cells.next()?, cells.next()?, cells.next()?);
            let is_status = status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit());
            let code = code.strip_prefix('`')?.strip_suffix('`')?;
            (is_status && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
                .then(|| code.to_owned())
        })
        .collect();
    assert!(table.len() > 20, "README error table not found");
    assert_eq!(documented, table);
}

/// A concrete path for a template: a well-formed id, a valid number.
fn concrete(path: &str) -> String {
    path.replace("{id}", "01a210b9-95df-74b9-9741-67874efb6b49")
        .replace("{phone}", "+628123456789")
}

#[actix_web::test]
async fn the_server_serves_exactly_the_listed_methods_on_every_listed_path() {
    let app = spawn_app().await;
    for (template, methods) in ROUTES {
        let path = concrete(template);
        for name in HTTP_METHODS {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            let response = app
                .call(method, &path, Some(&json!({"phone": "+628123456789"})))
                .send()
                .await
                .unwrap();
            let status = response.status();
            if methods.contains(&name) {
                assert_ne!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{name} {path} is listed but answers 405"
                );
                if status == StatusCode::NOT_FOUND {
                    let body: Value = response.json().await.unwrap();
                    assert_ne!(
                        body["error"]["code"], "NOT_FOUND",
                        "{name} {path} is listed but is no route"
                    );
                }
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{name} {path} is not listed but answers {status}"
                );
                assert_eq!(
                    response.headers()["allow"],
                    methods.join(", ").as_str(),
                    "Allow of {path}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn a_path_the_document_does_not_describe_is_404_not_found() {
    let app = spawn_app().await;
    for path in ["/openapi.yaml", "/docs/index.html", "/v1/openapi.json"] {
        let response = app.call(Method::GET, path, None).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[actix_web::test]
async fn openapi_json_is_the_embedded_document_served_without_a_key() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(response.text().await.unwrap(), OPENAPI_JSON);
}

#[actix_web::test]
async fn docs_is_an_html_page_with_a_policy_of_its_own_and_no_remote_assets() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe"), "{csp}");
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(headers[name], value, "header {name}");
    }
    let page = response.text().await.unwrap();
    assert!(page.contains("fetch(\"/openapi.json\")"));
    assert!(!page.contains("https://") && !page.contains("http://"));
}

#[actix_web::test]
async fn only_docs_relaxes_the_content_security_policy() {
    let app = spawn_app().await;
    for path in ["/healthz", "/openapi.json", "/v1/contacts", "/nowhere"] {
        let response = app.call(Method::GET, path, None).send().await.unwrap();
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'",
            "path {path}"
        );
    }
}
