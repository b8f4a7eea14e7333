//! API keys and the request authentication built on them.

mod cache;
mod extractor;
mod identity;
pub mod key;
pub mod provision;
mod rate_limit;
mod rate_limit_headers;
mod scope;
mod throttle;
mod verifier;

pub use extractor::{ContactsRead, ContactsWrite, RequireScope, RequiredScope};
pub use identity::Identity;
pub use key::{MintedKey, PresentedKey};
pub use rate_limit::{KeyRateLimiter, RateStatus};
pub use rate_limit_headers::rate_limit_headers;
pub use scope::{Scope, Scopes};
pub use verifier::KeyVerifier;
