//! Typed identifiers: a value that parsed once is never re-checked.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of an organization added to openvbo (the `id` of `RestOrganizationComposed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganizationId(Uuid);

impl OrganizationId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for OrganizationId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lower case, as Veeam prints ids.
        self.0.hyphenated().fmt(f)
    }
}

/// The text was not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a valid identifier: expected a UUID such as 7f9a9b85-50e7-4f61-8f76-6a9517b8677d"
)]
pub struct MalformedId(pub String);

impl FromStr for OrganizationId {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Uuid::parse_str also accepts braced and URN forms, like .NET's Guid.Parse.
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| MalformedId(truncate_for_message(s)))
    }
}

/// Echoing attacker-sized input back in an error message helps nobody: at
/// most 64 characters of it, marked when cut.
pub fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_lower_case_hyphenated() {
        let id: OrganizationId = "7F9A9B85-50E7-4F61-8F76-6A9517B8677D".parse().unwrap();
        assert_eq!(id.to_string(), "7f9a9b85-50e7-4f61-8f76-6a9517b8677d");
    }

    #[test]
    fn rejects_garbage_with_a_bounded_message() {
        let long = "x".repeat(10_000);
        let err = long.parse::<OrganizationId>().unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
        assert!("not-a-uuid".parse::<OrganizationId>().is_err());
    }
}
