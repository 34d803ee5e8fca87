//! Entra ID's OAuth error envelope: `error`, an `error_description` that
//! starts with the AADSTS code and ends with trace/correlation ids, the
//! numeric `error_codes` clients should branch on, and friends.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::ids::{is_guid, new_guid};
use crate::wire_time::aad_timestamp;

pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Per-request ids; the correlation id is the caller's `client-request-id`
/// when it sent one, as Entra does.
pub(crate) struct AadCtx {
    pub correlation_id: String,
    pub login_host: &'static str,
}

impl AadCtx {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| is_guid(v))
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(new_guid);
        AadCtx {
            correlation_id,
            login_host: "login.microsoftonline.com",
        }
    }
}

#[derive(Debug)]
pub(crate) struct AadError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    /// The text after `AADSTS<code>: `.
    pub message: String,
    pub extra: Vec<(&'static str, Value)>,
    pub retry_after_secs: Option<u64>,
}

impl AadError {
    pub(crate) fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        AadError {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
            extra: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub(crate) fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.extra.push((key, value.into()));
        self
    }

    pub(crate) fn missing_parameter(name: &str) -> Self {
        AadError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub(crate) fn tenant_not_found(tenant: &str) -> Self {
        AadError::new(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    pub(crate) fn into_response(self, ctx: &AadCtx) -> Response {
        let now = OffsetDateTime::now_utc();
        let timestamp = aad_timestamp(now);
        let trace_id = new_guid();
        let mut body = Map::new();
        body.insert("error".into(), json!(self.error));
        body.insert(
            "error_description".into(),
            json!(format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {}\r\nTimestamp: {timestamp}",
                self.code, self.message, ctx.correlation_id
            )),
        );
        body.insert("error_codes".into(), json!([self.code]));
        body.insert("timestamp".into(), json!(timestamp));
        body.insert("trace_id".into(), json!(trace_id));
        body.insert("correlation_id".into(), json!(ctx.correlation_id));
        body.insert(
            "error_uri".into(),
            json!(format!(
                "https://{}/error?code={}",
                ctx.login_host, self.code
            )),
        );
        for (key, value) in self.extra {
            body.insert(key.into(), value);
        }
        let mut response = (
            self.status,
            [
                (CONTENT_TYPE, JSON_UTF8),
                (CACHE_CONTROL, "no-store"),
                (PRAGMA, "no-cache"),
            ],
            Value::Object(body).to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&trace_id) {
            headers.insert("x-ms-request-id", value);
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
