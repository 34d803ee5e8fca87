//! The pre-authenticated download URL: `GET` with optional `Range` → 200
//! or 206 with `Content-Range`, 416 for a range past the end, 401 for an
//! expired, tampered or reordered URL or one sent with an Authorization
//! header. Bytes stream from their source; the connection-reset knob cuts
//! a response short mid-body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT_RANGES, AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, RANGE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use quickxorhash::QuickXorHash;

use crate::download_url::UrlProblem;
use crate::drive_store::{relock, ItemKind};
use crate::resource_units::Cost;
use crate::simulator::Inner;
use crate::stats::{add, bump};

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": if status == StatusCode::UNAUTHORIZED { "unauthenticated" } else { "itemNotFound" }, "message": message}});
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against `size`: `Ok(None)` = whole
/// file, `Err(())` = unsatisfiable.
fn parse_range(raw: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (a, "") => (a.parse().map_err(|_| ())?, size.saturating_sub(1)),
        (a, b) => (
            a.parse().map_err(|_| ())?,
            b.parse::<u64>()
                .map_err(|_| ())?
                .min(size.saturating_sub(1)),
        ),
    };
    if start >= size || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

pub(crate) async fn download(State(sim): State<Arc<Inner>>, request: Request) -> Response {
    if request.headers().contains_key(AUTHORIZATION) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Download URLs are pre-authenticated; do not send an Authorization header.",
        );
    }
    let claims = match sim
        .drives
        .urls
        .verify(request.uri().query().unwrap_or_default())
    {
        Ok(claims) => claims,
        Err(UrlProblem::Expired) => {
            return refuse(StatusCode::UNAUTHORIZED, "The download URL has expired.")
        }
        Err(UrlProblem::Invalid) => {
            return refuse(StatusCode::UNAUTHORIZED, "The download URL is not valid.")
        }
    };
    let Some(drive) = sim.drives.opened(&claims.drv) else {
        return refuse(StatusCode::NOT_FOUND, "The item no longer exists.");
    };
    let (content, ix, etag, tenant) = {
        let d = relock(drive.lock());
        let Some(ix) = d.lookup(&claims.itm) else {
            return refuse(StatusCode::NOT_FOUND, "The item no longer exists.");
        };
        let ItemKind::File { content, .. } = &d.item(ix).kind else {
            return refuse(StatusCode::NOT_FOUND, "The item is not a file.");
        };
        (
            content.clone(),
            ix,
            crate::drive_json::etag(&d, ix),
            d.tenant,
        )
    };
    if let Err(refusal) = crate::drive_routes::charge(&sim, tenant, Cost::One) {
        return refusal.into_response(&crate::graph_errors::GraphCtx::from_headers(
            request.headers(),
        ));
    }
    let size = content.size();
    let range = request
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, size));
    let (status, start, end) = match range {
        Some(Err(())) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response();
        }
        Some(Ok(Some((start, end)))) => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        _ => (StatusCode::OK, 0, size),
    };
    bump(&sim.counters.content.file_downloads);
    let cut_after = {
        let mut faults = sim.drives.faults();
        if faults.times > 0 && end - start > faults.reset_after_bytes {
            faults.times -= 1;
            Some(faults.reset_after_bytes)
        } else {
            None
        }
    };
    // A whole download teaches the drive the file's hash.
    let whole = status == StatusCode::OK && cut_after.is_none();
    let counters = sim.clone();
    let mut sent = 0u64;
    let mut hasher = whole.then(QuickXorHash::new);
    let drive_for_hash = drive.clone();
    // With the reset knob, the body stops after `cut` bytes and then the
    // connection breaks, a moment later so what was sent reaches the client
    // first, as a reset mid-transfer looks from outside.
    let stop = cut_after.map_or(end, |cut| start + cut);
    let broken = futures::stream::iter(cut_after).then(|_| async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))
    });
    let stream = content
        .stream(start, stop)
        .map(move |piece| {
            let piece = piece?;
            sent += piece.len() as u64;
            add(&counters.counters.content.file_bytes, piece.len() as u64);
            if let Some(h) = hasher.as_mut() {
                h.update(&piece);
                if sent == size {
                    let hash = base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        h.finalize(),
                    );
                    relock(drive_for_hash.lock()).learn_hash(ix, size, hash);
                }
            }
            Ok(piece)
        })
        .chain(broken);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&(end - start).to_string()) {
        headers.insert(CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)) {
            headers.insert(CONTENT_RANGE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-1023", 2048), Ok(Some((0, 1023))));
        assert_eq!(parse_range("bytes=1000-", 2048), Ok(Some((1000, 2047))));
        assert_eq!(parse_range("bytes=-48", 2048), Ok(Some((2000, 2047))));
        assert_eq!(parse_range("bytes=0-99999", 2048), Ok(Some((0, 2047))));
        assert_eq!(parse_range("bytes=2048-", 2048), Err(()));
        assert_eq!(parse_range("items=0-1", 2048), Ok(None));
    }
}
