//! Starts the real application on port 0 with a fresh database, as `main` would.
#![allow(dead_code)] // each test binary uses its own subset of these helpers

pub mod child;

use std::path::PathBuf;

use kontak::auth::provision::create_key;
use kontak::auth::Scopes;
use kontak::config::Settings;
use kontak::domain::WorkspaceName;
use kontak::startup::Application;
use kontak::storage::open_connection;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub const READ_WRITE: &str = "contacts:read,contacts:write";

pub struct TestApp {
    pub address: String,
    pub db_path: PathBuf,
    /// A key of workspace "acme" with both scopes.
    pub key: String,
    pub client: Client,
    /// The metrics listener's port, when `metrics_bind` is set.
    pub metrics_port: Option<u16>,
    _dir: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the metrics listener on (see [`TestApp::metrics_text`]).
pub async fn spawn_app_with_metrics() -> TestApp {
    spawn_app_with(|s| {
        s.metrics_bind = Some("127.0.0.1:0".into());
        s.workers = 1;
    })
    .await
}

/// Like [`spawn_app`], with settings adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        db: dir.path().join("kontak.db"),
        workers: 2,
        read_connections: 4,
        ..Settings::default()
    };
    adjust(&mut settings);
    let app = Application::build(&settings).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_port = app.metrics_port();
    actix_web::rt::spawn(app.run_until_stopped());
    let mut test_app = TestApp {
        address,
        db_path: settings.db.clone(),
        key: String::new(),
        client: Client::new(),
        metrics_port,
        _dir: dir,
    };
    test_app.key = test_app.new_key("acme", READ_WRITE);
    test_app
}

impl TestApp {
    /// Mints a key the way `kontak key create` does, straight into the database.
    pub fn new_key(&self, workspace: &str, scopes: &str) -> String {
        let mut conn = open_connection(&self.db_path, std::time::Duration::from_secs(5)).unwrap();
        let workspace = WorkspaceName::parse(workspace).unwrap();
        let scopes = Scopes::parse_list(scopes).unwrap();
        create_key(&mut conn, &workspace, &scopes, None)
            .unwrap()
            .reveal()
            .to_owned()
    }

    /// The Prometheus text the metrics listener serves.
    pub async fn metrics_text(&self) -> String {
        let port = self.metrics_port.expect("metrics_bind is set");
        self.client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn create_contact(&self, body: &Value) -> Response {
        self.create_contact_as(&self.key, body).await
    }

    pub async fn create_contact_as(&self, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/v1/contacts"))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a contact and returns its `data`, failing the test unless it was a 201.
    pub async fn created(&self, body: &Value) -> Value {
        let response = self.create_contact(body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {body}");
        response.json::<Value>().await.unwrap()["data"].clone()
    }

    /// `GET /v1/contacts` with a raw query string such as `page=2&per_page=5`.
    pub async fn list(&self, query: &str) -> Response {
        self.list_as(&self.key, query).await
    }

    pub async fn list_as(&self, key: &str, query: &str) -> Response {
        self.client
            .get(self.url(&format!("/v1/contacts?{query}")))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
    }

    /// The list's JSON body, failing the test unless it was a 200 labelled as JSON.
    pub async fn listed(&self, query: &str) -> Value {
        let response = self.list(query).await;
        assert_eq!(response.status(), StatusCode::OK, "listing ?{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "listing ?{query}"
        );
        response.json().await.unwrap()
    }

    /// The phones of a list response, in order.
    pub async fn listed_phones(&self, query: &str) -> Vec<String> {
        phones(&self.listed(query).await)
    }

    pub async fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with this app's key, and a JSON body if given.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        self.call_as(&self.key, method, path, body)
    }

    pub fn call_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path)).bearer_auth(key);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    }

    pub async fn get_contact(&self, id: &str) -> Response {
        self.call(Method::GET, &format!("/v1/contacts/{id}"), None)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_contact(&self, id: &str, body: &Value) -> Response {
        self.call(Method::PATCH, &format!("/v1/contacts/{id}"), Some(body))
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_contact(&self, id: &str) -> Response {
        self.call(Method::DELETE, &format!("/v1/contacts/{id}"), None)
            .send()
            .await
            .unwrap()
    }
}

pub fn phones(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|c| c["phone"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts an error envelope with this status and code; returns the `error` object.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status for expected {code}");
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["success"], false, "body {body}");
    assert_eq!(body["error"]["code"], code, "body {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body {body}"
    );
    body["error"].clone()
}
