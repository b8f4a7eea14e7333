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

    /// These fields with `patch` applied key by key (JSON merge-patch: a null value
    /// removes its key). The key bound applies to the result.
    pub fn merged(&self, patch: &CustomFieldsPatch, field: &str) -> Result<Self, FieldError> {
        let mut merged = match patch {
            CustomFieldsPatch::Clear => return Ok(Self::default()),
            CustomFieldsPatch::Merge(_) => self.0.clone(),
        };
        if let CustomFieldsPatch::Merge(changes) = patch {
            for (key, value) in changes {
                match value {
                    Some(value) => merged.insert(key.clone(), value.clone()),
                    None => merged.shift_remove(key),
                };
            }
        }
        if merged.len() > MAX_CUSTOM_FIELDS {
            return Err(FieldError::invalid(
                field,
                format!("{field} can hold at most {MAX_CUSTOM_FIELDS} keys"),
            ));
        }
        Ok(Self(merged))
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

/// A change to custom fields, as a PATCH body carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomFieldsPatch {
    /// `"custom_fields": null`: remove every key.
    Clear,
    /// Set each key with a value; remove each key whose value is null.
    Merge(Vec<(String, Option<Value>)>),
}

impl CustomFieldsPatch {
    pub fn from_json(value: &Value, field: &str) -> Result<Self, FieldError> {
        let object = match value {
            Value::Null => return Ok(Self::Clear),
            Value::Object(object) => object,
            _ => {
                return Err(FieldError::invalid(
                    field,
                    format!("{field} must be an object of string, number, boolean or null values"),
                ))
            }
        };
        if object.len() > MAX_CUSTOM_FIELDS * 2 {
            return Err(FieldError::invalid(
                field,
                format!("{field} has too many keys"),
            ));
        }
        let mut changes = Vec::with_capacity(object.len());
        for (key, value) in object {
            check_key(key, field)?;
            let change = match value {
                Value::Null => None,
                value => {
                    check_value(value, &format!("{field}.{key}"))?;
                    Some(value.clone())
                }
            };
            changes.push((key.clone(), change));
        }
        Ok(Self::Merge(changes))
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
    fn a_merge_sets_and_removes_keys_and_keeps_the_rest() {
        let current =
            CustomFields::from_json(&json!({"a": 1, "b": "x", "c": true}), "custom_fields")
                .unwrap();
        let patch =
            CustomFieldsPatch::from_json(&json!({"b": null, "d": 0.5, "a": 2}), "custom_fields")
                .unwrap();
        let merged = current.merged(&patch, "custom_fields").unwrap();
        assert_eq!(merged.to_json_text(), r#"{"a":2,"c":true,"d":0.5}"#);
        let cleared = current
            .merged(
                &CustomFieldsPatch::from_json(&Value::Null, "custom_fields").unwrap(),
                "custom_fields",
            )
            .unwrap();
        assert!(cleared.as_map().is_empty());
    }

    #[test]
    fn a_merge_may_not_grow_past_the_key_bound() {
        let full: Map<String, Value> = (0..MAX_CUSTOM_FIELDS)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        let current = CustomFields::from_json(&Value::Object(full), "custom_fields").unwrap();
        let patch = CustomFieldsPatch::from_json(&json!({"one_more": 1}), "custom_fields").unwrap();
        assert!(current.merged(&patch, "custom_fields").is_err());
        let swap =
            CustomFieldsPatch::from_json(&json!({"k0": null, "new": 1}), "custom_fields").unwrap();
        assert!(current.merged(&swap, "custom_fields").is_ok());
    }

    #[test]
    fn patch_values_must_be_primitive_or_null() {
        let err = CustomFieldsPatch::from_json(&json!({"a": [1]}), "custom_fields").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("custom_fields.a"));
        assert!(CustomFieldsPatch::from_json(&json!("x"), "custom_fields").is_err());
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

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// Any JSON value, nested a little.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[a-z]{0,1010}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..60)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-z_ ]{0,70}"]
    }

    /// Objects of primitives, so that many parse.
    fn mostly_primitive_object() -> impl Strategy<Value = Value> {
        let primitive = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z ]{0,20}".prop_map(Value::String),
            Just(Value::Null),
        ];
        prop::collection::vec(("[a-z_]{1,10}", primitive), 0..55)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_bounded_primitives(
            value in prop_oneof![json_value(), mostly_primitive_object()],
        ) {
            if let Ok(fields) = CustomFields::from_json(&value, "custom_fields") {
                prop_assert!(fields.as_map().len() <= MAX_CUSTOM_FIELDS);
                for (key, value) in fields.as_map() {
                    prop_assert!(!key.trim().is_empty());
                    prop_assert!(key.chars().count() <= MAX_KEY_CHARS);
                    match value {
                        Value::Bool(_) | Value::Number(_) => {}
                        Value::String(text) => {
                            prop_assert!(text.chars().count() <= MAX_STRING_VALUE_CHARS)
                        }
                        other => prop_assert!(false, "accepted non-primitive {other}"),
                    }
                }
            }
        }

        #[test]
        fn patches_never_panic_and_merges_stay_primitive_and_bounded(
            current in mostly_primitive_object(),
            patch in prop_oneof![json_value(), mostly_primitive_object()],
        ) {
            let Ok(current) = CustomFields::from_json(&current, "custom_fields") else {
                return Ok(());
            };
            if let Ok(patch) = CustomFieldsPatch::from_json(&patch, "custom_fields") {
                if let Ok(merged) = current.merged(&patch, "custom_fields") {
                    prop_assert!(merged.as_map().len() <= MAX_CUSTOM_FIELDS);
                    prop_assert!(merged
                        .as_map()
                        .values()
                        .all(|v| matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_))));
                }
            }
        }
    }
}
