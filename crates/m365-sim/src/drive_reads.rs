//! Reading drive items: one item, a folder's children (paged by `$top`),
//! versions, and `/content` (302 to a download URL).

use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::drive_routes::{locate, DriveRequest, ItemRef};
use crate::drive_store::{relock, ItemKind};
use crate::graph_errors::GraphError;
use crate::graph_query::Selection;
use crate::paging::{collection, odata_json, page_of};

fn selected(req: &DriveRequest<'_>, mut object: serde_json::Map<String, Value>) -> Value {
    if let Selection::Fields(fields) = req.query.loose_select() {
        crate::drive_json::select(&mut object, &fields);
    }
    Value::Object(object)
}

pub(crate) async fn get_item(
    req: &DriveRequest<'_>,
    item: &ItemRef,
) -> Result<Response, GraphError> {
    crate::drive_hashes::ensure(&req.drive, |d| {
        locate(d, item).map(|ix| vec![ix]).unwrap_or_default()
    })
    .await;
    let drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    let mut object = crate::drive_json::item(&drive, ix, &req.render(&drive, false, true));
    object.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#drives('{}')/items/$entity",
            req.info.base, drive.id
        )),
    );
    Ok(odata_json(selected(req, object)))
}

pub(crate) async fn children(
    req: &DriveRequest<'_>,
    item: &ItemRef,
) -> Result<Response, GraphError> {
    crate::drive_hashes::ensure(&req.drive, |d| {
        locate(d, item)
            .map(|ix| d.live_children(ix))
            .unwrap_or_default()
    })
    .await;
    let drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    if !drive.item(ix).is_folder() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "The item is not a folder.",
        ));
    }
    let children = drive.live_children(ix);
    let render = req.render(&drive, false, true);
    let page = page_of(
        &req.query,
        children.len(),
        |i| children.get(i).copied(),
        |&c| selected(req, crate::drive_json::item(&drive, c, &render)),
    )?;
    let context = format!(
        "{}/v1.0/$metadata#drives('{}')/items('{}')/children",
        req.info.base,
        drive.id,
        drive.item(ix).id
    );
    Ok(collection(&req.info, &req.query, &context, page, None))
}

pub(crate) fn versions(req: &DriveRequest<'_>, item: &ItemRef) -> Result<Response, GraphError> {
    let drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    Ok(odata_json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#drives('{}')/items('{}')/versions", req.info.base, drive.id, drive.item(ix).id),
        "value": crate::drive_json::versions(&drive, ix),
    })))
}

/// `/content` is a permanent reference: it answers 302 to a fresh
/// pre-authenticated URL (never the bytes), or 304 for a matching
/// `If-None-Match`.
pub(crate) fn content_redirect(
    req: &DriveRequest<'_>,
    item: &ItemRef,
) -> Result<Response, GraphError> {
    let drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    let it = &drive.item(ix);
    if !matches!(it.kind, ItemKind::File { .. }) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "Only files have content.",
        ));
    }
    let current = [
        crate::drive_json::etag(&drive, ix),
        crate::drive_json::ctag(&drive, ix),
    ];
    if req
        .if_none_match
        .as_deref()
        .is_some_and(|tag| current.iter().any(|c| c == tag.trim()))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let url = req.sim.drives.urls.url(
        &req.info.base,
        &drive.site_path,
        &drive.id,
        &it.id,
        &it.guid,
    );
    Ok((StatusCode::FOUND, [(LOCATION, url)]).into_response())
}
