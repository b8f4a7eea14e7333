//! `kill -9` at random moments while creates and updates run at full speed, again and
//! again: every create answered 201 and every update answered 200 survives exactly,
//! nothing is half-written, the search index and the kept counts agree with the rows,
//! and the file passes `PRAGMA integrity_check`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::child::{create_key, http, kontak_command, try_http, ServerProcess};
use rand::Rng;
use rusqlite::Connection;
use serde_json::{json, Value};

const KILLS: usize = 20;
const WRITERS: usize = 4;

#[test]
fn every_acknowledged_create_survives_repeated_kill_9_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kontak.db");
    let key = create_key(&db);
    let counter = Arc::new(AtomicU64::new(0));
    // phone -> the body sent (whether or not an answer came back)
    let sent: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    // phone -> the id of a 201
    let acknowledged: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    // phone -> (the latest update answered 200, the latest update sent)
    let updates: Arc<Mutex<HashMap<String, (u64, u64)>>> = Arc::default();

    for _ in 0..KILLS {
        let mut server = ServerProcess::start(&db, &[]);
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (key, port) = (key.clone(), server.port);
                let (counter, sent, acknowledged) =
                    (counter.clone(), sent.clone(), acknowledged.clone());
                std::thread::spawn(move || loop {
                    let body = contact_body(counter.fetch_add(1, Ordering::Relaxed));
                    let phone = body["phone"].as_str().unwrap().to_owned();
                    sent.lock().unwrap().insert(phone.clone(), body.clone());
                    let Some((status, answer)) =
                        try_http(port, "POST", "/v1/contacts", &key, &body.to_string())
                    else {
                        return; // killed
                    };
                    assert_eq!(status, 201, "{answer}");
                    let answer: Value = serde_json::from_str(&answer).unwrap();
                    let id = answer["data"]["id"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().insert(phone, id);
                })
            })
            .collect::<Vec<_>>();
        let killed = Arc::new(AtomicBool::new(false));
        let updater = {
            let (key, port) = (key.clone(), server.port);
            let (acknowledged, updates) = (acknowledged.clone(), updates.clone());
            let killed = killed.clone();
            std::thread::spawn(move || {
                update_until_killed(port, &key, &acknowledged, &updates, &killed)
            })
        };
        let run = rand::thread_rng().gen_range(30..300);
        std::thread::sleep(Duration::from_millis(run));
        server.child.kill().unwrap(); // SIGKILL, by this child's own handle
        server.child.wait().unwrap();
        killed.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.join().unwrap();
        }
        updater.join().unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= KILLS,
        "too few creates to prove anything: {}",
        acknowledged.len()
    );
    let stored = list_everything(&db, &key);
    eprintln!(
        "{} creates answered 201, {} sent, {} stored, over {KILLS} kills",
        acknowledged.len(),
        sent.len(),
        stored.len()
    );
    for (phone, id) in &acknowledged {
        let contact = stored
            .get(phone)
            .unwrap_or_else(|| panic!("acknowledged {phone} is lost"));
        assert_eq!(&contact["id"], id, "{phone}");
    }
    let updates = updates.lock().unwrap().clone();
    let mut updated = 0;
    for (phone, contact) in &stored {
        let body = sent
            .get(phone)
            .unwrap_or_else(|| panic!("{phone} was never sent"));
        let version = contact["custom_fields"]["update"].as_u64().unwrap_or(0);
        let (answered, tried) = updates.get(phone).copied().unwrap_or((0, 0));
        assert!(
            (answered..=tried).contains(&version),
            "{phone}: update {version} stored, {answered} answered, {tried} sent"
        );
        let expected = match version {
            0 => body.clone(),
            v => {
                updated += 1;
                updated_body(body, v)
            }
        };
        for field in ["name", "tags", "custom_fields"] {
            assert_eq!(contact[field], expected[field], "{phone}: {field}");
        }
    }
    eprintln!("{updated} contacts hold an update");
    assert!(
        updated > 0,
        "no update was stored: the test proved nothing about them"
    );
    assert_links_are_whole(&db);
    assert_index_and_counts_agree(&db);
    let check = kontak_command(&db).arg("check").output().unwrap();
    assert!(check.status.success(), "{check:?}");
    assert_eq!(String::from_utf8_lossy(&check.stdout), "ok\n");
}

/// A distinct contact with every kind of field, tags shared between contacts.
fn contact_body(n: u64) -> Value {
    json!({
        "phone": format!("+62813{n:08}"),
        "name": format!("Crash {n}"),
        "tags": ["crash", format!("r{}", n % 7), format!("Mixed{}", n % 3)],
        "custom_fields": {"n": n, "even": n.is_multiple_of(2), "note": "x".repeat((n % 50) as usize)},
    })
}

/// The body after update `version` of it: a new name, one more custom field.
fn updated_body(body: &Value, version: u64) -> Value {
    let mut updated = body.clone();
    updated["name"] = json!(format!("{} v{version}", body["name"].as_str().unwrap()));
    updated["custom_fields"]["update"] = json!(version);
    updated
}

/// Updates acknowledged contacts one after another until the server dies, recording
/// for each the update sent last and the one last answered 200. `killed` ends the wait
/// for a first contact to update: a kill can come before any create was answered.
fn update_until_killed(
    port: u16,
    key: &str,
    acknowledged: &Mutex<HashMap<String, String>>,
    updates: &Mutex<HashMap<String, (u64, u64)>>,
    killed: &AtomicBool,
) {
    let mut rng = rand::thread_rng();
    loop {
        let target = {
            let acknowledged = acknowledged.lock().unwrap();
            let count = acknowledged.len();
            (count > 0).then(|| {
                let (phone, id) = acknowledged.iter().nth(rng.gen_range(0..count)).unwrap();
                (phone.clone(), id.clone())
            })
        };
        let Some((phone, id)) = target else {
            if killed.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let version = {
            let mut updates = updates.lock().unwrap();
            let entry = updates.entry(phone.clone()).or_insert((0, 0));
            entry.1 += 1;
            entry.1
        };
        let n: u64 = phone.trim_start_matches("+62813").parse().unwrap();
        let body = updated_body(&contact_body(n), version);
        let patch = json!({"name": body["name"], "custom_fields": {"update": version}});
        let path = format!("/v1/contacts/{id}");
        let Some((status, answer)) = try_http(port, "PATCH", &path, key, &patch.to_string()) else {
            return; // killed
        };
        assert_eq!(status, 200, "{answer}");
        updates.lock().unwrap().get_mut(&phone).unwrap().0 = version;
    }
}

/// The trigram index, once the changes still queued for it are applied, holds exactly
/// the contacts' rows, and the kept per-workspace counts equal the rows counted. (A
/// kill can leave changes queued; searches read them from the queue meanwhile.)
fn assert_index_and_counts_agree(db: &std::path::Path) {
    let mut conn = Connection::open(db).unwrap();
    let tx = conn.transaction().unwrap();
    kontak::storage::search_queue::apply_search_queue(&tx).unwrap();
    tx.commit().unwrap();
    conn.execute(
        "INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('integrity-check', 0)",
        [],
    )
    .unwrap();
    let (indexed, rows, counted, queued): (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM contacts_fts_docsize),
                    (SELECT count(*) FROM contacts),
                    (SELECT coalesce(sum(contacts), 0) FROM workspace_stats),
                    (SELECT count(*) FROM search_queue)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (indexed, counted, queued),
        (rows, rows, 0),
        "index and counts follow the rows; nothing stays queued"
    );
}

/// Every contact, by phone, through the API of a fresh server (stopped cleanly).
fn list_everything(db: &std::path::Path, key: &str) -> HashMap<String, Value> {
    let mut server = ServerProcess::start(db, &[]);
    let mut all = HashMap::new();
    for page in 1.. {
        let path = format!("/v1/contacts?per_page=100&page={page}");
        let (status, body) = http(server.port, "GET", &path, key, "");
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        for contact in body["data"].as_array().unwrap() {
            let phone = contact["phone"].as_str().unwrap().to_owned();
            assert!(all.insert(phone, contact.clone()).is_none(), "listed twice");
        }
        if body["meta"]["has_more"] != true {
            break;
        }
    }
    server.signal("TERM");
    assert!(server.wait_for_exit(Duration::from_secs(30)).success());
    all
}

/// Each contact's tag links are numbered 0..n without gaps, and point at tags of the
/// contact's own workspace.
fn assert_links_are_whole(db: &std::path::Path) {
    let conn = Connection::open(db).unwrap();
    let broken: i64 = conn
        .query_row(
            "SELECT count(*) FROM (
                 SELECT ct.contact_seq FROM contact_tags ct
                 JOIN contacts c ON c.seq = ct.contact_seq
                 JOIN tags t ON t.id = ct.tag_id AND t.workspace_id = c.workspace_id
                 GROUP BY ct.contact_seq
                 HAVING max(ct.position) + 1 != count(*) OR count(*) != 3)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(broken, 0);
    let untagged: i64 = conn
        .query_row(
            "SELECT count(*) FROM contacts
             WHERE seq NOT IN (SELECT contact_seq FROM contact_tags)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(untagged, 0, "a contact lost its tags");
}
