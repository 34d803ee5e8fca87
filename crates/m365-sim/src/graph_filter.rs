//! The `$filter` expressions we simulate on `/users`:
//! `startswith(displayName,'x')` and `startswith(userPrincipalName,'x')`,
//! matched case-insensitively as Graph does. Anything else is refused.

use crate::graph_errors::GraphError;
use crate::tenant::User;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserProperty {
    DisplayName,
    UserPrincipalName,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UserFilter {
    property: UserProperty,
    /// Lower-cased.
    prefix: String,
}

impl UserFilter {
    pub(crate) fn parse(filter: &str) -> Result<Self, GraphError> {
        parse_startswith(filter).ok_or_else(|| {
            GraphError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified: '{filter}'."
            ))
        })
    }

    pub(crate) fn matches(&self, user: &User) -> bool {
        let value = match self.property {
            UserProperty::DisplayName => &user.display_name,
            UserProperty::UserPrincipalName => &user.user_principal_name,
        };
        starts_with_ignore_case(value, &self.prefix)
    }
}

fn parse_startswith(filter: &str) -> Option<UserFilter> {
    let rest = filter.trim();
    let (function, rest) = rest.split_at_checked("startswith(".len())?;
    if !function.eq_ignore_ascii_case("startswith(") {
        return None;
    }
    let (property, rest) = rest.split_once(',')?;
    let property = match property.trim() {
        p if p.eq_ignore_ascii_case("displayName") => UserProperty::DisplayName,
        p if p.eq_ignore_ascii_case("userPrincipalName") => UserProperty::UserPrincipalName,
        _ => return None,
    };
    let literal = rest.trim().strip_suffix(')')?.trim_end();
    let prefix = string_literal(literal)?;
    Some(UserFilter {
        property,
        prefix: prefix.to_lowercase(),
    })
}

/// An OData string literal: single quotes, `''` for a quote inside.
fn string_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A lone quote would have ended the literal.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// Without allocating: `value` lower-cased starts with `prefix` (already
/// lower-case).
fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    let mut value = value.chars().flat_map(char::to_lowercase);
    prefix.chars().all(|p| value.next() == Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(display_name: &str, upn: &str) -> User {
        User {
            display_name: display_name.to_owned(),
            user_principal_name: upn.to_owned(),
            ..User::default()
        }
    }

    #[test]
    fn startswith_on_both_properties() {
        let megan = user("Megan Bowen", "megan.bowen@contoso.com");
        let f = UserFilter::parse("startswith(displayName,'meg')").ok();
        assert!(f.is_some_and(|f| f.matches(&megan)));
        let f = UserFilter::parse(" StartsWith( userPrincipalName , 'MEGAN.' ) ").ok();
        assert!(f.is_some_and(|f| f.matches(&megan)));
        let f = UserFilter::parse("startswith(displayName,'bowen')").ok();
        assert!(f.is_some_and(|f| !f.matches(&megan)));
        let f = UserFilter::parse("startswith(displayName,'O''Brien')").ok();
        assert!(f.is_some_and(|f| f.matches(&user("O'Brien Pat", "p@x.com"))));
    }

    #[test]
    fn other_filters_are_refused() {
        for bad in [
            "displayName eq 'x'",
            "startswith(jobTitle,'x')",
            "startswith(displayName,x)",
            "startswith(displayName,'a'b')",
            "startswith(displayName,'x') or startswith(displayName,'y')",
            "endswith(displayName,'x')",
        ] {
            assert!(UserFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
