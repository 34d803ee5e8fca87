//! Directory endpoints: organization, me, users, groups, memberships.

use axum::response::Response;
use serde_json::Value;

use crate::directory::{Member, TenantEntry};
use crate::graph::GraphRequest;
use crate::graph_auth::{granted_tenant, granted_user};
use crate::graph_errors::GraphError;
use crate::graph_filter::UserFilter;
use crate::graph_json::{self as wire, EntityKind, GROUP, ORGANIZATION, USER};
use crate::graph_query::{is_team_filter, Selection};
use crate::paging::{self, odata_json};
use crate::tenant::{Group, User};

fn metadata(entry: &TenantEntry, set: &str, selection: &Selection) -> String {
    let mut context = format!(
        "https://{}/v1.0/$metadata#{set}",
        entry.tenant.region.graph_host()
    );
    if let Selection::Fields(fields) = selection {
        context.push('(');
        context.push_str(&fields.join(","));
        context.push(')');
    }
    context
}

fn entity(
    entry: &TenantEntry,
    set: &str,
    selection: &Selection,
    object: serde_json::Map<String, Value>,
) -> Response {
    let mut object = object;
    object.insert(
        "@odata.context".into(),
        Value::String(format!("{}/$entity", metadata(entry, set, selection))),
    );
    odata_json(Value::Object(object))
}

/// Answers with one page of a collection addressed by position `0..len`
/// (see `paging::page_of`); `count` only runs for `$count=true`.
pub(crate) fn respond<T>(
    req: &GraphRequest<'_>,
    context: String,
    len: usize,
    item: impl Fn(usize) -> Option<T>,
    render: impl Fn(&T) -> Value,
    count: impl FnOnce() -> usize,
) -> Result<Response, GraphError> {
    let wants_count = req.query.wants_count(req.headers)?;
    let page = paging::page_of(&req.query, len, item, render)?;
    let count = (wants_count && page.first_page).then(count);
    Ok(paging::collection(
        &req.info, &req.query, &context, page, count,
    ))
}

/// `respond` over a slice that is the whole collection.
fn page<T>(
    req: &GraphRequest<'_>,
    context: String,
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Result<Response, GraphError> {
    respond(
        req,
        context,
        items.len(),
        |i| items.get(i),
        |item| render(item),
        || items.len(),
    )
}

fn select(
    req: &GraphRequest<'_>,
    kind: &EntityKind,
    filter_allowed: bool,
) -> Result<Selection, GraphError> {
    req.query.reject_unsimulated(filter_allowed)?;
    req.query.select(kind)
}

pub(crate) fn organizations(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let selection = select(req, &ORGANIZATION, false)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    page(
        req,
        metadata(entry, "organization", &selection),
        std::slice::from_ref(&entry.tenant),
        |tenant| Value::Object(wire::organization(tenant, &selection)),
    )
}

pub(crate) fn organization(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    let selection = select(req, &ORGANIZATION, false)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    if !entry.tenant.id.eq_ignore_ascii_case(id) {
        return Err(GraphError::directory_object_not_found(id));
    }
    Ok(entity(
        entry,
        "organization",
        &selection,
        wire::organization(&entry.tenant, &selection),
    ))
}

pub(crate) fn me(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let selection = select(req, &USER, false)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let user = granted_user(entry, &req.grant)?;
    Ok(entity(
        entry,
        "users",
        &selection,
        wire::user(user, &selection),
    ))
}

pub(crate) fn users(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let selection = select(req, &USER, true)?;
    let filter = req
        .query
        .get("$filter")
        .map(UserFilter::parse)
        .transpose()?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let users = &entry.tenant.users;
    let item = |i: usize| {
        users
            .get(i)
            .filter(|u| entry.is_live(i) && filter.as_ref().is_none_or(|f| f.matches(u)))
    };
    respond(
        req,
        metadata(entry, "users", &selection),
        users.len(),
        item,
        |user| Value::Object(wire::user(user, &selection)),
        || match &filter {
            None => entry.live_user_count(),
            Some(_) => (0..users.len()).filter(|&i| item(i).is_some()).count(),
        },
    )
}

pub(crate) fn user(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let selection = select(req, &USER, false)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let user = entry
        .find_user(key)
        .ok_or_else(|| GraphError::directory_object_not_found(key))?;
    Ok(entity(
        entry,
        "users",
        &selection,
        wire::user(user, &selection),
    ))
}

pub(crate) fn my_member_of(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    member_of(req, entry, granted_user(entry, &req.grant)?)
}

pub(crate) fn user_member_of(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let user = entry
        .find_user(key)
        .ok_or_else(|| GraphError::directory_object_not_found(key))?;
    member_of(req, entry, user)
}

enum Membership<'a> {
    Role(&'a str),
    Group(&'a Group),
}

/// Directory roles first, then the groups that list the user directly.
fn member_of(
    req: &GraphRequest<'_>,
    entry: &TenantEntry,
    user: &User,
) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.loose_select();
    let items: Vec<Membership<'_>> = user
        .roles
        .iter()
        .map(|r| Membership::Role(r))
        .chain(
            entry
                .direct_groups_of(&user.id)
                .into_iter()
                .map(Membership::Group),
        )
        .collect();
    page(
        req,
        metadata(entry, "directoryObjects", &Selection::Default),
        &items,
        |item| match item {
            Membership::Role(name) => wire::directory_role(&entry.tenant.id, name, &selection),
            Membership::Group(group) => wire::typed(&GROUP, wire::group(group, &selection)),
        },
    )
}

pub(crate) fn groups(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let selection = select(req, &GROUP, true)?;
    let teams_only = match req.query.get("$filter") {
        None => false,
        Some(filter) if is_team_filter(filter) => true,
        Some(filter) => {
            return Err(GraphError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified: '{filter}'."
            )))
        }
    };
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let groups = &entry.tenant.groups;
    let item = |i: usize| groups.get(i).filter(|g| !teams_only || g.is_team);
    respond(
        req,
        metadata(entry, "groups", &selection),
        groups.len(),
        item,
        |group| Value::Object(wire::group(group, &selection)),
        || match teams_only {
            false => groups.len(),
            true => groups.iter().filter(|g| g.is_team).count(),
        },
    )
}

pub(crate) fn group(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    let selection = select(req, &GROUP, false)?;
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let group = entry
        .find_group(id)
        .ok_or_else(|| GraphError::directory_object_not_found(id))?;
    Ok(entity(
        entry,
        "groups",
        &selection,
        wire::group(group, &selection),
    ))
}

pub(crate) fn group_members(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.loose_select();
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let group = entry
        .find_group(id)
        .ok_or_else(|| GraphError::directory_object_not_found(id))?;
    // Members are looked up as each page needs them, so removed users drop
    // out and a large group costs only the page being served.
    let item = |i: usize| group.members.get(i).and_then(|m| entry.member(m));
    respond(
        req,
        metadata(entry, "directoryObjects", &Selection::Default),
        group.members.len(),
        item,
        |member| match member {
            Member::User(user) => wire::typed(&USER, wire::user(user, &selection)),
            Member::Group(group) => wire::typed(&GROUP, wire::group(group, &selection)),
        },
        || {
            (0..group.members.len())
                .filter(|&i| item(i).is_some())
                .count()
        },
    )
}
