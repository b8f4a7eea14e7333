//! Keeps the write-ahead log short without making the writer wait for it.
//!
//! SQLite's automatic checkpoint runs on the connection that commits, at the end of the
//! commit that takes the WAL past 1,000 pages: it copies those pages into the database
//! file and fsyncs it while every queued write waits. Under concurrent creates that was
//! a fifth of the writer's time. Instead the writer only notes the WAL's length after
//! each commit (the WAL hook) and wakes a thread of its own here, which copies the pages
//! on its own connection while the writer goes on committing.
//!
//! A checkpoint running beside the writer seldom catches the very last frames, and the
//! WAL starts over from its beginning only once every frame is in the database file.
//! So when the WAL passes a length (the server's writer: [`WRITER_CHECKPOINT_FRAMES`];
//! `kontak import`, whose batches are far larger, a longer one) the writer checkpoints
//! between two transactions itself, as SQLite would have; by then this thread has
//! copied all but the tail. If this thread's checkpoint is still running then, the
//! writer waits for it: SQLite skips a checkpoint while another runs, and a writer that
//! went on committing would let the WAL grow without bound while the disk is slow.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rusqlite::hooks::Wal;
use rusqlite::Connection;

use super::StorageError;

/// How many pages the WAL grows between two background checkpoints: SQLite's own
/// default for its automatic checkpoint. Every checkpoint ends in an fsync, and a page
/// changed again and again is copied once per checkpoint, so not after every commit.
const BACKGROUND_CHECKPOINT_FRAMES: c_int = 1_000;

/// The WAL length at which the server's writer checkpoints itself (about 32 MiB of
/// 4 KiB pages).
pub(super) const WRITER_CHECKPOINT_FRAMES: c_int = 8_000;

/// How long the writer waits for a background checkpoint to finish before its own. One
/// copies at most [`WRITER_CHECKPOINT_FRAMES`] pages; past this the writer goes on and
/// tries again after its next transaction.
const WRITER_PATIENCE: Duration = Duration::from_secs(1);

/// How often a checkpoint that found another running tries again.
const RETRY_EVERY: Duration = Duration::from_millis(2);

thread_local! {
    /// The WAL length after the last commit of the connection on this thread that has
    /// [`note_wal_length`] as its WAL hook.
    static WAL_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

/// Installed as the writer connection's WAL hook. SQLite calls it on the committing
/// thread, after each commit, with the number of pages in the WAL. Installing a hook
/// also turns off SQLite's automatic checkpoint on that connection.
fn note_wal_length(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(frames);
    Ok(())
}

/// Checkpoints on a thread and a connection of its own, when the writer asks.
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
    thread: JoinHandle<()>,
    /// The WAL length at which the writer checkpoints itself.
    writer_frames: c_int,
    /// The WAL length when this thread was last woken.
    woken_at: Cell<c_int>,
}

impl Checkpointer {
    /// Starts the thread with `own` as its connection, and hooks `writer` so that its
    /// commits report the WAL's length; the writer checkpoints itself once the WAL
    /// reaches `writer_frames` pages. The thread stops when this handle is dropped.
    pub fn start(own: Connection, writer: &Connection, writer_frames: c_int) -> Self {
        writer.wal_hook(Some(note_wal_length));
        // One pending wake is enough: a checkpoint copies whatever the WAL holds when it
        // runs, so wakes that arrive while one is pending or running add nothing.
        let (wake, woken) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name("kontak-checkpoint".into())
            .spawn(move || run(&own, &woken))
            .expect("the checkpoint thread starts");
        Self {
            wake,
            thread,
            writer_frames,
            woken_at: Cell::new(0),
        }
    }

    /// Stops the thread once its checkpoint, if one is running, is done, and closes its
    /// connection: the writer's connection, closed after it, is then the last one, and
    /// SQLite checkpoints the rest and removes the WAL file as it closes.
    pub fn stop(self) {
        drop(self.wake);
        // A panic there has already been reported by the panic hook; the WAL keeps
        // whatever it did not copy.
        let _ = self.thread.join();
    }

    /// Called by the writer after each transaction, on its own thread: wakes the
    /// checkpoint thread once the WAL is long, or checkpoints `writer` itself once the
    /// WAL is long enough that the background checkpoints are not catching up.
    pub fn after_commit(&self, writer: &Connection) {
        let frames = WAL_FRAMES.replace(0);
        if frames == 0 {
            return; // nothing committed
        }
        if frames < self.woken_at.get() {
            self.woken_at.set(0); // the WAL has started over
        }
        if frames >= self.writer_frames {
            report(
                "writer",
                checkpoint_patiently(writer, CheckpointMode::Passive, WRITER_PATIENCE),
            );
        } else if frames >= self.woken_at.get() + BACKGROUND_CHECKPOINT_FRAMES {
            self.woken_at.set(frames);
            let _ = self.wake.try_send(());
        }
    }
}

fn run(conn: &Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        // Not waiting: another checkpoint running now is the writer's, doing this work.
        if let Err(err) = checkpoint_patiently(conn, CheckpointMode::Passive, Duration::ZERO) {
            report("background", Err(err));
        }
    }
}

/// Logs a checkpoint that failed or did not get its turn. Nothing is lost either way:
/// the pages stay in the WAL for the next checkpoint.
fn report(by: &'static str, outcome: Result<bool, StorageError>) {
    match outcome {
        Ok(true) => {}
        Ok(false) => tracing::warn!(by, "WAL checkpoint kept waiting on another one"),
        Err(err) => tracing::warn!(%err, by, "WAL checkpoint failed"),
    }
}

/// What a checkpoint does about readers.
#[derive(Debug, Clone, Copy)]
pub(super) enum CheckpointMode {
    /// Copies what it can without waiting for readers.
    Passive,
    /// Waits for readers (up to the busy timeout), copies everything and empties the
    /// WAL file.
    Truncate,
}

/// Runs a checkpoint. When it could not run (another connection's checkpoint was
/// running, which SQLite does not wait for, or in `Truncate` a reader held on past the
/// busy timeout) it tries again until `patience` has passed. Returns whether it ran.
pub(super) fn checkpoint_patiently(
    conn: &Connection,
    mode: CheckpointMode,
    patience: Duration,
) -> Result<bool, StorageError> {
    let sql = match mode {
        CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    let deadline = Instant::now() + patience;
    loop {
        // Returns (busy, log frames, checkpointed frames).
        let busy: i64 = conn.query_row(sql, [], |row| row.get(0))?;
        if busy == 0 {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        thread::sleep(RETRY_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Db;

    /// WAL frames are a 24-byte header and a page.
    const FRAME_BYTES: u64 = 24 + 4096;

    #[actix_web::test]
    async fn the_wal_stays_short_under_many_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kontak.db");
        let db = Db::open(&path, 1, Duration::from_secs(5), 0).unwrap();
        // Each commit writes a few pages (a row and its index entry, both overflowing a
        // page), so this writes well over twice the WAL length the writer allows.
        for i in 0..2_500 {
            let name = format!("{i:05}{}", "x".repeat(4_000));
            db.write(move |conn| {
                conn.execute(
                    "INSERT INTO workspaces (name, created_at) VALUES (?1, 'now')",
                    [name],
                )
                .map_err(StorageError::from)
            })
            .await
            .unwrap();
        }
        let wal_bytes = std::fs::metadata(dir.path().join("kontak.db-wal"))
            .unwrap()
            .len();
        let frames = u64::try_from(WRITER_CHECKPOINT_FRAMES).unwrap();
        assert!(
            wal_bytes <= (frames + 100) * FRAME_BYTES,
            "the WAL grew to {wal_bytes} bytes"
        );
    }
}
