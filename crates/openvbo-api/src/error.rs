//! The one place where errors become HTTP responses: `{"message": "..."}`
//! bodies, as Veeam's `RESTExceptionInfo`.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openvbo_core::error::UpstreamFailure;
use openvbo_core::store::StoreError;
use openvbo_core::CoreError;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    /// Anything the caller sent that cannot be used (400 unless `status` says
    /// otherwise: 413, 415).
    BadRequest(StatusCode, String),
    Core(CoreError),
    NotFound(String),
    MethodNotAllowed(String),
    NotImplemented(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(StatusCode::BAD_REQUEST, message.into())
    }
}

impl From<CoreError> for ApiError {
    fn from(value: CoreError) -> Self {
        Self::Core(value)
    }
}

/// The body every error carries.
pub(crate) fn message_body(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

fn with_retry_after(mut response: Response, retry_after: Option<Duration>) -> Response {
    if let Some(after) = retry_after {
        let secs = after.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&secs) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(status, message) => message_body(status, &message),
            ApiError::NotFound(message) => message_body(StatusCode::NOT_FOUND, &message),
            ApiError::MethodNotAllowed(message) => {
                message_body(StatusCode::METHOD_NOT_ALLOWED, &message)
            }
            ApiError::NotImplemented(message) => {
                message_body(StatusCode::NOT_IMPLEMENTED, &message)
            }
            ApiError::Core(err) => core_response(err),
        }
    }
}

fn core_response(err: CoreError) -> Response {
    let message = err.to_string();
    match err {
        CoreError::Validation(_) | CoreError::NotSupported(_) | CoreError::Refused(_) => {
            message_body(StatusCode::BAD_REQUEST, &message)
        }
        CoreError::NotFound(_) => message_body(StatusCode::NOT_FOUND, &message),
        CoreError::Capacity(_) => message_body(StatusCode::INSUFFICIENT_STORAGE, &message),
        CoreError::Conflict(_) => message_body(StatusCode::CONFLICT, &message),
        // Core says what is wrong with the stored credentials; how to give
        // new ones is this interface's wording.
        CoreError::StoredCredentials { organization, .. } => message_body(
            StatusCode::BAD_REQUEST,
            &format!("{message}. Update them with PUT /v6/Organizations/{organization}"),
        ),
        CoreError::Upstream {
            failure,
            retry_after,
            ..
        } => {
            let status = match failure {
                UpstreamFailure::Unusable => StatusCode::BAD_GATEWAY,
                UpstreamFailure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                UpstreamFailure::Timeout => StatusCode::GATEWAY_TIMEOUT,
            };
            tracing::warn!(status = status.as_u16(), %message, "Microsoft 365 could not be used");
            with_retry_after(message_body(status, &message), retry_after)
        }
        CoreError::Unauthenticated(_) => {
            let mut response = message_body(StatusCode::UNAUTHORIZED, &message);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            response
        }
        CoreError::InvalidGrant(_) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "invalid_grant",
                "error_description": message,
                "message": message,
            })),
        )
            .into_response(),
        CoreError::TooManyAttempts { retry_after } => with_retry_after(
            message_body(StatusCode::TOO_MANY_REQUESTS, &message),
            Some(retry_after),
        ),
        CoreError::Busy { retry_after, .. } => with_retry_after(
            message_body(StatusCode::SERVICE_UNAVAILABLE, &message),
            Some(retry_after),
        ),
        CoreError::Store(StoreError::Conflict(m)) => message_body(StatusCode::CONFLICT, &m),
        CoreError::Store(StoreError::Unavailable(cause)) => {
            tracing::error!(%cause, "configuration store unavailable");
            with_retry_after(
                message_body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the configuration store is temporarily unavailable; retry later",
                ),
                Some(Duration::from_secs(5)),
            )
        }
        CoreError::Store(StoreError::StorageFull(cause)) => {
            tracing::error!(%cause, "the file system holding the configuration store is full");
            message_body(
                StatusCode::INSUFFICIENT_STORAGE,
                "the server's disk is full, so nothing was saved; free space on the server, then retry",
            )
        }
        CoreError::Store(StoreError::Corrupt(cause)) => {
            tracing::error!(%cause, "configuration store holds unreadable data");
            internal()
        }
        CoreError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            internal()
        }
    }
}

/// What a panicking handler answers. The panic is a defect: it is logged
/// (without the request, which may hold secrets) and the client gets the
/// usual body.
pub(crate) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(
        panic = %openvbo_core::logsafe::for_log(&what),
        "a request handler panicked"
    );
    internal()
}

fn internal() -> Response {
    message_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "an internal error occurred; the server log has the details",
    )
}

/// Responses made outside our handlers (body limit, timeouts, hyper's own
/// refusals) get the same `{"message"}` body as ours.
pub(crate) async fn ensure_json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is too large (the limit is 1 MiB)".to_owned()
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long to arrive".to_owned(),
        // Only the request timeout answers 503 without a body of ours.
        StatusCode::SERVICE_UNAVAILABLE => {
            "the request took too long to complete; retry later".to_owned()
        }
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this resource".to_owned(),
        other => other
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    let mut fresh = message_body(status, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (name, value) in parts.headers.iter() {
        fresh.headers_mut().insert(name.clone(), value.clone());
    }
    fresh
}
