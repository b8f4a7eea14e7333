//! Partial updates with JSON merge-patch semantics: absent fields stay, null clears.

use serde_json::{Map, Value};

use super::contact::{body_object, check_same_phone, optional_string, required_phone};
use super::{
    Contact, CustomFields, CustomFieldsPatch, Email, FieldError, Name, NewContact, Phone,
    PhoneRules, Tag, Tags,
};

/// A validated PATCH body. `None` means "leave as is".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    pub phone: Option<Phone>,
    /// `Some(None)` clears the name.
    pub name: Option<Option<Name>>,
    /// `Some(None)` clears the email.
    pub email: Option<Option<Email>>,
    /// Replaces the whole set; null is the empty set.
    pub tags: Option<Tags>,
    pub custom_fields: Option<CustomFieldsPatch>,
}

impl ContactPatch {
    pub fn from_json(body: &Value, rules: &PhoneRules) -> Result<Self, FieldError> {
        let fields = body_object(body)?;
        let phone = match fields.get("phone") {
            None => None,
            Some(Value::Null) => {
                return Err(FieldError::invalid(
                    "phone",
                    "phone cannot be removed; send a new number to change it",
                ))
            }
            value => Some(required_phone(value, rules)?),
        };
        Self::from_fields(fields, phone)
    }

    /// A patch for the contact with the number in the URL of an upsert; a `phone` in
    /// the body must be that same number.
    pub fn from_json_for_phone(
        body: &Value,
        phone: &Phone,
        rules: &PhoneRules,
    ) -> Result<Self, FieldError> {
        let fields = body_object(body)?;
        check_same_phone(fields.get("phone"), phone, rules)?;
        Self::from_fields(fields, None)
    }

    fn from_fields(fields: &Map<String, Value>, phone: Option<Phone>) -> Result<Self, FieldError> {
        Ok(Self {
            phone,
            name: match fields.get("name") {
                None => None,
                value => Some(
                    optional_string(value, "name")?
                        .map(|raw| Name::parse(raw, "name"))
                        .transpose()?
                        .flatten(),
                ),
            },
            email: match fields.get("email") {
                None => None,
                value => Some(
                    optional_string(value, "email")?
                        .map(|raw| Email::parse(raw, "email"))
                        .transpose()?,
                ),
            },
            tags: fields
                .get("tags")
                .map(|value| Tags::from_json(value, "tags"))
                .transpose()?,
            custom_fields: fields
                .get("custom_fields")
                .map(|value| CustomFieldsPatch::from_json(value, "custom_fields"))
                .transpose()?,
        })
    }

    /// The contact an upsert creates when the number is new: this patch applied to an
    /// empty contact, so a null means "absent" exactly as it would on an update.
    pub fn into_new_contact(self, phone: Phone) -> Result<NewContact, FieldError> {
        let custom_fields = match &self.custom_fields {
            None => CustomFields::default(),
            Some(patch) => CustomFields::default().merged(patch, "custom_fields")?,
        };
        Ok(NewContact {
            phone,
            name: self.name.flatten(),
            email: self.email.flatten(),
            tags: self.tags.unwrap_or_default(),
            custom_fields,
        })
    }

    /// The contact's fields after this patch, or an error if the result breaks a bound.
    pub fn apply(&self, current: &Contact) -> Result<PatchedFields, FieldError> {
        Ok(PatchedFields {
            phone: self.phone.clone().unwrap_or_else(|| current.phone.clone()),
            name: match &self.name {
                None => current.name.clone(),
                Some(name) => name.as_ref().map(|n| n.as_str().to_owned()),
            },
            email: match &self.email {
                None => current.email.clone(),
                Some(email) => email.as_ref().map(|e| e.as_str().to_owned()),
            },
            tags: self.tags.clone(),
            custom_fields: match &self.custom_fields {
                None => current.custom_fields.clone(),
                Some(patch) => current.custom_fields.merged(patch, "custom_fields")?,
            },
        })
    }
}

/// A contact's writable fields after a patch. `tags` is `None` when the patch leaves
/// them alone.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchedFields {
    pub phone: Phone,
    pub name: Option<String>,
    pub email: Option<String>,
    pub tags: Option<Tags>,
    pub custom_fields: CustomFields,
}

impl PatchedFields {
    /// Whether writing these fields would change `current`. Tags compare by identity
    /// (case-folded) and order: re-sending the same tags is not a change.
    pub fn changes(&self, current: &Contact) -> bool {
        let tags_change = self.tags.as_ref().is_some_and(|tags| {
            let new_keys = tags.iter().map(Tag::key);
            let old_keys: Vec<String> = current.tags.iter().map(|t| super::fold_case(t)).collect();
            !new_keys.eq(old_keys.iter().map(String::as_str))
        });
        tags_change
            || self.phone != current.phone
            || self.name != current.name
            || self.email != current.email
            || self.custom_fields != current.custom_fields
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{Timestamp, ValidationCode};

    fn contact() -> Contact {
        let rules = PhoneRules::default();
        Contact {
            id: Uuid::now_v7(),
            phone: Phone::parse("628111111111", "phone", &rules).unwrap(),
            name: Some("Budi".into()),
            email: Some("budi@example.com".into()),
            tags: vec!["VIP".into(), "lead".into()],
            custom_fields: CustomFields::from_json(&json!({"tier": "gold", "n": 1}), "cf").unwrap(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            version: 1,
        }
    }

    fn patch(body: Value) -> ContactPatch {
        ContactPatch::from_json(&body, &PhoneRules::default()).unwrap()
    }

    #[test]
    fn absent_fields_stay_and_null_clears_name_and_email() {
        let current = contact();
        let patched = patch(json!({"name": null})).apply(&current).unwrap();
        assert_eq!(patched.name, None);
        assert_eq!(patched.email, current.email);
        assert_eq!(patched.tags, None);
        let patched = patch(json!({"email": null, "name": "  "}))
            .apply(&current)
            .unwrap();
        assert_eq!((patched.name, patched.email), (None, None));
    }

    #[test]
    fn custom_fields_merge_key_by_key() {
        let patched = patch(json!({"custom_fields": {"tier": null, "x": true}}))
            .apply(&contact())
            .unwrap();
        assert_eq!(patched.custom_fields.to_json_text(), r#"{"n":1,"x":true}"#);
    }

    #[test]
    fn an_empty_patch_or_a_repeat_of_the_current_values_changes_nothing() {
        let current = contact();
        assert!(!patch(json!({})).apply(&current).unwrap().changes(&current));
        let same = patch(json!({
            "phone": "+62 811-1111-111", "name": "Budi", "tags": ["vip", "LEAD"],
            "custom_fields": {"tier": "gold"}
        }));
        assert!(!same.apply(&current).unwrap().changes(&current));
    }

    #[test]
    fn real_changes_are_seen() {
        let current = contact();
        for body in [
            json!({"phone": "628222222222"}),
            json!({"name": "Budi S."}),
            json!({"email": null}),
            json!({"tags": ["lead", "vip"]}),
            json!({"tags": null}),
            json!({"custom_fields": {"n": 2}}),
        ] {
            assert!(
                patch(body.clone())
                    .apply(&current)
                    .unwrap()
                    .changes(&current),
                "{body}"
            );
        }
    }

    #[test]
    fn an_upsert_creates_the_patch_applied_to_an_empty_contact() {
        let rules = PhoneRules::default();
        let phone = Phone::parse("628123456789", "phone", &rules).unwrap();
        let body = json!({"name": "A", "email": null, "custom_fields": {"x": 1, "gone": null}});
        let new = ContactPatch::from_json_for_phone(&body, &phone, &rules)
            .unwrap()
            .into_new_contact(phone)
            .unwrap();
        assert_eq!(new.name.unwrap().as_str(), "A");
        assert!(new.email.is_none() && new.tags.is_empty());
        assert_eq!(new.custom_fields.to_json_text(), r#"{"x":1}"#);
    }

    #[test]
    fn an_upsert_body_may_repeat_the_url_number_in_any_spelling_but_not_another() {
        let rules = PhoneRules::default();
        let phone = Phone::parse("628123456789", "phone", &rules).unwrap();
        let same = json!({"phone": "+62 812-3456-789", "name": "A"});
        assert!(ContactPatch::from_json_for_phone(&same, &phone, &rules).is_ok());
        let other = json!({"phone": "628999999999"});
        let err = ContactPatch::from_json_for_phone(&other, &phone, &rules).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("phone"));
    }

    #[test]
    fn phone_cannot_be_nulled_and_unknown_fields_are_named() {
        let err =
            ContactPatch::from_json(&json!({"phone": null}), &PhoneRules::default()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("phone"));
        let err =
            ContactPatch::from_json(&json!({"nmae": "x"}), &PhoneRules::default()).unwrap_err();
        assert_eq!(err.code, ValidationCode::UnknownField);
    }
}
