//! API keys: minting, the shape of a presented key, and the argon2id hash kept at rest.
//!
//! A key reads `chatera_sk_<id>_<secret>`. The id (64 random bits, hex) is public: it
//! names the key in `kontak key list` and finds its row. The secret (192 random bits from
//! the OS, hex) is shown once, at creation, and only its argon2id hash is stored.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "chatera_sk_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 24;

/// A freshly minted key. Its `Debug` hides the secret so it cannot slip into a log.
pub struct MintedKey {
    pub id: String,
    pub secret_hash: String,
    full: String,
}

impl MintedKey {
    /// Draws a new id and secret from the OS and hashes the secret.
    pub fn generate() -> Result<Self, argon2::password_hash::Error> {
        let id = random_hex(ID_BYTES);
        let secret = random_hex(SECRET_BYTES);
        let secret_hash = hash_secret(&secret)?;
        Ok(Self {
            full: format!("{KEY_PREFIX}{id}_{secret}"),
            id,
            secret_hash,
        })
    }

    /// The whole key, to be shown to its owner exactly once.
    pub fn reveal(&self) -> &str {
        &self.full
    }
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedKey")
            .field("id", &self.id)
            .field("key", &"***")
            .finish()
    }
}

/// A key as presented in a request, split into its parts. Well-formed, not yet verified.
pub struct PresentedKey {
    id: String,
    secret: String,
    digest: [u8; 32],
}

impl PresentedKey {
    /// `None` for anything that cannot be a kontak key; no lookup is needed to reject it.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(KEY_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let well_formed = is_lower_hex(id, ID_BYTES * 2) && is_lower_hex(secret, SECRET_BYTES * 2);
        well_formed.then(|| Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// A digest of the whole key: what the verified-key cache remembers, so that the
    /// secret itself is never held beyond the request.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

/// The argon2id PHC string of a secret, with a fresh salt and OWASP's parameters
/// (19 MiB, 2 passes, 1 lane: the `argon2` crate's defaults).
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)?
        .to_string())
}

/// Whether `secret` matches the stored PHC string. A malformed hash matches nothing.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The leading characters that identify a key without revealing it.
pub fn visible_prefix(id: &str) -> String {
    format!("{KEY_PREFIX}{id}_…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_parses_and_verifies_against_its_hash() {
        let minted = MintedKey::generate().unwrap();
        let presented = PresentedKey::parse(minted.reveal()).unwrap();
        assert_eq!(presented.id(), minted.id);
        assert!(verify_secret(presented.secret(), &minted.secret_hash));
        assert!(minted
            .secret_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn a_wrong_secret_does_not_verify() {
        let minted = MintedKey::generate().unwrap();
        let other = MintedKey::generate().unwrap();
        let presented = PresentedKey::parse(other.reveal()).unwrap();
        assert!(!verify_secret(presented.secret(), &minted.secret_hash));
        assert!(!verify_secret(presented.secret(), "not a phc string"));
    }

    #[test]
    fn keys_are_unique_and_the_hash_does_not_contain_the_secret() {
        let a = MintedKey::generate().unwrap();
        let b = MintedKey::generate().unwrap();
        assert_ne!(a.reveal(), b.reveal());
        let secret = PresentedKey::parse(a.reveal()).unwrap().secret().to_owned();
        assert!(!a.secret_hash.contains(&secret));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        let good = MintedKey::generate().unwrap().reveal().to_owned();
        for bad in [
            "",
            "chatera_sk_",
            "sk_live_abc",
            &good.replace("chatera_sk_", "chatera_pk_"),
            &good.to_uppercase(),
            &good[..good.len() - 1],
            &format!("{good}0"),
            &good.replacen('_', "-", 3),
        ] {
            assert!(PresentedKey::parse(bad).is_none(), "key {bad:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let minted = MintedKey::generate().unwrap();
        let secret = PresentedKey::parse(minted.reveal())
            .unwrap()
            .secret()
            .to_owned();
        assert!(!format!("{minted:?}").contains(&secret));
        let presented = PresentedKey::parse(minted.reveal()).unwrap();
        assert!(!format!("{presented:?}").contains(&secret));
    }
}
