//! Drive knobs for tests, in Rust and under `/_sim/drives/…`:
//! - expire a drive's delta state: its tokens answer 410 `resyncRequired`
//!   (`POST /_sim/drives/{driveId}/expire-delta`);
//! - move the download-URL and upload-session clock forward instead of
//!   sleeping (`POST /_sim/drives/clock {"advanceSecs": N}`);
//! - break the connection of the next downloads mid-body
//!   (`PUT /_sim/drives/faults {"resetDownloadsAfterBytes": N, "times": K}`);
//! - the resource-unit budget of the Microsoft throttle profile.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::drive_store::{relock, DownloadFaults};
use crate::simulator::{Inner, Simulator};
use crate::throttle::Budget;

impl Simulator {
    /// Expires the delta tokens of a drive that has been opened; `false` if
    /// no such drive has been used yet (its first delta is a full one anyway).
    pub fn expire_drive_delta(&self, drive_id: &str) -> bool {
        match self.inner.drives.opened(drive_id) {
            Some(drive) => {
                relock(drive.lock()).expire_delta();
                true
            }
            None => false,
        }
    }

    /// Time passes for download URLs and upload sessions.
    pub fn advance_drive_clock(&self, secs: i64) {
        self.inner.drives.urls.advance(secs);
    }

    /// The next `times` downloads break their connection after `after_bytes`.
    pub fn reset_downloads_after(&self, after_bytes: u64, times: u32) {
        *self.inner.drives.faults() = DownloadFaults {
            reset_after_bytes: after_bytes,
            times,
        };
    }

    /// SharePoint resource units per window and tenant, with the Microsoft
    /// throttle profile (default 1,200 per 60 s). Forgets every window. A
    /// refusal's `Retry-After` is the rest of the window in whole seconds
    /// (at least 1), so a window of a second or two lets a test see a
    /// client wait out a refusal without waiting a minute.
    pub fn set_drive_resource_units(&self, budget: Budget) {
        self.inner.drives.units.set_budget(budget);
    }
}

pub(crate) async fn expire_delta(
    State(sim): State<Arc<Inner>>,
    Path(drive): Path<String>,
) -> Response {
    match sim.drives.opened(&drive) {
        Some(d) => {
            relock(d.lock()).expire_delta();
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("drive '{drive}' has not been opened")})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Clock {
    advance_secs: i64,
}

pub(crate) async fn advance_clock(State(sim): State<Arc<Inner>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Clock>(&body) {
        Ok(clock) => {
            sim.drives.urls.advance(clock.advance_secs);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(format!("invalid clock settings: {e}")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Faults {
    reset_downloads_after_bytes: u64,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

pub(crate) async fn put_faults(State(sim): State<Arc<Inner>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            *sim.drives.faults() = DownloadFaults {
                reset_after_bytes: f.reset_downloads_after_bytes,
                times: f.times,
            };
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(format!("invalid drive fault settings: {e}")),
    }
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}
