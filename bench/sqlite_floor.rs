//! The floor for creates: how many single-row transactions this machine commits, in
//! process, with kontak's schema and connection settings (WAL, synchronous=NORMAL),
//! each row the contact the creates scenario posts (a name, an email, two tags with
//! their links, custom fields) and indexed for search as the server's writer indexes
//! it (the search queue applied once a thousand changes wait). An HTTP create costs at
//! least one such commit unless commits are grouped, so "creates per second" in
//! RESULTS.md is also shown as a ratio to this.
//!
//! Until 2026-11-29 each row had one fixed name and email and no tags, a lighter row
//! than the scenario's (about a third more rows a second). That floor is measured too,
//! right after, in a file of its own, so that runs before and after compare.
//!
//! Usage: cargo run --release --example sqlite_floor -- DB_PATH SECONDS
//! Each floor runs for SECONDS in a new file at DB_PATH. Prints one JSON line:
//! {"rows": N, "seconds": S, "rows_per_sec": R, "untagged_rows_per_sec": U}.

use std::path::Path;
use std::time::{Duration, Instant};

use kontak::storage::contacts::search_text;
use kontak::storage::search_queue::apply_search_queue_if_long;
use kontak::storage::{open_connection, schema};
use rusqlite::{params, Connection};

const NOW: &str = "2026-01-01T00:00:00Z";

/// What each single-row transaction writes.
#[derive(Clone, Copy)]
enum Rows {
    /// The contact bench/wrk/scenario.lua posts: its own name and email, the tags
    /// "lead" and "wrk" with a link each (counted by the schema's triggers), custom
    /// fields.
    AsPosted,
    /// The floor's row until 2026-11-29: one fixed name and email, no tags.
    Untagged,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "floor.db".into());
    let seconds: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    let duration = Duration::from_secs(seconds);
    let (rows, elapsed) = floor(Path::new(&path), duration, Rows::AsPosted)?;
    let (untagged_rows, untagged_elapsed) = floor(Path::new(&path), duration, Rows::Untagged)?;
    println!(
        "{{\"rows\": {rows}, \"seconds\": {elapsed:.3}, \"rows_per_sec\": {:.1}, \
         \"untagged_rows_per_sec\": {:.1}}}",
        rows as f64 / elapsed,
        untagged_rows as f64 / untagged_elapsed
    );
    Ok(())
}

/// Commits `rows` one per transaction into a new file at `path` for `duration`, with
/// no kontak code in between but the search-index step every writer transaction ends
/// with. Returns how many it committed and in how many seconds.
fn floor(path: &Path, duration: Duration, rows: Rows) -> anyhow::Result<(u64, f64)> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = open_connection(path, Duration::from_secs(5))?;
    schema::migrate(&mut conn)?;
    conn.execute(
        "INSERT INTO workspaces (name, created_at) VALUES ('floor', ?1)",
        [NOW],
    )?;
    let workspace = conn.last_insert_rowid();
    // The scenario's two tags exist from its first create on.
    let tag_ids = match rows {
        Rows::AsPosted => ["lead", "wrk"]
            .into_iter()
            .map(|tag| create_tag(&conn, workspace, tag))
            .collect::<Result<Vec<_>, _>>()?,
        Rows::Untagged => Vec::new(),
    };
    let insert_sql = "INSERT INTO contacts
             (id, workspace_id, phone, name, email, custom_fields, search_text, tag_names,
              created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
    let link_sql = "INSERT INTO contact_tags (contact_seq, tag_id, position) VALUES (?1, ?2, ?3)";
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut written = 0u64;
    while Instant::now() < deadline {
        written += 1;
        let (name, email, custom_fields, tag_names) = match rows {
            Rows::AsPosted => (
                format!("Bench User {written}"),
                format!("bench{written}@example.com"),
                format!("{{\"source\":\"floor\",\"n\":{written}}}"),
                "[\"lead\",\"wrk\"]",
            ),
            Rows::Untagged => (
                "Bench User".to_owned(),
                "bench@example.com".to_owned(),
                "{\"source\":\"floor\"}".to_owned(),
                "[]",
            ),
        };
        let search_text = search_text(Some(&name), Some(&email));
        let tx = conn.transaction()?;
        tx.prepare_cached(insert_sql)?.execute(params![
            uuid::Uuid::now_v7().to_string(),
            workspace,
            format!("+62900{written:09}"),
            name,
            email,
            custom_fields,
            search_text,
            tag_names,
            NOW
        ])?;
        let seq = tx.last_insert_rowid();
        for (position, tag_id) in (0i64..).zip(&tag_ids) {
            tx.prepare_cached(link_sql)?
                .execute(params![seq, tag_id, position])?;
        }
        apply_search_queue_if_long(&tx)?;
        tx.commit()?;
    }
    Ok((written, started.elapsed().as_secs_f64()))
}

fn create_tag(conn: &Connection, workspace: i64, tag: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO tags (workspace_id, name, name_key, created_at)
         VALUES (?1, ?2, ?2, ?3) RETURNING id",
        params![workspace, tag, NOW],
        |row| row.get(0),
    )
}
