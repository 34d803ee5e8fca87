//! Latency and fault injection in front of every Microsoft-namespace
//! request, plus the request counters.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::aad_errors::{AadCtx, AadError};
use crate::graph_errors::{GraphCtx, GraphError};
use crate::options::Fault;
use crate::simulator::Inner;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    Token,
    Graph,
    Other,
}

fn surface(path: &str) -> Surface {
    if path == "/v1.0" || path.starts_with("/v1.0/") {
        Surface::Graph
    } else if path.ends_with("/oauth2/v2.0/token") {
        Surface::Token
    } else {
        Surface::Other
    }
}

/// The first segment after `/v1.0`, lower-cased (Graph segment names are
/// case-insensitive), e.g. `users` for `/v1.0/Users/{id}/drive`.
fn graph_area(path: &str) -> String {
    path.strip_prefix("/v1.0")
        .unwrap_or(path)
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Counts one Microsoft-namespace request in `requests` and its surface's
/// counters (also for requests refused before they reach [`gate`]).
pub(crate) fn count(sim: &Inner, path: &str) {
    let surface = surface(path);
    let counters = &sim.counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    match surface {
        Surface::Token => counters.token_requests.fetch_add(1, Ordering::Relaxed),
        Surface::Graph => counters.graph_requests.fetch_add(1, Ordering::Relaxed),
        Surface::Other => 0,
    };
    if surface == Surface::Graph {
        let area = match graph_area(path).as_str() {
            "users" => Some(&counters.users_requests),
            "groups" => Some(&counters.groups_requests),
            "sites" => Some(&counters.sites_requests),
            _ => None,
        };
        if let Some(counter) = area {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub(crate) async fn gate(State(sim): State<Arc<Inner>>, request: Request, next: Next) -> Response {
    let surface = surface(request.uri().path());
    count(&sim, request.uri().path());

    // Decide before sleeping so the Nth request to arrive is the one that
    // fails, regardless of how the sleeps interleave.
    let fault = {
        let mut state = sim.fault_state();
        match state.fault {
            Some(fault) => {
                state.seen += 1;
                (state.seen.checked_rem(fault.every()) == Some(0)).then_some(fault)
            }
            _ => None,
        }
    };

    let latency = sim.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    match fault {
        None => next.run(request).await,
        Some(fault) => {
            tracing::debug!(?fault, path = request.uri().path(), "injecting fault");
            fault_response(fault, surface, &request)
        }
    }
}

fn fault_response(fault: Fault, surface: Surface, request: &Request) -> Response {
    let retry_after = fault.retry_after_secs();
    if surface == Surface::Token {
        let error = match fault {
            Fault::Throttle { .. } => AadError {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..AadError::new(
                    "temporarily_unavailable",
                    50196,
                    "The server terminated an operation because it encountered a client request loop. Please contact your app vendor.",
                )
            },
            Fault::Unavailable { .. } => AadError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..AadError::new(
                    "temporarily_unavailable",
                    90033,
                    "A transient error has occurred. Please try again.",
                )
            },
        };
        return AadError {
            retry_after_secs: Some(retry_after),
            ..error
        }
        .into_response(&AadCtx::from_headers(request.headers()));
    }
    let error = match fault {
        Fault::Throttle { .. } => GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests. Please try again later.",
        ),
        Fault::Unavailable { .. } => GraphError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please try again later.",
        ),
    };
    error
        .with_header(RETRY_AFTER, retry_after.to_string())
        .into_response(&GraphCtx::from_headers(request.headers()))
}
