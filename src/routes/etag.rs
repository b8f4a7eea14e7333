//! ETags of single contacts, and the `If-Match` precondition.

use actix_web::http::header::{HeaderValue, IF_MATCH};
use actix_web::HttpRequest;

use crate::domain::IfMatch;

/// The strong ETag of a contact at `version`.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// Reads `If-Match`. Absent allows anything; `*` needs the resource to exist; otherwise
/// a list of ETags, compared strongly (a weak or malformed one matches nothing).
pub fn if_match(req: &HttpRequest) -> IfMatch {
    let values: Vec<&HeaderValue> = req.headers().get_all(IF_MATCH).collect();
    if values.is_empty() {
        return IfMatch::Anything;
    }
    let tags: Vec<&str> = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if tags.contains(&"*") {
        return IfMatch::AnyVersion;
    }
    IfMatch::Versions(tags.iter().filter_map(|tag| parse_strong(tag)).collect())
}

fn parse_strong(tag: &str) -> Option<i64> {
    tag.strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_match_reads_lists_stars_and_ignores_weak_tags() {
        let req = |value: &str| {
            TestRequest::default()
                .insert_header((IF_MATCH, value))
                .to_http_request()
        };
        assert_eq!(
            if_match(&TestRequest::default().to_http_request()),
            IfMatch::Anything
        );
        assert_eq!(if_match(&req("*")), IfMatch::AnyVersion);
        assert_eq!(
            if_match(&req("\"v3\", \"v5\"")),
            IfMatch::Versions(vec![3, 5])
        );
        assert_eq!(if_match(&req("W/\"v3\"")), IfMatch::Versions(vec![]));
        assert_eq!(if_match(&req("garbage")), IfMatch::Versions(vec![]));
        assert_eq!(etag(7), "\"v7\"");
        assert_eq!(parse_strong(&etag(42)), Some(42));
    }
}
