-- kontak's whole schema. Applied in one transaction at every start; every statement is
-- idempotent. The version below is what this file describes; the binary refuses a
-- database whose user_version is newer than the one it knows.
--
-- Times are TEXT in RFC 3339 UTC, so they sort as text in time order. Contact times
-- (contacts, deleted_contacts) keep milliseconds ("2026-01-15T10:30:00.123Z") so that
-- changes within one second sort as they happened; the API shows whole seconds. Other
-- times are whole seconds ("2026-01-15T10:30:00Z").

CREATE TABLE IF NOT EXISTS workspaces (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;

-- An API key is "chatera_sk_<id>_<secret>". Only the argon2id PHC hash of the secret is
-- stored; the id is public and is how a presented key finds its row.
CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,          -- space-separated, e.g. "contacts:read contacts:write"
    label        TEXT,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,                   -- kept roughly: at most one write a minute
    revoked_at   TEXT
) STRICT;

CREATE INDEX IF NOT EXISTS api_keys_by_workspace ON api_keys(workspace_id);

-- seq is the rowid: the insertion order, used as the tie-break between contacts created
-- in the same second. id is the public UUID.
CREATE TABLE IF NOT EXISTS contacts (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id),
    phone         TEXT NOT NULL,         -- E.164 with "+"
    name          TEXT,
    email         TEXT,
    custom_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_type(custom_fields) = 'object'),
    search_text   TEXT NOT NULL,         -- name and email case-folded, joined by U+001F
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1, -- bumped on every change; the ETag
    -- The names of its tags (JSON array, the client's order, the workspace's spelling),
    -- written with its links in contact_tags: every read shows them without a
    -- subquery, and tags are never renamed.
    tag_names     TEXT NOT NULL DEFAULT '[]'
) STRICT;

-- One number once per workspace: this index, not a read-then-write, is what makes
-- concurrent creates of the same number give exactly one contact.
CREATE UNIQUE INDEX IF NOT EXISTS contacts_phone_per_workspace
    ON contacts(workspace_id, phone);

-- Serves the list order (newest first, seq as tie-break) for one workspace.
CREATE INDEX IF NOT EXISTS contacts_newest_first
    ON contacts(workspace_id, created_at, seq);

-- Serves updated_since feeds and the updated_at sorts.
CREATE INDEX IF NOT EXISTS contacts_recently_updated
    ON contacts(workspace_id, updated_at, seq);

-- Serves the name sorts: contacts with a name, by their case-folded name and email,
-- then those without. Without it a name-sorted page read and sorted every contact of
-- the workspace (4 to 11 s at a million). Both directions keep the nameless last, which
-- one index walk cannot give for descending; storage/name_pages.rs walks each part.
CREATE INDEX IF NOT EXISTS contacts_by_name
    ON contacts(workspace_id, name IS NULL, search_text, seq);

-- What every search reads of each candidate row, by seq: its workspace and its text
-- to check. A search with many candidates reads this narrow index rather than the
-- whole rows. search_text is also the name orders' key, and the newest and oldest
-- orders need no key while a workspace's creation times follow its seq order (see
-- workspace_stats below): seq alone is then the order. The times are left out. At a
-- million contacts this index is 66 MiB, where with them (and the name) it was 146
-- MiB, and the bench's search matching a tenth of the rows went from 9.1 to 12.7
-- requests/s; a search ranked by update time, which must read the rows instead, went
-- from 9.0 to 7.3 (bench/ANALYSIS.md).
CREATE INDEX IF NOT EXISTS contacts_search_rows
    ON contacts(seq, workspace_id, search_text, phone);

-- What remains of a deleted contact: enough for a sync client reading an
-- updated_since feed with include_deleted=true to learn that it is gone.
CREATE TABLE IF NOT EXISTS deleted_contacts (
    id           TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    deleted_at   TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS deleted_contacts_since
    ON deleted_contacts(workspace_id, deleted_at);

-- Tags are workspace-level records, created on first use. name keeps the spelling of
-- first use; name_key is its case-folded form, which is the tag's identity. contacts
-- is how many contacts carry the tag, kept by the triggers below: the tag list shows
-- it, and a list filtered by tags takes its total from it instead of counting.
CREATE TABLE IF NOT EXISTS tags (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    contacts     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, name_key)
) STRICT;

-- position keeps the order in which the client listed a contact's tags.
CREATE TABLE IF NOT EXISTS contact_tags (
    contact_seq INTEGER NOT NULL REFERENCES contacts(seq) ON DELETE CASCADE,
    tag_id      INTEGER NOT NULL REFERENCES tags(id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (contact_seq, tag_id)
) STRICT, WITHOUT ROWID;

-- Also the list filtered by a tag: its contacts in seq order, read without visiting
-- the rest of the workspace.
CREATE INDEX IF NOT EXISTS contact_tags_by_tag ON contact_tags(tag_id, contact_seq);

-- A contact's deletion removes its links through the foreign key's cascade, which fires
-- the delete trigger too.
CREATE TRIGGER IF NOT EXISTS tags_count_insert AFTER INSERT ON contact_tags BEGIN
    UPDATE tags SET contacts = contacts + 1 WHERE id = new.tag_id;
END;

CREATE TRIGGER IF NOT EXISTS tags_count_delete AFTER DELETE ON contact_tags BEGIN
    UPDATE tags SET contacts = contacts - 1 WHERE id = old.tag_id;
END;

-- Substring search without a scan: a trigram index over each contact's case-folded
-- name and email (search_text) and its phone digits, as one text. Contentless (it
-- stores only the index; rows are found by rowid = contacts.seq), fed from the
-- search_queue below, which searches also read: a contact is searchable the moment it
-- is committed. The text is folded by kontak before it gets here, so the index
-- compares exactly.
--
-- detail=none: the index records which rows hold each trigram, not where. That makes it
-- about a third smaller and quicker to write and to read; the price is that it finds
-- candidates (rows holding all of a term's trigrams) rather than matches, so every
-- search checks its candidates against the row's own text (see contact_list.rs).
CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts USING fts5(
    text,
    content = '', contentless_delete = 1, detail = none,
    tokenize = 'trigram case_sensitive 1'
);

-- How many rows hold each trigram, read to pick a term's rarest trigrams.
CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts_terms USING fts5vocab(contacts_fts, 'row');

-- Changes to contacts wait here for the index, in order, until they are applied in one
-- go (storage/search_queue.rs): by each import batch before it commits, and by the
-- server's writer once a thousand wait or once it is idle. Searches read the queue as
-- well as the index, so a committed contact is searchable at once. Why not triggers on
-- the index itself: a statement that fires a trigger, and every savepoint (the writer
-- gives each write one), makes FTS5 write its pending changes to disk as a new
-- segment, so indexing row by row wrote a segment per contact and spent most of an
-- import merging them (a bench of 200,000 rows: 5.9 s through triggers, 0.9 s applied
-- in one go).
CREATE TABLE IF NOT EXISTS search_queue (
    id           INTEGER PRIMARY KEY,
    seq          INTEGER NOT NULL,
    text         TEXT,       -- what to index for the row; NULL takes the row out
    workspace_id INTEGER,    -- the row's: its email domain's token holds it
    old_text     TEXT        -- when taken out, what was indexed: its domain's count drops
) STRICT;

CREATE TRIGGER IF NOT EXISTS contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO search_queue (seq, text, workspace_id)
    VALUES (new.seq, new.search_text || char(31) || substr(new.phone, 2), new.workspace_id);
END;

CREATE TRIGGER IF NOT EXISTS contacts_fts_update AFTER UPDATE OF search_text, phone ON contacts BEGIN
    INSERT INTO search_queue (seq, text, workspace_id, old_text)
    VALUES (old.seq, NULL, old.workspace_id, old.search_text || char(31) || substr(old.phone, 2));
    INSERT INTO search_queue (seq, text, workspace_id)
    VALUES (new.seq, new.search_text || char(31) || substr(new.phone, 2), new.workspace_id);
END;

CREATE TRIGGER IF NOT EXISTS contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO search_queue (seq, text, workspace_id, old_text)
    VALUES (old.seq, NULL, old.workspace_id, old.search_text || char(31) || substr(old.phone, 2));
END;

-- Tokens each contact's queued text holds by construction, kept beside its trigrams
-- and fed from the same search_queue (storage/search_tokens.rs). Two kinds:
--
-- * Whole-name searches ("budi santoso") without the trigram index: each space in the
--   text with the four characters either side of it ("budi sant"; space_spans.rs).
--   Where two words meet is far rarer than either word: at a million contacts the
--   bench's name search has 268 matches, its span 268 rows, and its two rarest
--   trigrams 16,531 and 16,458 rows each.
-- * Searches for an email domain ("@ptabc.co.id"; email_domains.rs): the domain of
--   the contact's email, in its workspace. Every such row matches the term, so a
--   search counts them without checking each against its text; only the trigram
--   index's other candidates are checked.
--
-- Each token is hex-encoded into one token of the ascii tokenizer (a domain's is
-- marked by letters no hex digit uses). Why full-text rather than a table keyed by
-- token: each batch of tokens lands all over such a table's key space, and writing
-- those pages cost concurrent creates about a tenth of their throughput; the index
-- writes each batch as one segment, as the trigram index does.
CREATE VIRTUAL TABLE IF NOT EXISTS search_tokens USING fts5(
    tokens,
    content = '', contentless_delete = 1, detail = none,
    tokenize = 'ascii'
);

-- How many rows of search_tokens hold each email domain's token (so each workspace's
-- contacts at each domain), kept with the index as the queue is applied: a domain
-- search's count of them is one row read (storage/contact_list.rs).
CREATE TABLE IF NOT EXISTS email_domain_counts (
    token    TEXT PRIMARY KEY,
    contacts INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- How many contacts each workspace holds, kept by triggers, so that an unfiltered
-- list's total is one row read rather than a COUNT(*) over the workspace.
--
-- created_in_seq_order stays 1 while every contact of the workspace was inserted with a
-- creation time no earlier than any inserted before it (newest_created_at is the latest
-- so far). While it holds, the creation-time orders are the seq order, which lets
-- contact_seq_buckets below find a deep page without stepping over the ones before it.
-- It is normally always 1: contacts get their creation time while the inserting
-- connection holds the write lock (the server's writer, a `kontak import` batch). A
-- clock stepped back, or demo contacts (created in the past) seeded into a workspace
-- whose contacts were all deleted, clears it for good, and deep pages of that
-- workspace go back to stepping through the index.
CREATE TABLE IF NOT EXISTS workspace_stats (
    workspace_id         INTEGER PRIMARY KEY REFERENCES workspaces(id),
    contacts             INTEGER NOT NULL DEFAULT 0,
    newest_created_at    TEXT NOT NULL DEFAULT '',
    created_in_seq_order INTEGER NOT NULL DEFAULT 1
) STRICT;

-- In an upsert's SET every expression reads the row as it was, so the order check
-- compares with the latest creation time before this contact.
CREATE TRIGGER IF NOT EXISTS workspace_stats_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO workspace_stats (workspace_id, contacts, newest_created_at)
    VALUES (new.workspace_id, 1, new.created_at)
    ON CONFLICT (workspace_id) DO UPDATE SET
        contacts = contacts + 1,
        created_in_seq_order = created_in_seq_order
            AND excluded.newest_created_at >= newest_created_at,
        newest_created_at = max(newest_created_at, excluded.newest_created_at);
END;

CREATE TRIGGER IF NOT EXISTS workspace_stats_delete AFTER DELETE ON contacts BEGIN
    UPDATE workspace_stats SET contacts = contacts - 1 WHERE workspace_id = old.workspace_id;
END;

-- Each workspace's contacts counted per block of 1,024 consecutive seqs (bucket =
-- seq >> 10, as storage/deep_pages.rs assumes), with the creation time of the first
-- contact inserted into the block: while the workspace is in seq order (above), no
-- later contact of the block is older. A deep page of a creation-time order sums these
-- counts to find the block it starts in, then seeks the order index to that block:
-- about a thousand rows read for page 5,000 of a million contacts, where OFFSET
-- stepped over 99,980 index entries. Blocks emptied by deletes keep their row, with 0.
CREATE TABLE IF NOT EXISTS contact_seq_buckets (
    workspace_id      INTEGER NOT NULL REFERENCES workspaces(id),
    bucket            INTEGER NOT NULL,
    contacts          INTEGER NOT NULL,
    oldest_created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, bucket)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS contact_seq_buckets_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_seq_buckets (workspace_id, bucket, contacts, oldest_created_at)
    VALUES (new.workspace_id, new.seq >> 10, 1, new.created_at)
    ON CONFLICT (workspace_id, bucket) DO UPDATE SET contacts = contacts + 1;
END;

CREATE TRIGGER IF NOT EXISTS contact_seq_buckets_delete AFTER DELETE ON contacts BEGIN
    UPDATE contact_seq_buckets SET contacts = contacts - 1
     WHERE workspace_id = old.workspace_id AND bucket = old.seq >> 10;
END;

-- The first response to each Idempotency-Key, per API key, replayed on a retry.
-- state 'started' marks a request still executing; request_hash tells a retry from
-- a different request that reuses the key. Rows older than a day are purged.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    api_key_id      TEXT NOT NULL REFERENCES api_keys(id),
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('started', 'finished')),
    status          INTEGER,
    headers         TEXT,                -- JSON array of [name, value] pairs
    body            BLOB,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
) STRICT;

CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys(created_at);

PRAGMA user_version = 10;
