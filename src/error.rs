//! `ApiError`: everything a request can fail with, and the one place that turns it into
//! the `{"success": false, "error": …}` envelope. actix's own rejections (bad JSON, bad
//! query, unknown route) are routed through here too.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::{FieldError, ValidationCode};
use crate::storage::StorageError;

/// An error a client can act on. `Internal` hides its cause from the client and logs it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(FieldError),
    #[error("missing API key")]
    MissingKey,
    #[error("invalid API key")]
    InvalidKey,
    #[error("this key lacks the {0} scope")]
    InsufficientScope(&'static str),
    #[error("no such route")]
    RouteNotFound,
    #[error("resource not found")]
    ResourceNotFound,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("idempotency key reused for a different request")]
    IdempotencyKeyReused,
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("resource already exists: {message}")]
    AlreadyExists {
        field: Option<&'static str>,
        message: String,
        details: Option<Map<String, Value>>,
    },
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The key has used its `rate_limit_per_minute`.
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    /// The CORS layer refused a cross-origin request (a preflight from an origin, with
    /// a method or with headers that are not allowed).
    #[error("CORS rejected: {0}")]
    CorsRejected(String),
    /// Too many failed key checks for this key id or client address.
    #[error("too many authentication attempts")]
    AuthThrottled { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable machine-readable code of the envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(err) => err.code.as_str(),
            Self::MissingKey => "AUTH_MISSING_KEY",
            Self::InvalidKey => "AUTH_INVALID_KEY",
            Self::InsufficientScope(_) => "AUTH_INSUFFICIENT_SCOPE",
            Self::RouteNotFound => "NOT_FOUND",
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            Self::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            Self::AlreadyExists { .. } => "RESOURCE_ALREADY_EXISTS",
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
            Self::CorsRejected(_) => "CORS_REJECTED",
            Self::AuthThrottled { .. } => "AUTH_TOO_MANY_ATTEMPTS",
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// What the client reads. Never the cause of an internal error.
    fn public_message(&self) -> String {
        match self {
            Self::Validation(err) => err.message.clone(),
            Self::MissingKey => {
                "an API key is required: send 'Authorization: Bearer chatera_sk_…'".into()
            }
            // One message for unknown, wrong and revoked keys alike.
            Self::InvalidKey => "the API key is invalid or has been revoked".into(),
            Self::InsufficientScope(scope) => {
                format!("this API key does not have the {scope} scope; create a key with it")
            }
            Self::RouteNotFound => "no such endpoint".into(),
            // The same words whether the id is malformed, unknown, or another
            // workspace's: nothing tells a client that an id exists elsewhere.
            Self::ResourceNotFound => "no contact with this id or phone in this workspace".into(),
            Self::PreconditionFailed => {
                "the contact has changed since the ETag in If-Match; read it again and retry".into()
            }
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was already used for a different request".into()
            }
            Self::IdempotencyKeyInUse => {
                "a request with this Idempotency-Key is still being processed; retry shortly".into()
            }
            Self::MethodNotAllowed { .. } => "this endpoint does not accept that method".into(),
            Self::AlreadyExists { message, .. } => message.clone(),
            Self::PayloadTooLarge { limit } => {
                format!("the request body is larger than the limit of {limit} bytes")
            }
            Self::UnsupportedMediaType => {
                "the request body must be JSON, sent with 'Content-Type: application/json'".into()
            }
            Self::RequestTimeout => {
                "the request body did not arrive in time; send it without pausing".into()
            }
            Self::Unavailable(_) => {
                "the service is busy or its database cannot be written right now; retry shortly"
                    .into()
            }
            Self::RateLimited { retry_after_secs } => {
                format!("this API key has made too many requests; retry in {retry_after_secs} s")
            }
            Self::CorsRejected(reason) => {
                format!("this cross-origin request is not allowed: {reason}")
            }
            Self::AuthThrottled { retry_after_secs } => {
                format!("too many attempts with invalid API keys; retry in {retry_after_secs} s")
            }
            Self::Internal(_) => "internal error".into(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Validation(err) => err.field.as_deref(),
            Self::AlreadyExists { field, .. } => *field,
            _ => None,
        }
    }

    fn details(&self) -> Option<&Map<String, Value>> {
        match self {
            Self::AlreadyExists { details, .. } => details.as_ref(),
            _ => None,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::Validation(err)
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::DuplicatePhone { existing_id } => Self::AlreadyExists {
                field: Some("phone"),
                message: "a contact with this phone number already exists in this workspace".into(),
                details: Some(Map::from_iter([(
                    "existing_id".to_owned(),
                    Value::String(existing_id.to_string()),
                )])),
            },
            StorageError::NotFound => Self::ResourceNotFound,
            StorageError::PreconditionFailed => Self::PreconditionFailed,
            StorageError::Invalid(err) => Self::Validation(err),
            StorageError::Busy(cause) => Self::Unavailable(cause),
            StorageError::ReadOnly(cause) => Self::Unavailable(cause),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    success: bool,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Map<String, Value>>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::CorsRejected(_) => StatusCode::BAD_REQUEST,
            Self::MissingKey | Self::InvalidKey => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::RouteNotFound | Self::ResourceNotFound => StatusCode::NOT_FOUND,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyKeyInUse => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::AlreadyExists { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } | Self::AuthThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::MissingKey | Self::InvalidKey) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header(("Allow", *allow));
        }
        match self {
            Self::Unavailable(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            Self::RateLimited { retry_after_secs } | Self::AuthThrottled { retry_after_secs } => {
                response.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(ErrorEnvelope {
            success: false,
            error: ErrorBody {
                code: self.code(),
                message: self.public_message(),
                field: self.field(),
                details: self.details(),
            },
        })
    }
}

/// Configures actix's query and path extractors so that their rejections speak the
/// envelope instead of actix's plain-text defaults.
pub fn extractor_configs() -> (web::QueryConfig, web::PathConfig) {
    let query = web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::Validation(FieldError::whole(
            ValidationCode::InvalidParam,
            format!("the query string could not be read: {err}"),
        ))
        .into()
    });
    let path =
        web::PathConfig::default().error_handler(|_err, _req| ApiError::ResourceNotFound.into());
    (query, path)
}
