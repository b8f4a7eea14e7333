//! Email addresses, checked for the shape a mail system will accept.

use std::sync::LazyLock;

use regex::Regex;

use super::{FieldError, ValidationCode};

/// The "valid e-mail address" grammar of the HTML Living Standard (what browsers accept in
/// `<input type=email>`), narrowed to require a dot in the domain: a contact's address
/// is meant to receive mail from the internet, so `user@localhost` is a typo here.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
    )
    .expect("email pattern compiles")
});

/// RFC 5321 limits: 64 octets before the "@", 254 in all.
const MAX_LOCAL_LEN: usize = 64;
const MAX_LEN: usize = 254;

/// A syntactically valid email address, trimmed, with the case the client gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let email = raw.trim();
        let local = email.split('@').next().unwrap_or_default();
        let valid = email.len() <= MAX_LEN
            && local.len() <= MAX_LOCAL_LEN
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && EMAIL.is_match(email);
        if !valid {
            return Err(FieldError::new(
                ValidationCode::InvalidEmail,
                field,
                format!("{field} must be a valid email address, e.g. hafari@example.com"),
            ));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_and_trimmed() {
        for (raw, want) in [
            ("hafari@example.com", "hafari@example.com"),
            (
                "  Hafari.Putra+crm@mail.example.co.id ",
                "Hafari.Putra+crm@mail.example.co.id",
            ),
            (
                "a_b-c@sub-domain.example.org",
                "a_b-c@sub-domain.example.org",
            ),
        ] {
            assert_eq!(
                Email::parse(raw, "email").unwrap().as_str(),
                want,
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn malformed_addresses_are_rejected_with_invalid_email() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for raw in [
            "",
            "   ",
            "hafari",
            "hafari@",
            "@example.com",
            "hafari@example",
            "hafari@@example.com",
            "hafari@exa mple.com",
            "hafari @example.com",
            "hafari@-example.com",
            "hafari@example-.com",
            "hafari@example..com",
            ".hafari@example.com",
            "hafari.@example.com",
            "haf..ari@example.com",
            "hafari@example.com.",
            "häfari@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            let err = Email::parse(raw, "email").unwrap_err();
            assert_eq!(err.code, ValidationCode::InvalidEmail, "input {raw:?}");
            assert_eq!(err.field.as_deref(), Some("email"));
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn email_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ \t]{0,2}[a-zA-Z0-9.+_-]{1,12}@[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,6}){0,3}[ \t]{0,2}",
            "[a-z.@ -]{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepted_addresses_are_trimmed_with_one_at(raw in email_like()) {
            if let Ok(email) = Email::parse(&raw, "email") {
                prop_assert_eq!(email.as_str(), raw.trim());
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
                prop_assert!(email.as_str().len() <= MAX_LEN);
            }
        }
    }
}
