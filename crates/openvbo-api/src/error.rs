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
    let response = match &err {
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
            with_retry_after(message_body(status, &message), *retry_after)
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
            Some(*retry_after),
        ),
        CoreError::Busy { retry_after, .. } => with_retry_after(
            message_body(StatusCode::SERVICE_UNAVAILABLE, &message),
            Some(*retry_after),
        ),
        CoreError::Store(StoreError::Conflict(m)) => message_body(StatusCode::CONFLICT, m),
        CoreError::Store(StoreError::Unavailable(_)) => with_retry_after(
            message_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "the configuration store is temporarily unavailable; retry later",
            ),
            Some(Duration::from_secs(5)),
        ),
        CoreError::Store(StoreError::StorageFull(_)) => message_body(
            StatusCode::INSUFFICIENT_STORAGE,
            "the server's disk is full, so nothing was saved; free space on the server, then retry",
        ),
        CoreError::Store(StoreError::Corrupt(_)) | CoreError::Internal(_) => internal(),
    };
    log_failure(&err, response.status());
    response
}

/// The one log line of a failure the client cannot fix (every 5xx made
/// here), with the whole cause chain. `Busy` is left out: shedding load is
/// deliberate, nobody's fault, and comes in floods.
fn log_failure(err: &CoreError, status: StatusCode) {
    let status = status.as_u16();
    let cause = || cause_chain(err);
    match err {
        // Microsoft failing is not our defect: a warning.
        CoreError::Upstream { .. } => {
            tracing::warn!(status, cause = %cause(), "Microsoft 365 could not be used")
        }
        CoreError::Capacity(_) => tracing::warn!(
            status,
            cause = %cause(),
            "a listing is larger than the configured cache"
        ),
        CoreError::Store(StoreError::Unavailable(_)) => {
            tracing::error!(status, cause = %cause(), "configuration store unavailable")
        }
        CoreError::Store(StoreError::StorageFull(_)) => tracing::error!(
            status,
            cause = %cause(),
            "the file system holding the configuration store is full"
        ),
        CoreError::Store(StoreError::Corrupt(_)) => tracing::error!(
            status,
            cause = %cause(),
            "configuration store holds unreadable data"
        ),
        CoreError::Internal(_) => tracing::error!(status, cause = %cause(), "internal error"),
        CoreError::Busy { .. }
        | CoreError::Validation(_)
        | CoreError::NotSupported(_)
        | CoreError::NotFound(_)
        | CoreError::Conflict(_)
        | CoreError::Refused(_)
        | CoreError::StoredCredentials { .. }
        | CoreError::Unauthenticated(_)
        | CoreError::InvalidGrant(_)
        | CoreError::TooManyAttempts { .. }
        | CoreError::Store(StoreError::Conflict(_)) => {}
    }
}

/// Links of a cause chain logged; a longer chain is cut (and says so).
const MAX_LINKS: usize = 8;
/// Characters of one link logged.
const MAX_LINK_CHARS: usize = 512;

/// `err` and its `source()` chain as one log field, `a: caused by: b: …`.
/// Each link is escaped and bounded as client strings are (a message may
/// quote what a client or Microsoft sent); a link whose text the line already
/// holds (a wrapper repeating its cause's message) is left out. No link
/// holds a secret: core's and the connector's messages never carry one.
pub(crate) fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = openvbo_core::logsafe::for_log_within(&err.to_string(), MAX_LINK_CHARS);
    let mut next = err.source();
    let mut links = 1;
    while let Some(cause) = next {
        if links == MAX_LINKS {
            line.push_str(": caused by: …");
            break;
        }
        let text = openvbo_core::logsafe::for_log_within(&cause.to_string(), MAX_LINK_CHARS);
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": caused by: ");
            line.push_str(&text);
        }
        links += 1;
        next = cause.source();
    }
    line
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};

    use openvbo_core::microsoft365::{FailureKind, M365Failure};

    use super::*;

    /// Stands for the connector's own error.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct ConnectorError(String);

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The response to `err` and the lines logged while making it (on this
    /// thread only, so tests running beside it do not add lines).
    fn respond_logged(err: CoreError) -> (StatusCode, Vec<String>) {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let status = tracing::subscriber::with_default(subscriber, || {
            ApiError::Core(err).into_response().status()
        });
        let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        (status, logs.lines().map(str::to_owned).collect())
    }

    fn unreachable_graph() -> CoreError {
        CoreError::Upstream {
            failure: UpstreamFailure::Unusable,
            message: "Microsoft 365 could not be used while signing in: could not connect to login.example; nothing was changed".into(),
            retry_after: None,
            source: Some(
                M365Failure::new(FailureKind::Unreachable, "could not connect to login.example")
                    .caused_by(ConnectorError(
                        "tcp connect error: Connection refused (os error 111)".into(),
                    )),
            ),
        }
    }

    #[test]
    fn a_502_logs_one_line_with_the_connector_cause() {
        let (status, lines) = respond_logged(unreachable_graph());
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("status=502"), "{line}");
        assert!(line.contains("Microsoft 365 could not be used"), "{line}");
        // The connector's error, which the response body does not carry.
        assert!(
            line.contains("caused by: tcp connect error: Connection refused (os error 111)"),
            "{line}"
        );
        // The failure repeats the message already in the line: said once.
        assert_eq!(
            line.matches("could not connect to login.example").count(),
            1,
            "{line}"
        );
    }

    #[test]
    fn every_5xx_logs_exactly_one_line_and_shedding_and_4xx_log_none() {
        let cases: Vec<(CoreError, u16, usize)> = vec![
            (unreachable_graph(), 502, 1),
            (
                CoreError::Upstream {
                    failure: UpstreamFailure::Unavailable,
                    message: "throttled".into(),
                    retry_after: Some(Duration::from_secs(3)),
                    source: None,
                },
                503,
                1,
            ),
            (
                CoreError::Upstream {
                    failure: UpstreamFailure::Timeout,
                    message: "slow".into(),
                    retry_after: None,
                    source: None,
                },
                504,
                1,
            ),
            (CoreError::Internal("a defect".into()), 500, 1),
            (
                CoreError::Store(StoreError::Unavailable(
                    openvbo_core::store::Failure::with_source(
                        "reading organizations",
                        ConnectorError("database is locked".into()),
                    ),
                )),
                503,
                1,
            ),
            (
                CoreError::Store(StoreError::Corrupt("bad row".into())),
                500,
                1,
            ),
            (
                CoreError::Store(StoreError::StorageFull("writing".into())),
                507,
                1,
            ),
            (CoreError::Capacity("too many".into()), 507, 1),
            (
                CoreError::Busy {
                    what: "sign-in",
                    retry_after: Duration::from_secs(1),
                },
                503,
                0,
            ),
            (CoreError::NotFound("no such".into()), 404, 0),
            (CoreError::Refused("no".into()), 400, 0),
        ];
        for (err, status, logged) in cases {
            let what = format!("{err:?}");
            let (got, lines) = respond_logged(err);
            assert_eq!(got.as_u16(), status, "{what}");
            assert_eq!(lines.len(), logged, "{what}: {lines:?}");
        }
        let (_, lines) = respond_logged(CoreError::Store(StoreError::Unavailable(
            openvbo_core::store::Failure::with_source(
                "reading organizations",
                ConnectorError("database is locked".into()),
            ),
        )));
        assert!(
            lines[0].contains("reading organizations: caused by: database is locked"),
            "the backend's error is logged too: {lines:?}"
        );
    }

    #[test]
    fn a_cause_chain_is_escaped_and_bounded() {
        let forged = format!(
            "bad\n2026-01-01T00:00:00Z  INFO forged\u{1b}[31m{}",
            "x".repeat(10_000)
        );
        let err = CoreError::Upstream {
            failure: UpstreamFailure::Unusable,
            message: "outer".into(),
            retry_after: None,
            source: Some(
                M365Failure::new(FailureKind::Unusable, "middle").caused_by(ConnectorError(forged)),
            ),
        };
        let line = cause_chain(&err);
        assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{line}");
        assert!(
            line.starts_with("outer: caused by: middle: caused by: bad\\n2026"),
            "{line}"
        );
        assert!(line.ends_with('…'), "cut: {line}");
        assert!(line.chars().count() < 3 * MAX_LINK_CHARS, "{}", line.len());
    }
}
