//! `/v1/contacts`: list and create.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::envelope::{Envelope, PageMeta};
use super::{json_body, method_not_allowed};
use crate::auth::{ContactsRead, ContactsWrite, RequireScope};
use crate::domain::{ListQuery, NewContact, Timestamp};
use crate::error::ApiError;
use crate::storage::{contacts, Db};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/contacts")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(|| method_not_allowed("GET, POST"))),
    );
}

/// The list query as it arrives: every value still text, so that a bad one can be
/// reported by name rather than as a generic deserialisation failure.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    page: Option<String>,
    per_page: Option<String>,
    search: Option<String>,
}

async fn list(
    auth: RequireScope<ContactsRead>,
    params: web::Query<ListParams>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(
        params.page.as_deref(),
        params.per_page.as_deref(),
        params.search.as_deref(),
    )?;
    let workspace = auth.identity.workspace_id;
    let (page, per_page, offset) = (query.page, query.per_page, query.offset());
    let found = db
        .read(move |conn| contacts::list_contacts(conn, workspace, &query))
        .await?;
    let meta = PageMeta {
        page,
        per_page,
        total: found.total,
        has_more: offset + (found.contacts.len() as u64) < found.total,
    };
    Ok(HttpResponse::Ok().json(Envelope::with_meta(found.contacts, meta)))
}

async fn create(
    auth: RequireScope<ContactsWrite>,
    req: HttpRequest,
    payload: web::Payload,
    db: web::Data<Db>,
) -> Result<HttpResponse, actix_web::Error> {
    let body = json_body(&req, payload).await?;
    let new = NewContact::from_json(&body).map_err(ApiError::from)?;
    let workspace = auth.identity.workspace_id;
    let contact = db
        .write(move |conn| contacts::insert_contact(conn, workspace, &new, Timestamp::now()))
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/v1/contacts/{}", contact.id)))
        .json(Envelope::data(contact)))
}
