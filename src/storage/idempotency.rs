//! Stored first responses for `Idempotency-Key`, per API key.

use rusqlite::{params, Connection, OptionalExtension};
use time::Duration;

use super::StorageError;
use crate::domain::Timestamp;

/// How long a key and its response are kept.
const RETENTION: Duration = Duration::hours(24);
/// A request still marked as started after this long died with its process; a retry
/// may run it again.
const ABANDONED_AFTER: Duration = Duration::minutes(5);

/// A response as it was first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the first sight of a key means for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or was abandoned): run the request, then record the response.
    Fresh,
    /// The same request already ran: send this again.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Reused,
    /// The same key is being served right now.
    InUse,
}

/// Claims `key` for a request whose method, path and body hash to `request_hash`.
pub fn claim_key(
    conn: &mut Connection,
    api_key_id: &str,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> Result<Claim, StorageError> {
    let tx = conn.savepoint()?;
    let expired = Timestamp::from_datetime(now.as_datetime() - RETENTION);
    tx.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?1",
        params![expired.to_string()],
    )?;
    let existing = tx
        .query_row(
            "SELECT request_hash, state, status, headers, body, created_at
               FROM idempotency_keys WHERE api_key_id = ?1 AND idempotency_key = ?2",
            params![api_key_id, key],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<u16>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<Vec<u8>>>(4)?,
                    row.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    let abandoned_before =
        Timestamp::from_datetime(now.as_datetime() - ABANDONED_AFTER).to_string();
    let claim = match existing {
        Some((hash, _, _, _, _, _)) if hash != request_hash => Claim::Reused,
        Some((_, state, Some(status), headers, body, _)) if state == "finished" => {
            Claim::Replay(StoredResponse {
                status,
                headers: serde_json::from_str(headers.as_deref().unwrap_or("[]"))
                    .map_err(|e| StorageError::Internal(format!("stored headers: {e}")))?,
                body: body.unwrap_or_default(),
            })
        }
        Some((_, _, _, _, _, created_at)) if created_at >= abandoned_before => Claim::InUse,
        _ => {
            tx.execute(
                "INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_hash, state, created_at)
                 VALUES (?1, ?2, ?3, 'started', ?4)
                 ON CONFLICT (api_key_id, idempotency_key) DO UPDATE
                    SET request_hash = excluded.request_hash, state = 'started',
                        status = NULL, headers = NULL, body = NULL, created_at = excluded.created_at",
                params![api_key_id, key, request_hash, now.to_string()],
            )?;
            Claim::Fresh
        }
    };
    tx.commit()?;
    Ok(claim)
}

/// Records the response to a claimed key, for replay.
pub fn finish_key(
    conn: &Connection,
    api_key_id: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StorageError> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| StorageError::Internal(e.to_string()))?;
    conn.execute(
        "UPDATE idempotency_keys SET state = 'finished', status = ?3, headers = ?4, body = ?5
          WHERE api_key_id = ?1 AND idempotency_key = ?2",
        params![api_key_id, key, response.status, headers, response.body],
    )?;
    Ok(())
}

/// Forgets a claimed key whose request failed in a way worth retrying (a 5xx).
pub fn release_key(conn: &Connection, api_key_id: &str, key: &str) -> Result<(), StorageError> {
    conn.execute(
        "DELETE FROM idempotency_keys WHERE api_key_id = ?1 AND idempotency_key = ?2",
        params![api_key_id, key],
    )?;
    Ok(())
}
