//! The verified-key cache: which presented keys have already passed argon2.
//!
//! Argon2 costs tens of milliseconds on purpose; paying it per request would cap the
//! service at a few dozen requests a second. A success is remembered by the SHA-256 of
//! the whole presented key, with what the key's row said (its workspace and scopes,
//! which never change for a key). Whether the key is still live is not cached: every
//! request confirms it in its own storage call (see `identity.rs`), so a revoke bites
//! on the very next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Scopes;
use crate::storage::WorkspaceId;

/// Entries are one per distinct valid key in use, so this bound is never reached in
/// practice; it only caps memory if it somehow were.
const MAX_ENTRIES: usize = 10_000;

/// A key whose secret passed argon2 in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedKey {
    pub key_id: String,
    pub workspace_id: WorkspaceId,
    pub scopes: Scopes,
}

#[derive(Default)]
pub struct VerifiedKeys {
    by_digest: Mutex<HashMap<[u8; 32], (VerifiedKey, Instant)>>,
}

impl VerifiedKeys {
    /// The key this digest was verified for, if it was.
    pub fn get(&self, digest: &[u8; 32]) -> Option<VerifiedKey> {
        self.lock().get(digest).map(|(key, _)| key.clone())
    }

    /// Remembers a verified key; `touched_at` is when its use was last recorded.
    pub fn remember(&self, digest: [u8; 32], key: VerifiedKey, touched_at: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(digest, (key, touched_at));
    }

    /// Whether the key's use is due to be recorded again (its last record is `every`
    /// old); if so, the record is taken as made now, so one caller makes it.
    pub fn touch_due(&self, digest: &[u8; 32], every: Duration) -> bool {
        let mut map = self.lock();
        match map.get_mut(digest) {
            Some((_, touched_at)) if touched_at.elapsed() >= every => {
                *touched_at = Instant::now();
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (VerifiedKey, Instant)>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.by_digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> VerifiedKey {
        VerifiedKey {
            key_id: id.into(),
            workspace_id: WorkspaceId(1),
            scopes: Scopes::from_stored("contacts:read"),
        }
    }

    #[test]
    fn remembers_by_digest() {
        let cache = VerifiedKeys::default();
        cache.remember([1; 32], key("abc"), Instant::now());
        assert_eq!(cache.get(&[1; 32]), Some(key("abc")));
        assert_eq!(cache.get(&[2; 32]), None);
    }

    #[test]
    fn a_touch_is_due_once_per_interval() {
        let cache = VerifiedKeys::default();
        cache.remember([1; 32], key("abc"), Instant::now());
        assert!(
            !cache.touch_due(&[1; 32], Duration::from_secs(60)),
            "recorded just now"
        );
        assert!(cache.touch_due(&[1; 32], Duration::ZERO));
        assert!(
            !cache.touch_due(&[1; 32], Duration::from_secs(60)),
            "taken as made"
        );
        assert!(!cache.touch_due(&[2; 32], Duration::ZERO), "unknown key");
    }
}
