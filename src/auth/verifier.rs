//! Turns a presented key into an authenticated identity, or refuses it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use prometheus::IntCounter;
use tokio::sync::Semaphore;

use super::cache::{VerifiedKey, VerifiedKeys};
use super::identity::Identity;
use super::key::{hash_secret, verify_secret, PresentedKey};
use super::throttle::AuthThrottle;
use super::Scopes;
use crate::domain::Timestamp;
use crate::error::ApiError;
use crate::storage::keys::{find_key_by_id, touch_key, KeyRow};
use crate::storage::Db;

/// `last_used_at` is kept roughly: at most one write per key per this interval.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Shared by every worker: the cache, a bound on concurrent argon2 runs, the throttle
/// on failed checks per key id and client, and the dummy hash that makes an unknown
/// key cost what a wrong one does.
pub struct KeyVerifier {
    db: Db,
    verified: VerifiedKeys,
    argon2_slots: Semaphore,
    throttle: AuthThrottle,
    dummy_hash: Arc<str>,
    checks: IntCounter,
}

impl KeyVerifier {
    pub fn new(
        db: Db,
        max_concurrent_argon2: usize,
        auth_failures_per_minute: u32,
        checks: IntCounter,
    ) -> Result<Self, argon2::password_hash::Error> {
        Ok(Self {
            db,
            verified: VerifiedKeys::default(),
            argon2_slots: Semaphore::new(max_concurrent_argon2.max(1)),
            throttle: AuthThrottle::new(auth_failures_per_minute),
            dummy_hash: hash_secret("kontak-dummy-secret-for-timing")?.into(),
            checks,
        })
    }

    /// Checks a presented key. Unknown, wrong and revoked keys all fail the same way,
    /// after the same argon2 work. `client` is the peer address, for the throttle.
    ///
    /// A key verified before is answered from memory; that it is still live is
    /// confirmed by the request's own storage call (see [`Identity::read`]).
    pub async fn verify(
        &self,
        presented: PresentedKey,
        client: Option<IpAddr>,
    ) -> Result<Identity, ApiError> {
        let digest = presented.digest();
        let key_id = presented.id().to_owned();
        if let Some(identity) = self.remembered(&digest, &key_id) {
            return Ok(identity);
        }

        // Only after the cache: a key this process has verified is never throttled.
        self.throttle.check(&key_id, client)?;
        let row = {
            let key_id = key_id.clone();
            self.db
                .read(move |conn| find_key_by_id(conn, &key_id))
                .await?
        };

        let hash = match &row {
            Some(row) => Arc::from(row.secret_hash.as_str()),
            None => Arc::clone(&self.dummy_hash),
        };
        // Each run holds 19 MiB and a core for ~50 ms; bound how many run at once so a
        // burst of bad keys cannot exhaust memory or starve the blocking pool.
        let _slot = self
            .argon2_slots
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        // A burst of requests with a key this process has not seen yet (every client's
        // first requests after a start) queue here; once one has passed argon2, the
        // rest are let in from memory rather than each paying argon2 again. At 16
        // connections that was 16 runs, and a first page's p99 of 166-340 ms.
        if let Some(identity) = self.remembered(&digest, &key_id) {
            return Ok(identity);
        }
        self.checks.inc();
        let matches = web::block(move || verify_secret(presented.secret(), &hash))
            .await
            .map_err(ApiError::internal)?;
        match row {
            Some(row) if matches && !row.revoked => Ok(self.admit(digest, row)),
            _ => {
                self.throttle.record_failure(&key_id, client);
                Err(ApiError::InvalidKey)
            }
        }
    }

    /// The identity of a key that passed argon2 in this process before, if it did.
    fn remembered(&self, digest: &[u8; 32], key_id: &str) -> Option<Identity> {
        let known = self.verified.get(digest).filter(|k| k.key_id == key_id)?;
        if self.verified.touch_due(digest, TOUCH_INTERVAL) {
            self.touch(known.key_id.clone());
        }
        Some(Identity::new(
            known.key_id,
            known.workspace_id,
            known.scopes,
        ))
    }

    /// Remembers a key that just passed argon2 and lets the caller in.
    fn admit(&self, digest: [u8; 32], row: KeyRow) -> Identity {
        if needs_touch(row.last_used_at.as_deref()) {
            self.touch(row.id.clone());
        }
        let key = VerifiedKey {
            key_id: row.id,
            workspace_id: row.workspace_id,
            scopes: Scopes::from_stored(&row.scopes),
        };
        self.verified.remember(digest, key.clone(), Instant::now());
        Identity::new(key.key_id, key.workspace_id, key.scopes)
    }

    /// Records that the key was used, off the request path: the caller does not wait
    /// for this write.
    fn touch(&self, key_id: String) {
        let db = self.db.clone();
        actix_web::rt::spawn(async move {
            let result = db
                .write(move |conn| touch_key(conn, &key_id, Timestamp::now()))
                .await;
            if let Err(err) = result {
                tracing::warn!(%err, "could not record key use");
            }
        });
    }
}

fn needs_touch(last_used_at: Option<&str>) -> bool {
    let Some(last) = last_used_at.and_then(Timestamp::parse) else {
        return true;
    };
    let elapsed = Timestamp::now().as_datetime() - last.as_datetime();
    elapsed >= TOUCH_INTERVAL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_touched_when_never_used_or_last_used_over_a_minute_ago() {
        assert!(needs_touch(None));
        assert!(needs_touch(Some("2000-01-01T00:00:00Z")));
        assert!(!needs_touch(Some(&Timestamp::now().to_string())));
    }
}
