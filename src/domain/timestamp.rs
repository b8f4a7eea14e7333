//! Instants as the API shows them: RFC 3339, UTC, "Z", whole seconds.

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant, kept to the millisecond. The API shows whole seconds (`Display`,
/// `Serialize`); storage keeps the milliseconds ([`Timestamp::to_storage`]) so that
/// changes within one second still sort in the order they happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Fixed-width, so that stored times sort as text in time order.
const STORAGE_FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

/// The length of the API's text for a time: years are 0000 to 9999 (`time` without its
/// `large-dates` feature).
const API_LEN: usize = "2026-01-15T10:30:00Z".len();

/// The length of storage's text for a time ([`STORAGE_FORMAT`]).
const STORAGE_LEN: usize = "2026-01-15T10:30:00.123Z".len();

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(time::UtcOffset::UTC);
        let millis = utc.nanosecond() / 1_000_000 * 1_000_000;
        Self(
            utc.replace_nanosecond(millis)
                .expect("whole milliseconds are valid"),
        )
    }

    /// The text storage keeps: RFC 3339 UTC with exactly three fraction digits.
    pub fn to_storage(self) -> String {
        self.0
            .format(STORAGE_FORMAT)
            .expect("a UTC instant always formats")
    }

    /// Parses any RFC 3339 instant (any offset, any fraction) and normalises it. A time
    /// that is in range as written but not in UTC (`9999-12-31T23:59:59-01:00`) is
    /// `None`: converting it would panic.
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()?
            .checked_to_offset(time::UtcOffset::UTC)
            .map(Self::from_datetime)
    }

    /// The API's text, on the stack.
    fn write_api_text<'b>(&self, buffer: &'b mut [u8; API_LEN]) -> Option<&'b str> {
        let seconds = self.0.replace_nanosecond(0).ok()?;
        let mut cursor = &mut buffer[..];
        seconds.format_into(&mut cursor, &Rfc3339).ok()?;
        let written = API_LEN - cursor.len();
        std::str::from_utf8(&buffer[..written]).ok()
    }

    pub fn as_datetime(self) -> OffsetDateTime {
        self.0
    }
}

/// Whole seconds: what the API shows.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buffer = [0; API_LEN];
        f.write_str(self.write_api_text(&mut buffer).ok_or(fmt::Error)?)
    }
}

/// As one string rather than through `Display` (`collect_str`), which hands the JSON
/// writer each piece of the text to escape on its own.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0; API_LEN];
        let text = self
            .write_api_text(&mut buffer)
            .ok_or_else(|| serde::ser::Error::custom("time out of the API's range"))?;
        serializer.serialize_str(text)
    }
}

/// A time as storage keeps it, shown as the API shows it without being parsed: the
/// stored text is fixed-width (`2026-01-15T10:30:00.123Z`) and the API's is its whole
/// seconds, the same text without the fraction. A page of twenty contacts had parsed
/// and formatted forty times for that. Text of any other shape is parsed, as storage
/// written by another version might hold.
pub struct StoredTime<'a>(pub &'a str);

/// Whether `text` has [`STORAGE_FORMAT`]'s width and separators. The digits between
/// are storage's own writing and not checked: checking them took as long as the rest
/// of showing the time.
fn has_storage_shape(text: &str) -> bool {
    const SEPARATORS: [(usize, u8); 7] = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    let bytes = text.as_bytes();
    bytes.len() == STORAGE_LEN && SEPARATORS.iter().all(|&(at, byte)| bytes[at] == byte)
}

impl Serialize for StoredTime<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stored = self.0;
        if has_storage_shape(stored) {
            let mut buffer = [0; API_LEN];
            buffer[..API_LEN - 1].copy_from_slice(&stored.as_bytes()[..API_LEN - 1]);
            buffer[API_LEN - 1] = b'Z';
            // A prefix of text cut before an ASCII byte, and an ASCII byte: UTF-8.
            let text = std::str::from_utf8(&buffer).map_err(serde::ser::Error::custom)?;
            return serializer.serialize_str(text);
        }
        Timestamp::parse(stored)
            .ok_or_else(|| serde::ser::Error::custom(format!("stored time {stored:?}")))?
            .serialize(serializer)
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
    fn json_shows_the_same_whole_seconds_as_display() {
        for text in [
            "2026-04-27T18:20:00.987654+07:00",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            let at = Timestamp::parse(text).unwrap();
            let json = serde_json::to_string(&at).unwrap();
            assert_eq!(json, format!("\"{at}\""), "input {text:?}");
            assert_eq!(json.len(), API_LEN + 2, "input {text:?}");
        }
        let at = Timestamp::parse("2026-04-27T18:20:00.987654+07:00").unwrap();
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            "\"2026-04-27T11:20:00Z\""
        );
    }

    #[test]
    fn whole_second_text_round_trips() {
        let at = Timestamp::parse("2026-01-15T10:30:00Z").unwrap();
        assert_eq!(Timestamp::parse(&at.to_string()), Some(at));
    }

    #[test]
    fn the_api_shows_whole_seconds_and_storage_keeps_milliseconds() {
        let at = Timestamp::parse("2026-04-27T11:20:00.987654Z").unwrap();
        assert_eq!(at.to_string(), "2026-04-27T11:20:00Z");
        assert_eq!(at.to_storage(), "2026-04-27T11:20:00.987Z");
        assert_eq!(Timestamp::parse(&at.to_storage()), Some(at));
        let whole = Timestamp::parse("2026-04-27T11:20:00Z").unwrap();
        assert_eq!(whole.to_storage(), "2026-04-27T11:20:00.000Z");
        assert!(
            whole.to_storage() < at.to_storage(),
            "stored text sorts in time order"
        );
    }

    #[test]
    fn rejects_times_that_leave_the_supported_range_in_utc() {
        for text in ["9999-12-31T23:59:59-00:01", "9999-12-31T23:30:00-23:59"] {
            assert_eq!(Timestamp::parse(text), None, "input {text:?}");
        }
        assert!(Timestamp::parse("9999-12-31T23:59:59+01:00").is_some());
        assert!(Timestamp::parse("0000-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn rejects_non_rfc3339_text() {
        for text in ["", "2026-01-15", "2026-01-15 10:30:00", "yesterday"] {
            assert_eq!(Timestamp::parse(text), None, "input {text:?}");
        }
    }

    #[test]
    fn stored_times_show_as_their_timestamps_do() {
        for text in [
            "2026-04-27T18:20:00.987654+07:00",
            "2026-01-15T10:30:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            let at = Timestamp::parse(text).unwrap();
            assert_eq!(
                serde_json::to_string(&StoredTime(&at.to_storage())).unwrap(),
                serde_json::to_string(&at).unwrap(),
                "input {text:?}"
            );
        }
    }

    #[test]
    fn stored_times_of_another_shape_are_parsed_or_refused() {
        let shown = |stored: &str| serde_json::to_string(&StoredTime(stored));
        assert_eq!(
            shown("2026-04-27T18:20:00+07:00").unwrap(),
            "\"2026-04-27T11:20:00Z\""
        );
        assert_eq!(
            shown("2026-04-27T11:20:00.5Z").unwrap(),
            "\"2026-04-27T11:20:00Z\""
        );
        // Storage's width, not its shape: parsed, not cut.
        assert_eq!(
            shown("2026-04-27 11:20:00.000Z").unwrap(),
            "\"2026-04-27T11:20:00Z\""
        );
        assert!(shown("2026-04-27T11:20").is_err());
        assert!(shown("").is_err());
    }
}
