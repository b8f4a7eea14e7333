//! Reports a key's rate-limit standing on every authenticated response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::RateStatus;

/// Adds `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds until the full
/// allowance is back) when the request was counted against a key's limit; register
/// with `actix_web::middleware::from_fn`. The standing is recorded by the
/// `RequireScope` extractor, which is where a request becomes a key's request.
pub async fn rate_limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let status = res.request().extensions().get::<RateStatus>().copied();
    if let Some(status) = status {
        let headers = res.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", u64::from(status.limit)),
            ("x-ratelimit-remaining", u64::from(status.remaining)),
            ("x-ratelimit-reset", status.reset_secs),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    Ok(res)
}
