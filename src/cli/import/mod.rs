//! `kontak import FILE`: contacts from NDJSON or CSV, validated exactly as the API
//! validates them, written in batches.
//!
//! Two threads share the work, one per core: this one reads and validates, a writer
//! thread owns the connection and commits one batch per transaction. Contacts travel
//! between them in parts of [`PART_ROWS`], a few at a time, so neither waits long and
//! memory stays flat; a batch is as many parts as the writer can take in
//! [`BATCH_TIME`].

mod csv_records;
mod records;
mod report;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use rusqlite::Connection;

use self::records::Records;
use self::report::{Progress, RejectsReport, Tally};
use super::format::DataFormat;
use crate::config::Settings;
use crate::domain::{NewContact, PhoneRules, Timestamp, WorkspaceName};
use crate::storage::import::{tune_for_import, ContactImporter};
use crate::storage::workspaces::{ensure_workspace, WorkspaceId};
use crate::storage::{open_connection, schema, StorageError};

/// Contacts per part, as the reader hands them to the writer.
const PART_ROWS: usize = 5_000;

/// Parts waiting for the writer: enough to keep both threads busy.
const PARTS_IN_FLIGHT: usize = 4;

/// How long a batch goes on taking parts that are ready. Each commit writes every page
/// the batch changed, and a batch of random phones and names changes pages all over
/// their indexes, nearly the same pages for 5,000 contacts as for 50,000 at a million:
/// fewer commits is most of what makes an import faster. But the batch holds the write
/// lock, and a server on the same file keeps its creates waiting meanwhile (up to its
/// busy timeout, 5 s unless configured); a time, unlike a row count, bounds that wait
/// however large the database grows. A batch past it still finishes its part.
///
/// A million contacts here, alternated: 62.5 / 61.2 / 66.9 s in batches of 10,000 (what
/// this replaced), 56.3 / 51.9 / 42.5 s with 2 s, 51.1 / 43.5 / 49.2 s with 3 s. But
/// with 2 s, creates sent to a server while the last 100,000 of a million were imported
/// waited up to 3.8–5.5 s (four runs, with [`LOCK_GAP`]), near the busy timeout; with
/// 1 s, 2.5 and 3.6 s (two runs), as with batches of 10,000 (3.4 s). With the gap, a
/// million took 65.8 / 53.6 s with 1 s and 45.4 / 61.3 s with 2 s: within the noise.
const BATCH_TIME: Duration = Duration::from_secs(1);

/// Most contacts in one batch, however quickly they come: a batch's changed pages wait
/// in memory until its commit.
const BATCH_MAX_ROWS: usize = 50_000;

/// How long the writer leaves the write lock free after each batch. A server on the
/// same file waiting for the lock polls for it (SQLite's busy handler) every 100 ms once
/// it has waited a third of a second; the next batch, begun at once, took the lock
/// again before the server looked, and a create could wait through two batches, past
/// the server's busy timeout. Creates under wrk (4 connections) while the last 100,000
/// of a million were imported: 4 of 35,876 failed that way, and the slowest took 5.0 s.
const LOCK_GAP: Duration = Duration::from_millis(100);

/// Where the rejects of standard input go unless `--report` says otherwise.
const STDIN_REPORT: &str = "kontak-import.rejects.ndjson";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON (.ndjson, .jsonl) or CSV (.csv) file of contacts; - for standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Workspace to import into; created if it does not exist
    #[arg(long, value_name = "NAME")]
    pub workspace: String,
    /// Input format [default: from the file's extension]
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Where rejected lines are listed [default: FILE.rejects.ndjson]
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

pub fn run(args: ImportArgs, settings: &Settings) -> anyhow::Result<()> {
    let workspace = WorkspaceName::parse(&args.workspace).map_err(|e| anyhow!(e.message))?;
    let from_stdin = args.file.as_os_str() == "-";
    let format = input_format(&args, from_stdin)?;
    let (input, size) = open_input(&args.file, from_stdin)?;
    // A bad CSV header stops here, before the database is touched.
    let records = Records::open(format, input)?;

    let mut conn = open_connection(&settings.db, settings.busy_timeout())?;
    schema::migrate(&mut conn)?;
    let workspace_id = ensure_workspace(&conn, &workspace, Timestamp::now())?;
    tune_for_import(&conn)?;

    let report_path = args
        .report
        .unwrap_or_else(|| default_report_path(&args.file, from_stdin));
    let report = RejectsReport::create(&report_path)?;
    let tally = Arc::new(Tally::default());
    let mut progress = Progress::start(size);

    let (parts, received) = sync_channel(PARTS_IN_FLIGHT);
    let checkpoint_conn = open_connection(&settings.db, settings.busy_timeout())?;
    let writer = spawn_writer(
        conn,
        checkpoint_conn,
        workspace_id,
        received,
        Arc::clone(&tally),
    );
    let rules = settings.phone_rules().map_err(anyhow::Error::msg)?;
    let read = read_and_validate(records, parts, report, &tally, &mut progress, &rules);
    // The writer drains what was sent, then stops: it is joined before any error is
    // reported, so only whole batches are ever committed.
    let written = writer
        .join()
        .map_err(|_| anyhow!("the writer thread panicked"))?;
    written.context("writing contacts")?;
    let report_path = read?;

    let source = if from_stdin {
        "standard input".to_owned()
    } else {
        args.file.display().to_string()
    };
    progress.finish(&source, workspace.as_str(), &tally, &report_path);
    Ok(())
}

/// `--format` if given, else what the file's extension says.
fn input_format(args: &ImportArgs, from_stdin: bool) -> anyhow::Result<DataFormat> {
    match (args.format, from_stdin) {
        (Some(format), _) => Ok(format),
        (None, true) => bail!("reading standard input needs --format ndjson or --format csv"),
        (None, false) => DataFormat::from_path(&args.file).ok_or_else(|| {
            anyhow!(
                "cannot tell the format of {} from its extension (.ndjson, .jsonl or .csv); \
                 say it with --format",
                args.file.display()
            )
        }),
    }
}

fn open_input(
    path: &Path,
    from_stdin: bool,
) -> anyhow::Result<(Box<dyn Read + Send>, Option<u64>)> {
    if from_stdin {
        return Ok((Box::new(io::stdin()), None));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(file), size))
}

fn default_report_path(file: &Path, from_stdin: bool) -> PathBuf {
    if from_stdin {
        return PathBuf::from(STDIN_REPORT);
    }
    let mut name = file.as_os_str().to_owned();
    name.push(".rejects.ndjson");
    PathBuf::from(name)
}

/// Reads every record, rejects what `NewContact::from_json` rejects, and hands full
/// parts to the writer. Returns the report's path once everything was read.
fn read_and_validate(
    mut records: Records,
    parts: SyncSender<Vec<NewContact>>,
    mut report: RejectsReport,
    tally: &Tally,
    progress: &mut Progress,
    rules: &PhoneRules,
) -> anyhow::Result<PathBuf> {
    let mut part = Vec::with_capacity(PART_ROWS);
    while let Some(record) = records.next_record().context("reading the input")? {
        Tally::add(&tally.read, 1);
        match record
            .body
            .and_then(|body| NewContact::from_json(&body, rules))
        {
            Ok(contact) => part.push(contact),
            Err(err) => {
                Tally::add(&tally.rejected, 1);
                report
                    .record(record.line, &err)
                    .context("writing the rejects report")?;
            }
        }
        if part.len() == PART_ROWS {
            let full = std::mem::replace(&mut part, Vec::with_capacity(PART_ROWS));
            if parts.send(full).is_err() {
                // The writer stopped on an error; the caller reports it.
                return report.finish();
            }
            progress.update(records.bytes_read(), tally);
        }
    }
    if !part.is_empty() {
        // A failed send means the writer already stopped on an error; the caller
        // reports that one.
        let _ = parts.send(part);
    }
    progress.update(records.bytes_read(), tally);
    report.finish()
}

fn spawn_writer(
    mut conn: Connection,
    checkpoint_conn: Connection,
    workspace: WorkspaceId,
    parts: Receiver<Vec<NewContact>>,
    tally: Arc<Tally>,
) -> JoinHandle<Result<(), StorageError>> {
    thread::spawn(move || {
        let mut importer = ContactImporter::new(workspace);
        importer.checkpoint_in_background(checkpoint_conn, &conn);
        while let Ok(first) = parts.recv() {
            let batch = BatchParts::starting_with(first, &parts);
            let outcome = importer.write_batch_in_parts(&mut conn, batch)?;
            Tally::add(&tally.created, outcome.created);
            Tally::add(&tally.duplicates, outcome.duplicates);
            thread::sleep(LOCK_GAP);
        }
        importer.finish(&mut conn)
    })
}

/// The parts of one batch, taken as the writer asks for them: the first, then each part
/// that is already waiting, until the batch has run for [`BATCH_TIME`] or holds
/// [`BATCH_MAX_ROWS`]. It never waits for a part: a slow input (a pipe, say) would
/// otherwise keep the write lock held while nothing is written.
struct BatchParts<'a> {
    first: Option<Vec<NewContact>>,
    waiting: &'a Receiver<Vec<NewContact>>,
    started: Instant,
    rows: usize,
}

impl<'a> BatchParts<'a> {
    fn starting_with(first: Vec<NewContact>, waiting: &'a Receiver<Vec<NewContact>>) -> Self {
        Self {
            first: Some(first),
            waiting,
            started: Instant::now(),
            rows: 0,
        }
    }
}

impl Iterator for BatchParts<'_> {
    type Item = Vec<NewContact>;

    fn next(&mut self) -> Option<Vec<NewContact>> {
        let part = match self.first.take() {
            // The clock starts once the transaction has begun, which may have waited
            // for another writer's lock.
            Some(first) => {
                self.started = Instant::now();
                first
            }
            None if self.started.elapsed() >= BATCH_TIME => return None,
            None if self.rows + PART_ROWS > BATCH_MAX_ROWS => return None,
            None => self.waiting.try_recv().ok()?,
        };
        self.rows += part.len();
        Some(part)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use serde_json::json;

    use super::*;

    fn part(rows: usize) -> Vec<NewContact> {
        let one = NewContact::from_json(&json!({"phone": "628111111111"}), &PhoneRules::default())
            .unwrap();
        vec![one; rows]
    }

    /// How many contacts each batch of the parts in `waiting` holds.
    fn batch_sizes(waiting: &Receiver<Vec<NewContact>>) -> Vec<usize> {
        let mut sizes = Vec::new();
        while let Ok(first) = waiting.try_recv() {
            sizes.push(
                BatchParts::starting_with(first, waiting)
                    .map(|p| p.len())
                    .sum(),
            );
        }
        sizes
    }

    #[test]
    fn a_batch_takes_the_parts_already_waiting_up_to_its_most_rows() {
        let (send, waiting) = sync_channel(20);
        for _ in 0..12 {
            send.send(part(PART_ROWS)).unwrap();
        }
        send.send(part(7)).unwrap();
        assert_eq!(batch_sizes(&waiting), [BATCH_MAX_ROWS, 2 * PART_ROWS + 7]);
    }

    #[test]
    fn a_batch_never_waits_for_a_part() {
        let (send, waiting) = sync_channel(4);
        send.send(part(3)).unwrap();
        let first = waiting.recv().unwrap();
        let mut batch = BatchParts::starting_with(first, &waiting);
        assert_eq!(batch.next().map(|p| p.len()), Some(3));
        // The sender is still there, so a blocking receive would wait for ever.
        assert!(batch.next().is_none());
        drop(send);
    }

    #[test]
    fn a_batch_takes_no_more_parts_once_its_time_is_up() {
        let (send, waiting) = sync_channel(4);
        for _ in 0..3 {
            send.send(part(1)).unwrap();
        }
        let first = waiting.recv().unwrap();
        let mut batch = BatchParts::starting_with(first, &waiting);
        assert!(batch.next().is_some());
        assert!(batch.next().is_some(), "a part waits and there is time");
        thread::sleep(BATCH_TIME);
        assert!(batch.next().is_none(), "a part waits, but time is up");
        assert_eq!(waiting.try_iter().count(), 1);
    }
}
