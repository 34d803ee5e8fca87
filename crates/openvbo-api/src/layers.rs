//! What every request passes through, outside the routes: a body size limit
//! and deadline, a total request deadline, a panic guard, and `{"message"}`
//! bodies for every refusal made outside a handler.

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::server::ConnectionLimits;
use crate::{deadline, error, json};

/// The cross-cutting layers around `router` (the last added is outermost).
pub(crate) fn layered(router: Router, limits: &ConnectionLimits) -> Router {
    let body_timeout = limits.body_timeout;
    router
        .layer(RequestBodyLimitLayer::new(json::BODY_LIMIT))
        .layer(axum::middleware::from_fn(move |req, next| {
            deadline::limit_body(body_timeout, req, next)
        }))
        // However long Microsoft or the store take, a request ends: 503.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        // A panic becomes a logged 500, not a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        // Outside the layers above, so their refusals get our body too.
        .layer(axum::middleware::map_response(error::ensure_json_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::SERVER,
            // No version: anyone can read this header. The version is for
            // signed-in clients (`openvbo --version`, `GET /v6/ServiceInstance`).
            HeaderValue::from_static("openvbo"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The path only: a query string could carry anything.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::error::ApiError;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::{get, post};
    use futures::StreamExt;
    use std::time::Duration;
    use tower::ServiceExt;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            request_timeout: Duration::from_millis(200),
            body_timeout: Duration::from_millis(200),
            ..ConnectionLimits::default()
        }
    }

    async fn call(router: Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
        call_with(router, req, limits()).await
    }

    async fn call_with(
        router: Router,
        req: Request<Body>,
        limits: ConnectionLimits,
    ) -> (StatusCode, serde_json::Value) {
        let response = layered(router, &limits).oneshot(req).await.unwrap();
        let status = response.status();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_with_the_usual_body() {
        async fn boom() -> &'static str {
            panic!("handler bug\nforged log line")
        }
        let router = Router::new().route("/boom", get(boom));
        let req = Request::get("/boom").body(Body::empty()).unwrap();
        let (status, body) = call(router.clone(), req).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body["message"],
            "an internal error occurred; the server log has the details"
        );
        // The service is still usable afterwards.
        let req = Request::get("/boom").body(Body::empty()).unwrap();
        assert_eq!(call(router, req).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn a_request_that_takes_too_long_answers_503() {
        async fn forever() -> &'static str {
            std::future::pending::<()>().await;
            "never"
        }
        let router = Router::new().route("/slow", get(forever));
        let req = Request::get("/slow").body(Body::empty()).unwrap();
        let (status, body) = call(router, req).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body["message"].as_str().unwrap().contains("too long"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_body_that_never_finishes_answers_408() {
        async fn echo(req: axum::extract::Request) -> Result<String, ApiError> {
            let bytes = json::read_body(req, &()).await?;
            Ok(format!("{}", bytes.len()))
        }
        // A body that sends one chunk, then nothing ever again.
        let stream = futures::stream::once(async { Ok::<_, std::io::Error>("{") })
            .chain(futures::stream::pending());
        let router = Router::new().route("/echo", post(echo));
        let req = Request::post("/echo")
            .body(Body::from_stream(stream))
            .unwrap();
        let started = std::time::Instant::now();
        let limits = ConnectionLimits {
            request_timeout: Duration::from_secs(30),
            ..limits()
        };
        let (status, body) = call_with(router, req, limits).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
        assert!(body["message"].as_str().unwrap().contains("too long"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
