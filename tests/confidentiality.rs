//! What kontak keeps and writes down: never a key's secret, a request body or a
//! search term, in the logs or in the database file.

mod common;

use std::time::Duration;

use common::child::{create_key, http, wal_path, ServerProcess};

const NAME: &str = "Sekretnama Hafari";
const SEARCH: &str = "sekretsearch";

#[test]
fn logs_never_contain_keys_bodies_or_search_terms_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    let key = create_key(&db);
    let mut server = ServerProcess::start(&db, &[("KONTAK_LOG", "trace")]);
    let body = format!(r#"{{"phone": "+628123456789", "name": "{NAME}"}}"#);
    assert_eq!(
        http(server.port, "POST", "/v1/contacts", &key, &body).0,
        201
    );
    let search = format!("/v1/contacts?search={SEARCH}");
    assert_eq!(http(server.port, "GET", &search, &key, "").0, 200);
    let wrong = format!("{}_{}", key.rsplit_once('_').unwrap().0, "7".repeat(32));
    assert_eq!(http(server.port, "GET", "/v1/contacts", &wrong, "").0, 401);
    server.signal("TERM");
    assert!(server.wait_for_exit(Duration::from_secs(20)).success());

    let logs = server.logs.lock().unwrap().join("\n");
    assert!(logs.contains("\"request\""), "the request lines are there");
    for (what, needle) in [
        ("the key's secret", secret(&key)),
        ("the wrong key's secret", secret(&wrong)),
        ("a body field", NAME),
        ("a search term", SEARCH),
        ("the phone", "628123456789"),
    ] {
        assert!(!logs.contains(needle), "the log holds {what}");
    }
}

#[test]
fn the_database_holds_only_a_hash_of_each_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    let key = create_key(&db);
    let mut server = ServerProcess::start(&db, &[]);
    assert_eq!(http(server.port, "GET", "/v1/contacts", &key, "").0, 200);
    server.signal("TERM");
    assert!(server.wait_for_exit(Duration::from_secs(20)).success());

    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(wal_path(&db)).unwrap_or_default());
    let secret = secret(&key).as_bytes();
    assert!(!bytes.windows(secret.len()).any(|w| w == secret));
    let hashes = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT secret_hash FROM api_keys", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    assert!(hashes.starts_with("$argon2id$"), "{hashes}");
}

fn secret(key: &str) -> &str {
    key.rsplit_once('_').unwrap().1
}
