//! SharePoint sites as a delegated (password) token sees them: search only.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::graph::GraphRequest;
use crate::graph_errors::GraphError;
use crate::graph_json::{self as wire, SITE};
use crate::graph_query::Selection;
use crate::paging::{self, odata_json};
use crate::tenant::Site;

fn context(graph_host: &str, selection: &Selection) -> String {
    let mut context = format!("https://{graph_host}/v1.0/$metadata#sites");
    if let Selection::Fields(fields) = selection {
        context.push_str(&format!("({})", fields.join(",")));
    }
    context
}

fn matches(site: &Site, needle: &str) -> bool {
    [
        site.name.as_str(),
        site.effective_display_name(),
        site.web_url.as_str(),
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

pub(crate) fn search(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.select(&SITE)?;
    let Some(raw) = req.query.get("search") else {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "Search query parameter is required to list sites, e.g. /sites?search=*.",
        ));
    };
    let needle = raw.trim().trim_matches('"').trim().to_lowercase();
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
    let sites: Vec<&Site> = entry
        .tenant
        .sites
        .iter()
        .filter(|s| needle.is_empty() || needle == "*" || matches(s, &needle))
        .collect();
    let count = req.query.wants_count(req.headers)?;
    let window = paging::window(sites.len(), &req.query)?;
    let values = sites[window.range.clone()]
        .iter()
        .map(|s| Value::Object(wire::site(s, &selection)))
        .collect();
    Ok(paging::collection(
        &req.info,
        &req.query,
        &context(entry.tenant.region.graph_host(), &selection),
        &window,
        values,
        count.then_some(sites.len()),
    ))
}

pub(crate) fn site(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.select(&SITE)?;
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
    let site = entry
        .tenant
        .sites
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "itemNotFound",
                "Requested site could not be found",
            )
        })?;
    let mut object = wire::site(site, &selection);
    object.insert(
        "@odata.context".into(),
        Value::String(format!(
            "{}/$entity",
            context(entry.tenant.region.graph_host(), &selection)
        )),
    );
    Ok(odata_json(Value::Object(object)))
}
