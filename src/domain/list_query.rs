//! The query of `GET /v1/contacts`: which page, how large, what to look for, in what
//! order.

use super::field_error::has_control_chars;
use super::phone::is_separator;
use super::tags::{fold_case, MAX_TAGS};
use super::{FieldError, PhoneRules, Tag, Timestamp};

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;
pub const MAX_SEARCH_CHARS: usize = 200;

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    NewestFirst,
    OldestFirst,
    RecentlyUpdatedFirst,
    LeastRecentlyUpdatedFirst,
    NameAscending,
    NameDescending,
}

impl SortOrder {
    /// How many orders there are: each order `as usize` is below this (the assertion
    /// after this block holds it to the last variant).
    pub const COUNT: usize = 6;
    pub const CHOICES: &'static str =
        "created_at, -created_at, updated_at, -updated_at, name or -name";

    fn parse(raw: &str) -> Result<Self, FieldError> {
        Ok(match raw {
            "-created_at" => Self::NewestFirst,
            "created_at" => Self::OldestFirst,
            "-updated_at" => Self::RecentlyUpdatedFirst,
            "updated_at" => Self::LeastRecentlyUpdatedFirst,
            "name" => Self::NameAscending,
            "-name" => Self::NameDescending,
            _ => {
                return Err(FieldError::invalid_param(
                    "sort",
                    format!("sort must be one of {}", Self::CHOICES),
                ))
            }
        })
    }
}

const _: () = assert!(SortOrder::NameDescending as usize + 1 == SortOrder::COUNT);

/// Which contacts a list selects, besides the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub search: Option<SearchTerm>,
    /// Case-folded tag keys; a contact must carry all of them.
    pub tag_keys: Vec<String>,
    pub updated_since: Option<Timestamp>,
    pub created_since: Option<Timestamp>,
    /// Also list contacts deleted since `updated_since`, as tombstones.
    pub include_deleted: bool,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub per_page: u32,
    pub filter: ListFilter,
    pub sort: SortOrder,
}

impl ListQuery {
    /// Parses decoded query pairs. Absent means default; anything present must be
    /// well-formed and given once (`tag` may repeat), and an error names the parameter.
    /// Parameters the list does not know are ignored, as HTTP APIs do (think of a
    /// cache-busting `_=123`).
    pub fn from_pairs(pairs: &[(String, String)], rules: &PhoneRules) -> Result<Self, FieldError> {
        let single = |name: &str| -> Result<Option<&str>, FieldError> {
            let mut values = pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            let first = values.next();
            if values.next().is_some() {
                return Err(FieldError::invalid_param(
                    name,
                    format!("{name} may be given only once"),
                ));
            }
            Ok(first)
        };
        let updated_since = single("updated_since")?
            .map(|raw| parse_since("updated_since", raw))
            .transpose()?;
        let include_deleted = parse_include_deleted(single("include_deleted")?, &updated_since)?;
        Ok(Self {
            page: single("page")?.map(parse_page).transpose()?.unwrap_or(1),
            per_page: single("per_page")?
                .map(parse_per_page)
                .transpose()?
                .unwrap_or(DEFAULT_PER_PAGE),
            sort: single("sort")?
                .map(SortOrder::parse)
                .transpose()?
                .unwrap_or_default(),
            filter: ListFilter {
                search: single("search")?
                    .map(|raw| SearchTerm::parse(raw, rules))
                    .transpose()?
                    .flatten(),
                tag_keys: tag_keys(pairs)?,
                updated_since,
                created_since: single("created_since")?
                    .map(|raw| parse_since("created_since", raw))
                    .transpose()?,
                include_deleted,
            },
        })
    }

    /// Rows to skip before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

fn parse_page(raw: &str) -> Result<u32, FieldError> {
    parse_whole_number(raw)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            FieldError::invalid_param(
                "page",
                format!("page must be a whole number from 1 to {}", u32::MAX),
            )
        })
}

fn parse_include_deleted(
    raw: Option<&str>,
    updated_since: &Option<Timestamp>,
) -> Result<bool, FieldError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") if updated_since.is_some() => Ok(true),
        Some("true") => Err(FieldError::invalid_param(
            "include_deleted",
            "include_deleted=true needs updated_since: deletions are reported as a feed of \
             changes since a time",
        )),
        Some(_) => Err(FieldError::invalid_param(
            "include_deleted",
            "include_deleted must be true or false",
        )),
    }
}

fn parse_since(param: &str, raw: &str) -> Result<Timestamp, FieldError> {
    Timestamp::parse(raw).ok_or_else(|| {
        FieldError::invalid_param(
            param,
            format!("{param} must be an RFC 3339 time such as 2026-01-15T10:30:00Z"),
        )
    })
}

/// Every `tag` parameter, validated like a contact's tags, as case-folded keys.
fn tag_keys(pairs: &[(String, String)]) -> Result<Vec<String>, FieldError> {
    let mut keys: Vec<String> = Vec::new();
    for (_, raw) in pairs.iter().filter(|(k, _)| k == "tag") {
        let tag =
            Tag::parse(raw, "tag").map_err(|e| FieldError::invalid_param("tag", e.message))?;
        if !keys.iter().any(|k| k == tag.key()) {
            keys.push(tag.key().to_owned());
        }
        if keys.len() > MAX_TAGS {
            return Err(FieldError::invalid_param(
                "tag",
                format!("at most {MAX_TAGS} tag filters"),
            ));
        }
    }
    Ok(keys)
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
    pub fn parse(raw: &str, rules: &PhoneRules) -> Result<Option<Self>, FieldError> {
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
            digits: phone_digits(term).map(|digits| rules.localise(&digits)),
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

    fn strict() -> PhoneRules {
        PhoneRules::default()
    }

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn from_query(query: &str) -> Result<ListQuery, Option<String>> {
        ListQuery::from_pairs(&pairs(query), &strict()).map_err(|e| e.field)
    }

    #[test]
    fn filters_and_sort_parse() {
        let q =
            from_query("tag=VIP&tag=lead&tag=vip&sort=-name&updated_since=2026-01-15T10:30:00Z")
                .unwrap();
        assert_eq!(q.filter.tag_keys, ["vip", "lead"]);
        assert_eq!(q.sort, SortOrder::NameDescending);
        assert!(q.filter.updated_since.is_some());
        assert!(!q.filter.include_deleted);
    }

    #[test]
    fn bad_filters_name_their_parameter() {
        for (query, param) in [
            ("sort=age", "sort"),
            ("sort=", "sort"),
            ("updated_since=yesterday", "updated_since"),
            ("created_since=2026-01-15", "created_since"),
            ("include_deleted=true", "include_deleted"),
            (
                "include_deleted=yes&updated_since=2026-01-15T10:30:00Z",
                "include_deleted",
            ),
            ("tag=", "tag"),
            ("tag=   ", "tag"),
            ("page=1&page=2", "page"),
            ("search=a&search=b", "search"),
        ] {
            assert_eq!(
                from_query(query).unwrap_err(),
                Some(param.to_owned()),
                "query {query}"
            );
        }
    }

    #[test]
    fn include_deleted_goes_with_updated_since() {
        let q = from_query("include_deleted=true&updated_since=2026-01-15T10:30:00Z").unwrap();
        assert!(q.filter.include_deleted);
    }

    #[test]
    fn a_local_search_term_is_read_with_the_default_country_code() {
        let rules = PhoneRules::with_default_country_code("62").unwrap();
        let term = SearchTerm::parse("0812-3456", &rules).unwrap().unwrap();
        assert_eq!(term.phone_digits(), Some("628123456"));
    }

    fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<(u32, u32), Option<String>> {
        let mut pairs = Vec::new();
        if let Some(page) = page {
            pairs.push(("page".to_owned(), page.to_owned()));
        }
        if let Some(per_page) = per_page {
            pairs.push(("per_page".to_owned(), per_page.to_owned()));
        }
        ListQuery::from_pairs(&pairs, &strict())
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
        let q = from_query("page=4294967295&per_page=100").unwrap();
        assert_eq!(q.offset(), 4_294_967_294 * 100);
    }

    #[test]
    fn search_is_trimmed_and_folded_and_blank_means_none() {
        let term = SearchTerm::parse("  HaFaRi ", &strict()).unwrap().unwrap();
        assert_eq!(term.folded(), "hafari");
        assert_eq!(term.phone_digits(), None);
        assert_eq!(SearchTerm::parse("   ", &strict()).unwrap(), None);
    }

    #[test]
    fn phone_like_terms_match_on_digits() {
        for (raw, digits) in [
            ("+62 812", "62812"),
            ("812-34", "81234"),
            ("(0812) 3", "08123"),
        ] {
            let term = SearchTerm::parse(raw, &strict()).unwrap().unwrap();
            assert_eq!(term.phone_digits(), Some(digits), "term {raw:?}");
        }
        assert_eq!(
            SearchTerm::parse("+", &strict())
                .unwrap()
                .unwrap()
                .phone_digits(),
            None
        );
        assert_eq!(
            SearchTerm::parse("budi 62", &strict())
                .unwrap()
                .unwrap()
                .phone_digits(),
            None
        );
    }

    #[test]
    fn overlong_or_control_character_searches_are_invalid() {
        assert!(SearchTerm::parse(&"a".repeat(MAX_SEARCH_CHARS + 1), &strict()).is_err());
        assert!(SearchTerm::parse("a\u{1f}b", &strict()).is_err());
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    const NAMES: [&str; 10] = [
        "page",
        "per_page",
        "search",
        "tag",
        "sort",
        "updated_since",
        "created_since",
        "include_deleted",
        "_",
        "",
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9]{0,25}",
            "-?[0-9]{1,3}",
            "(true|false|created_at|-name|name)",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
            "9999-12-31T23:59:59(Z|-[0-9]{2}:[0-9]{2})",
            "0000-01-01T00:00:00(Z|\\+[0-9]{2}:[0-9]{2})",
        ]
    }

    fn pair() -> impl Strategy<Value = (String, String)> {
        (
            prop_oneof![
                prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned),
                any::<String>()
            ],
            value(),
        )
    }

    proptest! {
        #[test]
        fn from_pairs_never_panics_and_accepted_pages_are_in_range(
            pairs in prop::collection::vec(pair(), 0..8),
        ) {
            for rules in [PhoneRules::default(), PhoneRules::with_default_country_code("62").unwrap()] {
                if let Ok(query) = ListQuery::from_pairs(&pairs, &rules) {
                    prop_assert!((1..=MAX_PER_PAGE).contains(&query.per_page));
                    prop_assert!(query.page >= 1);
                    prop_assert!(query.filter.tag_keys.len() <= MAX_TAGS);
                    let _ = query.offset();
                }
            }
        }
    }
}
