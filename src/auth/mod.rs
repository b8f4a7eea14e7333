//! API keys and the request authentication built on them.

mod cache;
mod extractor;
pub mod key;
pub mod provision;
mod scope;
mod verifier;

pub use extractor::{ContactsRead, ContactsWrite, RequireScope, RequiredScope};
pub use key::{MintedKey, PresentedKey};
pub use scope::{Scope, Scopes};
pub use verifier::{Identity, KeyVerifier};
