//! Instants as the API shows them: RFC 3339, UTC, "Z", whole seconds.

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant truncated to the second. Its text form sorts in time order, which is
/// why storage keeps it as TEXT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(time::UtcOffset::UTC);
        Self(utc.replace_nanosecond(0).expect("0 ns is always valid"))
    }

    /// Parses any RFC 3339 instant (any offset, any fraction) and normalises it.
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn as_datetime(self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_z_and_whole_seconds() {
        let at = Timestamp::parse("2026-04-27T18:20:00.987654+07:00").unwrap();
        assert_eq!(at.to_string(), "2026-04-27T11:20:00Z");
    }

    #[test]
    fn text_round_trips() {
        let at = Timestamp::parse("2026-01-15T10:30:00Z").unwrap();
        assert_eq!(Timestamp::parse(&at.to_string()), Some(at));
    }

    #[test]
    fn now_has_no_fraction() {
        assert_eq!(Timestamp::now().as_datetime().nanosecond(), 0);
    }

    #[test]
    fn rejects_non_rfc3339_text() {
        for text in ["", "2026-01-15", "2026-01-15 10:30:00", "yesterday"] {
            assert_eq!(Timestamp::parse(text), None, "input {text:?}");
        }
    }
}
