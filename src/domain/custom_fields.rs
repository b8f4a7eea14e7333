//! Free-form key/value attributes whose values are primitives.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::field_error::has_control_chars;
use super::FieldError;

pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_KEY_CHARS: usize = 64;
pub const MAX_STRING_VALUE_CHARS: usize = 1000;

/// A JSON object whose values are strings, numbers or booleans, in the client's key
/// order. Numbers keep their JSON type: `12500000` stays an integer, `0.25` a float.
///
/// Read back from storage, the object stays the JSON text it was stored as until
/// something needs its keys (a merge). Shown as it is, a page of contacts neither
/// builds nor re-serialises every object: that had been an eighth of the time it takes
/// to read a page.
#[derive(Debug, Clone)]
pub struct CustomFields(Fields);

#[derive(Debug, Clone)]
enum Fields {
    Object(Map<String, Value>),
    /// The text of an object, as [`CustomFields::to_json_text`] wrote it.
    Stored(Box<RawValue>),
}

impl Default for CustomFields {
    fn default() -> Self {
        Self(Fields::Object(Map::new()))
    }
}

/// Equal when they hold the same keys in the same order with the same values, which is
/// when their stored texts are equal.
impl PartialEq for CustomFields {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Fields::Stored(a), Fields::Stored(b)) => a.get() == b.get(),
            _ => self.to_json_text() == other.to_json_text(),
        }
    }
}

impl Serialize for CustomFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Fields::Object(object) => object.serialize(serializer),
            Fields::Stored(text) => text.serialize(serializer),
        }
    }
}

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
        Ok(Self(Fields::Object(object.clone())))
    }

    /// These fields with `patch` applied key by key (JSON merge-patch: a null value
    /// removes its key). The key bound applies to the result.
    pub fn merged(&self, patch: &CustomFieldsPatch, field: &str) -> Result<Self, FieldError> {
        let mut merged = match patch {
            CustomFieldsPatch::Clear => return Ok(Self::default()),
            CustomFieldsPatch::Merge(_) => self.object().into_owned(),
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
        Ok(Self(Fields::Object(merged)))
    }

    /// Wraps the text of an object read back from storage, where only
    /// [`CustomFields::to_json_text`] writes. Checks that it is one JSON object, without
    /// building it.
    pub(crate) fn from_stored(text: String) -> Result<Self, String> {
        if !text.starts_with('{') {
            return Err(format!("stored custom fields are not an object: {text:?}"));
        }
        RawValue::from_string(text)
            .map(|text| Self(Fields::Stored(text)))
            .map_err(|err| format!("stored custom fields: {err}"))
    }

    /// The object, built from its text if it was read from storage.
    pub fn object(&self) -> Cow<'_, Map<String, Value>> {
        match &self.0 {
            Fields::Object(object) => Cow::Borrowed(object),
            Fields::Stored(text) => Cow::Owned(
                serde_json::from_str(text.get())
                    .expect("from_stored admits only a JSON object, and any parses as a map"),
            ),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Fields::Object(object) => object.is_empty(),
            Fields::Stored(text) => text.get() == "{}",
        }
    }

    /// The JSON text kept in storage.
    pub fn to_json_text(&self) -> String {
        match &self.0 {
            Fields::Object(object) => {
                serde_json::to_string(object).expect("a map of JSON values serialises")
            }
            Fields::Stored(text) => text.get().to_owned(),
        }
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
        assert!(fields.is_empty());
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
        assert!(cleared.is_empty());
    }

    #[test]
    fn stored_text_reads_back_as_the_object_it_was() {
        let parsed = CustomFields::from_json(
            &json!({"tier": "gold", "ltv": 12500000, "rate": 0.25, "vip": true, "q": "a\"b"}),
            "custom_fields",
        )
        .unwrap();
        let stored = CustomFields::from_stored(parsed.to_json_text()).unwrap();
        assert_eq!(stored, parsed);
        assert_eq!(
            serde_json::to_value(&stored).unwrap(),
            serde_json::to_value(&parsed).unwrap()
        );
        assert_eq!(*stored.object(), *parsed.object());
        assert!(!stored.is_empty());
        assert!(CustomFields::from_stored("{}".into()).unwrap().is_empty());

        let patch = CustomFieldsPatch::from_json(&json!({"tier": null, "new": 1}), "custom_fields")
            .unwrap();
        assert_eq!(
            stored
                .merged(&patch, "custom_fields")
                .unwrap()
                .to_json_text(),
            r#"{"ltv":12500000,"rate":0.25,"vip":true,"q":"a\"b","new":1}"#
        );
        let reordered = CustomFields::from_json(
            &json!({"ltv": 12500000, "tier": "gold", "rate": 0.25, "vip": true, "q": "a\"b"}),
            "custom_fields",
        )
        .unwrap();
        assert_ne!(stored, reordered, "key order is part of the value");
    }

    #[test]
    fn stored_text_that_is_not_one_object_is_refused() {
        for text in ["[1]", "\"x\"", "{\"a\": ", "", "{} {}"] {
            assert!(
                CustomFields::from_stored(text.to_owned()).is_err(),
                "{text:?}"
            );
        }
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
                prop_assert!(fields.object().len() <= MAX_CUSTOM_FIELDS);
                for (key, value) in fields.object().iter() {
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
                    prop_assert!(merged.object().len() <= MAX_CUSTOM_FIELDS);
                    prop_assert!(merged
                        .object()
                        .values()
                        .all(|v| matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_))));
                }
            }
        }
    }
}
