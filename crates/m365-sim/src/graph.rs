//! `/v1.0/...`: authentication, URL resolution and dispatch for the Graph
//! endpoints we simulate.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::graph_auth::authenticate;
use crate::graph_directory as directory;
use crate::graph_drive as drive;
use crate::graph_errors::{GraphCtx, GraphError};
use crate::graph_mailbox as mailbox;
use crate::graph_query::Query;
use crate::graph_sites as sites;
use crate::graph_teams as teams;
use crate::paging::RequestInfo;
use crate::simulator::Inner;
use crate::tokens::AccessGrant;

/// Everything a Graph handler needs about the request.
pub(crate) struct GraphRequest<'a> {
    pub sim: &'a Inner,
    pub grant: AccessGrant,
    pub query: Query,
    pub info: RequestInfo,
    pub headers: &'a axum::http::HeaderMap,
}

enum Route {
    ServiceRoot,
    Organization,
    OrganizationById(String),
    Me,
    MyMemberOf,
    MyDrive,
    MyMailboxSettings,
    Users,
    User(String),
    UserMemberOf(String),
    UserDrive(String),
    UserMailboxSettings(String),
    Groups,
    Group(String),
    GroupMembers(String),
    Teams,
    Team(String),
    Sites,
    Site(String),
    Subsites(String),
}

/// Segment names are case-insensitive in Graph; keys keep their case.
fn route(segments: &[String]) -> Option<Route> {
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let names: Vec<&str> = lower.iter().map(String::as_str).collect();
    // Only called for patterns that matched a segment at `i`.
    let key = |i: usize| segments.get(i).cloned().unwrap_or_default();
    Some(match names.as_slice() {
        [] => Route::ServiceRoot,
        ["organization"] => Route::Organization,
        ["organization", _] => Route::OrganizationById(key(1)),
        ["me"] => Route::Me,
        ["me", "memberof"] => Route::MyMemberOf,
        ["me", "drive"] => Route::MyDrive,
        ["me", "mailboxsettings"] => Route::MyMailboxSettings,
        ["users"] => Route::Users,
        ["users", _] => Route::User(key(1)),
        ["users", _, "memberof"] => Route::UserMemberOf(key(1)),
        ["users", _, "drive"] => Route::UserDrive(key(1)),
        ["users", _, "mailboxsettings"] => Route::UserMailboxSettings(key(1)),
        ["groups"] => Route::Groups,
        ["groups", _] => Route::Group(key(1)),
        ["groups", _, "members"] => Route::GroupMembers(key(1)),
        ["teams"] => Route::Teams,
        ["teams", _] => Route::Team(key(1)),
        ["sites"] => Route::Sites,
        ["sites", _] => Route::Site(key(1)),
        ["sites", _, "sites"] => Route::Subsites(key(1)),
        _ => return None,
    })
}

pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            byte,
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) async fn graph(State(sim): State<Arc<Inner>>, request: Request) -> Response {
    // Drive endpoints take bodies and stream; they route themselves.
    let request = match crate::drive_routes::handle(&sim, request).await {
        Ok(response) => return response,
        Err(request) => request,
    };
    // Mail endpoints read bodies and stream MIME; they route themselves.
    let request = match crate::graph_mail::handle(&sim, request).await {
        Ok(response) => return response,
        Err(request) => request,
    };
    let ctx = GraphCtx::from_headers(request.headers());
    match dispatch(&sim, &request) {
        Ok(mut response) => {
            ctx.stamp(&mut response);
            response
        }
        Err(error) => error.into_response(&ctx),
    }
}

fn dispatch(sim: &Inner, request: &Request) -> Result<Response, GraphError> {
    let grant = authenticate(sim, request.headers())?;
    let path = request.uri().path();
    let segments: Vec<String> = path
        .strip_prefix("/v1.0")
        .unwrap_or(path)
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let Some(route) = route(&segments) else {
        // The first segment at which no route is left: the one Graph names.
        let unknown = (1..=segments.len())
            .find_map(|n| {
                let (prefix, _) = segments.split_at_checked(n)?;
                match route(prefix) {
                    None => prefix.last(),
                    Some(_) => None,
                }
            })
            .map_or("", String::as_str);
        return Err(GraphError::segment_not_found(unknown));
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Err(GraphError::method_not_allowed());
    }
    let req = GraphRequest {
        sim,
        grant,
        query: Query::parse(request.uri().query()),
        info: RequestInfo::new(request.uri(), request.headers()),
        headers: request.headers(),
    };
    match route {
        Route::ServiceRoot => Ok(service_root(&req)),
        Route::Organization => directory::organizations(&req),
        Route::OrganizationById(id) => directory::organization(&req, &id),
        Route::Me => directory::me(&req),
        Route::MyMemberOf => directory::my_member_of(&req),
        Route::MyDrive => drive::my_drive(&req),
        Route::MyMailboxSettings => mailbox::my_settings(&req),
        Route::Users => directory::users(&req),
        Route::User(key) => directory::user(&req, &key),
        Route::UserMemberOf(key) => directory::user_member_of(&req, &key),
        Route::UserDrive(key) => drive::user_drive(&req, &key),
        Route::UserMailboxSettings(key) => mailbox::user_settings(&req, &key),
        Route::Groups => directory::groups(&req),
        Route::Group(id) => directory::group(&req, &id),
        Route::GroupMembers(id) => directory::group_members(&req, &id),
        Route::Teams => teams::teams(&req),
        Route::Team(id) => teams::team(&req, &id),
        Route::Sites => sites::search(&req),
        Route::Site(id) => sites::site(&req, &id),
        Route::Subsites(id) => sites::subsites(&req, &id),
    }
}

fn service_root(req: &GraphRequest<'_>) -> Response {
    let sets: Vec<_> = ["organization", "users", "groups", "teams", "sites"]
        .into_iter()
        .map(|name| json!({"kind": "EntitySet", "name": name, "url": name}))
        .chain(std::iter::once(
            json!({"kind": "Singleton", "name": "me", "url": "me"}),
        ))
        .collect();
    crate::paging::odata_json(json!({
        "@odata.context": format!("{}/v1.0/$metadata", req.info.base),
        "value": sets,
    }))
}

/// Requests outside `/v1.0` and the token endpoint: nothing Microsoft would
/// answer at this address is simulated.
pub(crate) async fn outside_simulated_namespace(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "error": {
                "code": "NotFound",
                "message": format!(
                    "m365-sim does not simulate '{}'; it serves /{{tenant}}/oauth2/v2.0/token and /v1.0/...",
                    request.uri().path()
                ),
            }
        })),
    )
        .into_response()
}
