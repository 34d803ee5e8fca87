//! `/_sim/*`: the test knobs over HTTP for out-of-process use. Deliberately
//! outside Microsoft's URL space; never counted, delayed or faulted.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::options::Fault;
use crate::simulator::Inner;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FaultSettings {
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    throttle_every: Option<u64>,
    #[serde(default)]
    unavailable_every: Option<u64>,
    #[serde(default = "one")]
    retry_after_secs: u64,
}

fn one() -> u64 {
    1
}

pub(crate) async fn stats(State(sim): State<Arc<Inner>>) -> Response {
    Json(sim.stats()).into_response()
}

pub(crate) async fn reset_stats(State(sim): State<Arc<Inner>>) -> Response {
    sim.counters.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpireMailDelta {
    tenant: String,
    user: String,
    /// A folder id or well-known name; absent: every folder of the mailbox.
    #[serde(default)]
    folder: Option<String>,
}

/// `POST /_sim/mail/expire-delta {"tenant","user","folder"?}`: the next
/// delta call with an older token answers 410 `SyncStateNotFound`.
pub(crate) async fn expire_mail_delta(State(sim): State<Arc<Inner>>, body: Bytes) -> Response {
    let request: ExpireMailDelta = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("invalid expiry request: {e}")),
    };
    match crate::graph_mail::expire(
        &sim,
        &request.tenant,
        &request.user,
        request.folder.as_deref(),
    ) {
        Ok(folders) => Json(serde_json::json!({ "expiredFolders": folders })).into_response(),
        Err(message) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": message })),
        )
            .into_response(),
    }
}

pub(crate) async fn get_faults(State(sim): State<Arc<Inner>>) -> Response {
    let fault = sim.fault_state().fault;
    let latency_ms = u64::try_from(sim.latency().as_millis()).unwrap_or(u64::MAX);
    let settings = match fault {
        Some(Fault::Throttle {
            every,
            retry_after_secs,
        }) => FaultSettings {
            latency_ms,
            throttle_every: Some(every),
            unavailable_every: None,
            retry_after_secs,
        },
        Some(Fault::Unavailable {
            every,
            retry_after_secs,
        }) => FaultSettings {
            latency_ms,
            throttle_every: None,
            unavailable_every: Some(every),
            retry_after_secs,
        },
        None => FaultSettings {
            latency_ms,
            throttle_every: None,
            unavailable_every: None,
            retry_after_secs: 1,
        },
    };
    Json(settings).into_response()
}

/// Replaces latency and fault in one go (absent fields mean "off").
pub(crate) async fn put_faults(State(sim): State<Arc<Inner>>, body: Bytes) -> Response {
    let settings: FaultSettings = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(format!("invalid fault settings: {e}")),
    };
    let fault = match (settings.throttle_every, settings.unavailable_every) {
        (Some(_), Some(_)) => {
            return bad_request("set at most one of throttleEvery and unavailableEvery".into())
        }
        (Some(0), _) | (_, Some(0)) => {
            return bad_request("throttleEvery/unavailableEvery must be at least 1".into())
        }
        (Some(every), None) => Some(Fault::Throttle {
            every,
            retry_after_secs: settings.retry_after_secs,
        }),
        (None, Some(every)) => Some(Fault::Unavailable {
            every,
            retry_after_secs: settings.retry_after_secs,
        }),
        (None, None) => None,
    };
    sim.set_latency(Duration::from_millis(settings.latency_ms));
    sim.set_fault(fault);
    tracing::info!(
        ?fault,
        latency_ms = settings.latency_ms,
        "simulator faults updated"
    );
    StatusCode::NO_CONTENT.into_response()
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}
