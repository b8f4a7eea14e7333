//! `/v1/contacts/by-phone/{phone}`: look up, and upsert, by number in any spelling.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::body::read_json;
use super::contacts::contact_response;
use super::etag::if_match;
use super::idempotency::idempotent;
use super::{resource, ApiSettings};
use crate::auth::{ContactsRead, ContactsWrite, RequireScope};
use crate::domain::{ContactPatch, Phone, Timestamp};
use crate::error::ApiError;
use crate::storage::contact_updates::{upsert_by_phone, Upserted};
use crate::storage::{contacts, Db};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/contacts/by-phone/{phone}")
            .route(web::get().to(get))
            .route(web::put().to(upsert)),
    );
}

/// The number in the URL, normalised exactly as a create body's `phone` is.
fn path_phone(raw: &str, settings: &ApiSettings) -> Result<Phone, ApiError> {
    Ok(Phone::parse(raw, "phone", &settings.phone_rules)?)
}

async fn get(
    auth: RequireScope<ContactsRead>,
    phone: web::Path<String>,
    settings: web::Data<ApiSettings>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let phone = path_phone(&phone, &settings)?;
    let contact = auth
        .identity
        .read(&db, move |conn, workspace| {
            contacts::get_contact_by_phone(conn, workspace, &phone)
        })
        .await?
        .ok_or(ApiError::ResourceNotFound)?;
    Ok(contact_response(StatusCode::OK, &contact))
}

/// Creates the contact with this number (201) or merge-patches the one that has it
/// (200), atomically: "find or create by phone" in one call that cannot race into a
/// duplicate.
async fn upsert(
    auth: RequireScope<ContactsWrite>,
    phone: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    settings: web::Data<ApiSettings>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let (raw, body) = read_json(&req, payload, &settings).await?;
    idempotent(&req, &auth.identity, &raw, &db, || async {
        let phone = path_phone(&phone, &settings)?;
        let rules = &settings.phone_rules;
        let patch = ContactPatch::from_json_for_phone(&body, &phone, rules)?;
        let new = patch.clone().into_new_contact(phone.clone())?;
        let expected = if_match(&req);
        let outcome = auth
            .identity
            .write(&db, move |conn, workspace| {
                upsert_by_phone(
                    conn,
                    workspace,
                    &phone,
                    (&new, &patch),
                    &expected,
                    Timestamp::now(),
                )
            })
            .await?;
        Ok(match outcome {
            Upserted::Created(contact) => contact_response(StatusCode::CREATED, &contact),
            Upserted::Updated(contact) => contact_response(StatusCode::OK, &contact),
        })
    })
    .await
}
