//! Phone numbers in E.164, the only form kontak stores or compares.

use std::sync::LazyLock;

use regex::Regex;

use super::{FieldError, ValidationCode};

/// After separators are stripped: an optional "+", then 8–15 digits, the first not 0.
static E164: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[1-9][0-9]{7,14}$").expect("E.164 pattern compiles"));

/// A phone number in E.164 with its leading "+", e.g. `+628123456789`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `628123456789`, `+628123456789` and `+62 812-3456-789` alike: spaces,
    /// dashes, dots and parentheses are separators people type, not part of the number.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                ValidationCode::MissingField,
                field,
                format!("{field} is required"),
            ));
        }
        let compact: String = raw.chars().filter(|c| !is_separator(*c)).collect();
        if !E164.is_match(&compact) {
            return Err(FieldError::new(
                ValidationCode::InvalidPhone,
                field,
                format!(
                    "{field} must be in E.164 format: an optional +, then 8 to 15 digits \
                     starting with the country code, e.g. +628123456789 or 628123456789"
                ),
            ));
        }
        let digits = compact.trim_start_matches('+');
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from storage, where only parsed phones are ever written.
    pub(crate) fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

/// Characters people put between the digits of a phone number.
pub(crate) fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<String, ValidationCode> {
        Phone::parse(raw, "phone")
            .map(|p| p.as_str().to_owned())
            .map_err(|e| e.code)
    }

    #[test]
    fn spellings_of_one_number_normalise_to_the_same_e164() {
        for raw in [
            "628123456789",
            "+628123456789",
            "+62 812-3456-789",
            " +62 (812) 3456.789 ",
            "62\t812 3456 789",
        ] {
            assert_eq!(parse(raw), Ok("+628123456789".to_owned()), "input {raw:?}");
        }
    }

    #[test]
    fn blank_input_is_a_missing_field() {
        for raw in ["", "   ", "\t"] {
            assert_eq!(
                parse(raw),
                Err(ValidationCode::MissingField),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn malformed_numbers_are_invalid_phones() {
        for raw in [
            "0812345678",       // leading zero (a local number)
            "+0812345678",      // country code cannot start with 0
            "1234567",          // 7 digits: too short
            "1234567890123456", // 16 digits: too long
            "++628123456789",
            "62812345678+9",
            "62812a3456789",
            "+62/812/3456789",
            "+",
            "---",
            "٦٢٨١٢٣٤٥٦٧٨٩", // non-ASCII digits
            "+62 812 3456 789 ext 12",
        ] {
            assert_eq!(
                parse(raw),
                Err(ValidationCode::InvalidPhone),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn length_bounds_are_inclusive() {
        assert_eq!(parse("12345678"), Ok("+12345678".to_owned()));
        assert_eq!(parse("123456789012345"), Ok("+123456789012345".to_owned()));
    }

    #[test]
    fn normalisation_is_idempotent() {
        let once = parse("+62 812-3456-789").unwrap();
        assert_eq!(parse(&once), Ok(once.clone()));
    }
}
