//! Contacts: what a client may send to create one, and what the API shows of one.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    CustomFields, Email, FieldError, Name, Phone, PhoneRules, Tags, Timestamp, ValidationCode,
};

/// The fields a create body may carry. Anything else is rejected by name, so a typo
/// such as `emial` cannot silently drop data.
pub const CONTACT_FIELDS: [&str; 5] = ["phone", "name", "email", "tags", "custom_fields"];

/// A validated create request: every field already in its domain type.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub phone: Phone,
    pub name: Option<Name>,
    pub email: Option<Email>,
    pub tags: Tags,
    pub custom_fields: CustomFields,
}

impl NewContact {
    /// Turns a JSON request body into a contact, or says which field is wrong.
    pub fn from_json(body: &Value, rules: &PhoneRules) -> Result<Self, FieldError> {
        let fields = body_object(body)?;
        let phone = required_phone(fields.get("phone"), rules)?;
        Self::from_fields(fields, phone)
    }

    fn from_fields(fields: &Map<String, Value>, phone: Phone) -> Result<Self, FieldError> {
        Ok(Self {
            phone,
            name: optional_string(fields.get("name"), "name")?
                .map(|raw| Name::parse(raw, "name"))
                .transpose()?
                .flatten(),
            email: optional_string(fields.get("email"), "email")?
                .map(|raw| Email::parse(raw, "email"))
                .transpose()?,
            tags: Tags::from_json(fields.get("tags").unwrap_or(&Value::Null), "tags")?,
            custom_fields: CustomFields::from_json(
                fields.get("custom_fields").unwrap_or(&Value::Null),
                "custom_fields",
            )?,
        })
    }
}

/// The body as an object whose every key is a contact field.
pub(super) fn body_object(body: &Value) -> Result<&Map<String, Value>, FieldError> {
    let Value::Object(fields) = body else {
        return Err(FieldError::whole(
            ValidationCode::InvalidJson,
            "the request body must be a JSON object",
        ));
    };
    reject_unknown_fields(fields)?;
    Ok(fields)
}

/// When the number is given by the URL, a `phone` in the body must agree with it.
pub(super) fn check_same_phone(
    value: Option<&Value>,
    phone: &Phone,
    rules: &PhoneRules,
) -> Result<(), FieldError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(_) if &required_phone(value, rules)? == phone => Ok(()),
        Some(_) => Err(FieldError::invalid(
            "phone",
            "phone in the body must be the number in the URL; change a number with PATCH",
        )),
    }
}

fn reject_unknown_fields(fields: &Map<String, Value>) -> Result<(), FieldError> {
    match fields
        .keys()
        .find(|key| !CONTACT_FIELDS.contains(&key.as_str()))
    {
        Some(unknown) => Err(FieldError::new(
            ValidationCode::UnknownField,
            unknown.as_str(),
            format!(
                "unknown field {unknown:?}; a contact has {}",
                CONTACT_FIELDS.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

pub(super) fn required_phone(
    value: Option<&Value>,
    rules: &PhoneRules,
) -> Result<Phone, FieldError> {
    match value {
        None | Some(Value::Null) => Err(FieldError::new(
            ValidationCode::MissingField,
            "phone",
            "phone is required",
        )),
        Some(Value::String(raw)) => Phone::parse(raw, "phone", rules),
        Some(_) => Err(FieldError::invalid(
            "phone",
            "phone must be a string, e.g. \"+628123456789\"",
        )),
    }
}

/// `None` for an absent or null field; the text for a string; an error for any other type.
pub(super) fn optional_string<'a>(
    value: Option<&'a Value>,
    field: &str,
) -> Result<Option<&'a str>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(FieldError::invalid(
            field,
            format!("{field} must be a string or null"),
        )),
    }
}

/// A stored contact exactly as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: Uuid,
    #[serde(serialize_with = "serialize_phone")]
    pub phone: Phone,
    pub name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: CustomFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped on every change; the contact's ETag. Not part of the JSON.
    #[serde(skip)]
    pub version: i64,
}

fn serialize_phone<S: serde::Serializer>(phone: &Phone, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(phone.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> NewContact {
        NewContact::from_json(&body, &PhoneRules::default()).unwrap()
    }

    fn code_and_field(body: Value) -> (ValidationCode, Option<String>) {
        let err = NewContact::from_json(&body, &PhoneRules::default()).unwrap_err();
        (err.code, err.field)
    }

    #[test]
    fn the_reference_example_parses() {
        let contact = parse(json!({
            "phone": "628123456789",
            "name": "Hafari",
            "email": "hafari@example.com",
            "tags": ["customer"],
            "custom_fields": {"company": "PT ABC", "tier": "gold"}
        }));
        assert_eq!(contact.phone.as_str(), "+628123456789");
        assert_eq!(contact.name.unwrap().as_str(), "Hafari");
        assert_eq!(contact.email.unwrap().as_str(), "hafari@example.com");
        assert_eq!(contact.tags.len(), 1);
        assert_eq!(contact.custom_fields.object().len(), 2);
    }

    #[test]
    fn only_phone_is_required() {
        let contact = parse(json!({"phone": "+628123456789"}));
        assert!(contact.name.is_none() && contact.email.is_none() && contact.tags.is_empty());
    }

    #[test]
    fn null_optional_fields_are_absent_and_blank_name_is_null() {
        let contact = parse(json!({
            "phone": "628123456789", "name": "  ", "email": null, "tags": null, "custom_fields": null
        }));
        assert!(contact.name.is_none() && contact.email.is_none());
    }

    #[test]
    fn invalid_bodies_give_the_precise_code_and_field() {
        use ValidationCode::*;
        let cases = [
            ("not an object", json!(["phone"]), InvalidJson, None),
            (
                "missing phone",
                json!({"name": "A"}),
                MissingField,
                Some("phone"),
            ),
            (
                "null phone",
                json!({"phone": null}),
                MissingField,
                Some("phone"),
            ),
            (
                "empty phone",
                json!({"phone": ""}),
                MissingField,
                Some("phone"),
            ),
            (
                "blank phone",
                json!({"phone": "  "}),
                MissingField,
                Some("phone"),
            ),
            (
                "numeric phone",
                json!({"phone": 628123456789u64}),
                InvalidField,
                Some("phone"),
            ),
            (
                "bad phone",
                json!({"phone": "0812"}),
                InvalidPhone,
                Some("phone"),
            ),
            (
                "unknown field",
                json!({"phone": "628123456789", "emial": "a@b.co"}),
                UnknownField,
                Some("emial"),
            ),
            (
                "unknown beats missing",
                json!({"phon": "628123456789"}),
                UnknownField,
                Some("phon"),
            ),
            (
                "numeric name",
                json!({"phone": "628123456789", "name": 5}),
                InvalidField,
                Some("name"),
            ),
            (
                "bad email",
                json!({"phone": "628123456789", "email": "nope"}),
                InvalidEmail,
                Some("email"),
            ),
            (
                "email array",
                json!({"phone": "628123456789", "email": ["a@b.co"]}),
                InvalidField,
                Some("email"),
            ),
            (
                "tags string",
                json!({"phone": "628123456789", "tags": "vip"}),
                InvalidField,
                Some("tags"),
            ),
            (
                "nested custom",
                json!({"phone": "628123456789", "custom_fields": {"a": {}}}),
                InvalidField,
                Some("custom_fields.a"),
            ),
        ];
        for (case, body, code, field) in cases {
            assert_eq!(
                code_and_field(body),
                (code, field.map(str::to_owned)),
                "case: {case}"
            );
        }
    }
}
