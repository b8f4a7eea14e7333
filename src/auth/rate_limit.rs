//! Per-key request limits and the throttle on argon2 key checks, both GCRA from
//! `governor` (a bucket that refills evenly: bursts up to the limit, then requests
//! spaced by 60 s / limit).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Above this many tracked keys, entries whose bucket is full again are dropped, so
/// a stream of distinct client addresses cannot grow memory without bound.
const PRUNE_ABOVE: usize = 10_000;

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
    limiter: Option<(Keyed<String>, u32)>,
}

impl KeyRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| {
                (
                    RateLimiter::keyed(Quota::per_minute(n)).with_middleware(),
                    n.get(),
                )
            }),
        }
    }

    /// Counts one request by `key_id`. `Ok(None)` when limiting is off; otherwise the
    /// standing to report, or how far over the limit the key is.
    pub fn check(&self, key_id: &str) -> Result<Option<RateStatus>, OverLimit> {
        let Some((limiter, limit)) = &self.limiter else {
            return Ok(None);
        };
        let interval = Quota::per_minute(NonZeroU32::new(*limit).unwrap_or(NonZeroU32::MIN))
            .replenish_interval();
        prune(limiter);
        match limiter.check_key(&key_id.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let missing = limit.saturating_sub(remaining);
                Ok(Some(RateStatus {
                    limit: *limit,
                    remaining,
                    reset_secs: ceil_secs(interval * missing),
                }))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                let retry_after_secs = ceil_secs(wait).max(1);
                let status = RateStatus {
                    limit: *limit,
                    remaining: 0,
                    reset_secs: ceil_secs(interval * *limit),
                };
                Err(OverLimit {
                    retry_after_secs,
                    status,
                })
            }
        }
    }
}

/// Bounds argon2 work per key id and per client address.
///
/// Argon2 is slow on purpose, which makes it a lever for anyone who can send requests:
/// wrong secrets for a known key id cost the server ~50 ms of a core each. Every
/// argon2 run takes a token from the key id's bucket and from the client address's;
/// an empty bucket is a 429 before any hashing. Keys already verified by this process
/// never reach argon2, so the real holder of a busy key is not locked out, and the
/// buckets refill within seconds.
pub struct AuthThrottle {
    limiters: Option<(Keyed<String>, Keyed<IpAddr>)>,
}

/// Every unknown key id shares one bucket: keying by attacker-chosen strings would
/// let them grow the table at will, and no real holder uses an unknown id.
pub const UNKNOWN_KEY_BUCKET: &str = "";

impl AuthThrottle {
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiters: NonZeroU32::new(per_minute).map(|n| {
                let quota = Quota::per_minute(n);
                (
                    RateLimiter::keyed(quota).with_middleware(),
                    RateLimiter::keyed(quota).with_middleware(),
                )
            }),
        }
    }

    /// Takes one argon2 run's tokens for `client` and then `key_id`, or says how long
    /// to wait. The address is charged first so that an address already over its
    /// bound cannot keep draining a key id's bucket (which the real holder needs when
    /// their key is not yet verified by this process).
    pub fn admit(&self, key_id: &str, client: Option<IpAddr>) -> Result<(), ApiError> {
        let Some((by_key, by_ip)) = &self.limiters else {
            return Ok(());
        };
        prune(by_key);
        prune(by_ip);
        if let Some(ip) = client {
            take(by_ip, &ip)?;
        }
        take(by_key, &key_id.to_owned())
    }
}

fn take<K: Hash + Eq + Clone>(limiter: &Keyed<K>, key: &K) -> Result<(), ApiError> {
    limiter.check_key(key).map(drop).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        ApiError::AuthThrottled {
            retry_after_secs: ceil_secs(wait).max(1),
        }
    })
}

fn prune<K: Hash + Eq + Clone>(limiter: &Keyed<K>) {
    if limiter.len() > PRUNE_ABOVE {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

fn ceil_secs(duration: Duration) -> u64 {
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
    fn zero_turns_limits_off() {
        let limiter = KeyRateLimiter::new(0);
        assert_eq!(limiter.check("k").unwrap(), None);
        let throttle = AuthThrottle::new(0);
        for _ in 0..100 {
            throttle.admit("k", None).unwrap();
        }
    }

    #[test]
    fn argon2_runs_are_bounded_per_key_id_and_per_address() {
        let throttle = AuthThrottle::new(2);
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        throttle.admit("victim", Some(attacker)).unwrap();
        throttle.admit("victim", Some(attacker)).unwrap();
        assert!(throttle.admit("victim", Some(other)).is_err(), "per key id");
        assert!(
            throttle.admit("another", Some(attacker)).is_err(),
            "per address"
        );
        throttle.admit("another", Some(other)).unwrap();
    }
}
