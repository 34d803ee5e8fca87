//! SharePoint sites as a delegated (password) token sees them: search
//! (file sites, their subsites and every OneDrive's personal site), one
//! site by id, and a site's direct subsites.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::graph::GraphRequest;
use crate::graph_auth::granted_tenant;
use crate::graph_directory::respond;
use crate::graph_errors::GraphError;
use crate::graph_json::{self as wire, SITE};
use crate::graph_query::Selection;
use crate::paging::odata_json;
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

fn site_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        "Requested site could not be found",
    )
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
    let everything = needle.is_empty() || needle == "*";
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let item = |slot: usize| {
        entry
            .site_at(slot)
            .filter(|site| everything || matches(site, &needle))
    };
    respond(
        req,
        context(entry.tenant.region.graph_host(), &selection),
        entry.site_slots(),
        item,
        |site: &Cow<'_, Site>| Value::Object(wire::site(site, &selection)),
        || {
            (0..entry.site_slots())
                .filter(|&slot| item(slot).is_some())
                .count()
        },
    )
}

pub(crate) fn site(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.select(&SITE)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let site = entry.find_site(id).ok_or_else(site_not_found)?;
    let mut object = wire::site(&site, &selection);
    object.insert(
        "@odata.context".into(),
        Value::String(format!(
            "{}/$entity",
            context(entry.tenant.region.graph_host(), &selection)
        )),
    );
    Ok(odata_json(Value::Object(object)))
}

/// `/sites/{id}/sites`: direct subsites only, as Graph lists them.
pub(crate) fn subsites(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.select(&SITE)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let parent = entry.find_site(id).ok_or_else(site_not_found)?;
    let children = entry.subsites(&parent.id);
    let sites = &entry.tenant.sites;
    respond(
        req,
        format!(
            "https://{}/v1.0/$metadata#sites('{}')/sites",
            entry.tenant.region.graph_host(),
            parent.id
        ),
        children.len(),
        |i| children.get(i).and_then(|&s| sites.get(s)),
        |site| Value::Object(wire::site(site, &selection)),
        || children.len(),
    )
}
