//! The verified-key cache: which presented keys have already passed argon2.
//!
//! Argon2 costs tens of milliseconds on purpose; paying it per request would cap the
//! service at a few dozen requests a second. A success is remembered by the SHA-256 of
//! the whole presented key, so a later request with the same key skips argon2 but still
//! re-reads the key's row (revoked? scopes?) — a revoke bites on the very next request.

use std::collections::HashMap;
use std::sync::Mutex;

/// Entries are one per distinct valid key in use, so this bound is never reached in
/// practice; it only caps memory if it somehow were.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct VerifiedKeys {
    by_digest: Mutex<HashMap<[u8; 32], String>>,
}

impl VerifiedKeys {
    /// The key id this digest was verified for, if it was.
    pub fn get(&self, digest: &[u8; 32]) -> Option<String> {
        self.lock().get(digest).cloned()
    }

    pub fn remember(&self, digest: [u8; 32], key_id: String) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(digest, key_id);
    }

    pub fn forget(&self, digest: &[u8; 32]) {
        self.lock().remove(digest);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], String>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.by_digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_forgets() {
        let cache = VerifiedKeys::default();
        cache.remember([1; 32], "abc".into());
        assert_eq!(cache.get(&[1; 32]).as_deref(), Some("abc"));
        assert_eq!(cache.get(&[2; 32]), None);
        cache.forget(&[1; 32]);
        assert_eq!(cache.get(&[1; 32]), None);
    }
}
