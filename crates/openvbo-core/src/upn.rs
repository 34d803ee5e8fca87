//! User principal names (`admin@contoso.onmicrosoft.com`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::truncate_for_message;

/// A syntactically valid Microsoft Entra user principal name.
///
/// Entra compares UPNs case-insensitively; the spelling the administrator
/// gave is kept for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Upn(String);

impl Upn {
    /// Entra limits a UPN to 113 characters (64 before the `@`, 48 after).
    const MAX_LEN: usize = 113;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > Self::MAX_LEN {
            return Err(format!(
                "is too long ({} characters; Microsoft Entra allows at most {})",
                s.len(),
                Self::MAX_LEN
            ));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(format!(
                "'{}' is not a user principal name: expected the form user@tenant.onmicrosoft.com",
                truncate_for_message(s)
            ));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+&".contains(c));
        let domain_ok = domain.len() <= 255
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(format!(
                "'{}' is not a user principal name: expected the form user@tenant.onmicrosoft.com",
                truncate_for_message(s)
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`: the tenant domain to sign in to.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    pub fn same_account(&self, other: &Upn) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl TryFrom<String> for Upn {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Upn> for String {
    fn from(value: Upn) -> Self {
        value.0
    }
}

impl fmt::Display for Upn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_upns_and_keeps_spelling() {
        let upn = Upn::parse(" Admin@Contoso.onmicrosoft.com ").unwrap();
        assert_eq!(upn.as_str(), "Admin@Contoso.onmicrosoft.com");
        assert_eq!(upn.domain(), "Contoso.onmicrosoft.com");
        assert!(upn.same_account(&Upn::parse("admin@contoso.onmicrosoft.com").unwrap()));
    }

    #[test]
    fn rejects_what_entra_would_never_accept() {
        for bad in [
            "",
            "admin",
            "@contoso.com",
            "admin@",
            "admin@localhost",
            "ad min@contoso.com",
            "admin@contoso..com",
            "admin@-contoso.com",
            ".admin@contoso.com",
            "a@b@contoso.com",
        ] {
            assert!(Upn::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Upn::parse(&format!("{}@contoso.com", "a".repeat(120))).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_what_parses_has_a_domain(raw in ".{0,140}") {
            if let Ok(upn) = Upn::parse(&raw) {
                proptest::prop_assert!(upn.domain().contains('.'));
                proptest::prop_assert!(upn.as_str().len() <= 113);
                proptest::prop_assert_eq!(Upn::parse(upn.as_str()), Ok(upn.clone()));
            }
        }
    }
}
