//! `/v1/contacts` and `/v1/contacts/{id}`: list, create, read, patch, delete.

use actix_web::http::header::{ContentType, ETAG, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::body::read_json;
use super::envelope::{Envelope, PageMeta};
use super::etag::{etag, if_match};
use super::idempotency::idempotent;
use super::{resource, ApiSettings};
use crate::auth::{ContactsRead, ContactsWrite, RequireScope};
use crate::domain::{Contact, ContactPatch, ListQuery, NewContact, Timestamp};
use crate::error::ApiError;
use crate::storage::{contact_list, contact_updates, contacts, Db, StorageError};

/// `/v1/contacts` itself: list and create.
pub fn configure_collection(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/contacts")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    );
}

/// `/v1/contacts/{id}`: read, patch and delete one contact.
pub fn configure_items(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/contacts/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

/// A single contact with its ETag.
pub fn contact_response(status: StatusCode, contact: &Contact) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((ETAG, etag(contact.version)));
    if status == StatusCode::CREATED {
        response.insert_header((LOCATION, format!("/v1/contacts/{}", contact.id)));
    }
    response.json(Envelope::data(contact))
}

/// Room for a list's envelope around its contacts: `success`, and `meta` with the
/// largest numbers it can hold.
const ENVELOPE_BYTES: usize = 160;

async fn list(
    auth: RequireScope<ContactsRead>,
    params: web::Query<Vec<(String, String)>>,
    settings: web::Data<ApiSettings>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::from_pairs(&params, &settings.phone_rules)?;
    let (page, per_page, offset) = (query.page, query.per_page, query.offset());
    let counts = db.trigram_counts();
    // The page is written out as JSON on the thread that read it, so its contacts'
    // strings (four or so each) are freed on the thread that allocated them. Freed on
    // the server's thread, each took mimalloc's cross-thread path, and collecting those
    // frees was about 8% of the reading thread's samples on a first page. Only the body
    // moves across now.
    let body = auth
        .identity
        .read(&db, move |conn, workspace| {
            let found = contact_list::list_contacts(conn, &counts, workspace, &query)?;
            let meta = PageMeta {
                page,
                per_page,
                total: found.total,
                has_more: offset + (found.items.len() as u64) < found.total,
            };
            // Sized for the page and its envelope at once: grown from empty, the body
            // was reallocated about ten times per page.
            let mut body = Vec::with_capacity(found.items.json().len() + ENVELOPE_BYTES);
            serde_json::to_writer(&mut body, &Envelope::with_meta(found.items, meta))
                .map_err(|err| StorageError::Internal(format!("page as JSON: {err}")))?;
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

async fn create(
    auth: RequireScope<ContactsWrite>,
    req: HttpRequest,
    payload: web::Payload,
    settings: web::Data<ApiSettings>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let (raw, body) = read_json(&req, payload, &settings).await?;
    idempotent(&req, &auth.identity, &raw, &db, || async {
        let new = NewContact::from_json(&body, &settings.phone_rules)?;
        let contact = auth.identity.create_contact(&db, new).await?;
        Ok(contact_response(StatusCode::CREATED, &contact))
    })
    .await
}

async fn get(
    auth: RequireScope<ContactsRead>,
    id: web::Path<String>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let contact = auth
        .identity
        .read(&db, move |conn, workspace| {
            contacts::get_contact(conn, workspace, &id)
        })
        .await?
        .ok_or(ApiError::ResourceNotFound)?;
    Ok(contact_response(StatusCode::OK, &contact))
}

async fn patch(
    auth: RequireScope<ContactsWrite>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    settings: web::Data<ApiSettings>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let (raw, body) = read_json(&req, payload, &settings).await?;
    idempotent(&req, &auth.identity, &raw, &db, || async {
        let patch = ContactPatch::from_json(&body, &settings.phone_rules)?;
        let expected = if_match(&req);
        let id = id.into_inner();
        let contact = auth
            .identity
            .write(&db, move |conn, workspace| {
                contact_updates::update_contact(
                    conn,
                    workspace,
                    &id,
                    &patch,
                    &expected,
                    Timestamp::now(),
                )
            })
            .await?;
        Ok(contact_response(StatusCode::OK, &contact))
    })
    .await
}

async fn delete(
    auth: RequireScope<ContactsWrite>,
    id: web::Path<String>,
    req: HttpRequest,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    idempotent(&req, &auth.identity, &[], &db, || async {
        let expected = if_match(&req);
        let id = id.into_inner();
        let deleted = auth
            .identity
            .write(&db, move |conn, workspace| {
                contacts::delete_contact(conn, workspace, &id, &expected, Timestamp::now())
            })
            .await?;
        Ok(HttpResponse::Ok().json(Envelope::data(json!({"id": deleted, "deleted": true}))))
    })
    .await
}
