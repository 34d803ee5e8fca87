//! OData query options as Graph understands them for the endpoints we
//! simulate: `$top`, `$select`, `$filter` (see `graph_filter`), `$count`.

use axum::http::{HeaderMap, StatusCode};

use crate::graph_errors::GraphError;
use crate::graph_json::EntityKind;

pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 999;

/// Options we do not simulate are refused rather than silently ignored, so a
/// test never passes on results Graph would have shaped differently.
const UNSIMULATED_OPTIONS: [&str; 5] = ["$orderby", "$expand", "$search", "$skip", "$format"];

pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

/// Which properties to return.
pub(crate) enum Selection {
    Default,
    /// Canonical property names, in the caller's order.
    Fields(Vec<String>),
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// Query option names are case-insensitive in Graph.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Everything except the options named in `without`, for building links.
    pub(crate) fn pairs_without<'a>(
        &'a self,
        without: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.pairs
            .iter()
            .filter(move |(k, _)| !k.eq_ignore_ascii_case(without))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn reject_unsimulated(&self, filter_allowed: bool) -> Result<(), GraphError> {
        for (key, value) in &self.pairs {
            let refused = UNSIMULATED_OPTIONS
                .iter()
                .any(|o| o.eq_ignore_ascii_case(key))
                || (!filter_allowed && key.eq_ignore_ascii_case("$filter"));
            if refused {
                return Err(GraphError::unsupported_query(format!(
                    "Unsupported Query. The query option '{key}={value}' is not supported here."
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn top(&self) -> Result<usize, GraphError> {
        let Some(raw) = self.get("$top") else {
            return Ok(DEFAULT_PAGE_SIZE);
        };
        match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(GraphError::unsupported_query(format!(
                "Invalid page size specified: '{raw}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive."
            ))),
        }
    }

    /// `$select` checked against one entity type's properties.
    pub(crate) fn select(&self, kind: &EntityKind) -> Result<Selection, GraphError> {
        let Some(raw) = self.get("$select") else {
            return Ok(Selection::Default);
        };
        let mut fields = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let canonical = kind
                .properties
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        format!(
                            "Could not find a property named '{name}' on type '{}'.",
                            kind.type_name
                        ),
                    )
                })?;
            if !fields.iter().any(|f: &String| f == canonical) {
                fields.push((*canonical).to_owned());
            }
        }
        Ok(if fields.is_empty() {
            Selection::Default
        } else {
            Selection::Fields(fields)
        })
    }

    /// `$select` over a collection of mixed types (`memberOf`, `members`):
    /// each object keeps whichever of the named properties it has.
    pub(crate) fn loose_select(&self) -> Selection {
        match self.get("$select") {
            Some(raw) => {
                let fields: Vec<String> = raw
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
                if fields.is_empty() {
                    Selection::Default
                } else {
                    Selection::Fields(fields)
                }
            }
            None => Selection::Default,
        }
    }

    /// `$count=true` needs `ConsistencyLevel: eventual`, as on Graph.
    pub(crate) fn wants_count(&self, headers: &HeaderMap) -> Result<bool, GraphError> {
        match self.get("$count") {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => {
                let eventual = headers
                    .get("consistencylevel")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
                if eventual {
                    Ok(true)
                } else {
                    Err(GraphError::unsupported_query(
                        "$count is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
                    ))
                }
            }
            Some(v) => Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Invalid value '{v}' for $count; expected true or false."),
            )),
        }
    }
}

/// Recognises `resourceProvisioningOptions/Any(x:x eq 'Team')`, whatever
/// the case, spacing or lambda variable name.
pub(crate) fn is_team_filter(filter: &str) -> bool {
    let compact = filter.trim().to_ascii_lowercase();
    let Some(inner) = compact
        .strip_prefix("resourceprovisioningoptions/any(")
        .and_then(|s| s.strip_suffix(')'))
    else {
        return false;
    };
    let Some((var, condition)) = inner.split_once(':') else {
        return false;
    };
    let var = var.trim();
    let words: Vec<&str> = condition.split_whitespace().collect();
    !var.is_empty() && words == [var, "eq", "'team'"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_filter_variants() {
        assert!(is_team_filter(
            "resourceProvisioningOptions/Any(x:x eq 'Team')"
        ));
        assert!(is_team_filter(
            "resourceprovisioningoptions/any(p: p  eq 'team')"
        ));
        assert!(!is_team_filter(
            "resourceProvisioningOptions/Any(x:y eq 'Team')"
        ));
        assert!(!is_team_filter("displayName eq 'Team'"));
    }

    #[test]
    fn top_bounds() {
        let ok = Query::parse(Some("$top=999"));
        assert_eq!(ok.top().ok(), Some(999));
        for bad in ["$top=0", "$top=1000", "$top=abc", "$top=-1"] {
            assert!(Query::parse(Some(bad)).top().is_err(), "{bad}");
        }
        assert_eq!(Query::parse(None).top().ok(), Some(DEFAULT_PAGE_SIZE));
    }
}
