//! Directory endpoints: organization, me, users, groups, memberships.

use axum::response::Response;
use serde_json::Value;

use crate::directory::{Member, TenantEntry};
use crate::graph::GraphRequest;
use crate::graph_errors::GraphError;
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

/// Renders one page of `items`; `render` only runs for the page's items.
fn page<T>(
    req: &GraphRequest<'_>,
    context: String,
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Result<Response, GraphError> {
    let count = req.query.wants_count(req.headers)?;
    let window = paging::window(items.len(), &req.query)?;
    let values = items[window.range.clone()].iter().map(render).collect();
    Ok(paging::collection(
        &req.info,
        &req.query,
        &context,
        &window,
        values,
        count.then_some(items.len()),
    ))
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
    let entry = &directory.tenants[req.grant.tenant];
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
    let entry = &directory.tenants[req.grant.tenant];
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
    let entry = &directory.tenants[req.grant.tenant];
    let user = &entry.tenant.users[req.grant.user];
    Ok(entity(
        entry,
        "users",
        &selection,
        wire::user(user, &selection),
    ))
}

pub(crate) fn users(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let selection = select(req, &USER, false)?;
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
    page(
        req,
        metadata(entry, "users", &selection),
        &entry.tenant.users,
        |user| Value::Object(wire::user(user, &selection)),
    )
}

pub(crate) fn user(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let selection = select(req, &USER, false)?;
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
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
    let entry = &directory.tenants[req.grant.tenant];
    member_of(req, entry, &entry.tenant.users[req.grant.user])
}

pub(crate) fn user_member_of(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
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
    let entry = &directory.tenants[req.grant.tenant];
    let groups: Vec<&Group> = entry
        .tenant
        .groups
        .iter()
        .filter(|g| !teams_only || g.is_team)
        .collect();
    page(
        req,
        metadata(entry, "groups", &selection),
        &groups,
        |group| Value::Object(wire::group(group, &selection)),
    )
}

pub(crate) fn group(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    let selection = select(req, &GROUP, false)?;
    let directory = req.sim.directory();
    let entry = &directory.tenants[req.grant.tenant];
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
    let entry = &directory.tenants[req.grant.tenant];
    let group = entry
        .find_group(id)
        .ok_or_else(|| GraphError::directory_object_not_found(id))?;
    let members: Vec<Member<'_>> = group
        .members
        .iter()
        .filter_map(|m| entry.member(m))
        .collect();
    page(
        req,
        metadata(entry, "directoryObjects", &Selection::Default),
        &members,
        |member| match member {
            Member::User(user) => wire::typed(&USER, wire::user(user, &selection)),
            Member::Group(group) => wire::typed(&GROUP, wire::group(group, &selection)),
        },
    )
}
