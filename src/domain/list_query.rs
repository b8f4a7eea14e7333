//! The query of `GET /v1/contacts`: which page, how large, and what to look for.

use super::field_error::has_control_chars;
use super::phone::is_separator;
use super::tags::fold_case;
use super::FieldError;

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;
pub const MAX_SEARCH_CHARS: usize = 200;

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub per_page: u32,
    pub search: Option<SearchTerm>,
}

impl ListQuery {
    /// Parses the raw query parameters. Absent means default; anything present must be
    /// well-formed, and the error names the parameter that is not.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        search: Option<&str>,
    ) -> Result<Self, FieldError> {
        let page = match page {
            None => 1,
            Some(raw) => parse_whole_number(raw)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    FieldError::invalid_param(
                        "page",
                        format!("page must be a whole number from 1 to {}", u32::MAX),
                    )
                })?,
        };
        let per_page = match per_page {
            None => DEFAULT_PER_PAGE,
            Some(raw) => parse_per_page(raw)?,
        };
        let search = search.map(SearchTerm::parse).transpose()?.flatten();
        Ok(Self {
            page,
            per_page,
            search,
        })
    }

    /// Rows to skip before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

/// Above the maximum is clamped rather than refused: a client asking for "as many as
/// you will give" gets the maximum, and `meta.per_page` tells it so.
fn parse_per_page(raw: &str) -> Result<u32, FieldError> {
    let is_digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match parse_whole_number(raw) {
        Some(0) => {}
        Some(n) => return Ok(n.min(u64::from(MAX_PER_PAGE)) as u32),
        // All digits but too large for u64: clamped like any other large number.
        None if is_digits => return Ok(MAX_PER_PAGE),
        None => {}
    }
    Err(FieldError::invalid_param(
        "per_page",
        format!(
            "per_page must be a whole number of at least 1 (at most {MAX_PER_PAGE} are returned)"
        ),
    ))
}

/// Plain ASCII digits only: no sign, no spaces, no exponent, no fraction.
fn parse_whole_number(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A search term, ready to be matched as a literal substring: `%` and `_` mean themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    folded: String,
    digits: Option<String>,
}

impl SearchTerm {
    /// A blank term means "no search": `Ok(None)`.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let term = raw.trim();
        if term.is_empty() {
            return Ok(None);
        }
        if term.chars().count() > MAX_SEARCH_CHARS {
            return Err(FieldError::invalid_param(
                "search",
                format!("search must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        if has_control_chars(term) {
            return Err(FieldError::invalid_param(
                "search",
                "search must not contain control characters",
            ));
        }
        Ok(Some(Self {
            folded: fold_case(term),
            digits: phone_digits(term),
        }))
    }

    /// The term case-folded, to match against case-folded names and emails.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// For a phone-like term ("+62 812", "812-34"), its digits, which is how stored
    /// numbers are matched whatever the client typed around them.
    pub fn phone_digits(&self) -> Option<&str> {
        self.digits.as_deref()
    }
}

fn phone_digits(term: &str) -> Option<String> {
    let phone_like = term
        .chars()
        .all(|c| c.is_ascii_digit() || c == '+' || is_separator(c));
    let digits: String = term.chars().filter(char::is_ascii_digit).collect();
    (phone_like && !digits.is_empty()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ValidationCode;

    fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<(u32, u32), Option<String>> {
        ListQuery::parse(page, per_page, None)
            .map(|q| (q.page, q.per_page))
            .map_err(|e| {
                assert_eq!(e.code, ValidationCode::InvalidParam);
                e.field
            })
    }

    #[test]
    fn defaults_are_page_1_of_20() {
        assert_eq!(parse(None, None), Ok((1, 20)));
    }

    #[test]
    fn per_page_above_the_maximum_is_clamped() {
        assert_eq!(parse(None, Some("100")), Ok((1, 100)));
        assert_eq!(parse(None, Some("101")), Ok((1, 100)));
        assert_eq!(parse(None, Some("99999999999999999999999")), Ok((1, 100)));
    }

    #[test]
    fn malformed_or_out_of_range_values_name_the_parameter() {
        for bad in ["0", "-1", "1.5", "abc", "", " 2", "+2", "1e2", "4294967296"] {
            assert_eq!(
                parse(Some(bad), None),
                Err(Some("page".into())),
                "page={bad:?}"
            );
        }
        for bad in ["0", "-1", "1.5", "abc", "", " 2", "+2", "00"] {
            assert_eq!(
                parse(None, Some(bad)),
                Err(Some("per_page".into())),
                "per_page={bad:?}"
            );
        }
    }

    #[test]
    fn offset_is_computed_without_overflow() {
        let q = ListQuery::parse(Some("4294967295"), Some("100"), None).unwrap();
        assert_eq!(q.offset(), 4_294_967_294 * 100);
    }

    #[test]
    fn search_is_trimmed_and_folded_and_blank_means_none() {
        let term = SearchTerm::parse("  HaFaRi ").unwrap().unwrap();
        assert_eq!(term.folded(), "hafari");
        assert_eq!(term.phone_digits(), None);
        assert_eq!(SearchTerm::parse("   ").unwrap(), None);
    }

    #[test]
    fn phone_like_terms_match_on_digits() {
        for (raw, digits) in [
            ("+62 812", "62812"),
            ("812-34", "81234"),
            ("(0812) 3", "08123"),
        ] {
            let term = SearchTerm::parse(raw).unwrap().unwrap();
            assert_eq!(term.phone_digits(), Some(digits), "term {raw:?}");
        }
        assert_eq!(
            SearchTerm::parse("+").unwrap().unwrap().phone_digits(),
            None
        );
        assert_eq!(
            SearchTerm::parse("budi 62")
                .unwrap()
                .unwrap()
                .phone_digits(),
            None
        );
    }

    #[test]
    fn overlong_or_control_character_searches_are_invalid() {
        assert!(SearchTerm::parse(&"a".repeat(MAX_SEARCH_CHARS + 1)).is_err());
        assert!(SearchTerm::parse("a\u{1f}b").is_err());
    }
}
