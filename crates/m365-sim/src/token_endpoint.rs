//! `POST /{tenant}/oauth2/v2.0/token`: the password (ROPC) and refresh-token
//! grants of the Microsoft identity platform.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::aad_errors::{AadCtx, AadError, JSON_UTF8};
use crate::cloud::Region;
use crate::directory::{Directory, TenantEntry};
use crate::ids::{b64url, derived_guid, is_guid};
use crate::simulator::Inner;
use crate::tenant::{Tenant, User};
use crate::tokens::RefreshGrant;
use crate::wire_time::rfc3339;

const PASSWORD_CHANGE_URL: &str = "https://portal.microsoftonline.com/ChangePassword.aspx";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

pub(crate) async fn token(
    State(sim): State<Arc<Inner>>,
    Path(tenant_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut ctx = AadCtx::from_headers(&headers);
    match handle(&sim, &tenant_key, &body, &mut ctx) {
        Ok(response) => response,
        Err(error) => {
            tracing::info!(
                tenant = %tenant_key,
                code = error.code,
                "token request refused"
            );
            error.into_response(&ctx)
        }
    }
}

pub(crate) async fn token_wrong_method(headers: HeaderMap) -> Response {
    AadError::new(
        "invalid_request",
        900561,
        "The endpoint only accepts POST requests. Received a GET request.",
    )
    .into_response(&AadCtx::from_headers(&headers))
}

/// Entra ignores repeated parameters after the first and treats empty
/// values as absent.
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut form = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if !value.is_empty() {
            form.entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    form
}

fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AadError> {
    form.get(name)
        .map(String::as_str)
        .ok_or_else(|| AadError::missing_parameter(name))
}

fn handle(
    sim: &Inner,
    tenant_key: &str,
    body: &[u8],
    ctx: &mut AadCtx,
) -> Result<Response, AadError> {
    let form = parse_form(body);
    let directory = sim.directory();
    let fixed_tenant = match tenant_key.to_ascii_lowercase().as_str() {
        "common" | "consumers" => {
            return Err(AadError::new(
                "invalid_request",
                9001023,
                "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
            ))
        }
        "organizations" => None,
        _ => {
            let (index, entry) = directory
                .resolve(tenant_key)
                .and_then(|index| Some((index, directory.tenant(index)?)))
                .ok_or_else(|| AadError::tenant_not_found(tenant_key))?;
            ctx.login_host = entry.tenant.region.login_host();
            Some(index)
        }
    };

    let client_id = required(&form, "client_id")?;
    if !is_guid(client_id) {
        let directory_name = fixed_tenant
            .and_then(|t| directory.tenant(t))
            .map(|entry| entry.tenant.display_name.clone())
            .unwrap_or_else(|| "organizations".to_owned());
        return Err(AadError::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    }

    match required(&form, "grant_type")? {
        "password" => password_grant(sim, &directory, fixed_tenant, &form, client_id, ctx),
        "refresh_token" => refresh_grant(sim, &directory, fixed_tenant, &form, client_id),
        other => Err(AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

fn password_grant(
    sim: &Inner,
    directory: &Directory,
    fixed_tenant: Option<usize>,
    form: &HashMap<String, String>,
    client_id: &str,
    ctx: &mut AadCtx,
) -> Result<Response, AadError> {
    let username = required(form, "username")?;
    let password = required(form, "password")?;
    let scope = required(form, "scope")?;

    let user_missing = |directory_name: &str| {
        AadError::new(
            "invalid_grant",
            50034,
            format!(
                "The user account {{EmailHidden}} does not exist in the {directory_name} directory. To sign into this application, the account must be added to the directory."
            ),
        )
    };
    let (tenant_index, entry) = match fixed_tenant {
        Some(index) => (
            index,
            directory
                .tenant(index)
                .ok_or_else(|| user_missing("organizations"))?,
        ),
        None => {
            let domain = username
                .rsplit_once('@')
                .map(|(_, d)| d)
                .unwrap_or_default();
            let (index, entry) = directory
                .resolve(domain)
                .filter(|_| !domain.is_empty())
                .and_then(|index| Some((index, directory.tenant(index)?)))
                .ok_or_else(|| user_missing("organizations"))?;
            ctx.login_host = entry.tenant.region.login_host();
            (index, entry)
        }
    };
    let granted = check_scope(scope, entry)?;

    let (user_index, user) = entry
        .user_index_by_upn(username)
        .and_then(|index| Some((index, entry.user(index)?)))
        .ok_or_else(|| user_missing(&entry.tenant.id))?;
    if user.locked {
        return Err(AadError::new(
            "invalid_grant",
            50053,
            "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
        ));
    }
    // ROPC never accepts a password with surrounding whitespace, even if it
    // is the stored one.
    let password_ok = password.trim() == password && user.password.as_deref() == Some(password);
    if !password_ok {
        return Err(AadError::new(
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    if !user.account_enabled {
        return Err(AadError::new(
            "invalid_grant",
            50057,
            "The user account is disabled.",
        ));
    }
    if user.password_expired {
        return Err(
            AadError::new("user_password_expired", 50055, "The password is expired.")
                .with("password_change_url", PASSWORD_CHANGE_URL),
        );
    }
    if user.mfa_required {
        return Err(AadError::new(
            "invalid_grant",
            50076,
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{GRAPH_APP_ID}'."
            ),
        )
        .with("suberror", "basic_action")
        .with(
            "claims",
            "{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"00000000-0000-0000-0000-000000000000\"]}}}",
        ));
    }
    tracing::info!(tenant = %entry.tenant.id, user = %user.user_principal_name, "password sign-in succeeded");
    Ok(issue(
        sim,
        entry,
        tenant_index,
        user_index,
        user,
        &granted,
        client_id,
    ))
}

fn refresh_grant(
    sim: &Inner,
    directory: &Directory,
    fixed_tenant: Option<usize>,
    form: &HashMap<String, String>,
    client_id: &str,
) -> Result<Response, AadError> {
    let presented = required(form, "refresh_token")?;
    let malformed = || {
        AadError::new(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
    };
    let grant = sim
        .tokens()
        .refresh_grant(presented)
        .ok_or_else(malformed)?;
    if fixed_tenant.is_some_and(|t| t != grant.tenant) {
        return Err(malformed());
    }
    let entry = directory.tenant(grant.tenant).ok_or_else(malformed)?;
    if entry.credential_epoch(grant.user) != Some(grant.credential_epoch) {
        sim.tokens().revoke_refresh(presented);
        return Err(AadError::new(
            "invalid_grant",
            50173,
            format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{}'.",
                rfc3339(grant.issued_at)
            ),
        ));
    }
    if !entry.is_live(grant.user) {
        sim.tokens().revoke_refresh(presented);
        return Err(AadError::new(
            "invalid_grant",
            50034,
            format!(
                "The user account {{EmailHidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                entry.tenant.id
            ),
        ));
    }
    let user = entry.user(grant.user).ok_or_else(malformed)?;
    if !user.account_enabled {
        return Err(AadError::new(
            "invalid_grant",
            50057,
            "The user account is disabled.",
        ));
    }
    let mut granted = match form.get("scope") {
        Some(scope) => check_scope(scope, entry)?,
        None => check_scope(&grant.scope, entry)?,
    };
    granted.offline_access = true;
    tracing::info!(tenant = %entry.tenant.id, user = %user.user_principal_name, "refresh token redeemed");
    Ok(issue(
        sim,
        entry,
        grant.tenant,
        grant.user,
        user,
        &granted,
        client_id,
    ))
}

struct GrantedScope {
    /// What the response's `scope` echoes and a refresh token remembers.
    scope: String,
    offline_access: bool,
    openid: bool,
}

/// A token is only ever for the tenant's own cloud's Graph: any other
/// resource is unknown to the tenant (AADSTS500011).
fn check_scope(raw: &str, entry: &TenantEntry) -> Result<GrantedScope, AadError> {
    let region: Region = entry.tenant.region;
    let unknown_resource = |resource: &str| {
        AadError::new(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                entry.tenant.display_name
            ),
        )
    };
    let mut resource_scopes = Vec::new();
    let mut oidc_scopes = Vec::new();
    let (mut offline_access, mut openid) = (false, false);
    for scope in raw.split_whitespace() {
        match scope.to_ascii_lowercase().as_str() {
            "offline_access" => {
                offline_access = true;
                oidc_scopes.push("offline_access");
                continue;
            }
            "openid" => {
                openid = true;
                oidc_scopes.push("openid");
                continue;
            }
            "profile" => {
                oidc_scopes.push("profile");
                continue;
            }
            "email" => {
                oidc_scopes.push("email");
                continue;
            }
            _ => {}
        }
        match scope.split_once("://") {
            Some((_, rest)) => {
                let (host, permission) = rest.split_once('/').unwrap_or((rest, ""));
                let resource = scope[..scope.len() - permission.len()].trim_end_matches('/');
                if !host.eq_ignore_ascii_case(region.graph_host()) || permission.is_empty() {
                    return Err(unknown_resource(resource));
                }
                resource_scopes.push(format!("https://{}/{permission}", region.graph_host()));
            }
            // A bare permission name means Microsoft Graph.
            None => resource_scopes.push(format!("https://{}/{scope}", region.graph_host())),
        }
    }
    if resource_scopes.is_empty() {
        return Err(AadError::new(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{raw}' does not name a resource; use 'https://{}/.default'.",
                region.graph_host()
            ),
        ));
    }
    resource_scopes.extend(oidc_scopes.into_iter().map(str::to_owned));
    Ok(GrantedScope {
        scope: resource_scopes.join(" "),
        offline_access,
        openid,
    })
}

fn issue(
    sim: &Inner,
    entry: &TenantEntry,
    tenant_index: usize,
    user_index: usize,
    user: &User,
    granted: &GrantedScope,
    client_id: &str,
) -> Response {
    let lifetime = sim.token_lifetime;
    let expires_in = lifetime.as_secs();
    let mut body = Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("scope".into(), json!(granted.scope));
    body.insert("expires_in".into(), json!(expires_in));
    body.insert("ext_expires_in".into(), json!(expires_in));
    {
        let mut tokens = sim.tokens();
        body.insert(
            "access_token".into(),
            json!(tokens.issue_access(tenant_index, user_index, lifetime)),
        );
        if granted.offline_access {
            let refresh = tokens.issue_refresh(RefreshGrant {
                tenant: tenant_index,
                user: user_index,
                credential_epoch: entry.credential_epoch(user_index).unwrap_or_default(),
                scope: granted.scope.clone(),
                issued_at: OffsetDateTime::now_utc(),
            });
            body.insert("refresh_token".into(), json!(refresh));
        }
    }
    if granted.openid {
        body.insert(
            "id_token".into(),
            json!(id_token(&entry.tenant, user, client_id, expires_in)),
        );
    }
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, JSON_UTF8),
            (CACHE_CONTROL, "no-store"),
            (PRAGMA, "no-cache"),
        ],
        Value::Object(body).to_string(),
    )
        .into_response()
}

/// An unsigned JWT carrying the usual identity claims, so a client can learn
/// the tenant GUID and object id of whoever signed in.
fn id_token(tenant: &Tenant, user: &User, client_id: &str, lifetime: u64) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"typ": "JWT", "alg": "none"});
    let claims = json!({
        "aud": client_id,
        "iss": format!("https://{}/{}/v2.0", tenant.region.login_host(), tenant.id),
        "iat": now,
        "nbf": now,
        "exp": now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "sub": b64url(derived_guid(&["sub", &tenant.id, &user.id, client_id]).as_bytes()),
        "tid": tenant.id,
        "ver": "2.0",
    });
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}
