//! `GET /v1/tags`: the workspace's tags with how many contacts carry each.

use actix_web::{web, HttpResponse};

use super::envelope::Envelope;
use super::resource;
use crate::auth::{ContactsRead, RequireScope};
use crate::error::ApiError;
use crate::storage::{tags, Db};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v1/tags").route(web::get().to(list)));
}

async fn list(
    auth: RequireScope<ContactsRead>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let tags = auth.identity.read(&db, tags::list_tags).await?;
    Ok(HttpResponse::Ok().json(Envelope::data(tags)))
}
