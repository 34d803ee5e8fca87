//! Query strings as ASP.NET binds them: parameter names case-insensitive,
//! values parsed strictly with a message naming the parameter.

pub(crate) use openvbo_core::ids::truncate_for_message as shorten;
use uuid::Uuid;

use crate::error::ApiError;

pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("the query string is malformed: {e}")))
    }

    /// The last value given for `name`, if not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{name} must be an integer (got '{}')",
                        shorten(v)
                    ))
                })
            })
            .transpose()
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!(
                "{name} must be true or false (got '{}')",
                shorten(v)
            ))),
        }
    }

    pub(crate) fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.get(name)
            .map(|v| {
                Uuid::parse_str(v).map_err(|_| {
                    ApiError::bad_request(format!("{name} must be a UUID (got '{}')", shorten(v)))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_strict() {
        let q =
            QueryParams::parse(Some("Limit=5&OFFSET=2&setid=&extendedView=TRUE&x=1&x=2")).unwrap();
        assert_eq!(q.int("limit").unwrap(), Some(5));
        assert_eq!(q.int("offset").unwrap(), Some(2));
        assert_eq!(q.uuid("setId").unwrap(), None);
        assert_eq!(q.bool("extendedview").unwrap(), Some(true));
        assert_eq!(q.get("X"), Some("2"));
        let q = QueryParams::parse(Some("limit=ten&setId=nope&flag=yes")).unwrap();
        assert!(q.int("limit").is_err());
        assert!(q.uuid("setId").is_err());
        assert!(q.bool("flag").is_err());
    }
}
