//! The extractors handlers use to state what they need: `RequireScope<ContactsWrite>`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::identity::Identity;
use super::key::PresentedKey;
use super::rate_limit::KeyRateLimiter;
use super::verifier::KeyVerifier;
use super::Scope;
use crate::error::ApiError;

/// A scope a handler can require, as a type.
pub trait RequiredScope {
    const SCOPE: Scope;
}

pub struct ContactsRead;
impl RequiredScope for ContactsRead {
    const SCOPE: Scope = Scope::ContactsRead;
}

pub struct ContactsWrite;
impl RequiredScope for ContactsWrite {
    const SCOPE: Scope = Scope::ContactsWrite;
}

/// An authenticated caller whose key carries scope `S`.
pub struct RequireScope<S: RequiredScope> {
    pub identity: Identity,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequest for RequireScope<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let identity = authenticate(&req).await?;
            // Recorded for the request log: which key made this request (never the key).
            req.extensions_mut().insert(identity.clone());
            count_request(&req, &identity.key_id)?;
            if !identity.scopes.contains(S::SCOPE) {
                return Err(ApiError::InsufficientScope(S::SCOPE.as_str()));
            }
            Ok(Self {
                identity,
                _scope: PhantomData,
            })
        })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<Identity, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::MissingKey)?;
    let text = header.to_str().map_err(|_| ApiError::InvalidKey)?.trim();
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    let token = token.trim();
    if text.is_empty() || (scheme.eq_ignore_ascii_case("bearer") && token.is_empty()) {
        return Err(ApiError::MissingKey);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::InvalidKey);
    }
    let presented = PresentedKey::parse(token).ok_or(ApiError::InvalidKey)?;
    let verifier = req
        .app_data::<web::Data<KeyVerifier>>()
        .ok_or_else(|| ApiError::internal("KeyVerifier is not registered"))?;
    // The TCP peer, not X-Forwarded-For: a header is the client's to forge.
    let client = req.peer_addr().map(|addr| addr.ip());
    verifier.verify(presented, client).await
}

/// Counts the request against the key's rate limit. The standing goes into the
/// request's extensions, where the `rate_limit_headers` middleware reports it, on a
/// 429 as on any other answer.
fn count_request(req: &HttpRequest, key_id: &str) -> Result<(), ApiError> {
    let Some(limiter) = req.app_data::<web::Data<KeyRateLimiter>>() else {
        return Ok(());
    };
    match limiter.check(key_id) {
        Ok(None) => Ok(()),
        Ok(Some(status)) => {
            req.extensions_mut().insert(status);
            Ok(())
        }
        Err(over) => {
            req.extensions_mut().insert(over.status);
            Err(over.into())
        }
    }
}
