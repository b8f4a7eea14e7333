//! Free-form key/value attributes whose values are primitives.

use serde::Serialize;
use serde_json::{Map, Value};

use super::field_error::has_control_chars;
use super::FieldError;

pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_KEY_CHARS: usize = 64;
pub const MAX_STRING_VALUE_CHARS: usize = 1000;

/// A JSON object whose values are strings, numbers or booleans, in the client's key
/// order. Numbers keep their JSON type: `12500000` stays an integer, `0.25` a float.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct CustomFields(Map<String, Value>);

impl CustomFields {
    /// Parses the JSON value of a `custom_fields` field; `null` is an empty object.
    pub fn from_json(value: &Value, field: &str) -> Result<Self, FieldError> {
        let object = match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(object) => object,
            _ => {
                return Err(FieldError::invalid(
                    field,
                    format!("{field} must be an object of string, number or boolean values"),
                ))
            }
        };
        if object.len() > MAX_CUSTOM_FIELDS {
            return Err(FieldError::invalid(
                field,
                format!("{field} can hold at most {MAX_CUSTOM_FIELDS} keys"),
            ));
        }
        for (key, value) in object {
            check_key(key, field)?;
            check_value(value, &format!("{field}.{key}"))?;
        }
        Ok(Self(object.clone()))
    }

    /// Wraps an object read back from storage, where only parsed fields are written.
    pub(crate) fn from_trusted(object: Map<String, Value>) -> Self {
        Self(object)
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The JSON text kept in storage.
    pub fn to_json_text(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

fn check_key(key: &str, field: &str) -> Result<(), FieldError> {
    if key.trim().is_empty() {
        return Err(FieldError::invalid(
            field,
            "custom field keys must not be empty or blank",
        ));
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(FieldError::invalid(
            format!("{field}.{key}"),
            format!("custom field keys must be at most {MAX_KEY_CHARS} characters"),
        ));
    }
    if has_control_chars(key) {
        return Err(FieldError::invalid(
            field,
            "custom field keys must not contain control characters",
        ));
    }
    Ok(())
}

fn check_value(value: &Value, field: &str) -> Result<(), FieldError> {
    match value {
        Value::Bool(_) | Value::Number(_) => Ok(()),
        Value::String(text) if text.chars().count() > MAX_STRING_VALUE_CHARS => {
            Err(FieldError::invalid(
                field,
                format!("custom field values must be at most {MAX_STRING_VALUE_CHARS} characters"),
            ))
        }
        Value::String(_) => Ok(()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(FieldError::invalid(
            field,
            "custom field values must be a string, number or boolean",
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::ValidationCode;

    #[test]
    fn primitive_values_keep_their_json_types_and_key_order() {
        let input = json!({
            "tier": "gold",
            "customer_id": "CUST-2026-0042",
            "lifetime_value": 12500000,
            "discount": 0.25,
            "is_subscriber": true
        });
        let fields = CustomFields::from_json(&input, "custom_fields").unwrap();
        assert_eq!(
            fields.to_json_text(),
            r#"{"tier":"gold","customer_id":"CUST-2026-0042","lifetime_value":12500000,"discount":0.25,"is_subscriber":true}"#
        );
    }

    #[test]
    fn null_is_an_empty_object() {
        let fields = CustomFields::from_json(&Value::Null, "custom_fields").unwrap();
        assert!(fields.as_map().is_empty());
    }

    #[test]
    fn non_primitive_values_are_rejected_naming_the_key() {
        for (value, field) in [
            (json!({"a": null}), "custom_fields.a"),
            (json!({"ok": 1, "list": [1, 2]}), "custom_fields.list"),
            (json!({"nested": {"x": 1}}), "custom_fields.nested"),
            (
                json!({"long": "v".repeat(MAX_STRING_VALUE_CHARS + 1)}),
                "custom_fields.long",
            ),
            (json!({"": 1}), "custom_fields"),
            (json!([1]), "custom_fields"),
            (json!("company"), "custom_fields"),
        ] {
            let err = CustomFields::from_json(&value, "custom_fields").unwrap_err();
            assert_eq!(err.code, ValidationCode::InvalidField, "value {value}");
            assert_eq!(err.field.as_deref(), Some(field), "value {value}");
        }
    }

    #[test]
    fn key_count_and_key_length_are_bounded() {
        let many: Map<String, Value> = (0..=MAX_CUSTOM_FIELDS)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        assert!(CustomFields::from_json(&Value::Object(many), "custom_fields").is_err());
        let long_key = json!({ "k".repeat(MAX_KEY_CHARS + 1): 1 });
        assert!(CustomFields::from_json(&long_key, "custom_fields").is_err());
        let max_key = json!({ "k".repeat(MAX_KEY_CHARS): 1 });
        assert!(CustomFields::from_json(&max_key, "custom_fields").is_ok());
    }
}
