//! A contact's display name.

use super::field_error::has_control_chars;
use super::FieldError;

/// Long enough for any real name, short enough that a list page stays small.
pub const MAX_NAME_CHARS: usize = 200;

/// A trimmed, non-empty name without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// An empty or blank name means "no name": `Ok(None)`.
    pub fn parse(raw: &str, field: &str) -> Result<Option<Self>, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(FieldError::invalid(
                field,
                format!("{field} must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        if has_control_chars(name) {
            return Err(FieldError::invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Some(Self(name.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ValidationCode;

    #[test]
    fn names_are_trimmed_and_keep_unicode() {
        let name = Name::parse("  Siti Nurhaliza 🌸 Ñúñez ", "name")
            .unwrap()
            .unwrap();
        assert_eq!(name.as_str(), "Siti Nurhaliza 🌸 Ñúñez");
    }

    #[test]
    fn blank_names_mean_no_name() {
        assert_eq!(Name::parse("", "name").unwrap(), None);
        assert_eq!(Name::parse(" \t ", "name").unwrap(), None);
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Name::parse(&"é".repeat(MAX_NAME_CHARS), "name").is_ok());
        let err = Name::parse(&"é".repeat(MAX_NAME_CHARS + 1), "name").unwrap_err();
        assert_eq!(err.code, ValidationCode::InvalidField);
    }

    #[test]
    fn control_characters_are_rejected() {
        let err = Name::parse("Budi\nSantoso", "name").unwrap_err();
        assert_eq!(err.code, ValidationCode::InvalidField);
        assert_eq!(err.field.as_deref(), Some("name"));
    }
}
