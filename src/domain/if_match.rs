//! Optimistic concurrency: which versions of a resource a write may apply to.

/// What a client's `If-Match` allows. A write proceeds only if the stored version is
/// allowed; absent, every version is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    #[default]
    Anything,
    /// `If-Match: *`: the resource must exist.
    AnyVersion,
    /// One or more ETags.
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn allows(&self, version: i64) -> bool {
        match self {
            Self::Anything | Self::AnyVersion => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }
}
