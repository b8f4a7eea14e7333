//! The throttle on failed key checks: bounds argon2 work per key id and per client
//! address.
//!
//! Argon2 is slow on purpose, which makes it a lever for anyone who can send requests:
//! each wrong secret costs the server ~50 ms of a core. Each failed check takes a
//! token from the presented key id's bucket and from the client address's (GCRA, as
//! for the rate limit); when a bucket is empty, further checks for it are refused with
//! 429 *before* hashing, until a token is back (60 s / limit later). Successful checks
//! take nothing, and a key this process has verified skips the check entirely, so the
//! real holder of a key under attack is not locked out, and many valid keys used from
//! one address are never throttled.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{Quota, RateLimiter};

use super::rate_limit::{ceil_secs, prune, Keyed, PRUNE_ABOVE};
use crate::error::ApiError;

/// `auth_failures_per_minute` per key id and per client address; off when 0.
pub struct AuthThrottle {
    buckets: Option<(FailureBuckets<String>, FailureBuckets<IpAddr>)>,
}

impl AuthThrottle {
    pub fn new(failures_per_minute: u32) -> Self {
        Self {
            buckets: NonZeroU32::new(failures_per_minute).map(|n| {
                let quota = Quota::per_minute(n);
                (FailureBuckets::new(quota), FailureBuckets::new(quota))
            }),
        }
    }

    /// Before argon2: refuses when the key id or the address has used up its failures.
    /// Every presented id has its own bucket, known or not, so a 429 never tells
    /// whether a key id exists; the address bound keeps that table small.
    pub fn check(&self, key_id: &str, client: Option<IpAddr>) -> Result<(), ApiError> {
        let Some((by_key, by_ip)) = &self.buckets else {
            return Ok(());
        };
        let waits = [
            by_key.blocked_for(&key_id.to_owned()),
            client.and_then(|ip| by_ip.blocked_for(&ip)),
        ];
        match waits.into_iter().flatten().max() {
            None => Ok(()),
            Some(wait) => Err(ApiError::AuthThrottled {
                retry_after_secs: ceil_secs(wait).max(1),
            }),
        }
    }

    /// After argon2 said no (or the key is unknown or revoked).
    pub fn record_failure(&self, key_id: &str, client: Option<IpAddr>) {
        let Some((by_key, by_ip)) = &self.buckets else {
            return;
        };
        by_key.record_failure(key_id.to_owned());
        if let Some(ip) = client {
            by_ip.record_failure(ip);
        }
    }
}

/// Failure counts for one kind of key, and until when each empty bucket is refused.
struct FailureBuckets<K: Hash + Eq + Clone> {
    limiter: Keyed<K>,
    interval: Duration,
    blocked_until: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> FailureBuckets<K> {
    fn new(quota: Quota) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota).with_middleware(),
            interval: quota.replenish_interval(),
            blocked_until: Mutex::default(),
        }
    }

    fn blocked_for(&self, key: &K) -> Option<Duration> {
        let until = *self.lock().get(key)?;
        until.checked_duration_since(Instant::now())
    }

    fn record_failure(&self, key: K) {
        prune(&self.limiter);
        // The last token taken, or none left: refuse until the next one is back.
        let wait = match self.limiter.check_key(&key) {
            Ok(snapshot) if snapshot.remaining_burst_capacity() > 0 => return,
            Ok(_) => self.interval,
            Err(not_until) => not_until.wait_time_from(self.limiter.clock().now()),
        };
        let now = Instant::now();
        let mut blocked = self.lock();
        if blocked.len() > PRUNE_ABOVE {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(key, now + wait);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Instant>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.blocked_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: &str = "192.0.2.1";
    const ELSEWHERE: &str = "192.0.2.2";

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn failures_are_bounded_per_key_id_and_per_address() {
        let throttle = AuthThrottle::new(2);
        for _ in 0..2 {
            throttle.check("victim", ip(ATTACKER)).unwrap();
            throttle.record_failure("victim", ip(ATTACKER));
        }
        let err = throttle.check("victim", ip(ELSEWHERE)).unwrap_err();
        assert!(
            matches!(err, ApiError::AuthThrottled { retry_after_secs } if retry_after_secs <= 30)
        );
        assert!(
            throttle.check("another", ip(ATTACKER)).is_err(),
            "per address"
        );
        throttle.check("another", ip(ELSEWHERE)).unwrap();
    }

    #[test]
    fn successes_cost_nothing() {
        let throttle = AuthThrottle::new(1);
        for _ in 0..10 {
            throttle.check("k", ip(ATTACKER)).unwrap();
        }
    }

    #[test]
    fn zero_turns_the_throttle_off() {
        let throttle = AuthThrottle::new(0);
        for _ in 0..100 {
            throttle.record_failure("k", None);
            throttle.check("k", None).unwrap();
        }
    }
}
