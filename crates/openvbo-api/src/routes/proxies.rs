//! `/v6/Proxies`: the built-in `Local` proxy (openvbo has no remote proxies; adding one
//! answers 501 through the fallback).

use axum::extract::State;
use axum::Json;
use openvbo_core::backup::{Proxy, ProxyId};
use serde::Serialize;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::hal::Links;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTProxy`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProxyView {
    #[serde(rename = "type")]
    kind: &'static str,
    id: ProxyId,
    host_name: String,
    description: String,
    port: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    threads_number: Option<i32>,
    enable_network_throttling: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    throttling_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    throttling_unit: Option<&'static str>,
    status: &'static str,
    use_internet_proxy: bool,
    #[serde(rename = "_links")]
    links: Links,
}

impl ProxyView {
    /// `extended: false` leaves out `threadsNumber` and the throttling value and unit.
    fn new(p: &Proxy, extended: bool) -> Self {
        Self {
            kind: p.kind.as_str(),
            id: p.id,
            host_name: p.host_name.clone(),
            description: p.description.clone(),
            port: p.port,
            threads_number: extended.then_some(p.threads_number),
            enable_network_throttling: p.enable_network_throttling,
            throttling_value: p.throttling_value.filter(|_| extended),
            throttling_unit: p.throttling_unit.filter(|_| extended).map(|u| u.as_str()),
            status: "Online",
            use_internet_proxy: p.internet_proxy.is_some(),
            links: Links::new()
                .with("self", format!("/v6/proxies/{}", p.id))
                .with(
                    "repositories",
                    format!("/v6/backuprepositories?proxyId={}", p.id),
                ),
        }
    }
}

/// `extendedView` (default true).
fn extended(q: &QueryParams) -> Result<bool, ApiError> {
    Ok(q.bool("extendedView")?.unwrap_or(true))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<ProxyView>>, ApiError> {
    let extended = extended(&q)?;
    let proxies = state.repositories.proxies().await?;
    Ok(Json(
        proxies
            .iter()
            .map(|p| ProxyView::new(p, extended))
            .collect(),
    ))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<ProxyId>,
    q: QueryParams,
) -> Result<Json<ProxyView>, ApiError> {
    let extended = extended(&q)?;
    let proxy = state.repositories.proxy(id).await?;
    Ok(Json(ProxyView::new(&proxy, extended)))
}
