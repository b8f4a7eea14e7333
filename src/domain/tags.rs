//! Tag lists as clients send them: trimmed, bounded, de-duplicated without regard to case.

use std::collections::HashSet;

use serde_json::Value;

use super::field_error::has_control_chars;
use super::FieldError;

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 64;

/// One tag as written by the client, with the case-folded key that is its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    name: String,
    key: String,
}

impl Tag {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::invalid(
                field,
                "tags must not be empty or blank",
            ));
        }
        if name.chars().count() > MAX_TAG_CHARS {
            return Err(FieldError::invalid(
                field,
                format!("a tag must be at most {MAX_TAG_CHARS} characters"),
            ));
        }
        if has_control_chars(name) {
            return Err(FieldError::invalid(
                field,
                "a tag must not contain control characters",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            key: fold_case(name),
        })
    }

    /// The spelling the client used.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The case-folded form: two tags with the same key are the same tag.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Case folding for identity and search. Full Unicode lowercase, so "VIP", "Vip" and
/// "vip" are one tag, and so are "ÇELIK" and "çelik".
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

/// A contact's tags in the order the client gave them, each key at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Parses the JSON value of a `tags` field; `null` is an empty list.
    pub fn from_json(value: &Value, field: &str) -> Result<Self, FieldError> {
        let items = match value {
            Value::Null => return Ok(Self::default()),
            Value::Array(items) => items,
            _ => {
                return Err(FieldError::invalid(
                    field,
                    format!("{field} must be an array of strings"),
                ))
            }
        };
        let mut tags: Vec<Tag> = Vec::new();
        let mut seen = HashSet::new();
        for (index, item) in items.iter().enumerate() {
            let item_field = format!("{field}[{index}]");
            let Value::String(raw) = item else {
                return Err(FieldError::invalid(
                    item_field,
                    "every tag must be a string",
                ));
            };
            let tag = Tag::parse(raw, &item_field)?;
            if seen.insert(tag.key.clone()) {
                tags.push(tag);
            }
            if tags.len() > MAX_TAGS {
                return Err(FieldError::invalid(
                    field,
                    format!("a contact can have at most {MAX_TAGS} tags"),
                ));
            }
        }
        Ok(Self(tags))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::ValidationCode;

    fn names(tags: &Tags) -> Vec<&str> {
        tags.iter().map(Tag::name).collect()
    }

    #[test]
    fn tags_are_trimmed_and_duplicates_dropped_case_insensitively_keeping_order() {
        let tags = Tags::from_json(
            &json!([" vip ", "customer", "VIP", "Customer", "lead"]),
            "tags",
        )
        .unwrap();
        assert_eq!(names(&tags), ["vip", "customer", "lead"]);
    }

    #[test]
    fn unicode_case_folds_to_one_key() {
        let tags = Tags::from_json(&json!(["ÇELIK", "çelik"]), "tags").unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags.iter().next().unwrap().key(), "çelik");
    }

    #[test]
    fn null_is_an_empty_list() {
        assert!(Tags::from_json(&Value::Null, "tags").unwrap().is_empty());
    }

    #[test]
    fn bad_tag_lists_name_the_offending_item() {
        let too_long = "x".repeat(MAX_TAG_CHARS + 1);
        for (value, field) in [
            (json!("vip"), "tags"),
            (json!({"a": 1}), "tags"),
            (json!(["vip", 3]), "tags[1]"),
            (json!(["vip", null]), "tags[1]"),
            (json!(["", "vip"]), "tags[0]"),
            (json!(["  "]), "tags[0]"),
            (json!([too_long]), "tags[0]"),
            (json!(["a\u{0}b"]), "tags[0]"),
        ] {
            let err = Tags::from_json(&value, "tags").unwrap_err();
            assert_eq!(err.code, ValidationCode::InvalidField, "value {value}");
            assert_eq!(err.field.as_deref(), Some(field), "value {value}");
        }
    }

    #[test]
    fn the_count_is_bounded_after_duplicates_are_dropped() {
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert!(Tags::from_json(&json!(many), "tags").is_err());
        let repeated: Vec<&str> = vec!["same"; MAX_TAGS * 2];
        assert_eq!(Tags::from_json(&json!(repeated), "tags").unwrap().len(), 1);
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Array items: mostly strings, with repeats in other cases, and other JSON types.
    fn item() -> impl Strategy<Value = Value> {
        prop_oneof![
            6 => any::<String>().prop_map(Value::String),
            6 => "[ ]{0,2}(vip|VIP|Vip|lead|Lead|a|A|b)[ ]{0,2}".prop_map(Value::String),
            4 => "[a-zA-Z0-9 ]{0,70}".prop_map(Value::String),
            1 => any::<i64>().prop_map(|n| json!(n)),
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_keeps_distinct_trimmed_bounded_tags(
            items in prop::collection::vec(item(), 0..80),
        ) {
            if let Ok(tags) = Tags::from_json(&Value::Array(items), "tags") {
                prop_assert!(tags.len() <= MAX_TAGS);
                let mut keys = HashSet::new();
                for tag in tags.iter() {
                    prop_assert!(!tag.name().is_empty());
                    prop_assert_eq!(tag.name(), tag.name().trim());
                    prop_assert!(tag.name().chars().count() <= MAX_TAG_CHARS);
                    prop_assert_eq!(tag.key(), fold_case(tag.name()));
                    prop_assert!(keys.insert(tag.key().to_owned()), "duplicate {:?}", tag.key());
                }
            }
        }

        #[test]
        fn many_spellings_of_few_tags_fit_whatever_their_number(
            items in prop::collection::vec("(vip|VIP|Vip|lead|LEAD)", 0..200),
        ) {
            let tags = Tags::from_json(&json!(items), "tags").unwrap();
            prop_assert!(tags.len() <= 2);
        }
    }
}
