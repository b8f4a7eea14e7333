//! `POST /v1/contacts` on the writer: the creates that queued while it committed are
//! written together, the way `kontak import` writes a chunk (see
//! [`insert_new_contacts`]).
//!
//! One by one, each create was a savepoint and half a dozen statements: its tags looked
//! up, its row, a link per tag. Every statement that fires triggers copies the pages
//! it changes into a journal, so that it can be undone alone; over a batch those copies,
//! and the statements themselves, were most of the writer's work. Together, the
//! creates of one workspace take one statement for their rows and one for all their
//! tag links, each tag is looked up once, and each still gets its own answer: the
//! contact, or the holder of its phone.

use std::collections::HashMap;

use rusqlite::Connection;

use super::contacts::{created_or_duplicate, insert_new_contacts, MAX_ROWS_PER_INSERT};
use super::keys::key_is_live;
use super::tags::KnownTags;
use super::writer::{QueuedWrite, Reply};
use super::{StorageError, WorkspaceId};
use crate::domain::{Contact, NewContact, Timestamp};

/// A create waiting on the writer. Its answer is `None` when the caller's key is no
/// longer live, checked in the transaction the contact would commit in.
pub(super) struct QueuedCreate {
    key_id: String,
    workspace: WorkspaceId,
    contact: NewContact,
    reply: Reply<Option<Contact>>,
}

impl QueuedCreate {
    pub(super) fn new(
        key_id: String,
        workspace: WorkspaceId,
        contact: NewContact,
        reply: Reply<Option<Contact>>,
    ) -> Self {
        Self {
            key_id,
            workspace,
            contact,
            reply,
        }
    }

    /// Answers the caller: its result if the transaction committed, else `failure`.
    pub(super) fn answer(self, failure: Option<&StorageError>) {
        self.reply.send(failure);
    }
}

/// A create written alone, in its own savepoint: how the writer retries each create of
/// a batch whose creates failed together.
impl QueuedWrite for QueuedCreate {
    fn run(&mut self, conn: &mut Connection) -> bool {
        if let Err(err) = write_creates(conn, std::slice::from_mut(self)) {
            self.reply.result = Some(Err(err));
        }
        matches!(self.reply.result, Some(Ok(_)))
    }

    fn finish(self: Box<Self>, failure: Option<&StorageError>) {
        self.answer(failure);
    }
}

/// Writes `creates` inside the writer's transaction and keeps each one's answer. An
/// error means the connection failed them all (its writes are to be undone); a
/// duplicate phone is one create's answer, not an error.
pub(super) fn write_creates(
    conn: &Connection,
    creates: &mut [QueuedCreate],
) -> Result<(), StorageError> {
    // Read under the write lock, after every write before these in the transaction:
    // creation times follow seq order, which deep pages rely on (see deep_pages.rs).
    let now = Timestamp::now();
    let mut live_keys: HashMap<String, bool> = HashMap::new();
    let mut by_workspace: Vec<(WorkspaceId, Vec<usize>)> = Vec::new();
    for (index, create) in creates.iter_mut().enumerate() {
        let live = match live_keys.get(&create.key_id) {
            Some(&live) => live,
            None => {
                let live = key_is_live(conn, &create.key_id)?;
                live_keys.insert(create.key_id.clone(), live);
                live
            }
        };
        if !live {
            create.reply.result = Some(Ok(None));
            continue;
        }
        match by_workspace
            .iter_mut()
            .find(|(ws, _)| *ws == create.workspace)
        {
            Some((_, members)) => members.push(index),
            None => by_workspace.push((create.workspace, vec![index])),
        }
    }
    for (workspace, members) in by_workspace {
        let mut tags = KnownTags::new(workspace);
        for chunk in members.chunks(MAX_ROWS_PER_INSERT) {
            let contacts: Vec<&NewContact> = chunk.iter().map(|&i| &creates[i].contact).collect();
            let written = insert_new_contacts(conn, &mut tags, workspace, &contacts, now)?;
            let answers = contacts
                .iter()
                .zip(written)
                .map(|(new, written)| created_or_duplicate(conn, workspace, new, written, now))
                .collect::<Vec<_>>();
            for (&index, answer) in chunk.iter().zip(answers) {
                creates[index].reply.result = Some(answer.map(Some));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::sync::oneshot;

    use super::*;
    use crate::domain::{PhoneRules, WorkspaceName};
    use crate::storage::contacts::{get_contact, insert_contact};
    use crate::storage::workspaces::{ensure_workspace, test_database};
    use crate::storage::Db;

    fn contact(body: serde_json::Value) -> NewContact {
        NewContact::from_json(&body, &PhoneRules::default()).unwrap()
    }

    fn workspace(conn: &Connection, name: &str) -> WorkspaceId {
        let name = WorkspaceName::parse(name).unwrap();
        ensure_workspace(conn, &name, Timestamp::now()).unwrap()
    }

    /// A live key of `workspace`, as far as [`key_is_live`] can tell.
    fn live_key(conn: &Connection, id: &str, workspace: WorkspaceId) -> String {
        conn.execute(
            "INSERT INTO api_keys (id, workspace_id, secret_hash, scopes, created_at)
             VALUES (?1, ?2, 'not a hash', 'contacts:write', 'now')",
            rusqlite::params![id, workspace.0],
        )
        .unwrap();
        id.to_owned()
    }

    fn queued(key: &str, workspace: WorkspaceId, body: serde_json::Value) -> QueuedCreate {
        // Answers are read from `reply.result`; nobody waits on the channel.
        let (sender, _) = oneshot::channel();
        QueuedCreate::new(key.to_owned(), workspace, contact(body), Reply::new(sender))
    }

    fn answer(create: &QueuedCreate) -> &Result<Option<Contact>, StorageError> {
        create
            .reply
            .result
            .as_ref()
            .expect("every create is answered")
    }

    fn created(create: &QueuedCreate) -> &Contact {
        match answer(create) {
            Ok(Some(contact)) => contact,
            other => panic!("expected a contact, got {other:?}"),
        }
    }

    fn holder_named(create: &QueuedCreate) -> uuid::Uuid {
        match answer(create) {
            Err(StorageError::DuplicatePhone { existing_id }) => *existing_id,
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }

    #[test]
    fn creates_written_together_each_get_their_own_answer() {
        let (mut conn, acme) = test_database();
        let globex = workspace(&conn, "globex");
        let acme_key = live_key(&conn, "acme-key", acme);
        let globex_key = live_key(&conn, "globex-key", globex);
        let existing = insert_contact(
            &mut conn,
            acme,
            &contact(json!({"phone": "+6281100000001"})),
            Timestamp::now(),
        )
        .unwrap();

        let mut creates = vec![
            queued(
                &acme_key,
                acme,
                json!({"phone": "+6281100000002", "name": "Budi", "tags": ["VIP", "lead"]}),
            ),
            queued(&acme_key, acme, json!({"phone": "+6281100000001"})),
            queued(
                &acme_key,
                acme,
                json!({"phone": "+6281100000003", "tags": ["vip"]}),
            ),
            queued(
                &globex_key,
                globex,
                json!({"phone": "+6281100000001", "email": "a@b.co"}),
            ),
            queued(&acme_key, acme, json!({"phone": "+6281100000002"})),
            queued("no-such-key", acme, json!({"phone": "+6281100000004"})),
        ];
        write_creates(&conn, &mut creates).unwrap();

        let budi = created(&creates[0]);
        assert_eq!(budi.name.as_deref(), Some("Budi"));
        assert_eq!(budi.tags, ["VIP", "lead"]);
        assert_eq!(
            holder_named(&creates[1]),
            existing.id,
            "a phone the workspace had"
        );
        assert_eq!(
            created(&creates[2]).tags,
            ["VIP"],
            "a tag created by an earlier create of the same batch keeps its spelling"
        );
        let other_workspace = created(&creates[3]);
        assert_eq!(
            holder_named(&creates[4]),
            budi.id,
            "a phone an earlier create took"
        );
        assert!(matches!(answer(&creates[5]), Ok(None)), "a key not live");

        for (workspace, contact) in [
            (acme, budi),
            (acme, created(&creates[2])),
            (globex, other_workspace),
        ] {
            let stored = get_contact(&conn, workspace, &contact.id.to_string()).unwrap();
            assert_eq!(
                stored.as_ref(),
                Some(contact),
                "the answer is what was stored"
            );
        }
        let count = |workspace: WorkspaceId| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM contacts WHERE workspace_id = ?1",
                [workspace.0],
                |row| row.get(0),
            )
            .unwrap()
        };
        assert_eq!((count(acme), count(globex)), (3, 1));
        let tags: Vec<(String, i64)> = conn
            .prepare("SELECT name, contacts FROM tags ORDER BY name")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tags, [("VIP".to_owned(), 2), ("lead".to_owned(), 1)]);
    }

    #[test]
    fn a_revoked_key_creates_nothing() {
        let (conn, acme) = test_database();
        let key = live_key(&conn, "acme-key", acme);
        conn.execute("UPDATE api_keys SET revoked_at = 'now'", [])
            .unwrap();
        let mut creates = vec![queued(&key, acme, json!({"phone": "+6281100000001"}))];
        write_creates(&conn, &mut creates).unwrap();
        assert!(matches!(answer(&creates[0]), Ok(None)));
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM contacts", [], |row| row.get(0))
            .unwrap();
        assert_eq!(stored, 0);
    }

    /// A database with a workspace and a live key, and the writer held busy until the
    /// returned sender is used (or dropped), so that what is queued meanwhile is taken
    /// as one batch. `before` runs on the writer's connection first.
    async fn held_writer(
        before: &'static str,
    ) -> (
        tempfile::TempDir,
        Db,
        WorkspaceId,
        std::sync::mpsc::Sender<()>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("kontak.db"), 1, Duration::from_secs(5), 0).unwrap();
        let acme = db
            .write(|conn| {
                let acme = workspace(conn, "acme");
                live_key(conn, "acme-key", acme);
                Ok(acme)
            })
            .await
            .unwrap();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = db.clone();
        actix_web::rt::spawn(async move {
            holder
                .write(move |conn| {
                    conn.execute_batch(before)?;
                    let _ = released.recv();
                    Ok(())
                })
                .await
                .unwrap();
        });
        // Let the holding write reach the writer before anything else is queued.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        (dir, db, acme, release)
    }

    /// Queues a create of each phone, lets them all reach the queue, releases the
    /// writer, and returns the answers in order.
    async fn create_together(
        db: &Db,
        acme: WorkspaceId,
        release: std::sync::mpsc::Sender<()>,
        phones: &[&str],
    ) -> Vec<Result<Option<Contact>, StorageError>> {
        let waiting: Vec<_> = phones
            .iter()
            .map(|phone| {
                let (db, new) = (db.clone(), contact(json!({"phone": phone})));
                actix_web::rt::spawn(async move {
                    db.create_contact("acme-key".into(), acme, new).await
                })
            })
            .collect();
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        release.send(()).unwrap();
        let mut answers = Vec::new();
        for answer in waiting {
            answers.push(answer.await.unwrap());
        }
        answers
    }

    #[actix_web::test]
    async fn of_one_phone_queued_together_the_first_is_created_and_the_rest_told_its_id() {
        let (_dir, db, acme, release) = held_writer("").await;
        let phone = "+6281100000009";
        let answers = create_together(&db, acme, release, &[phone, phone, phone]).await;
        let Ok(Some(first)) = &answers[0] else {
            panic!("the first was not created: {:?}", answers[0]);
        };
        for later in &answers[1..] {
            assert!(
                matches!(later, Err(StorageError::DuplicatePhone { existing_id }) if *existing_id == first.id),
                "{later:?}"
            );
        }
    }

    #[actix_web::test]
    async fn when_creates_fail_together_only_the_failing_one_fails() {
        // A trigger on the writer's connection refuses one phone: the statement writing
        // the batch's rows fails, as a full disk would fail it.
        let (_dir, db, acme, release) = held_writer(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON contacts
              WHEN new.phone = '+6281100000002'
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await;
        let phones = ["+6281100000001", "+6281100000002", "+6281100000003"];
        let answers = create_together(&db, acme, release, &phones).await;
        assert!(matches!(&answers[0], Ok(Some(c)) if c.phone.as_str() == phones[0]));
        assert!(
            matches!(&answers[1], Err(StorageError::Sqlite(err)) if err.to_string().contains("refused")),
            "{:?}",
            answers[1]
        );
        assert!(matches!(&answers[2], Ok(Some(c)) if c.phone.as_str() == phones[2]));
        let stored: Vec<String> = db
            .read(|conn| {
                Ok(conn
                    .prepare("SELECT phone FROM contacts ORDER BY phone")?
                    .query_map([], |row| row.get(0))?
                    .collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(stored, [phones[0], phones[2]]);
    }
}
