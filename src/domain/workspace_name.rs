//! Workspace names, as typed on the command line.

use std::sync::LazyLock;

use regex::Regex;

use super::FieldError;

static WORKSPACE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$").expect("workspace pattern compiles")
});

/// 1–63 characters of letters, digits, `.`, `_` and `-`, starting with a letter or
/// digit: safe in a shell, a file name and a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if WORKSPACE_NAME.is_match(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::invalid(
                "workspace",
                "a workspace name is 1 to 63 letters, digits, '.', '_' or '-', \
                 starting with a letter or digit",
            ))
        }
    }

    /// The workspace made on first start.
    pub fn default_workspace() -> Self {
        Self("default".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_accepted() {
        for name in ["default", "acme", "PT-ABC.jakarta_2", "a"] {
            assert!(WorkspaceName::parse(name).is_ok(), "name {name:?}");
        }
    }

    #[test]
    fn unsafe_or_empty_names_are_rejected() {
        let too_long = "a".repeat(64);
        for name in [
            "",
            " acme",
            "-acme",
            "ac me",
            "acme/x",
            "acme;rm",
            too_long.as_str(),
        ] {
            assert!(WorkspaceName::parse(name).is_err(), "name {name:?}");
        }
    }
}
