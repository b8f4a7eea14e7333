//! Gives every request an id, echoes it in `X-Request-Id`, and writes the one log line
//! per request. The client's own id is kept when it is sane, so its logs and ours meet.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use uuid::Uuid;

use crate::auth::Identity;
use crate::metrics::Metrics;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, for handlers and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The middleware function; register with `actix_web::middleware::from_fn`.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane(value))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // The path only: query strings carry search terms, which are customer data.
    let path = req.path().to_owned();

    let mut res = next.call(req).await?;

    let status = res.status().as_u16();
    if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
        let route = res.request().match_pattern();
        metrics.observe(
            route.as_deref().unwrap_or("unmatched"),
            method.as_str(),
            status,
            started.elapsed().as_secs_f64(),
        );
    }
    let key_id = res
        .request()
        .extensions()
        .get::<Identity>()
        .map(|i| i.key_id.clone());
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        key_id = key_id.as_deref().unwrap_or("-"),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(res)
}

/// 1–128 characters of letters, digits and `-_.:`: safe to echo and to log.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert!(is_sane("req-42_a.b:c"));
        assert!(is_sane(&"a".repeat(128)));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane("id with spaces"));
        assert!(!is_sane("id\r\nX-Injected: 1"));
    }
}
