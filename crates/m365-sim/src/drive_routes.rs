//! Graph's drive endpoints: which URLs address a drive and an item in it,
//! and dispatch to the read, delta and write handlers.
//!
//! Drives are reached as `/drives/{id}`, `/me/drive`, `/users/{id}/drive`,
//! `/sites/{id}/drive` and `/sites/{id}/drives/{id}`; items as `root`,
//! `items/{id}`, either followed by `:/relative/path:`; then an action
//! (`children`, `content`, `delta`, `versions`, `createUploadSession`).
//! `/users/{id}/drive` and `/me/drive` themselves stay with
//! `graph_drive` (discovery).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::directory::TenantEntry;
use crate::drive_json::Render;
use crate::drive_store::{relock, Drive, DriveOwner, ItemIx, WriteError};
use crate::graph_auth::{authenticate, granted_tenant};
use crate::graph_errors::{GraphCtx, GraphError};
use crate::graph_query::Query;
use crate::ids::derived_guid;
use crate::paging::{odata_json, RequestInfo};
use crate::resource_units::Cost;
use crate::simulator::Inner;
use crate::stats::bump;
use crate::tokens::AccessGrant;

/// How the request names its drive.
enum DriveRef {
    Id(String),
    Me,
    User(String),
    Site(String),
    SiteDrives(String),
}

/// What follows the drive: an item (and an action on it).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Get,
    Children,
    Content,
    /// With a token given inline as `delta(token='…')`.
    Delta(Option<String>),
    Versions,
    CreateUploadSession,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ItemRef {
    /// `None`: the root.
    pub id: Option<String>,
    pub path: Option<String>,
    pub action: Action,
}

fn split_prefix(path: &str) -> Option<(DriveRef, &str)> {
    let mut parts = path.splitn(4, '/');
    let first = parts.next()?.to_ascii_lowercase();
    let second = parts.next();
    let third = parts.next();
    let tail_from = |n: usize| -> &str { path.splitn(n + 1, '/').nth(n).unwrap_or("") };
    match (first.as_str(), second, third) {
        ("drives", Some(id), _) if !id.is_empty() => Some((DriveRef::Id(decode(id)), tail_from(2))),
        ("me", Some(d), Some(_)) if d.eq_ignore_ascii_case("drive") => {
            Some((DriveRef::Me, tail_from(2)))
        }
        ("users", Some(key), Some(d))
            if d.eq_ignore_ascii_case("drive") && !tail_from(3).is_empty() =>
        {
            Some((DriveRef::User(decode(key)), tail_from(3)))
        }
        ("sites", Some(site), Some(d)) if d.eq_ignore_ascii_case("drive") => {
            Some((DriveRef::Site(decode(site)), tail_from(3)))
        }
        ("sites", Some(site), Some(d)) if d.eq_ignore_ascii_case("drives") => {
            let tail = tail_from(3);
            if tail.is_empty() {
                Some((DriveRef::SiteDrives(decode(site)), ""))
            } else {
                let (id, rest) = tail.split_once('/').unwrap_or((tail, ""));
                Some((DriveRef::Id(decode(id)), rest))
            }
        }
        _ => None,
    }
}

fn decode(s: &str) -> String {
    crate::graph::percent_decode(s)
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// Parses what follows the drive, e.g. `items/01AB:/x/y.txt:/content`.
/// `None` for the drive itself.
pub(crate) fn parse_item(rest: &str) -> Result<Option<ItemRef>, GraphError> {
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        return Ok(None);
    }
    let (id, mut tail) = if let Some(t) = strip_ci(rest, "root") {
        (None, t)
    } else if let Some(t) = strip_ci(rest, "items/") {
        let end = t.find([':', '/']).unwrap_or(t.len());
        let id = decode(&t[..end]);
        let id = if id.eq_ignore_ascii_case("root") {
            None
        } else {
            Some(id)
        };
        (id, &t[end..])
    } else if strip_ci(rest, "delta").is_some() {
        (None, &rest[..0])
    } else {
        let segment = rest.split('/').next().unwrap_or(rest);
        return Err(GraphError::segment_not_found(segment));
    };
    let tail_owned;
    if strip_ci(rest, "delta").is_some() {
        tail_owned = format!("/{rest}");
        tail = &tail_owned;
    }
    let mut path = None;
    if let Some(after) = tail.strip_prefix(':') {
        let (p, t) = match after.find(':') {
            Some(end) => (&after[..end], &after[end + 1..]),
            None => (after, ""),
        };
        path = Some(decode(p.trim_matches('/')));
        tail = t;
    }
    let action = tail.trim_start_matches('/');
    let action = if action.is_empty() {
        Action::Get
    } else if action.eq_ignore_ascii_case("children") {
        Action::Children
    } else if action.eq_ignore_ascii_case("content") {
        Action::Content
    } else if action.eq_ignore_ascii_case("versions") {
        Action::Versions
    } else if action.eq_ignore_ascii_case("createUploadSession") {
        Action::CreateUploadSession
    } else if action.eq_ignore_ascii_case("delta") {
        Action::Delta(None)
    } else if let Some(inner) = strip_ci(action, "delta(token=").and_then(|t| t.strip_suffix(')')) {
        Action::Delta(Some(decode(inner.trim_matches('\''))))
    } else {
        return Err(GraphError::segment_not_found(
            action.split('/').next().unwrap_or(action),
        ));
    };
    Ok(Some(ItemRef {
        id,
        path: path.filter(|p| !p.is_empty()),
        action,
    }))
}

/// Everything a drive handler needs.
pub(crate) struct DriveRequest<'a> {
    pub sim: &'a Inner,
    pub query: Query,
    pub info: RequestInfo,
    pub drive: Arc<Mutex<Drive>>,
    /// `If-None-Match`, for `/content`'s 304.
    pub if_none_match: Option<String>,
}

impl DriveRequest<'_> {
    pub(crate) fn render<'r>(
        &'r self,
        drive: &'r Drive,
        in_delta: bool,
        download_urls: bool,
    ) -> Render<'r> {
        Render {
            base: &self.info.base,
            in_delta,
            download_urls,
            signer: &self.sim.drives.urls,
            site_path: &drive.site_path,
            web_url: &drive.web_url,
        }
    }
}

/// `Err(request)`: not a drive URL; the caller routes it.
pub(crate) async fn handle(sim: &Arc<Inner>, request: Request) -> Result<Response, Request> {
    let path = request.uri().path();
    let Some(rel) = path.strip_prefix("/v1.0/") else {
        return Err(request);
    };
    let Some((drive_ref, rest)) = split_prefix(rel) else {
        return Err(request);
    };
    let rest = rest.to_owned();
    let ctx = GraphCtx::from_headers(request.headers());
    let mut response = match serve(sim, drive_ref, &rest, request).await {
        Ok(response) => response,
        Err(error) => return Ok(error.into_response(&ctx)),
    };
    ctx.stamp(&mut response);
    Ok(response)
}

async fn serve(
    sim: &Arc<Inner>,
    drive_ref: DriveRef,
    rest: &str,
    request: Request,
) -> Result<Response, GraphError> {
    let grant = authenticate(sim, request.headers())?;
    let query = Query::parse(request.uri().query());
    let info = RequestInfo::new(request.uri(), request.headers());
    let method = request.method().clone();
    if let DriveRef::SiteDrives(site) = &drive_ref {
        if method != Method::GET {
            return Err(GraphError::method_not_allowed());
        }
        charge(sim, grant.tenant, Cost::Two)?;
        return site_drives(sim, &grant, &info, site);
    }
    let drive = open_drive(sim, &grant, &drive_ref)?;
    let item = parse_item(rest)?;
    let cost = match (&method, &item) {
        (&Method::GET, None) => Cost::One,
        (
            &Method::GET,
            Some(ItemRef {
                action: Action::Get | Action::Content,
                ..
            }),
        ) => Cost::One,
        (
            &Method::GET,
            Some(ItemRef {
                action: Action::Delta(token),
                ..
            }),
        ) => {
            let tokenless = token.is_none() && query.get("token").is_none();
            if tokenless {
                Cost::Two
            } else {
                Cost::One
            }
        }
        _ => Cost::Two,
    };
    charge(sim, grant.tenant, cost)?;
    let if_none_match = request
        .headers()
        .get(axum::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let req = DriveRequest {
        sim,
        query,
        info,
        drive,
        if_none_match,
    };
    let Some(item) = item else {
        return match method {
            Method::GET | Method::HEAD => Ok(drive_object(&req)),
            _ => Err(GraphError::method_not_allowed()),
        };
    };
    match (method, &item.action) {
        (Method::GET, Action::Get) => crate::drive_reads::get_item(&req, &item).await,
        (Method::GET, Action::Children) => crate::drive_reads::children(&req, &item).await,
        (Method::GET, Action::Versions) => crate::drive_reads::versions(&req, &item),
        (Method::GET, Action::Content) => crate::drive_reads::content_redirect(&req, &item),
        (Method::GET, Action::Delta(token)) => {
            crate::drive_delta::delta(&req, &item, token.as_deref()).await
        }
        (Method::PUT, Action::Content) => {
            crate::drive_writes::put_content(&req, &item, request).await
        }
        (Method::POST, Action::Children) => {
            crate::drive_writes::create_child(&req, &item, request).await
        }
        (Method::POST, Action::CreateUploadSession) => {
            crate::upload_session::create(&req, &item, request).await
        }
        (Method::PATCH, Action::Get) => crate::drive_writes::patch(&req, &item, request).await,
        (Method::DELETE, Action::Get) => crate::drive_writes::delete(&req, &item),
        _ => Err(GraphError::method_not_allowed()),
    }
}

/// Resource units, only with the Microsoft throttle profile.
pub(crate) fn charge(sim: &Inner, tenant: usize, cost: Cost) -> Result<(), GraphError> {
    if sim.throttle.options().profile != crate::throttle::ThrottleProfile::Microsoft {
        return Ok(());
    }
    crate::stats::add(&sim.counters.throttle.resource_units, cost as u64);
    sim.drives
        .units
        .charge(tenant, cost, Instant::now())
        .inspect_err(|_| {
            bump(&sim.counters.throttle.rejected);
        })
}

pub(crate) fn item_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        "The resource could not be found.",
    )
}

pub(crate) fn write_error(error: WriteError) -> GraphError {
    match error {
        WriteError::NameAlreadyExists(name) => GraphError::new(
            StatusCode::CONFLICT,
            "nameAlreadyExists",
            format!("The specified item name already exists. Name: {name}"),
        ),
        WriteError::InvalidName(name) => GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            format!("The provided name cannot contain leading or trailing spaces or any of the characters \" * : < > ? / \\ |: '{name}'"),
        ),
        WriteError::NotAFolder => GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "The parent item is not a folder.",
        ),
        WriteError::IntoItself => GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "An item cannot be moved into itself or one of its descendants.",
        ),
        WriteError::RootIsReadOnly => GraphError::new(
            StatusCode::FORBIDDEN,
            "accessDenied",
            "The root of a drive cannot be changed.",
        ),
    }
}

/// The item a reference names, in a locked drive.
pub(crate) fn locate(drive: &Drive, item: &ItemRef) -> Result<ItemIx, GraphError> {
    let base = match &item.id {
        None => ItemIx::ROOT,
        Some(id) => drive.lookup(id).ok_or_else(item_not_found)?,
    };
    match &item.path {
        None => Ok(base),
        Some(path) => drive.resolve_path(base, path).ok_or_else(item_not_found),
    }
}

fn site_drives(
    sim: &Inner,
    grant: &AccessGrant,
    info: &RequestInfo,
    site_key: &str,
) -> Result<Response, GraphError> {
    let directory = sim.directory();
    let entry = granted_tenant(&directory, grant)?;
    let site = entry.find_site(site_key).ok_or_else(site_not_found)?;
    let mut values = Vec::new();
    if site.is_personal {
        let owner = entry
            .sharepoint
            .personal_site_owner(&site.id)
            .unwrap_or_default();
        drop(directory);
        let drive = open_drive(sim, grant, &DriveRef::User(owner))?;
        values.push(drive_json(
            sim,
            &drive
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ));
    } else {
        let names = library_names(&site);
        let site_id = site.id.clone();
        drop(directory);
        for name in names {
            let drive = open_drive(sim, grant, &DriveRef::Id(library_drive_id(&site_id, &name)))?;
            values.push(drive_json(
                sim,
                &drive
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ));
        }
    }
    Ok(odata_json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#drives", info.base),
        "value": values,
    })))
}

fn site_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        "Requested site could not be found",
    )
}

/// A site's libraries: those in the tenant file, else the default one.
fn library_names(site: &crate::tenant::Site) -> Vec<String> {
    if site.drives.is_empty() {
        vec!["Documents".to_owned()]
    } else {
        site.drives.iter().map(|d| d.name.clone()).collect()
    }
}

/// `b!` and the base64url of three GUIDs, like every SharePoint drive id.
pub(crate) fn library_drive_id(site_id: &str, name: &str) -> String {
    let mut bytes = Vec::with_capacity(48);
    for part in ["site", "web", "list"] {
        let guid = derived_guid(&[
            "library",
            &site_id.to_ascii_lowercase(),
            &name.to_lowercase(),
            part,
        ]);
        let uuid = uuid::Uuid::try_parse(&guid).unwrap_or_default();
        bytes.extend_from_slice(uuid.as_bytes());
    }
    format!("b!{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn user_drive(
    sim: &Inner,
    entry: &TenantEntry,
    tenant: usize,
    index: usize,
) -> Result<Arc<Mutex<Drive>>, GraphError> {
    let user = entry.one_drive_owner(index).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "User's mysite not found.",
        )
    })?;
    let id = crate::sharepoint::drive_id(&user.id);
    let personal_url = entry.sharepoint.personal_url(user);
    sim.drives
        .open(&id, || {
            let mut specs = user.drive_items.clone();
            let content = &sim.drives.content;
            if specs.is_empty()
                && crate::synthetic_files::is_synthetic_user(&user.id)
                && content.synthetic_files > 0
            {
                specs = crate::synthetic_files::synthetic_items(
                    content.content_seed,
                    &user.id,
                    content.synthetic_files,
                );
            }
            let mut drive = Drive::new(
                id.clone(),
                tenant,
                DriveOwner::User {
                    user_id: user.id.clone(),
                },
                &specs,
            );
            drive.site_path = site_path(&personal_url);
            drive.web_url = format!("{personal_url}/Documents");
            Some(drive)
        })
        .ok_or_else(item_not_found)
}

/// `https://host/personal/x` → `personal/x`; a root site → `sites/root`.
fn site_path(web_url: &str) -> String {
    let path = web_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| p.trim_matches('/'))
        .unwrap_or_default();
    if path.split('/').count() == 2 {
        path.to_owned()
    } else {
        "sites/root".to_owned()
    }
}

fn open_drive(
    sim: &Inner,
    grant: &AccessGrant,
    drive_ref: &DriveRef,
) -> Result<Arc<Mutex<Drive>>, GraphError> {
    let directory = sim.directory();
    let entry = granted_tenant(&directory, grant)?;
    match drive_ref {
        DriveRef::Me => user_drive(sim, entry, grant.tenant, grant.user),
        DriveRef::User(key) => {
            let index = entry
                .find_user_index(key)
                .ok_or_else(|| GraphError::directory_object_not_found(key))?;
            user_drive(sim, entry, grant.tenant, index)
        }
        DriveRef::Site(key) => {
            let site = entry.find_site(key).ok_or_else(site_not_found)?;
            if site.is_personal {
                let owner = entry
                    .sharepoint
                    .personal_site_owner(&site.id)
                    .unwrap_or_default();
                let index = entry.find_user_index(&owner).ok_or_else(site_not_found)?;
                return user_drive(sim, entry, grant.tenant, index);
            }
            let name = library_names(&site).into_iter().next().unwrap_or_default();
            library_drive(sim, grant.tenant, &site, &name)
        }
        DriveRef::Id(id) | DriveRef::SiteDrives(id) => {
            if let Some(drive) = sim.drives.opened(id) {
                if relock(drive.lock()).tenant == grant.tenant {
                    return Ok(drive);
                }
                return Err(item_not_found());
            }
            if let Some(owner) = crate::sharepoint::drive_owner(id) {
                if let Some(index) = entry.find_user_index(&owner) {
                    return user_drive(sim, entry, grant.tenant, index);
                }
            }
            for site in &entry.tenant.sites {
                for name in library_names(site) {
                    if library_drive_id(&site.id, &name) == *id {
                        return library_drive(sim, grant.tenant, site, &name);
                    }
                }
            }
            Err(item_not_found())
        }
    }
}

fn library_drive(
    sim: &Inner,
    tenant: usize,
    site: &crate::tenant::Site,
    name: &str,
) -> Result<Arc<Mutex<Drive>>, GraphError> {
    let id = library_drive_id(&site.id, name);
    sim.drives
        .open(&id, || {
            let specs = site
                .drives
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(name))
                .map(|d| d.items.clone())
                .unwrap_or_default();
            let owner = DriveOwner::Library {
                site_id: site.id.clone(),
                name: name.to_owned(),
            };
            let mut drive = Drive::new(id.clone(), tenant, owner, &specs);
            drive.site_path = site_path(&site.web_url);
            let folder = if name.eq_ignore_ascii_case("Documents") {
                "Shared Documents"
            } else {
                name
            };
            drive.web_url = format!("{}/{}", site.web_url.trim_end_matches('/'), folder);
            Some(drive)
        })
        .ok_or_else(item_not_found)
}

fn drive_json(sim: &Inner, drive: &Drive) -> serde_json::Value {
    let (name, owner) = match &drive.owner {
        DriveOwner::User { user_id } => ("OneDrive".to_owned(), json!({"user": {"id": user_id}})),
        DriveOwner::Library { site_id, name } => (name.clone(), json!({"site": {"id": site_id}})),
    };
    let used = drive.size_of(ItemIx::ROOT);
    let total: u64 = 1 << 40;
    let _ = sim;
    json!({
        "id": drive.id,
        "name": name,
        "description": "",
        "driveType": crate::drive_json::drive_type(drive),
        "createdDateTime": crate::graph_json::CREATED,
        "lastModifiedDateTime": crate::wire_time::rfc3339(drive.last_modified()),
        "webUrl": drive.web_url,
        "createdBy": {"user": {"displayName": "System Account"}},
        "owner": owner,
        "quota": {"deleted": 0, "remaining": total.saturating_sub(used), "state": "normal", "total": total, "used": used},
    })
}

fn drive_object(req: &DriveRequest<'_>) -> Response {
    let drive = relock(req.drive.lock());
    let mut object = drive_json(req.sim, &drive);
    if let Some(object) = object.as_object_mut() {
        object.insert(
            "@odata.context".into(),
            json!(format!("{}/v1.0/$metadata#drives/$entity", req.info.base)),
        );
    }
    odata_json(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_references_parse() {
        let parsed = parse_item("items/01AB:/Docs/a%20b.txt:/content")
            .ok()
            .flatten();
        assert_eq!(
            parsed,
            Some(ItemRef {
                id: Some("01AB".into()),
                path: Some("Docs/a b.txt".into()),
                action: Action::Content
            })
        );
        let parsed = parse_item("root/delta(token='abc')").ok().flatten();
        assert_eq!(
            parsed,
            Some(ItemRef {
                id: None,
                path: None,
                action: Action::Delta(Some("abc".into()))
            })
        );
        let parsed = parse_item("root:/Docs/x.txt").ok().flatten();
        assert_eq!(
            parsed,
            Some(ItemRef {
                id: None,
                path: Some("Docs/x.txt".into()),
                action: Action::Get
            })
        );
        assert_eq!(parse_item("").ok().flatten(), None);
        assert!(parse_item("bogus").is_err());
        assert!(parse_item("root/frobnicate").is_err());
    }

    #[test]
    fn site_paths() {
        assert_eq!(
            site_path("https://c-my.sharepoint.com/personal/a_b"),
            "personal/a_b"
        );
        assert_eq!(site_path("https://c.sharepoint.com"), "sites/root");
    }
}
