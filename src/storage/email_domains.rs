//! Searches for an email domain ("@ptabc.co.id", "yahoo.co.id") counted without
//! checking each match against its text.
//!
//! The trigram index finds such a term's candidates, and a search checks each one
//! against its row: at a million contacts the bench's "@ptabc.co.id" has 8,669 of
//! them, and seeking each one's row was about three quarters of the search's time
//! (bench/ANALYSIS.md). Yet every contact whose email is at that domain holds the
//! term by construction. So each contact's email domain is kept, with its workspace,
//! as one token of the `search_tokens` index (search_tokens.rs): a search for a domain
//! takes those rows as matches outright and checks only the other candidates.

use super::contacts::SEARCH_SEPARATOR;
use super::WorkspaceId;

/// Starts every domain token. None of its letters is a hex digit, so no span's token
/// (space_spans.rs) is ever one.
const TOKEN_MARK: &str = "mx";

/// The token of a domain in a workspace: both hex-encoded after [`TOKEN_MARK`], so that
/// it is one token of the ascii tokenizer whatever they hold.
fn token(workspace: WorkspaceId, domain: &str) -> String {
    format!(
        "{TOKEN_MARK}{}",
        hex::encode(format!("{}@{domain}", workspace.0))
    )
}

/// A domain token as a person reads it ("ptabc.co.id in workspace 1"), for messages;
/// the token itself if it is not one.
pub fn described(token: &str) -> String {
    let decoded = (token.strip_prefix(TOKEN_MARK))
        .and_then(|hex| hex::decode(hex).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|text| text.split_once('@')) {
        Some((workspace, domain)) => format!("{domain} in workspace {workspace}"),
        None => token.to_owned(),
    }
}

/// The domain token of a contact's queued text (its folded name, email and phone
/// digits, in that order, joined by the field separator): `None` without an email.
pub fn domain_token(workspace: WorkspaceId, text: &str) -> Option<String> {
    // The email is the second field from the end: a name never holds the separator,
    // and reading from the end would not trust it to anyway.
    let email = text.rsplit(SEARCH_SEPARATOR).nth(1)?;
    let (_, domain) = email.rsplit_once('@')?;
    (!domain.is_empty()).then(|| token(workspace, domain))
}

/// The full-text query that finds the rows of `workspace` whose email is at the domain
/// that a case-folded search `term` names, with or without its "@": each of them holds
/// the term. `None` when the term cannot be a whole domain (an email's has a dot, and
/// letters, digits, dots and hyphens only), as a name or a phone number cannot.
#[cfg(test)]
pub fn domain_query(workspace: WorkspaceId, term: &str) -> Option<String> {
    term_domain_token(workspace, term).map(|token| super::trigrams::quoted(&token))
}

/// The token whose rows [`domain_query`] finds, as the index's vocabulary holds it.
pub fn term_domain_token(workspace: WorkspaceId, term: &str) -> Option<String> {
    let domain = term.strip_prefix('@').unwrap_or(term);
    let domain_like = domain.contains('.')
        && (domain.chars())
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    domain_like.then(|| token(workspace, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: WorkspaceId = WorkspaceId(3);

    #[test]
    fn a_contacts_token_is_its_emails_domain_in_its_workspace() {
        let token = domain_token(WS, "budi\u{1f}budi.s@ptabc.co.id\u{1f}62811").unwrap();
        assert_eq!(token, self::token(WS, "ptabc.co.id"));
        assert_ne!(token, self::token(WorkspaceId(4), "ptabc.co.id"));
        assert!(
            token.chars().all(|c| c.is_ascii_alphanumeric()),
            "one token"
        );
        assert!(
            domain_token(WS, "budi\u{1f}\u{1f}62811").is_none(),
            "no email"
        );
        assert!(
            domain_token(WS, "\u{1f}a@b.id\u{1f}").is_some(),
            "no name nor phone"
        );
    }

    #[test]
    fn a_term_names_a_domain_with_or_without_its_at_sign() {
        let expected = format!("\"{}\"", token(WS, "ptabc.co.id"));
        assert_eq!(domain_query(WS, "@ptabc.co.id").unwrap(), expected);
        assert_eq!(domain_query(WS, "ptabc.co.id").unwrap(), expected);
        assert!(
            domain_query(WS, "budi@ptabc.co.id").is_none(),
            "a whole address"
        );
        assert!(domain_query(WS, "@").is_none());
        assert!(domain_query(WS, "budi santoso").is_none(), "a name");
        assert!(domain_query(WS, "62811").is_none(), "a phone number");
        assert!(domain_query(WS, "b.santoso\u{1f}ptabc.id").is_none());
    }

    #[test]
    fn a_token_is_described_by_its_domain_and_workspace() {
        assert_eq!(
            described(&token(WS, "ptabc.co.id")),
            "ptabc.co.id in workspace 3"
        );
        assert_eq!(described("mxzz"), "mxzz");
    }

    #[test]
    fn a_domain_token_never_looks_like_a_span() {
        let span = super::super::space_spans::span_tokens("budi sant")
            .next()
            .unwrap();
        assert!(span.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!token(WS, "x.id").chars().all(|c| c.is_ascii_hexdigit()));
    }
}
