//! The one error every domain parser returns: which input was wrong, and how.

use std::fmt;

/// What kind of validation failed; each maps to one `VALIDATION_*` code on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationCode {
    MissingField,
    InvalidField,
    InvalidPhone,
    InvalidEmail,
    UnknownField,
    InvalidJson,
    InvalidParam,
    InvalidHeader,
}

impl ValidationCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingField => "VALIDATION_MISSING_FIELD",
            Self::InvalidField => "VALIDATION_INVALID_FIELD",
            Self::InvalidPhone => "VALIDATION_INVALID_PHONE",
            Self::InvalidEmail => "VALIDATION_INVALID_EMAIL",
            Self::UnknownField => "VALIDATION_UNKNOWN_FIELD",
            Self::InvalidJson => "VALIDATION_INVALID_JSON",
            Self::InvalidParam => "VALIDATION_INVALID_PARAM",
            Self::InvalidHeader => "VALIDATION_INVALID_HEADER",
        }
    }
}

/// A rejected input: the code, the field or parameter it concerns (if any) and a
/// message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: ValidationCode,
    pub field: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(code: ValidationCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// An error about the request as a whole rather than one field.
    pub fn whole(code: ValidationCode, message: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ValidationCode::InvalidField, field, message)
    }

    pub fn invalid_param(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ValidationCode::InvalidParam, param, message)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}): {}", self.code.as_str(), field, self.message),
            None => write!(f, "{}: {}", self.code.as_str(), self.message),
        }
    }
}

impl std::error::Error for FieldError {}

/// True for characters that have no place in a name, tag or key: C0/C1 controls.
pub(crate) fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}
