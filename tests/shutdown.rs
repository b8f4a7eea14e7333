//! Clean shutdown: SIGTERM and SIGINT stop accepting, let in-flight requests finish,
//! checkpoint the WAL, and exit 0.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::child::{create_key, http, wal_path, ServerProcess};
use rusqlite::Connection;
use serde_json::Value;

#[test]
fn sigterm_lets_an_in_flight_create_finish_then_exits_0() {
    an_in_flight_create_survives("TERM");
}

#[test]
fn sigint_is_as_graceful_as_sigterm() {
    an_in_flight_create_survives("INT");
}

fn an_in_flight_create_survives(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    let key = create_key(&db);
    let mut server = ServerProcess::start(&db, &[]);
    // Warm the key up (argon2, last-used write) so the create below waits only on
    // the lock.
    assert_eq!(http(server.port, "GET", "/v1/contacts", &key, "").0, 200);

    // Another connection holds the write lock, as `kontak key revoke` would for a
    // moment: the server's create waits for it (busy_timeout is 5 s).
    let blocker = Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let port = server.port;
    let in_flight = std::thread::spawn(move || {
        http(
            port,
            "POST",
            "/v1/contacts",
            &key,
            r#"{"phone": "+628123456789"}"#,
        )
    });
    // Nothing outside the server shows the moment it has read the request, so give
    // it a moment; the request then waits on the lock for as long as we hold it.
    std::thread::sleep(Duration::from_millis(1000));
    server.signal(signal);

    // The listener closes while the create is still waiting.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !in_flight.is_finished(),
        "the create finished before the lock was released"
    );
    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);

    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["data"]["phone"], "+628123456789");
    let exit = server.wait_for_exit(Duration::from_secs(20));
    assert!(exit.success(), "exit status {exit}");
    assert!(server.logged("database checkpointed"));

    // The WAL was folded into the file, and the create is in it.
    let wal = std::fs::metadata(wal_path(&db)).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL should be empty after a clean stop");
    let phones: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM contacts WHERE phone = '+628123456789'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(phones, 1);
}
