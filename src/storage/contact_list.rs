//! Listing contacts: filters, sort orders, pagination, and the deleted-contact feed.
//!
//! The SQL is assembled from fixed fragments only; every value the client sent is a
//! bound parameter.

use std::sync::OnceLock;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, Params, Statement};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::contact_json::{contact_json_from_row, contacts_json};
use super::contacts::{parse_timestamp, parse_uuid, read_by_seq, CONTACT_COLUMNS};
use super::deep_pages::{self, created_in_seq_order};
use super::email_domains::term_domain_token;
use super::list_order::{limit_offset, ListOrder, SearchRanking, TopRanked, LIMIT_OFFSET};
use super::name_pages::name_page;
use super::search_queue::queued_changes;
use super::search_tokens::domain_rows;
use super::space_spans::spans_query;
use super::tag_filter::{has_tag, rarest_first, tag_members, tag_values, tagged_page, PageSeqs};
use super::trigrams::{
    candidate_query, quoted, rarest_trigram, rows_holding_trigram, TrigramCounts,
};
use super::workspaces::kept_contact_count;
use super::{in_snapshot, StorageError, WorkspaceId};
use crate::domain::{ListFilter, ListQuery, SearchTerm, SortOrder, Timestamp};

/// One entry of a list: a contact (its JSON, as [`Contact`](crate::domain::Contact)
/// shows it), or (in a feed with `include_deleted=true`) the tombstone of one.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ListItem {
    Contact(Box<RawValue>),
    Deleted {
        id: Uuid,
        deleted: bool,
        updated_at: Timestamp,
    },
}

/// One page of a list, and how many entries match in all.
#[derive(Debug)]
pub struct ContactPage {
    pub items: PageItems,
    pub total: u64,
}

/// A page's entries, as the JSON array the API shows.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PageItems {
    json: Box<RawValue>,
    #[serde(skip)]
    len: usize,
}

impl PageItems {
    fn of(items: &[ListItem]) -> Result<Self, StorageError> {
        let json = serde_json::value::to_raw_value(items)
            .map_err(|err| StorageError::Internal(format!("page as JSON: {err}")))?;
        Ok(Self {
            json,
            len: items.len(),
        })
    }

    /// How many entries the page holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries' JSON array.
    pub fn json(&self) -> &str {
        self.json.get()
    }
}

/// A page of the workspace's contacts and the total that match, read in one
/// transaction so that the two agree.
pub fn list_contacts(
    conn: &Connection,
    counts: &TrigramCounts,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    in_snapshot(conn, || {
        let tags = rarest_first(conn, workspace, &query.filter.tag_keys)?;
        let condition = live_condition(conn, counts, workspace, &query.filter, &tags)?;
        if query.filter.include_deleted {
            list_with_tombstones(conn, condition, workspace, query)
        } else {
            list_live(conn, condition, workspace, &tags, query)
        }
    })
}

fn list_live(
    conn: &Connection,
    live: LiveCondition,
    workspace: WorkspaceId,
    tags: &[(u64, &str)],
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    if live.driven {
        let page = (query.per_page.into(), query.offset());
        if let Some(tagged) = tagged_page(conn, workspace, &query.filter, tags, query.sort, page)? {
            let items = match tagged.seqs {
                PageSeqs::Query { sql, values } => page_of(conn, &sql, values, query)?,
                PageSeqs::Listed(seqs) => listed_page_of(conn, &seqs, query)?,
            };
            return Ok(ContactPage {
                items,
                total: tagged.total,
            });
        }
        return list_found(conn, live, workspace, query);
    }
    if query.filter == ListFilter::default() {
        return list_workspace(conn, workspace, query);
    }
    let (condition, values) = live.over_contacts();
    let total = count(conn, &condition, &values)?;
    let items = stepped_page_of(conn, &condition, values, query)?;
    Ok(ContactPage { items, total })
}

/// A page of the whole workspace. Its total is the kept count, not a COUNT(*) over
/// every row; a name order walks its own index; a deep page of a creation order is
/// sought from its block; anything else steps through the order's index.
fn list_workspace(
    conn: &Connection,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    let total = kept_contact_count(conn, workspace)?;
    let page = (query.per_page.into(), query.offset());
    if query.offset() >= total {
        return Ok(ContactPage {
            items: PageItems::of(&[])?,
            total,
        });
    }
    if let Some(seqs) = name_page(conn, workspace, query.sort, page, total, ("", &[]))? {
        let items = listed_page_of(conn, &seqs, query)?;
        return Ok(ContactPage { items, total });
    }
    let run = deep_pages::creation_run(
        conn,
        workspace,
        query.sort,
        query.offset(),
        query.per_page,
        total,
    )?;
    let items = match run {
        Some(run) => page_of(conn, run.seqs_sql(), run.values(workspace), query)?,
        None if query.offset() < ONE_STATEMENT_MAX_OFFSET => {
            one_statement_page_of(conn, workspace, query)?
        }
        None => stepped_page_of(
            conn,
            "c.workspace_id = ?",
            vec![SqlValue::Integer(workspace.0)],
            query,
        )?,
    };
    Ok(ContactPage { items, total })
}

/// The page of the contacts meeting `condition` (binding `values`) as OFFSET over the
/// order gives it. The page is found by seq alone first, which the order indexes
/// cover, so rows skipped by the offset are never read from the table; only the
/// page's rows are.
fn stepped_page_of(
    conn: &Connection,
    condition: &str,
    values: Vec<SqlValue>,
    query: &ListQuery,
) -> Result<PageItems, StorageError> {
    let order = ListOrder::of(query.sort).sql();
    let seqs =
        format!("SELECT c.seq FROM contacts c WHERE {condition} ORDER BY {order} {LIMIT_OFFSET}");
    let values = values
        .into_iter()
        .chain(limit_offset(query.per_page.into(), query.offset()));
    page_of(conn, &seqs, values.collect(), query)
}

/// Below this offset a page of the whole workspace in a time order is read by
/// [`one_statement_page_of`], from it on by [`stepped_page_of`]. Callgrind, per request
/// on the bench's million contacts: offset 20, 372,000 instructions against 433,000;
/// offset 180, 441,000 against 483,000; offset 980, 781,000 against 728,000. One
/// statement steps past a skipped row in about 430 instructions, the seqs-first query
/// in about 310; what one statement saves (a temporary index and a sort, about 60,000)
/// is used up near an offset of 500.
const ONE_STATEMENT_MAX_OFFSET: u64 = 500;

/// A page of the whole workspace in one statement, which walks the order's index and
/// reads each row of the page as it comes, already in order. `stepped_page_of` hands
/// its seqs to a second statement instead, for which SQLite builds a temporary index
/// of them and sorts the rows again: on a first page that was 15% of the server's
/// instructions (callgrind: 129.5 M against 109.4 M over 300 first pages).
fn one_statement_page_of(
    conn: &Connection,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<PageItems, StorageError> {
    let mut stmt = conn.prepare_cached(one_statement_page_sql(query.sort))?;
    let [limit, offset] = limit_offset(query.per_page.into(), query.offset());
    contacts_of(&mut stmt, params![workspace.0, limit, offset])
}

/// [`one_statement_page_of`]'s statement in each order, written once per process.
/// Formatting it on every request was 1.7% of a first page's reading thread (perf).
fn one_statement_page_sql(sort: SortOrder) -> &'static str {
    static SQL: [OnceLock<String>; SortOrder::COUNT] =
        [const { OnceLock::new() }; SortOrder::COUNT];
    SQL[sort as usize].get_or_init(|| {
        let order = ListOrder::of(sort).sql();
        format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.workspace_id = ?
              ORDER BY {order} {LIMIT_OFFSET}"
        )
    })
}

/// A list a search index (trigrams or spans) or a tag serves: the matches are found
/// through that index (never by walking the workspace), then counted and ranked in one
/// pass over them, keeping only as many as the page needs; the page's rows are read
/// last.
fn list_found(
    conn: &Connection,
    live: LiveCondition,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    let order = ListOrder::of(query.sort);
    let skip = usize::try_from(query.offset()).unwrap_or(usize::MAX);
    let mut top = TopRanked::new(order, skip.saturating_add(query.per_page as usize));
    let ranking = order.search_ranking(created_in_seq_order(conn, workspace)?);
    let exact = match &live.candidates {
        Some(Candidates {
            exact: Some(exact), ..
        }) if ranking.by_seq_alone() => Some((exact.count(conn)?, exact)),
        _ => None,
    };
    let beside_exact = match exact {
        Some((exact_count, exact)) if exact_count > 0 => {
            rank_beside_exact(conn, &live, (exact_count, exact), order, &mut top)?
        }
        _ => None,
    };
    let total = match beside_exact {
        Some(total) => total,
        None => rank_all(conn, live, ranking, order, &mut top)?,
    };
    let items = top
        .into_sorted(skip)
        .into_iter()
        .map(|ranked| shown_by_seq(conn, ranked.seq))
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(ContactPage {
        items: PageItems::of(&items)?,
        total,
    })
}

/// Counts the matches of `live`, each checked against its row, and offers each to
/// `top`.
fn rank_all(
    conn: &Connection,
    live: LiveCondition,
    ranking: SearchRanking,
    order: ListOrder,
    top: &mut TopRanked,
) -> Result<u64, StorageError> {
    // The planner would read each candidate's whole row by seq; the narrow index holds
    // every column this reads, unless the order's key is a time it does not hold.
    let search_rows = if ranking.in_search_rows {
        "contacts c INDEXED BY contacts_search_rows"
    } else {
        "contacts c NOT INDEXED"
    };
    let (candidates, condition, values) = live.into_parts();
    let source = match candidates {
        // Joined rather than `c.seq IN (...)`, for which SQLite first copies every
        // candidate into a temporary index: the bench's broad search (102,347
        // candidates) took 773.5 M instructions that way and 634.6 M joined (callgrind,
        // the whole server, per request). The wall clock moved far less: these
        // searches wait mostly on `pread` copying pages (bench/ANALYSIS.md).
        Some(candidates) => format!("({candidates}) f JOIN {search_rows} ON c.seq = f.seq"),
        None => search_rows.to_owned(),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.seq, {} FROM {source} WHERE {condition}",
        ranking.key
    ))?;
    let mut rows = stmt.query(params_from_iter(values.iter()))?;
    let mut total = 0;
    while let Some(row) = rows.next()? {
        total += 1;
        top.offer(order.ranked(row.get(0)?, row.get(1)?));
    }
    Ok(total)
}

/// Counts the matches of a search with `exact` rows, of which there are `exact_count`
/// (more than none), and offers `top` what it needs of them, ranked by seq alone.
/// `None`, having offered nothing, when the exact rows are too few among the
/// candidates to be worth telling apart: [`rank_all`] then checks every candidate.
///
/// The exact rows are among the candidates, so when there are as many candidates, the
/// exact rows are all the matches: counted, never checked against their rows, and only
/// the first few the page needs read. For the bench's "@ptabc.co.id" that is all
/// 8,669. Otherwise, when they are at least half of the candidates, only the other
/// candidates are checked. With fewer, setting them apart costs more than it saves:
/// the bench's "mail.com" has 33,766 exact rows among about 600,000 candidates, and
/// answered 7.7 requests/s that way against 10.0 with every candidate checked.
fn rank_beside_exact(
    conn: &Connection,
    live: &LiveCondition,
    (exact_count, exact): (u64, &ExactRows),
    order: ListOrder,
    top: &mut TopRanked,
) -> Result<Option<u64>, StorageError> {
    let Some(candidates) = &live.candidates else {
        return Ok(None);
    };
    let worth_it = |superset: u64| superset <= exact_count.saturating_mul(2);
    // First among the rows of the term's rarest trigram, which hold every candidate
    // and take one row list to count (the bench's "@ptabc.co.id" asks for the rows
    // holding two). Its remembered count (only a hint) tells when even that is too many.
    if let Some((trigram, remembered)) = &candidates.narrowest {
        if !worth_it(*remembered) {
            return Ok(None);
        }
        let holding = rows_holding_trigram(conn, trigram)?;
        if holding == exact_count {
            return first_exact(conn, (exact_count, exact), order, top).map(Some);
        }
        if !worth_it(holding) {
            return Ok(None);
        }
    }
    let candidate_count = candidates.count(conn)?;
    if candidate_count == exact_count {
        return first_exact(conn, (exact_count, exact), order, top).map(Some);
    }
    if !worth_it(candidate_count) {
        return Ok(None);
    }
    let exact = exact.seqs(conn)?;
    let mut unsure = seqs_of(conn, &candidates.sql, &candidates.values)?;
    // The index gives its candidates in seq order, and the queue's after them.
    unsure.sort_unstable();
    let mut exact_ahead = exact.iter().peekable();
    unsure.retain(|&seq| {
        while exact_ahead.next_if(|&&e| e < seq).is_some() {}
        exact_ahead.peek() != Some(&&seq)
    });
    for &seq in &exact {
        top.offer(order.ranked(seq, String::new()));
    }
    let mut total = exact_count;
    if unsure.is_empty() {
        return Ok(Some(total));
    }
    let unsure = serde_json::to_string(&unsure)
        .map_err(|err| StorageError::Internal(format!("candidate seqs: {err}")))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.seq FROM json_each(?) f
           JOIN contacts c INDEXED BY contacts_search_rows ON c.seq = f.value
          WHERE {}",
        live.sql
    ))?;
    let values = std::iter::once(SqlValue::Text(unsure)).chain(live.values.iter().cloned());
    let mut rows = stmt.query(params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        total += 1;
        top.offer(order.ranked(row.get(0)?, String::new()));
    }
    Ok(Some(total))
}

/// Offers `top` the first of the `exact` rows in the order: they are all the matches.
fn first_exact(
    conn: &Connection,
    (exact_count, exact): (u64, &ExactRows),
    order: ListOrder,
    top: &mut TopRanked,
) -> Result<u64, StorageError> {
    for seq in exact.first_seqs(conn, order.descending, top.wanted())? {
        top.offer(order.ranked(seq, String::new()));
    }
    Ok(exact_count)
}

fn count_of(conn: &Connection, sql: &str, values: &[SqlValue]) -> Result<u64, StorageError> {
    let count: i64 = conn
        .prepare_cached(sql)?
        .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The seqs a query selects, in the order it gives them.
fn seqs_of(conn: &Connection, sql: &str, values: &[SqlValue]) -> Result<Vec<i64>, StorageError> {
    let seqs = conn
        .prepare_cached(sql)?
        .query_map(params_from_iter(values.iter()), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}

fn count(conn: &Connection, condition: &str, values: &[SqlValue]) -> Result<u64, StorageError> {
    count_of(
        conn,
        &format!("SELECT count(*) FROM contacts c WHERE {condition}"),
        values,
    )
}

/// The contacts with these seqs, in the list's order.
fn listed_page_of(
    conn: &Connection,
    seqs: &[i64],
    query: &ListQuery,
) -> Result<PageItems, StorageError> {
    let seqs = serde_json::to_string(seqs)
        .map_err(|err| StorageError::Internal(format!("page seqs: {err}")))?;
    page_of(
        conn,
        "SELECT value FROM json_each(?)",
        vec![SqlValue::Text(seqs)],
        query,
    )
}

/// The contacts whose seqs the query `seqs` selects (binding `values`), in the list's
/// order.
fn page_of(
    conn: &Connection,
    seqs: &str,
    values: Vec<SqlValue>,
    query: &ListQuery,
) -> Result<PageItems, StorageError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.seq IN ({seqs}) ORDER BY {}",
        ListOrder::of(query.sort).sql()
    ))?;
    contacts_of(&mut stmt, params_from_iter(values.iter()))
}

fn shown_by_seq(conn: &Connection, seq: i64) -> Result<ListItem, StorageError> {
    read_by_seq(conn, seq, contact_json_from_row).map(ListItem::Contact)
}

/// The page's contacts, from a statement selecting [`CONTACT_COLUMNS`].
fn contacts_of(stmt: &mut Statement<'_>, values: impl Params) -> Result<PageItems, StorageError> {
    let (json, len) = contacts_json(stmt.query(values)?)?;
    Ok(PageItems { json, len })
}

/// Live contacts and tombstones of contacts deleted since `updated_since`, in one
/// order. Tombstones carry no name or tags, so they are listed whatever the search or
/// tag filter: a client mirroring a filtered view drops the id if it has it.
fn list_with_tombstones(
    conn: &Connection,
    live: LiveCondition,
    workspace: WorkspaceId,
    query: &ListQuery,
) -> Result<ContactPage, StorageError> {
    let (live, mut values) = live.over_contacts();
    let since = query.filter.updated_since.map(Timestamp::to_storage);
    values.push(SqlValue::Integer(workspace.0));
    values.push(since.map_or(SqlValue::Null, SqlValue::Text));
    let union = format!(
        "SELECT c.seq AS seq, c.id AS id, c.created_at AS created_at, c.updated_at AS updated_at,
                c.search_text AS sort_name, c.name IS NULL AS no_name
           FROM contacts c WHERE {live}
         UNION ALL
         SELECT NULL, d.id, d.deleted_at, d.deleted_at, NULL, 1
           FROM deleted_contacts d WHERE d.workspace_id = ? AND d.deleted_at >= ?"
    );
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM ({union})"))?
        .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
    values.extend(limit_offset(query.per_page.into(), query.offset()));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.seq, e.id, e.updated_at FROM ({union}) e ORDER BY {} {LIMIT_OFFSET}",
        entry_order(query.sort)
    ))?;
    let entries = stmt
        .query_map(params_from_iter(values.iter()), |row| {
            Ok((
                row.get::<_, Option<i64>>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = Vec::with_capacity(entries.len());
    for (seq, id, updated_at) in entries {
        items.push(match seq {
            Some(seq) => shown_by_seq(conn, seq)?,
            None => ListItem::Deleted {
                id: parse_uuid(&id)?,
                deleted: true,
                updated_at: parse_timestamp(&updated_at)?,
            },
        });
    }
    Ok(ContactPage {
        items: PageItems::of(&items)?,
        total: total as u64,
    })
}

/// The WHERE clause over `contacts c` for a filter, with its bound values in order.
struct LiveCondition {
    sql: String,
    values: Vec<SqlValue>,
    /// When a search index (trigrams or spans) serves the search: its candidates. Only
    /// they can match, so they are what the list starts from; `sql` then keeps the
    /// matches.
    candidates: Option<Candidates>,
    /// Whether the list is counted and ranked in one pass by [`list_found`] rather
    /// than by walking the workspace: its candidates come from another index (the
    /// search indexes, or a tag's entries), or a short search scans the narrow one.
    driven: bool,
}

impl LiveCondition {
    /// The candidates' query (if any), the condition, and the values of both in that
    /// order: every statement built from them puts the candidates' query first.
    fn into_parts(self) -> (Option<String>, String, Vec<SqlValue>) {
        match self.candidates {
            Some(candidates) => (
                Some(candidates.sql),
                self.sql,
                candidates.values.into_iter().chain(self.values).collect(),
            ),
            None => (None, self.sql, self.values),
        }
    }

    /// The whole condition as one WHERE clause over `contacts c`, with its values.
    fn over_contacts(self) -> (String, Vec<SqlValue>) {
        match self.into_parts() {
            (Some(candidates), condition, values) => {
                (format!("c.seq IN ({candidates}) AND {condition}"), values)
            }
            (None, condition, values) => (condition, values),
        }
    }
}

/// A query that selects the seq of each of a search's candidates once, with its
/// values.
struct Candidates {
    sql: String,
    values: Vec<SqlValue>,
    /// Those of the candidates that match by construction, when an index knows them.
    exact: Option<ExactRows>,
    /// The term's rarest trigram, whose rows hold all the candidates, and how many rows
    /// hold it as last remembered: only while nothing is queued.
    narrowest: Option<(String, u64)>,
}

/// Keeps, of a full-text index's rows (rowid = seq), those whose change is not waiting
/// in the queue: for a waiting one the index may still hold the old text, and the
/// queue gives the row instead.
const NOT_QUEUED: &str = "rowid NOT IN (SELECT seq FROM search_queue)";

/// The rows of the workspace that match the search and meet the list's whole filter
/// without a look at their text (email_domains.rs): those holding `token` in
/// `search_tokens`.
struct ExactRows {
    token: String,
    /// Whether changes wait in the queue. Their rows are then left out, as the index
    /// may hold their old text (the queue finds them among the candidates).
    queued: bool,
}

impl ExactRows {
    /// The FROM clause that selects them, and its values.
    fn from(&self) -> (String, [SqlValue; 1]) {
        let matching = "search_tokens WHERE search_tokens MATCH ?";
        let from = if self.queued {
            format!("{matching} AND {NOT_QUEUED}")
        } else {
            matching.to_owned()
        };
        (from, [SqlValue::Text(quoted(&self.token))])
    }

    /// While nothing is queued, the kept count of the domain's rows; otherwise they are
    /// counted, leaving the queued rows out.
    fn count(&self, conn: &Connection) -> Result<u64, StorageError> {
        if !self.queued {
            return domain_rows(conn, &self.token);
        }
        let (from, values) = self.from();
        count_of(conn, &format!("SELECT count(*) FROM {from}"), &values)
    }

    /// Their seqs, ascending.
    fn seqs(&self, conn: &Connection) -> Result<Vec<i64>, StorageError> {
        let (from, values) = self.from();
        seqs_of(
            conn,
            &format!("SELECT rowid FROM {from} ORDER BY rowid"),
            &values,
        )
    }

    /// The first `limit` of their seqs, descending or ascending: FTS5 reads its rows
    /// in either order, and stops there.
    fn first_seqs(
        &self,
        conn: &Connection,
        descending: bool,
        limit: usize,
    ) -> Result<Vec<i64>, StorageError> {
        let direction = if descending { "DESC" } else { "ASC" };
        let (from, [query]) = self.from();
        let sql = format!("SELECT rowid FROM {from} ORDER BY rowid {direction} LIMIT ? + 0");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        seqs_of(conn, &sql, &[query, SqlValue::Integer(limit)])
    }
}

impl Candidates {
    /// The rows `lookup` finds, and the rows whose change still waits in the search
    /// queue with a text that holds the term: the index may not have them yet, or still
    /// have their old text. A row whose change waits is taken from the queue alone, so
    /// that no row is a candidate twice.
    ///
    /// `exact` and `narrowest`, if any: the token in `search_tokens` of the rows that
    /// match by construction, and the term's rarest trigram (with how many rows hold
    /// it, as remembered). While changes wait, `narrowest` is dropped, as the queued
    /// texts are not in its rows.
    fn of(
        conn: &Connection,
        lookup: Lookup,
        search: &SearchTerm,
        (exact, narrowest): (Option<String>, Option<(String, u64)>),
    ) -> Result<Self, StorageError> {
        // Both are full-text indexes whose rowid is the contact's seq.
        let (index, query) = match lookup {
            Lookup::Trigrams(expression) => ("contacts_fts", expression),
            Lookup::Spans(query) => ("search_tokens", query),
        };
        let indexed = format!("SELECT rowid AS seq FROM {index} WHERE {index} MATCH ?");
        let exact_rows = |queued| exact.map(|token| ExactRows { token, queued });
        let mut values = vec![SqlValue::Text(query)];
        // The queue is empty whenever the writer has been idle: the index alone is then
        // the whole answer, and no candidate pays for a look into the queue (callgrind,
        // the bench's broad search: 500 M instructions in sqlite3_step with the look,
        // 435 M without).
        if queued_changes(conn)? == 0 {
            return Ok(Self {
                sql: indexed,
                values,
                exact: exact_rows(false),
                narrowest,
            });
        }
        values.extend(search_values(search));
        Ok(Self {
            sql: format!(
                "{indexed} AND {NOT_QUEUED}
                  UNION ALL
                 SELECT DISTINCT seq FROM search_queue
                  WHERE instr(text, ?) > 0 OR instr(text, ?) > 0"
            ),
            values,
            exact: exact_rows(true),
            narrowest: None,
        })
    }

    /// How many candidates there are.
    fn count(&self, conn: &Connection) -> Result<u64, StorageError> {
        let sql = format!("SELECT count(*) FROM ({})", self.sql);
        count_of(conn, &sql, &self.values)
    }
}

/// Where a search finds its candidates, before the queue.
enum Lookup {
    /// The trigram index, with this full-text query.
    Trigrams(String),
    /// The spaces' spans (space_spans.rs) in `search_tokens`, with this full-text query.
    Spans(String),
}

impl Lookup {
    /// A term with [`SIDE`](super::space_spans::SIDE) characters either side of a space
    /// is found by its spans; any other of three characters or more by its trigrams.
    /// `None` for a shorter term.
    fn of(
        conn: &Connection,
        counts: &TrigramCounts,
        search: &SearchTerm,
    ) -> Result<Option<Self>, StorageError> {
        let folded = search.folded();
        // A phone-like term is also looked for as digits, which no span holds.
        if search.phone_digits().is_none() {
            if let Some(query) = spans_query(folded) {
                return Ok(Some(Self::Spans(query)));
            }
        }
        let texts: Vec<&str> = std::iter::once(folded)
            .chain(search.phone_digits())
            .collect();
        Ok(candidate_query(conn, counts, &texts)?.map(Self::Trigrams))
    }

    /// The query for the rows of `workspace` that match `search` by construction, when
    /// the term names a whole email domain. Only for the trigrams: a term with a space
    /// is no domain.
    fn exact_query(&self, workspace: WorkspaceId, search: &SearchTerm) -> Option<String> {
        match self {
            Self::Trigrams(_) => term_domain_token(workspace, search.folded()),
            Self::Spans(_) => None,
        }
    }
}

/// `tags` are the filter's tag keys with their kept counts, rarest first.
fn live_condition(
    conn: &Connection,
    counts: &TrigramCounts,
    workspace: WorkspaceId,
    filter: &ListFilter,
    tags: &[(u64, &str)],
) -> Result<LiveCondition, StorageError> {
    let mut condition = String::from("c.workspace_id = ?");
    let mut values = vec![SqlValue::Integer(workspace.0)];
    // Whether the list starts from candidates rather than the workspace: a search
    // index's (joined to the rows) or a tag's (an IN list in the condition).
    let mut by_candidates = false;
    let mut candidates = None;
    if let Some(search) = &filter.search {
        if let Some(lookup) = Lookup::of(conn, counts, search)? {
            // The index and the changes still queued for it give candidates; the text
            // check below keeps the matches. Rows matching by construction need no
            // check, unless the filter has more to check than the search.
            let ListFilter {
                search: _,
                tag_keys,
                updated_since,
                created_since,
                include_deleted,
            } = filter;
            let search_alone = tag_keys.is_empty()
                && updated_since.is_none()
                && created_since.is_none()
                && !include_deleted;
            let exact = search_alone
                .then(|| lookup.exact_query(workspace, search))
                .flatten();
            // A phone-like term's candidates also hold its digits' trigrams instead.
            let narrowest = match (&exact, search.phone_digits()) {
                (Some(_), None) => rarest_trigram(conn, counts, search.folded())?,
                _ => None,
            };
            candidates = Some(Candidates::of(conn, lookup, search, (exact, narrowest))?);
            by_candidates = true;
        }
        // Without the index (a term under three characters) this is a scan, unless a
        // tag drives the list. instr() matches literally, so '%' and '_' in a term are
        // plain characters.
        condition.push_str(" AND (instr(c.search_text, ?) > 0 OR instr(c.phone, ?) > 0)");
        values.extend(search_values(search));
    }
    let mut tag_keys = tags.iter().map(|(_, key)| *key);
    if !by_candidates {
        if let Some(key) = tag_keys.next() {
            condition.push_str(" AND ");
            condition.push_str(&tag_members("c.seq"));
            values.extend(tag_values(workspace, key));
            by_candidates = true;
        }
    }
    // A short search with no candidates to start from is a scan; list_found scans the
    // narrow index when that is cheaper than walking the workspace. (The tombstone feed
    // never ranks through list_found, so it is not asked.)
    let driven = by_candidates
        || (filter.search.is_some()
            && !filter.include_deleted
            && scan_search_rows(conn, workspace)?);
    if let Some(since) = filter.updated_since {
        condition.push_str(" AND c.updated_at >= ?");
        values.push(SqlValue::Text(since.to_storage()));
    }
    if let Some(since) = filter.created_since {
        condition.push_str(" AND c.created_at >= ?");
        values.push(SqlValue::Text(since.to_storage()));
    }
    for key in tag_keys {
        condition.push_str(" AND ");
        condition.push_str(&has_tag("c.seq"));
        values.extend(tag_values(workspace, key));
    }
    if by_candidates {
        // "+" keeps the planner off the workspace index: walking a whole workspace to
        // test each row costs far more than looking up each candidate and checking its
        // workspace.
        condition.insert(0, '+');
    }
    Ok(LiveCondition {
        sql: condition,
        values,
        candidates,
        driven,
    })
}

/// Whether a search the trigram index cannot serve should scan every contact's entry in
/// the narrow `contacts_search_rows` (all workspaces') rather than walk the workspace's
/// own rows. At a million contacts in one workspace, counting the matches of "ha" took
/// 4.0 s walking the workspace and reading each whole row, and 0.38 s through the
/// narrow index. The scan also passes the other workspaces' entries, so it is chosen
/// only while the workspace holds at least a quarter of the file's contacts (the
/// highest seq stands for their number: a cheap upper bound).
fn scan_search_rows(conn: &Connection, workspace: WorkspaceId) -> Result<bool, StorageError> {
    let highest_seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM contacts")?
        .query_row([], |row| row.get(0))?;
    Ok(kept_contact_count(conn, workspace)?.saturating_mul(4) >= highest_seq.max(0) as u64)
}

/// The term as the text checks take it: case-folded, then its phone digits (NULL
/// when it has none, which no instr() matches).
fn search_values(search: &SearchTerm) -> [SqlValue; 2] {
    [
        SqlValue::Text(search.folded().to_owned()),
        search
            .phone_digits()
            .map_or(SqlValue::Null, |d| SqlValue::Text(d.to_owned())),
    ]
}

/// ORDER BY for the union of contacts and tombstones. A tombstone's time is its
/// deletion; ids (UUID v7, time-ordered) break ties.
fn entry_order(sort: SortOrder) -> &'static str {
    match sort {
        SortOrder::NewestFirst => "e.created_at DESC, e.id DESC",
        SortOrder::OldestFirst => "e.created_at ASC, e.id ASC",
        SortOrder::RecentlyUpdatedFirst => "e.updated_at DESC, e.id DESC",
        SortOrder::LeastRecentlyUpdatedFirst => "e.updated_at ASC, e.id ASC",
        SortOrder::NameAscending => "e.no_name, e.sort_name ASC, e.id ASC",
        SortOrder::NameDescending => "e.no_name, e.sort_name DESC, e.id DESC",
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::params;
    use serde_json::json;

    use super::*;
    use crate::domain::{ContactPatch, IfMatch, NewContact, PhoneRules};
    use crate::storage::contact_updates::update_contact;
    use crate::storage::contacts::{delete_contact, insert_contact};
    use crate::storage::search_queue::{apply_search_queue, queued_changes};
    use crate::storage::tag_filter::TaggedPage;
    use crate::storage::workspaces::test_database;
    use time::Duration;

    /// Lists with these query parameters: each entry as `show` gives it, and the total.
    fn listed(
        conn: &Connection,
        ws: WorkspaceId,
        params: &[(&str, &str)],
        show: impl Fn(&serde_json::Value) -> String,
    ) -> (Vec<String>, u64) {
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let query = ListQuery::from_pairs(&pairs, &PhoneRules::default()).unwrap();
        let page = list_contacts(conn, &TrigramCounts::default(), ws, &query).unwrap();
        let entries: Vec<serde_json::Value> = serde_json::from_str(page.items.json()).unwrap();
        assert_eq!(
            page.items.len(),
            entries.len(),
            "the page counts its entries"
        );
        (entries.iter().map(show).collect(), page.total)
    }

    /// A string field of a listed entry as the API shows it: "" for null, and
    /// "(deleted)" for every field of a tombstone.
    fn shown(entry: &serde_json::Value, field: &str) -> String {
        if entry["deleted"] == true {
            return "(deleted)".into();
        }
        entry[field].as_str().unwrap_or_default().to_owned()
    }

    fn found(conn: &Connection, ws: WorkspaceId, term: &str) -> (Vec<String>, u64) {
        listed(conn, ws, &[("search", term)], |entry| shown(entry, "name"))
    }

    fn create(conn: &mut Connection, ws: WorkspaceId, phone: &str, name: &str) -> String {
        let new = NewContact::from_json(
            &json!({"phone": phone, "name": name}),
            &PhoneRules::default(),
        )
        .unwrap();
        insert_contact(conn, ws, &new, Timestamp::now())
            .unwrap()
            .id
            .to_string()
    }

    /// The ids of a page of the contacts meeting a plain `condition` over `contacts c`,
    /// as plain OFFSET over the order gives them: what every page must be, however it
    /// is found.
    fn stepped_page(
        conn: &Connection,
        ws: WorkspaceId,
        condition: &str,
        sort: SortOrder,
        page: u32,
    ) -> Vec<String> {
        let sql = format!(
            "SELECT c.id FROM contacts c WHERE c.workspace_id = ?1 AND {condition}
              ORDER BY {} LIMIT 100 OFFSET ?2",
            ListOrder::of(sort).sql()
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let ids = stmt
            .query_map(params![ws.0, (page - 1) * 100], |row| row.get(0))
            .unwrap();
        ids.collect::<Result<_, _>>().unwrap()
    }

    fn listed_page(
        conn: &Connection,
        ws: WorkspaceId,
        filter: &[(&str, &str)],
        sort: &str,
        page: u32,
    ) -> (Vec<String>, u64) {
        let page = page.to_string();
        let mut params = vec![("sort", sort), ("page", &page), ("per_page", "100")];
        params.extend_from_slice(filter);
        // Contacts and tombstones alike show their id.
        listed(conn, ws, &params, |entry| {
            entry["id"].as_str().unwrap().to_owned()
        })
    }

    const EVERY_ORDER: [(&str, SortOrder); 6] = [
        ("-created_at", SortOrder::NewestFirst),
        ("created_at", SortOrder::OldestFirst),
        ("-updated_at", SortOrder::RecentlyUpdatedFirst),
        ("updated_at", SortOrder::LeastRecentlyUpdatedFirst),
        ("name", SortOrder::NameAscending),
        ("-name", SortOrder::NameDescending),
    ];

    /// Checks every page (100 a page, one past the end) of the list with these query
    /// parameters, in all six orders, against plain OFFSET over the contacts meeting
    /// `condition`, and its total against their count.
    fn assert_pages_match(
        conn: &Connection,
        ws: WorkspaceId,
        filter: &[(&str, &str)],
        condition: &str,
        label: &str,
    ) {
        let total: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM contacts c WHERE c.workspace_id = ?1 AND {condition}"
                ),
                [ws.0],
                |row| row.get(0),
            )
            .unwrap();
        for (param, sort) in EVERY_ORDER {
            for page in 1..=(total as u32 / 100 + 2) {
                let (ids, listed_total) = listed_page(conn, ws, filter, param, page);
                assert_eq!(listed_total, total as u64, "{label}: {filter:?} {param}");
                let expected = stepped_page(conn, ws, condition, sort, page);
                assert_eq!(ids, expected, "{label}: {filter:?} {param} page {page}");
            }
        }
    }

    fn another_workspace(conn: &Connection, name: &str) -> WorkspaceId {
        crate::storage::workspaces::ensure_workspace(
            conn,
            &crate::domain::WorkspaceName::parse(name).unwrap(),
            Timestamp::now(),
        )
        .unwrap()
    }

    /// Creates a contact from `body(n)` for each `n` below `count`: in `other` when `n`
    /// is a multiple of `other_every`, else in `acme`. Returns acme's ids, in order.
    fn interleaved(
        conn: &mut Connection,
        (acme, other): (WorkspaceId, WorkspaceId),
        count: u32,
        other_every: u32,
        body: impl Fn(u32) -> serde_json::Value,
    ) -> Vec<String> {
        let mut acme_ids = Vec::new();
        for n in 0..count {
            let ws = if n % other_every == 0 { other } else { acme };
            let new = NewContact::from_json(&body(n), &PhoneRules::default()).unwrap();
            let id = insert_contact(conn, ws, &new, Timestamp::now()).unwrap().id;
            if ws == acme {
                acme_ids.push(id.to_string());
            }
        }
        acme_ids
    }

    fn patch_each<'a>(
        conn: &mut Connection,
        ws: WorkspaceId,
        ids: impl Iterator<Item = &'a String>,
        patch: serde_json::Value,
    ) {
        let patch = ContactPatch::from_json(&patch, &PhoneRules::default()).unwrap();
        for id in ids {
            let now = Timestamp::now();
            update_contact(conn, ws, id, &patch, &IfMatch::Anything, now).unwrap();
        }
    }

    fn delete_each<'a>(
        conn: &mut Connection,
        ws: WorkspaceId,
        ids: impl Iterator<Item = &'a String>,
    ) {
        for id in ids {
            delete_contact(conn, ws, id, &IfMatch::Anything, Timestamp::now()).unwrap();
        }
    }

    #[test]
    fn deep_pages_are_the_pages_plain_offset_gives_in_every_order() {
        let (mut conn, acme) = test_database();
        let other = another_workspace(&conn, "other");
        // Two workspaces' contacts interleaved, many created in the same millisecond
        // (seq breaks those ties), and every seventh of acme's deleted again.
        let acme_ids = interleaved(
            &mut conn,
            (acme, other),
            4500,
            3,
            |n| json!({"phone": format!("62811{n:07}"), "name": format!("Kontak {n}")}),
        );
        delete_each(&mut conn, acme, acme_ids.iter().step_by(7));
        let live = acme_ids.len() - acme_ids.len().div_ceil(7);
        assert_pages_match(&conn, acme, &[], "1", "in seq order");
        // Newest first from offset 1,100 is oldest-first positions 1,371..=1,470, which
        // are sought from their block.
        let seeks = |conn: &Connection| {
            deep_pages::creation_run(conn, acme, SortOrder::NewestFirst, 1100, 100, live as u64)
                .unwrap()
                .is_some_and(|run| run.from.is_some())
        };
        assert!(
            seeks(&conn),
            "the deep pages above were sought, not stepped"
        );

        // A contact created "before" the others, and without a name (the name orders
        // list it last): no more seeks, the same pages.
        let early =
            NewContact::from_json(&json!({"phone": "+628999999999"}), &PhoneRules::default())
                .unwrap();
        let past = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
        insert_contact(&mut conn, acme, &early, past).unwrap();
        assert!(!seeks(&conn));
        assert_pages_match(&conn, acme, &[], "1", "out of seq order");
    }

    #[test]
    fn tag_filtered_pages_are_the_pages_a_plain_filter_gives_in_every_order() {
        let (mut conn, acme) = test_database();
        let other = another_workspace(&conn, "other");
        // Both workspaces use the same tag names; some contacts have no name; some are
        // deleted, some retagged.
        let acme_ids = interleaved(&mut conn, (acme, other), 3000, 4, |n| {
            let mut tags = Vec::new();
            for (every, tag) in [(3, "vip"), (5, "lead"), (2, "Customer")] {
                if n % every == 0 {
                    tags.push(tag);
                }
            }
            let name = (n % 11 != 0).then(|| format!("Kontak {}", n % 97));
            json!({"phone": format!("62811{n:07}"), "name": name, "tags": tags})
        });
        let retag = json!({"tags": ["lead", "VIP"]});
        patch_each(&mut conn, acme, acme_ids.iter().skip(1).step_by(13), retag);
        delete_each(&mut conn, acme, acme_ids.iter().step_by(7));
        let tagged = |key: &str| {
            format!(
                "EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                          WHERE ct.contact_seq = c.seq AND t.name_key = '{key}')"
            )
        };
        let since = "2000-01-01T00:00:00Z";
        let filters: [(&[(&str, &str)], String); 5] = [
            (&[("tag", "vip")], tagged("vip")),
            (
                &[("tag", "lead"), ("tag", "customer")],
                format!("{} AND {}", tagged("lead"), tagged("customer")),
            ),
            (&[("tag", "nobody")], tagged("nobody")),
            (
                &[("tag", "vip"), ("created_since", since)],
                format!("{} AND c.created_at >= '{since}'", tagged("vip")),
            ),
            (
                &[("tag", "lead"), ("search", "ko")],
                format!("{} AND instr(c.search_text, 'ko') > 0", tagged("lead")),
            ),
        ];
        let check = |conn: &Connection, label: &str| {
            for (filter, condition) in &filters {
                assert_pages_match(conn, acme, filter, condition, label);
            }
        };
        // How the first page of tag=vip is found: a run of the tag's entries, a walk of
        // the order's index, or (None) ranking every contact with the tag.
        let found_by = |conn: &Connection, sort: SortOrder| {
            let filter = ListFilter {
                tag_keys: vec!["vip".into()],
                ..ListFilter::default()
            };
            let keys = rarest_first(conn, acme, &filter.tag_keys).unwrap();
            match tagged_page(conn, acme, &filter, &keys, sort, (100, 0)).unwrap() {
                Some(TaggedPage {
                    seqs: PageSeqs::Query { .. },
                    ..
                }) => "run",
                Some(TaggedPage {
                    seqs: PageSeqs::Listed(_),
                    ..
                }) => "walk",
                None => "rank",
            }
        };
        assert_eq!(found_by(&conn, SortOrder::NewestFirst), "run");
        assert_eq!(found_by(&conn, SortOrder::NameDescending), "walk");
        assert_eq!(found_by(&conn, SortOrder::RecentlyUpdatedFirst), "walk");
        check(&conn, "in seq order");

        // A contact created "before" the others: the same pages, walked or ranked.
        let early = NewContact::from_json(
            &json!({"phone": "+628999999999", "tags": ["vip", "lead", "customer"]}),
            &PhoneRules::default(),
        )
        .unwrap();
        let past = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
        insert_contact(&mut conn, acme, &early, past).unwrap();
        assert_eq!(found_by(&conn, SortOrder::NewestFirst), "walk");
        check(&conn, "out of seq order");
    }

    /// How many rows match a search by construction, and how many candidates it has.
    fn exact_and_candidates(conn: &Connection, ws: WorkspaceId, term: &str) -> (u64, u64) {
        let pairs = [("search".to_owned(), term.to_owned())];
        let query = ListQuery::from_pairs(&pairs, &PhoneRules::default()).unwrap();
        let counts = TrigramCounts::default();
        let live = live_condition(conn, &counts, ws, &query.filter, &[]).unwrap();
        let candidates = live.candidates.unwrap();
        let exact = candidates.exact.as_ref().unwrap().count(conn).unwrap();
        (exact, candidates.count(conn).unwrap())
    }

    #[test]
    fn indexed_searches_give_the_pages_plain_offset_gives_in_every_order() {
        let (mut conn, acme) = test_database();
        let other = another_workspace(&conn, "other");
        // Two workspaces interleaved; some contacts have no name (found by their phone
        // alone, and last in the name orders), some are renamed (so the update orders
        // differ from the creation orders), some deleted. Emails at one domain, at a
        // longer one holding it, and at none; a few names hold the domain too.
        let acme_ids = interleaved(&mut conn, (acme, other), 1500, 4, |n| {
            let name = match n % 10 {
                0 => None,
                7 => Some(format!("Kontak {} @PTABC.co.id", n % 83)),
                _ => Some(format!("Kontak {} Wijaya", n % 83)),
            };
            // kantor.id only in acme (n % 4 == 0 is the other workspace).
            let domain = match (n % 3, n % 15, n % 4, n % 7) {
                (0, ..) => Some("PtAbc.co.id"),
                (_, 1, ..) => Some("ptabc.co.idn"),
                (_, _, 2, _) => Some("kantor.id"),
                (.., 0) => Some("lain.id"),
                (.., 1..=5) => Some("xlain.id"),
                _ => None,
            };
            let email = domain.map(|domain| format!("k{n}@{domain}"));
            json!({"phone": format!("62811{n:07}"), "name": name, "email": email})
        });
        let rename = json!({"name": "Kontak 1 Baru"});
        patch_each(&mut conn, acme, acme_ids.iter().skip(3).step_by(11), rename);
        let move_away = json!({"email": "pindah@lain.id"});
        patch_each(
            &mut conn,
            acme,
            acme_ids.iter().skip(5).step_by(13),
            move_away,
        );
        delete_each(&mut conn, acme, acme_ids.iter().step_by(9));
        // By trigrams, by phone digits, by a span ("ntak 1 wi"), by two ("ntak 12 w",
        // "k 12 wija"), and by an email domain (its rows match by construction), with
        // and without the "@": one that other texts hold too, one that only its rows
        // hold, and one that far more other texts hold.
        let searches = [
            ("ontak 1", "instr(c.search_text, 'ontak 1') > 0"),
            ("1100", "instr(c.phone, '1100') > 0"),
            ("ntak 1 wija", "instr(c.search_text, 'ntak 1 wija') > 0"),
            ("ntak 12 wija", "instr(c.search_text, 'ntak 12 wija') > 0"),
            ("@ptabc.co.id", "instr(c.search_text, '@ptabc.co.id') > 0"),
            ("PTABC.CO.ID", "instr(c.search_text, 'ptabc.co.id') > 0"),
            ("@kantor.id", "instr(c.search_text, '@kantor.id') > 0"),
            ("lain.id", "instr(c.search_text, 'lain.id') > 0"),
        ];
        let check = |conn: &Connection, label: &str| {
            for (term, condition) in searches {
                assert_pages_match(conn, acme, &[("search", term)], condition, label);
            }
        };
        check(&conn, "in seq order, changes queued");
        apply_search_queue(&conn).unwrap();
        // The three ways a domain is searched: its rows and the other candidates,
        // checked (the rows are at least half of them); its rows alone (they are all
        // the candidates); every candidate checked (the rows are too few).
        let (exact, candidates) = exact_and_candidates(&conn, acme, "@ptabc.co.id");
        assert!(
            exact < candidates && candidates <= 2 * exact,
            "{exact} of {candidates}"
        );
        let (exact, candidates) = exact_and_candidates(&conn, acme, "@kantor.id");
        assert!(0 < exact && exact == candidates, "{exact} of {candidates}");
        let (exact, candidates) = exact_and_candidates(&conn, acme, "lain.id");
        assert!(
            0 < exact && 2 * exact < candidates,
            "{exact} of {candidates}"
        );
        check(&conn, "in seq order, changes indexed");
        // Changed again, and queued: the index's rows for the domain are now stale.
        // A seventh of the contacts still there, of every email.
        let kept: Vec<&String> = (acme_ids.iter().enumerate())
            .filter(|(i, _)| i % 9 != 0 && i % 7 == 1)
            .map(|(_, id)| id)
            .collect();
        let come_back = json!({"email": "kembali@ptabc.co.id"});
        patch_each(&mut conn, acme, kept.iter().copied().step_by(3), come_back);
        let move_away = json!({"email": "pindah@lain.id"});
        patch_each(
            &mut conn,
            acme,
            kept.iter().copied().skip(1).step_by(3),
            move_away,
        );
        delete_each(&mut conn, acme, kept.iter().copied().skip(2).step_by(3));
        check(&conn, "in seq order, changes indexed and queued");
        // Applied: the index now counts past what it took out.
        apply_search_queue(&conn).unwrap();
        check(&conn, "in seq order, changed in the index");

        // A contact created "before" the others: the creation orders can no longer be
        // ranked by seq alone, and must give the same pages all the same.
        let early = NewContact::from_json(
            &json!({"phone": "+628110001100", "name": "Kontak 1 Lama"}),
            &PhoneRules::default(),
        )
        .unwrap();
        let past = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
        insert_contact(&mut conn, acme, &early, past).unwrap();
        assert!(!created_in_seq_order(&conn, acme).unwrap());
        check(&conn, "out of seq order");
    }

    #[test]
    fn short_searches_give_the_same_pages_whichever_rows_they_scan() {
        let (mut conn, small) = test_database();
        let large = another_workspace(&conn, "large");
        for n in 0..1200u32 {
            let ws = if n % 6 == 0 { small } else { large };
            let name = (n % 9 != 0).then(|| format!("Kontak {}", n % 89));
            let body = json!({"phone": format!("62811{n:07}"), "name": name});
            let new = NewContact::from_json(&body, &PhoneRules::default()).unwrap();
            insert_contact(&mut conn, ws, &new, Timestamp::now()).unwrap();
        }
        // The small workspace is walked, the large one found through the narrow index.
        assert!(!scan_search_rows(&conn, small).unwrap());
        assert!(scan_search_rows(&conn, large).unwrap());
        for ws in [small, large] {
            for term in ["k", "n 1", "12", "zz"] {
                let condition =
                    format!("(instr(c.search_text, '{term}') > 0 OR instr(c.phone, '{term}') > 0)");
                assert_pages_match(
                    &conn,
                    ws,
                    &[("search", term)],
                    &condition,
                    &format!("{ws:?}"),
                );
            }
        }
    }

    #[test]
    fn changes_still_queued_for_the_index_are_searched_as_they_are_now() {
        let (mut conn, ws) = test_database();
        let budi = create(&mut conn, ws, "628111111111", "Budi Santoso");
        let sari = create(&mut conn, ws, "628222222222", "Sari Wulan");
        let wati = create(&mut conn, ws, "628444444444", "Wati Santoso");
        apply_search_queue(&conn).unwrap();

        // Queued, not yet in the index: a new contact, a renamed one, a deleted one,
        // and one renamed twice whose indexed and queued texts all hold "santoso".
        create(&mut conn, ws, "628333333333", "Budi Hartono");
        let rename = |conn: &mut Connection, id: &str, name: &str| {
            let patch =
                ContactPatch::from_json(&json!({ "name": name }), &PhoneRules::default()).unwrap();
            update_contact(conn, ws, id, &patch, &IfMatch::Anything, Timestamp::now()).unwrap();
        };
        rename(&mut conn, &budi, "Dewi Lestari");
        rename(&mut conn, &wati, "Wati Santoso Putri");
        rename(&mut conn, &wati, "Wati Santoso Dewi");
        // A second on, so that the feed's newest-first order (a tombstone by its
        // deletion, Wati by her creation) never rests on both falling in one
        // millisecond, where the ids' random bits would decide it.
        let later = Timestamp::from_datetime(Timestamp::now().as_datetime() + Duration::SECOND);
        delete_contact(&mut conn, ws, &sari, &IfMatch::Anything, later).unwrap();
        assert!(queued_changes(&conn).unwrap() > 0);

        let expected = [
            ("budi", (vec!["Budi Hartono".to_owned()], 1)),
            ("lestari", (vec!["Dewi Lestari".to_owned()], 1)),
            ("wulan", (vec![], 0)),
            ("8333333", (vec!["Budi Hartono".to_owned()], 1)),
            ("santoso", (vec!["Wati Santoso Dewi".to_owned()], 1)),
            // Found by their spans: a queued new contact, an indexed name since
            // renamed, and a span both Wati's indexed and queued names hold.
            ("budi hartono", (vec!["Budi Hartono".to_owned()], 1)),
            ("budi santoso", (vec![], 0)),
            ("wati santoso", (vec!["Wati Santoso Dewi".to_owned()], 1)),
        ];
        // The feed of changes lists the same matches, and the deleted contact, whether
        // the term is found by its trigrams or by its span.
        let feed = |conn: &Connection, term: &str| {
            let params = [
                ("search", term),
                ("updated_since", "2000-01-01T00:00:00Z"),
                ("include_deleted", "true"),
            ];
            listed(conn, ws, &params, |entry| shown(entry, "name"))
        };
        let expected_feed = (
            vec!["(deleted)".to_owned(), "Wati Santoso Dewi".to_owned()],
            2,
        );
        let check = |conn: &Connection, label: &str| {
            for (term, answer) in &expected {
                assert_eq!(&found(conn, ws, term), answer, "{label}, {term:?}");
            }
            for term in ["santoso", "wati santoso"] {
                assert_eq!(
                    feed(conn, term),
                    expected_feed,
                    "{label}, the feed {term:?}"
                );
            }
        };
        check(&conn, "queued");
        apply_search_queue(&conn).unwrap();
        assert_eq!(queued_changes(&conn).unwrap(), 0);
        check(&conn, "applied");
    }
}
