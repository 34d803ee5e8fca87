//! Request bodies the way ASP.NET reads them: property names and enum values
//! match case-insensitively, unknown properties are ignored. Everything else
//! is strict: malformed JSON, wrong types and oversized bodies are refused
//! with a `{"message"}` that says where.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest request body accepted.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body deserialized case-insensitively.
pub(crate) struct LenientJson<T>(pub T);

impl<T, S> FromRequest<S> for LenientJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::BadRequest(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_value(&bytes)
            .and_then(|v| from_value(&v))
            .map(LenientJson)
    }
}

pub(crate) fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json"
                || (m.starts_with("application/") && m.ends_with("+json"))
                || m == "text/json"
        })
}

pub(crate) async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        let status = rejection.status();
        if crate::deadline::is_too_slow(&rejection) {
            ApiError::BadRequest(
                StatusCode::REQUEST_TIMEOUT,
                "the request body took too long to arrive".to_owned(),
            )
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BadRequest(
                status,
                format!(
                    "the request body is too large (the limit is {} KiB)",
                    BODY_LIMIT / 1024
                ),
            )
        } else {
            ApiError::BadRequest(
                status,
                format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                ),
            )
        }
    })
}

pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is required",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON (line {}, column {}): {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })
}

/// serde_json appends " at line L column C"; we say it first.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

/// Deserializes `value` into `T`, matching names case-insensitively; the
/// error names the property path.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(CaseInsensitive(value)).map_err(|e| {
        let path = e.path().to_string();
        let inner = strip_position(&e.inner().to_string()).to_owned();
        if path == "." || path.is_empty() {
            ApiError::bad_request(format!("the request body is invalid: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

/// Builds a JSON object from form fields, for endpoints that take both.
pub(crate) fn form_to_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::bad_request(format!("the form body is malformed: {e}")))?;
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k, Value::String(v));
    }
    Ok(Value::Object(map))
}

/// A `serde_json::Value` deserializer whose structs match field names and
/// whose enums match variant names regardless of case.
struct CaseInsensitive<'a>(&'a Value);

impl<'de> de::Deserializer<'de> for CaseInsensitive<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapAccess::new(map, None)),
            Value::Array(items) => visitor.visit_seq(SeqAccess(items.iter())),
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapAccess::new(map, Some(fields))),
            other => de::Deserializer::deserialize_struct(other, name, fields, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => match variants.iter().find(|v| v.eq_ignore_ascii_case(s.trim())) {
                Some(canonical) => {
                    let d: de::value::StrDeserializer<'_, serde_json::Error> =
                        canonical.into_deserializer();
                    visitor.visit_enum(d)
                }
                None => Err(de::Error::unknown_variant(s, variants)),
            },
            other => de::Deserializer::deserialize_enum(other, name, variants, visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct MapAccess<'a> {
    iter: serde_json::map::Iter<'a>,
    fields: Option<&'static [&'static str]>,
    value: Option<&'a Value>,
}

impl<'a> MapAccess<'a> {
    fn new(map: &'a Map<String, Value>, fields: Option<&'static [&'static str]>) -> Self {
        Self {
            iter: map.iter(),
            fields,
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let canonical: &'de str = self
            .fields
            .and_then(|fields| fields.iter().find(|f| f.eq_ignore_ascii_case(key)).copied())
            .unwrap_or(key.as_str());
        seed.deserialize(BorrowedStrDeserializer::new(canonical))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(CaseInsensitive(value)),
            None => Err(de::Error::custom("a value was requested before its key")),
        }
    }
}

struct SeqAccess<'a>(std::slice::Iter<'a, Value>);

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(CaseInsensitive(v)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    enum Color {
        DarkRed,
        Blue,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        account_name: Option<String>,
        color: Option<Color>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        #[serde(rename = "type")]
        kind: Option<Color>,
        is_enabled: Option<bool>,
        inner_settings: Option<Inner>,
        list: Option<Vec<Inner>>,
    }

    fn parse(json: &str) -> Result<Outer, String> {
        let v = parse_value(json.as_bytes()).map_err(|e| format!("{e:?}"))?;
        from_value(&v).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn names_and_enum_values_match_case_insensitively() {
        let o = parse(r#"{"Type":"darkred","ISENABLED":true,"InnerSettings":{"AccountName":"a","COLOR":"BLUE"},"list":[{"accountname":"b"}],"unknown":{"x":1}}"#).unwrap();
        assert_eq!(o.kind, Some(Color::DarkRed));
        assert_eq!(o.is_enabled, Some(true));
        let inner = o.inner_settings.unwrap();
        assert_eq!(inner.account_name.as_deref(), Some("a"));
        assert_eq!(inner.color, Some(Color::Blue));
        assert_eq!(o.list.unwrap()[0].account_name.as_deref(), Some("b"));
    }

    #[test]
    fn nulls_are_absent() {
        let o = parse(r#"{"type":null,"innerSettings":null}"#).unwrap();
        assert_eq!(o.kind, None);
        assert_eq!(o.inner_settings, None);
    }

    #[test]
    fn wrong_types_name_the_path() {
        let err = parse(r#"{"innerSettings":{"accountName":5}}"#).unwrap_err();
        assert!(err.contains("innerSettings.accountName"), "{err}");
        assert!(err.contains("expected a string"), "{err}");
        let err = parse(r#"{"isEnabled":"true"}"#).unwrap_err();
        assert!(err.contains("isEnabled"), "{err}");
        let err = parse(r#"{"type":"Green"}"#).unwrap_err();
        assert!(err.contains("unknown variant `Green`"), "{err}");
        assert!(parse("[1,2]").is_err());
        assert!(parse("\"x\"").is_err());
    }

    #[test]
    fn malformed_json_says_where() {
        let err = parse("{\"type\": ").unwrap_err();
        assert!(err.contains("not valid JSON (line 1"), "{err}");
        assert!(parse("").unwrap_err().contains("empty"));
    }

    #[test]
    fn duplicate_names_differing_in_case_are_refused() {
        let err = parse(r#"{"type":"Blue","TYPE":"DarkRed"}"#).unwrap_err();
        assert!(err.contains("duplicate field"), "{err}");
    }
}
