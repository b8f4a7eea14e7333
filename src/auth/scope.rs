//! What a key may do.

use std::fmt;

/// A permission carried by an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    ContactsRead,
    ContactsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::ContactsRead, Scope::ContactsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContactsRead => "contacts:read",
            Self::ContactsWrite => "contacts:write",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of scopes of one key, kept in storage as space-separated names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses a list as typed on the command line: separated by commas or spaces.
    /// Unknown names are an error that lists the known ones.
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let mut scopes = Vec::new();
        for name in text.split([',', ' ']).filter(|s| !s.is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope {name:?}; known scopes: {}", known.join(", "))
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("at least one scope is required".into());
        }
        Ok(Self(scopes))
    }

    /// Reads the stored form. A name this binary does not know grants nothing.
    pub fn from_stored(text: &str) -> Self {
        Self(text.split(' ').filter_map(Scope::parse).collect())
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn all() -> Self {
        Self(Scope::ALL.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_with_commas_or_spaces_and_drop_repeats() {
        let scopes = Scopes::parse_list("contacts:read, contacts:write,contacts:read").unwrap();
        assert_eq!(scopes.to_stored(), "contacts:read contacts:write");
    }

    #[test]
    fn unknown_or_empty_lists_are_errors() {
        assert!(Scopes::parse_list("contacts:delete")
            .unwrap_err()
            .contains("known scopes"));
        assert!(Scopes::parse_list(" , ").is_err());
    }

    #[test]
    fn stored_form_round_trips_and_ignores_unknown_names() {
        let scopes = Scopes::from_stored("contacts:read admin:everything");
        assert!(scopes.contains(Scope::ContactsRead));
        assert!(!scopes.contains(Scope::ContactsWrite));
        assert_eq!(
            Scopes::from_stored(&Scopes::all().to_stored()),
            Scopes::all()
        );
    }
}
