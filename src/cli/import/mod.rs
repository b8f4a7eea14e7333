//! `kontak import FILE`: contacts from NDJSON or CSV, validated exactly as the API
//! validates them, written in batches.
//!
//! Two threads share the work, one per core: this one reads and validates, a writer
//! thread owns the connection and commits one batch per transaction. The channel
//! between them holds two batches, so neither waits long and memory stays flat.

mod csv_records;
mod records;
mod report;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

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

/// Contacts per transaction: large enough that commits and checkpoints are a small
/// part of the time (5,000 took 1.5 times as long at a million rows), small enough that
/// a server on the same file keeps answering creates: a batch holds the write lock for
/// about 0.3 s into an empty file and about 1 s at a million contacts (where the import
/// runs at about 10,000 rows/s), well within the server's busy timeout (5 s unless
/// configured). Batches of 40,000 were not faster in a single run (70.9 s against
/// 63.8 s).
const BATCH_ROWS: usize = 10_000;

/// Batches waiting for the writer: enough to keep both threads busy.
const BATCHES_IN_FLIGHT: usize = 2;

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

    let (batches, received) = sync_channel(BATCHES_IN_FLIGHT);
    let checkpoint_conn = open_connection(&settings.db, settings.busy_timeout())?;
    let writer = spawn_writer(
        conn,
        checkpoint_conn,
        workspace_id,
        received,
        Arc::clone(&tally),
    );
    let rules = settings.phone_rules().map_err(anyhow::Error::msg)?;
    let read = read_and_validate(records, batches, report, &tally, &mut progress, &rules);
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
/// batches to the writer. Returns the report's path once everything was read.
fn read_and_validate(
    mut records: Records,
    batches: SyncSender<Vec<NewContact>>,
    mut report: RejectsReport,
    tally: &Tally,
    progress: &mut Progress,
    rules: &PhoneRules,
) -> anyhow::Result<PathBuf> {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(record) = records.next_record().context("reading the input")? {
        Tally::add(&tally.read, 1);
        match record
            .body
            .and_then(|body| NewContact::from_json(&body, rules))
        {
            Ok(contact) => batch.push(contact),
            Err(err) => {
                Tally::add(&tally.rejected, 1);
                report
                    .record(record.line, &err)
                    .context("writing the rejects report")?;
            }
        }
        if batch.len() == BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            if batches.send(full).is_err() {
                // The writer stopped on an error; the caller reports it.
                return report.finish();
            }
            progress.update(records.bytes_read(), tally);
        }
    }
    if !batch.is_empty() {
        // A failed send means the writer already stopped on an error; the caller
        // reports that one.
        let _ = batches.send(batch);
    }
    progress.update(records.bytes_read(), tally);
    report.finish()
}

fn spawn_writer(
    mut conn: Connection,
    checkpoint_conn: Connection,
    workspace: WorkspaceId,
    batches: Receiver<Vec<NewContact>>,
    tally: Arc<Tally>,
) -> JoinHandle<Result<(), StorageError>> {
    thread::spawn(move || {
        let mut importer = ContactImporter::new(workspace);
        importer.checkpoint_in_background(checkpoint_conn, &conn);
        for batch in batches {
            let outcome = importer.write_batch(&mut conn, &batch)?;
            Tally::add(&tally.created, outcome.created);
            Tally::add(&tally.duplicates, outcome.duplicates);
        }
        importer.finish(&mut conn)
    })
}
