//! The success half of the envelope: `{"success": true, "data": …, "meta": …}`.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize, M: Serialize = ()> {
    success: bool,
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<M>,
}

impl<T: Serialize> Envelope<T> {
    pub fn data(data: T) -> Self {
        Self {
            success: true,
            data,
            meta: None,
        }
    }
}

impl<T: Serialize, M: Serialize> Envelope<T, M> {
    pub fn with_meta(data: T, meta: M) -> Self {
        Self {
            success: true,
            data,
            meta: Some(meta),
        }
    }
}

/// Pagination facts of a list response.
#[derive(Debug, Serialize)]
pub struct PageMeta {
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub has_more: bool,
}
