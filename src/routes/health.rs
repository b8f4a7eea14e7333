//! `GET /healthz` (liveness: the process answers and the database answers a query)
//! and `GET /readyz` (readiness: the schema is this binary's and a write commits).
//! Neither needs a key.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::envelope::Envelope;
use super::resource;
use crate::error::ApiError;
use crate::storage::{maintenance, Db};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(healthz)));
    cfg.service(resource("/readyz").route(web::get().to(readyz)));
}

async fn healthz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    db.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::data(json!({"status": "ok"}))))
}

/// 503 when the database is read-only, full, locked past `busy_timeout`, or has
/// another schema version: the instance should get no traffic, but is alive.
async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    db.write(maintenance::check_ready)
        .await
        .map_err(|err| ApiError::Unavailable(err.to_string()))?;
    Ok(HttpResponse::Ok().json(Envelope::data(json!({"status": "ready"}))))
}
