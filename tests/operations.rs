//! Operating kontak: `kontak backup` and `kontak check`, `GET /readyz`, and what a
//! full disk does to writes and reads.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::child::{kontak_command, kontak_ok};
use common::{assert_error, spawn_app, spawn_app_with, TestApp};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{json, Value};

#[actix_web::test]
async fn a_backup_taken_during_writes_is_sound_and_has_every_earlier_commit() {
    let app = spawn_app().await;
    let mut committed = Vec::new();
    for n in 0..30 {
        let phone = format!("+6281100{n:05}");
        app.created(&json!({"phone": phone, "tags": ["before", format!("t{n}")]}))
            .await;
        committed.push(phone);
    }
    // Writes keep landing while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (client, url, key) = (app.client.clone(), app.url("/v1/contacts"), app.key.clone());
        let (stop, written) = (Arc::clone(&stop), Arc::clone(&written));
        actix_web::rt::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({"phone": format!("+6282200{n:05}"), "tags": ["during"]});
                let response = client.post(&url).bearer_auth(&key).json(&body).send().await;
                if response.is_ok_and(|r| r.status() == StatusCode::CREATED) {
                    written.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    while written.load(Ordering::Relaxed) < 3 {
        actix_web::rt::task::yield_now().await;
    }
    let target = app.db_path.with_file_name("backup.db");
    let (db, copy) = (app.db_path.clone(), target.clone());
    actix_web::rt::task::spawn_blocking(move || {
        kontak_ok(&db, &["backup", copy.to_str().unwrap()]);
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    assert_eq!(check(&target), (true, "ok\n".to_owned()));
    let backup = Connection::open(&target).unwrap();
    for phone in &committed {
        let tags: String = backup
            .query_row(
                "SELECT group_concat(t.name, ',') FROM contacts c
                 JOIN contact_tags ct ON ct.contact_seq = c.seq
                 JOIN tags t ON t.id = ct.tag_id WHERE c.phone = ?1",
                [phone],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{phone} is missing from the backup: {e}"));
        assert_eq!(tags.split(',').count(), 2, "{phone}: {tags}");
    }
    drop(backup);

    // Restoring is starting kontak on the copy: it serves the same workspace's data.
    let restored = spawn_app_with(|s| s.db = target.clone()).await;
    let total = restored.listed("").await["meta"]["total"].as_u64().unwrap();
    assert!(total >= committed.len() as u64, "restored {total} contacts");
}

#[test]
fn backup_refuses_to_overwrite_an_existing_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    common::child::create_key(&db);
    let target = dir.path().join("existing.db");
    std::fs::write(&target, "precious").unwrap();

    let refused = kontak_command(&db)
        .args(["backup", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");

    kontak_ok(&db, &["backup", "--force", target.to_str().unwrap()]);
    assert_eq!(check(&target), (true, "ok\n".to_owned()));
    assert!(!dir.path().join("existing.db.partial").exists());
}

#[test]
fn backup_and_check_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    for args in [&["check"][..], &["backup", "copy.db"][..]] {
        let output = kontak_command(&db).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("no database"));
    }
    assert!(!db.exists(), "nothing may be created");
}

#[test]
fn check_reports_a_dangling_foreign_key_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    common::child::create_key(&db);
    let conn = Connection::open(&db).unwrap();
    // As a buggy tool or a hand edit without foreign keys enforced would.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    conn.execute(
        "INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (999, 999, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let (ok, out) = check(&db);
    assert!(!ok);
    assert!(out.contains("contact_tags"), "{out}");
}

#[test]
fn check_fails_on_a_corrupted_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    common::child::create_key(&db);
    // Scribble over every page but the header page: the tables' b-trees are garbage.
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192, "expected a multi-page database");
    for byte in &mut bytes[4096..] {
        *byte = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    assert!(!check(&db).0);
}

#[actix_web::test]
async fn readyz_is_200_without_a_key_on_a_writable_current_database() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "data": {"status": "ready"}}));
}

#[actix_web::test]
async fn readyz_is_503_when_the_schema_is_not_this_binarys_while_healthz_stays_200() {
    let app = spawn_app().await;
    let conn = Connection::open(&app.db_path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

#[actix_web::test]
async fn readyz_is_503_while_another_process_holds_the_write_lock() {
    let app = spawn_app_with(|s| s.busy_timeout_ms = 100).await;
    let blocker = Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    blocker.execute_batch("ROLLBACK").unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// While the database cannot take writes: creating `body` answers 503, `/readyz` says
/// 503, and the list still serves `first`.
async fn assert_writes_refused_and_reads_served(app: &TestApp, body: &Value, first: &Value) {
    assert_error(
        app.create_contact(body).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let listed = app.listed("").await;
    assert_eq!(listed["data"][0]["id"], first["id"], "reads keep working");
}

/// A database on a small tmpfs that fills up: writes answer 503 and reads keep working,
/// and writes work again once there is room. Needs root (to mount); skipped otherwise.
#[actix_web::test]
async fn on_a_full_disk_writes_are_503_reads_keep_working_and_space_brings_writes_back() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = SmallTmpfs::mount(&dir.path().join("mnt")) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let db = dir.path().join("mnt/kontak.db");
    let app = spawn_app_with(|s| s.db = db.clone()).await;
    let first = app.created(&json!({"phone": "+628123456789"})).await;

    let filler = dir.path().join("mnt/filler");
    fill_disk(&filler);
    let big = json!({
        "phone": "+628123456780",
        "custom_fields": (0..50).map(|i| (format!("f{i}"), json!("x".repeat(1000))))
            .collect::<serde_json::Map<_, _>>(),
    });
    assert_writes_refused_and_reads_served(&app, &big, &first).await;

    std::fs::remove_file(&filler).unwrap();
    app.created(&big).await;
    assert_eq!(app.listed("").await["meta"]["total"], 2);
}

/// A database the file system will not let kontak write (its files made immutable,
/// which even root cannot write through an open descriptor): writes answer 503, reads
/// keep working, and once the files are writable again writes work and the file is
/// sound. Needs `chattr` and a file system with the immutable flag; skipped otherwise.
#[actix_web::test]
async fn a_database_that_cannot_be_written_answers_writes_503_and_keeps_reading() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    let app = spawn_app_with(|s| s.db = db.clone()).await;
    let first = app.created(&json!({"phone": "+628123456789"})).await;
    let files = [db.clone(), dir.path().join("kontak.db-wal")];
    let Some(frozen) = Immutable::set(&files) else {
        eprintln!("SKIPPED: chattr +i is not available here");
        return;
    };

    assert_writes_refused_and_reads_served(&app, &json!({"phone": "+628123456780"}), &first).await;

    drop(frozen);
    app.created(&json!({"phone": "+628123456780"})).await;
    assert_eq!(app.listed("").await["meta"]["total"], 2);
    assert_eq!(check(&db), (true, "ok\n".to_owned()));
}

/// Files with the immutable attribute set, cleared again on drop.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(files: &[std::path::PathBuf]) -> Option<Self> {
        let frozen = Self(files.to_vec());
        let set = Command::new("chattr")
            .arg("+i")
            .args(files)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        set.then_some(frozen)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

/// A 4 MiB tmpfs, lazily unmounted on drop (the server may still hold files open).
struct SmallTmpfs(std::path::PathBuf);

impl SmallTmpfs {
    fn mount(at: &Path) -> Option<Self> {
        std::fs::create_dir_all(at).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Self(at.to_owned()))
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes to `path` until the file system says it is full.
fn fill_disk(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match file.write_all(&chunk).and_then(|()| file.sync_all()) {
            Ok(()) => continue,
            Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
            Err(err) => panic!("filling the disk: {err}"),
        }
    }
    // Fill the last partial page too.
    while file.write_all(&[0u8; 512]).is_ok() {}
}

/// `kontak check` on `db`: (exit status success, stdout).
fn check(db: &Path) -> (bool, String) {
    let output = kontak_command(db).arg("check").output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}
