//! Validated types. Each is parsed once at the edge; past that, a `Phone` is E.164, an
//! `Email` is well-formed, and nothing downstream checks again.

mod contact;
mod contact_patch;
mod custom_fields;
mod email;
mod field_error;
mod if_match;
mod list_query;
mod name;
mod phone;
mod tags;
mod timestamp;
mod workspace_name;

pub use contact::{Contact, NewContact, CONTACT_FIELDS};
pub use contact_patch::{ContactPatch, PatchedFields};
pub use custom_fields::{CustomFields, CustomFieldsPatch};
pub use email::Email;
pub use field_error::{FieldError, ValidationCode};
pub use if_match::IfMatch;
pub use list_query::{
    ListFilter, ListQuery, SearchTerm, SortOrder, DEFAULT_PER_PAGE, MAX_PER_PAGE,
};
pub use name::Name;
pub use phone::{Phone, PhoneRules};
pub use tags::{fold_case, Tag, Tags};
pub use timestamp::{StoredTime, Timestamp};
pub use workspace_name::WorkspaceName;
