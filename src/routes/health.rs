//! `GET /healthz`: no auth; 200 when the database answers a query.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::envelope::Envelope;
use super::method_not_allowed;
use crate::error::ApiError;
use crate::storage::Db;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::get().to(healthz))
            .default_service(web::to(|| method_not_allowed("GET"))),
    );
}

async fn healthz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    db.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::data(json!({"status": "ok"}))))
}
