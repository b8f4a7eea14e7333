//! Per-key request limits: GCRA from `governor` (a bucket that refills evenly: bursts
//! up to the limit, then requests spaced by 60 s / limit).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

pub(super) type Keyed<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Above this many tracked keys, entries whose bucket is full again are dropped, so
/// a stream of distinct client addresses cannot grow memory without bound.
pub(super) const PRUNE_ABOVE: usize = 10_000;

/// A key's standing after a request, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the key's full allowance is back.
    pub reset_secs: u64,
}

/// A request over the key's limit: how long to wait, and the standing to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    pub retry_after_secs: u64,
    pub status: RateStatus,
}

impl From<OverLimit> for ApiError {
    fn from(over: OverLimit) -> Self {
        ApiError::RateLimited {
            retry_after_secs: over.retry_after_secs,
        }
    }
}

/// `rate_limit_per_minute` per key id; `None` inside when the setting is 0.
pub struct KeyRateLimiter {
    limiter: Option<Keyed<String>>,
}

impl KeyRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n)).with_middleware()),
        }
    }

    /// Counts one request by `key_id`. `Ok(None)` when limiting is off; otherwise the
    /// standing to report, or how far over the limit the key is.
    pub fn check(&self, key_id: &str) -> Result<Option<RateStatus>, OverLimit> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        prune(limiter);
        match limiter.check_key(&key_id.to_owned()) {
            Ok(snapshot) => {
                let limit = snapshot.quota().burst_size().get();
                let remaining = snapshot.remaining_burst_capacity();
                let refill = snapshot.quota().replenish_interval() * (limit - remaining);
                Ok(Some(RateStatus {
                    limit,
                    remaining,
                    reset_secs: ceil_secs(refill),
                }))
            }
            Err(not_until) => {
                let limit = not_until.quota().burst_size().get();
                let next_token = not_until.wait_time_from(limiter.clock().now());
                let refill = next_token + not_until.quota().replenish_interval() * (limit - 1);
                Err(OverLimit {
                    retry_after_secs: ceil_secs(next_token).max(1),
                    status: RateStatus {
                        limit,
                        remaining: 0,
                        reset_secs: ceil_secs(refill),
                    },
                })
            }
        }
    }
}

pub(super) fn prune<K: Hash + Eq + Clone>(limiter: &Keyed<K>) {
    if limiter.len() > PRUNE_ABOVE {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

pub(super) fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_a_429_with_retry_after() {
        let limiter = KeyRateLimiter::new(3);
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.check("k").unwrap().unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let over = limiter.check("k").unwrap_err();
        assert!((1..=20).contains(&over.retry_after_secs), "{over:?}");
        assert_eq!(over.status.remaining, 0);
        // Another key has its own allowance.
        assert_eq!(limiter.check("other").unwrap().unwrap().remaining, 2);
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = KeyRateLimiter::new(0);
        assert_eq!(limiter.check("k").unwrap(), None);
    }
}
