//! Phone numbers in E.164, the only form kontak stores or compares.

use std::sync::LazyLock;

use regex::Regex;

use super::{FieldError, ValidationCode};

/// After separators are stripped: an optional "+", then 8–15 digits, the first not 0.
static E164: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[1-9][0-9]{7,14}$").expect("E.164 pattern compiles"));

/// How numbers without a country code are read. By default kontak is strict E.164, as
/// the reference is; with a default country code (e.g. `62`), a local number written
/// with a trunk "0" (`0812…`) is read as that country's (`+62812…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneRules {
    default_country_code: Option<String>,
}

impl PhoneRules {
    /// `code` is 1–3 digits, not starting with 0, optionally written with a "+".
    pub fn with_default_country_code(code: &str) -> Result<Self, String> {
        let digits = code.trim().trim_start_matches('+');
        let valid = (1..=3).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(format!(
                "{code:?} is not a country calling code (1 to 3 digits, e.g. 62)"
            ));
        }
        Ok(Self {
            default_country_code: Some(digits.to_owned()),
        })
    }

    /// Rewrites a trunk-prefixed local number (separators already stripped) into
    /// international digits; anything else is returned as it was.
    pub(crate) fn localise(&self, compact: &str) -> String {
        match (&self.default_country_code, compact.strip_prefix('0')) {
            (Some(code), Some(national)) if !national.starts_with('0') => {
                format!("{code}{national}")
            }
            _ => compact.to_owned(),
        }
    }
}

/// A phone number in E.164 with its leading "+", e.g. `+628123456789`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `628123456789`, `+628123456789` and `+62 812-3456-789` alike: spaces,
    /// dashes, dots and parentheses are separators people type, not part of the number.
    pub fn parse(raw: &str, field: &str, rules: &PhoneRules) -> Result<Self, FieldError> {
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                ValidationCode::MissingField,
                field,
                format!("{field} is required"),
            ));
        }
        let compact: String = raw.chars().filter(|c| !is_separator(*c)).collect();
        let compact = rules.localise(&compact);
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
        Phone::parse(raw, "phone", &PhoneRules::default())
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
    fn a_default_country_code_reads_trunk_prefixed_local_numbers() {
        let rules = PhoneRules::with_default_country_code("62").unwrap();
        let parse = |raw| Phone::parse(raw, "phone", &rules).map(|p| p.as_str().to_owned());
        assert_eq!(parse("0812-3456-789").unwrap(), "+628123456789");
        assert_eq!(parse("+628123456789").unwrap(), "+628123456789");
        assert_eq!(parse("628123456789").unwrap(), "+628123456789");
        // "00" is an international prefix, not a trunk prefix: still invalid.
        assert!(parse("00628123456789").is_err());
        assert!(parse("0").is_err());
    }

    #[test]
    fn country_codes_are_validated() {
        for good in ["62", "+1", "358"] {
            assert!(
                PhoneRules::with_default_country_code(good).is_ok(),
                "{good}"
            );
        }
        for bad in ["", "0", "062", "1234", "6a", "+"] {
            assert!(PhoneRules::with_default_country_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalisation_is_idempotent() {
        let once = parse("+62 812-3456-789").unwrap();
        assert_eq!(parse(&once), Ok(once.clone()));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    static ACCEPTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{7,14}$").unwrap());

    fn strict() -> PhoneRules {
        PhoneRules::default()
    }

    /// Strings made mostly of what phone numbers are written with, so that many parse.
    fn phone_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9+ ().\\-\t]{0,22}",
            "\\+?[0-9]{6,17}",
            "0[0-9]{6,14}",
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_e164(raw in phone_like()) {
            for rules in [strict(), PhoneRules::with_default_country_code("62").unwrap()] {
                if let Ok(phone) = Phone::parse(&raw, "phone", &rules) {
                    prop_assert!(ACCEPTED.is_match(phone.as_str()), "{raw:?} -> {phone:?}");
                }
            }
        }

        #[test]
        fn normalisation_is_idempotent(raw in phone_like()) {
            for rules in [strict(), PhoneRules::with_default_country_code("62").unwrap()] {
                if let Ok(once) = Phone::parse(&raw, "phone", &rules) {
                    let twice = Phone::parse(once.as_str(), "phone", &rules);
                    prop_assert_eq!(twice, Ok(once));
                }
            }
        }

        #[test]
        fn separators_anywhere_are_ignored(
            digits in "\\+?[0-9]{6,17}",
            separators in prop::collection::vec(
                (0usize..20, prop::sample::select(vec![" ", "-", ".", "(", ")", "\t", "\u{a0}"])),
                0..6,
            ),
        ) {
            let mut spelt: Vec<String> = digits.chars().map(String::from).collect();
            for (at, separator) in separators {
                spelt.insert(at.min(spelt.len()), separator.to_owned());
            }
            let spelt = spelt.concat();
            let plain = Phone::parse(&digits, "phone", &strict()).map(|p| p.as_str().to_owned());
            let separated = Phone::parse(&spelt, "phone", &strict()).map(|p| p.as_str().to_owned());
            prop_assert_eq!(plain.map_err(|e| e.code), separated.map_err(|e| e.code));
        }
    }
}
