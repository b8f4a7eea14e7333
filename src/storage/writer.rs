//! The one writer: a thread that owns the write connection and commits many queued
//! writes per transaction (group commit).
//!
//! SQLite takes one writer at a time and every commit has a fixed cost (appending the
//! pages it changed to the WAL). Under concurrent load, writes that
//! arrive while a commit runs queue here; the next transaction takes all of them at
//! once. Creates of contacts are written together (contact_creates.rs), every other
//! write in its own savepoint so that one failing write does not undo the others.
//! A caller is answered only after the transaction holding its write has committed.
//!
//! The writer also applies the search queue (search_queue.rs) to the trigram index:
//! within a transaction once [`APPLY_AT`](crate::storage::search_queue::APPLY_AT)
//! changes wait, or on its own once it has been idle for [`IDLE_BEFORE_APPLY`]. Each
//! application writes one index segment, which FTS5 merges with others later; applied
//! at every commit, under concurrent creates that writing and merging took a third of
//! the throughput.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::checkpointer::{Checkpointer, WRITER_CHECKPOINT_FRAMES};
use super::connection::execute_cached;
use super::contact_creates::{write_creates, QueuedCreate};
use super::search_queue::{apply_search_queue, apply_search_queue_if_long};
use super::{StorageError, WorkspaceId};
use crate::domain::{Contact, NewContact};

/// Most writes committed together; bounds how long the first of them waits.
const MAX_BATCH: usize = 256;

/// How long the writer waits for work before it applies what is queued anyway, so that
/// the index catches up in any pause.
const IDLE_BEFORE_APPLY: Duration = Duration::from_millis(20);

/// A write waiting in the queue.
pub(super) trait QueuedWrite: Send {
    /// Runs the write and keeps its result until the commit is known. Returns whether
    /// it succeeded (and so whether its savepoint is kept).
    fn run(&mut self, conn: &mut Connection) -> bool;
    /// Answers the caller: its result if the transaction committed, else `failure`.
    fn finish(self: Box<Self>, failure: Option<&StorageError>);
}

struct Pending<T, F> {
    job: Option<F>,
    reply: Reply<T>,
}

/// Where a queued write's answer goes: kept once known, sent once its transaction's
/// fate is.
pub(super) struct Reply<T> {
    pub(super) result: Option<Result<T, StorageError>>,
    sender: oneshot::Sender<Result<T, StorageError>>,
}

impl<T> Reply<T> {
    pub(super) fn new(sender: oneshot::Sender<Result<T, StorageError>>) -> Self {
        Self {
            result: None,
            sender,
        }
    }

    /// Answers the caller: the kept result if the transaction committed, else `failure`.
    pub(super) fn send(self, failure: Option<&StorageError>) {
        let outcome = match (failure, self.result) {
            (Some(err), _) => Err(err.for_each_caller()),
            (None, Some(result)) => result,
            (None, None) => Err(StorageError::Internal("a write was never run".into())),
        };
        // The caller may be gone (the client hung up); then there is no one to tell.
        let _ = self.sender.send(outcome);
    }
}

impl<T, F> QueuedWrite for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send,
{
    fn run(&mut self, conn: &mut Connection) -> bool {
        let Some(job) = self.job.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| job(conn)))
            .unwrap_or_else(|_| Err(StorageError::Internal("a write panicked".into())));
        let succeeded = result.is_ok();
        self.reply.result = Some(result);
        succeeded
    }

    fn finish(self: Box<Self>, failure: Option<&StorageError>) {
        self.reply.send(failure);
    }
}

/// What the writer's queue holds: creates, which it writes together, and any other
/// write, run one by one.
enum Job {
    Create(Box<QueuedCreate>),
    Other(Box<dyn QueuedWrite>),
}

/// A handle to the writer thread. Clones share the thread; it stops once every handle
/// is dropped, after finishing what is queued.
#[derive(Clone)]
pub struct Writer {
    queue: Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`, with `checkpoint_conn` (a second connection
    /// to the same file) for the checkpoints that keep its WAL short.
    pub fn start(conn: Connection, checkpoint_conn: Connection) -> Self {
        let (queue, jobs) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("kontak-writer".into())
            .spawn(move || {
                let checkpointer =
                    Checkpointer::start(checkpoint_conn, &conn, WRITER_CHECKPOINT_FRAMES);
                run(conn, &jobs, &checkpointer);
            })
            .expect("the writer thread starts");
        Self { queue }
    }

    /// Queues `job` and waits until its transaction has committed (or failed).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let (sender, answer) = oneshot::channel();
        let pending = Pending {
            job: Some(job),
            reply: Reply::new(sender),
        };
        self.send(Job::Other(Box::new(pending)), answer).await
    }

    /// Queues the creation of `contact` in `workspace`, if the key `key_id` is live,
    /// and waits until its transaction has committed (or failed). `None`: the key is
    /// not live.
    pub async fn create(
        &self,
        key_id: String,
        workspace: WorkspaceId,
        contact: NewContact,
    ) -> Result<Option<Contact>, StorageError> {
        let (sender, answer) = oneshot::channel();
        let create = QueuedCreate::new(key_id, workspace, contact, Reply::new(sender));
        self.send(Job::Create(Box::new(create)), answer).await
    }

    async fn send<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        self.queue
            .send(job)
            .map_err(|_| StorageError::Internal("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Internal("the writer dropped a write".into()))?
    }
}

fn run(mut conn: Connection, jobs: &Receiver<Job>, checkpointer: &Checkpointer) {
    // Changes may wait in the queue from before (another process, a crash).
    let mut maybe_queued = true;
    loop {
        let first = if maybe_queued {
            match jobs.recv_timeout(IDLE_BEFORE_APPLY) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    apply_queue_alone(&mut conn);
                    checkpointer.after_commit(&conn);
                    maybe_queued = false;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
        checkpointer.after_commit(&conn);
        maybe_queued = true;
    }
    // Every handle is gone: leave the index in step in the file.
    if maybe_queued {
        apply_queue_alone(&mut conn);
    }
}

/// Applies the search queue in a transaction of its own. A failure leaves the changes
/// queued, where searches still find them, for the next try.
fn apply_queue_alone(conn: &mut Connection) {
    let applied = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StorageError::from)
        .and_then(|tx| {
            apply_search_queue(&tx)?;
            tx.commit().map_err(StorageError::from)
        });
    if let Err(err) = applied {
        tracing::warn!(%err, "could not apply the search queue; the changes stay queued");
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut creates = Vec::new();
    let mut others = Vec::new();
    for job in batch {
        match job {
            Job::Create(create) => creates.push(*create),
            Job::Other(other) => others.push(other),
        }
    }
    if let Err(err) = execute_cached(conn, "BEGIN IMMEDIATE") {
        finish_all(creates, others, Some(&err));
        return;
    }
    // The writes of one batch were all waiting at once, none answered yet, so any
    // order among them is one their callers could have seen: creates go first,
    // together.
    let mut outcome = run_creates(conn, &mut creates);
    for job in &mut others {
        if outcome.is_err() {
            break;
        }
        // A failure here leaves the connection in an unknown state: the whole batch
        // is given up.
        outcome = run_in_savepoint(conn, job.as_mut());
    }
    let outcome = outcome
        .and_then(|()| apply_search_queue_if_long(conn))
        .and_then(|()| execute_cached(conn, "COMMIT"));
    if outcome.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    finish_all(creates, others, outcome.err().as_ref());
}

fn finish_all(
    creates: Vec<QueuedCreate>,
    others: Vec<Box<dyn QueuedWrite>>,
    failure: Option<&StorageError>,
) {
    creates
        .into_iter()
        .for_each(|create| create.answer(failure));
    others.into_iter().for_each(|job| job.finish(failure));
}

/// Writes the batch's creates together, in a savepoint. Should that fail (no create
/// the API accepts makes it fail, but the disk might), it is undone and each create is
/// written alone in a savepoint of its own, so that only the failing one fails.
fn run_creates(conn: &mut Connection, creates: &mut [QueuedCreate]) -> Result<(), StorageError> {
    if creates.is_empty() {
        return Ok(());
    }
    execute_cached(conn, "SAVEPOINT creates")?;
    let together = catch_unwind(AssertUnwindSafe(|| write_creates(conn, creates)))
        .unwrap_or_else(|_| Err(StorageError::Internal("writing creates panicked".into())));
    if together.is_err() {
        execute_cached(conn, "ROLLBACK TO creates")?;
    }
    execute_cached(conn, "RELEASE creates")?;
    if let Err(err) = together {
        tracing::warn!(%err, creates = creates.len(), "creates written together failed; writing each alone");
        for create in creates {
            run_in_savepoint(conn, create)?;
        }
    }
    Ok(())
}

/// Runs one write in its own savepoint: kept if it succeeded, undone if it failed.
fn run_in_savepoint(conn: &mut Connection, job: &mut dyn QueuedWrite) -> Result<(), StorageError> {
    execute_cached(conn, "SAVEPOINT job")?;
    if !job.run(conn) {
        execute_cached(conn, "ROLLBACK TO job")?;
    }
    execute_cached(conn, "RELEASE job")
}
