//! What an import tells its user: the rejects file, progress while it runs, and the
//! summary at the end.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::domain::FieldError;

/// One line per rejected record: `{"line", "code", "field", "message"}`, the same code,
/// field and message the API would have answered the body with.
pub struct RejectsReport {
    path: PathBuf,
    out: BufWriter<File>,
}

impl RejectsReport {
    /// Creates (or empties) the file up front, so a report left from an earlier run is
    /// never mistaken for this one's; an empty file means nothing was rejected.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create the rejects report {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
        })
    }

    pub fn record(&mut self, line: u64, err: &FieldError) -> io::Result<()> {
        let entry = json!({
            "line": line,
            "code": err.code.as_str(),
            "field": err.field,
            "message": err.message,
        });
        writeln!(self.out, "{entry}")
    }

    pub fn finish(mut self) -> anyhow::Result<PathBuf> {
        self.out
            .flush()
            .with_context(|| format!("writing the rejects report {}", self.path.display()))?;
        Ok(self.path)
    }
}

/// Counts shared by the reading and the writing thread.
#[derive(Debug, Default)]
pub struct Tally {
    pub read: AtomicU64,
    pub created: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
}

impl Tally {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn counts(&self) -> String {
        format!(
            "{} created, {} duplicates skipped, {} rejected",
            Self::get(&self.created),
            Self::get(&self.duplicates),
            Self::get(&self.rejected)
        )
    }
}

/// How often a line is printed when stderr is not a terminal (a log, CI).
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// A bar with rate and ETA on a terminal; a plain line every few seconds elsewhere, so
/// a log is not flooded with redraws.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// `total_bytes` is the input's size when known (a file, not a pipe).
    pub fn start(total_bytes: Option<u64>) -> Self {
        let bar = io::stderr().is_terminal().then(|| {
            let (bar, template) = match total_bytes {
                Some(total) => (
                    ProgressBar::new(total),
                    "{elapsed_precise} [{wide_bar}] {percent:>3}% ETA {eta}  {msg}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {elapsed_precise} {msg}",
                ),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            started: now,
            last_line: now,
        }
    }

    pub fn update(&mut self, bytes_read: u64, tally: &Tally) {
        let message = format!(
            "{} rows, {:.0} rows/s: {}",
            Tally::get(&tally.read),
            self.rows_per_second(tally),
            tally.counts()
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(bytes_read);
                bar.set_message(message);
            }
            None if self.last_line.elapsed() >= PLAIN_EVERY => {
                self.last_line = Instant::now();
                eprintln!("kontak import: {message}");
            }
            None => {}
        }
    }

    fn rows_per_second(&self, tally: &Tally) -> f64 {
        Tally::get(&tally.read) as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    /// Clears the bar and prints the summary.
    pub fn finish(self, source: &str, workspace: &str, tally: &Tally, rejects: &Path) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let elapsed = self.started.elapsed();
        eprintln!(
            "Imported {source} into workspace {workspace:?}: {} rows read in {:.1} s \
             ({:.0} rows/s)\n  {}\n  {}\n  {} (details: {})",
            Tally::get(&tally.read),
            elapsed.as_secs_f64(),
            self.rows_per_second(tally),
            format_args!("{:>9} created", Tally::get(&tally.created)),
            format_args!("{:>9} duplicates skipped", Tally::get(&tally.duplicates)),
            format_args!("{:>9} rejected", Tally::get(&tally.rejected)),
            rejects.display(),
        );
    }
}
