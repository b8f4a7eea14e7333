//! The floor for creates: how many single-row transactions this machine commits, in
//! process, with kontak's schema and connection settings (WAL, synchronous=NORMAL),
//! each row indexed for search as the server's writer indexes it (the search queue
//! applied once a thousand changes wait). An HTTP create costs at least one such
//! commit unless commits are grouped, so "creates per second" in RESULTS.md is also
//! shown as a ratio to this.
//!
//! Usage: cargo run --release --example sqlite_floor -- DB_PATH SECONDS
//! Prints one JSON line: {"rows": N, "seconds": S, "rows_per_sec": R}.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kontak::storage::search_queue::apply_search_queue_if_long;
use kontak::storage::{open_connection, schema};
use rusqlite::params;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "floor.db".into()));
    let seconds: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = open_connection(&path, Duration::from_secs(5))?;
    schema::migrate(&mut conn)?;
    conn.execute(
        "INSERT INTO workspaces (name, created_at) VALUES ('floor', '2026-01-01T00:00:00Z')",
        [],
    )?;
    // The same row shape and indexes as a created contact, written with no kontak
    // code in between but the search-index step every writer transaction ends with:
    // one INSERT, one transaction, one commit per row.
    let insert_sql = "INSERT INTO contacts
             (id, workspace_id, phone, name, email, custom_fields, search_text, created_at, updated_at)
         VALUES (?1, 1, ?2, 'Bench User', 'bench@example.com', '{\"source\":\"floor\"}',
                 'bench user\u{1f}bench@example.com', ?3, ?3)";
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut rows = 0u64;
    while Instant::now() < deadline {
        rows += 1;
        let tx = conn.transaction()?;
        tx.prepare_cached(insert_sql)?.execute(params![
            uuid::Uuid::now_v7().to_string(),
            format!("+62900{rows:09}"),
            "2026-01-01T00:00:00Z"
        ])?;
        apply_search_queue_if_long(&tx)?;
        tx.commit()?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{{\"rows\": {rows}, \"seconds\": {elapsed:.3}, \"rows_per_sec\": {:.1}}}",
        rows as f64 / elapsed
    );
    Ok(())
}
