//! A signed-in Microsoft Graph session and the few reads we make with it.

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::client::M365Client;
use crate::cloud::Endpoints;
use crate::error::{transport_error, ErrorKind, M365Error};
use crate::limits::{Lane, Workload};
use crate::signin::host_of;

/// Directory roles are matched by template id, which is the same in every
/// tenant and cloud; the display name is only a fallback.
pub mod role_template {
    pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
    pub const EXCHANGE_ADMINISTRATOR: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
    pub const SHAREPOINT_ADMINISTRATOR: &str = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c";
    pub const TEAMS_ADMINISTRATOR: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";
}

/// A user's access to Graph, valid until `expires_at`.
pub struct GraphSession {
    client: M365Client,
    endpoints: Endpoints,
    /// The tenant segment signed in to, for refreshing.
    pub(crate) tenant: String,
    access_token: SecretString,
    pub(crate) refresh_token: Option<SecretString>,
    expires_at: Instant,
}

impl std::fmt::Debug for GraphSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphSession")
            .field("graph", &self.endpoints.graph.as_str())
            .finish_non_exhaustive()
    }
}

/// `GET /organization`, the parts we use.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TenantOrganization {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
}

impl TenantOrganization {
    /// The `*.onmicrosoft.com` domain the tenant was created with.
    pub fn initial_domain(&self) -> Option<&str> {
        self.verified_domains
            .iter()
            .find(|d| d.is_initial)
            .map(|d| d.name.as_str())
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    pub name: String,
    #[serde(default)]
    pub is_initial: bool,
    #[serde(default)]
    pub is_default: bool,
}

/// `GET /me`, the parts we use.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedInUser {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A directory role the signed-in user holds (from `/me/memberOf`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role_template_id: Option<String>,
}

impl DirectoryRole {
    pub fn is(&self, template_id: &str, display_name: &str) -> bool {
        match &self.role_template_id {
            Some(t) => t.eq_ignore_ascii_case(template_id),
            None => self
                .display_name
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(display_name)),
        }
    }
}

#[derive(Deserialize)]
struct Collection<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// Graph's error body: `{"error":{"code","message","innerError":{…}}}`.
#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(rename = "innerError", alias = "innererror", default)]
    inner: Option<Box<GraphErrorDetail>>,
}

impl GraphErrorDetail {
    /// The innermost code is the most specific.
    fn most_specific_code(&self) -> &str {
        match &self.inner {
            Some(inner) if !inner.most_specific_code().is_empty() => inner.most_specific_code(),
            _ => &self.code,
        }
    }
}

#[derive(Deserialize)]
struct MemberOfEntry {
    #[serde(rename = "@odata.type", default)]
    odata_type: String,
    #[serde(flatten)]
    role: DirectoryRole,
}

impl GraphSession {
    pub(crate) fn new(
        client: M365Client,
        endpoints: Endpoints,
        tenant: String,
        access_token: SecretString,
        refresh_token: Option<SecretString>,
        expires_at: Instant,
    ) -> Self {
        Self {
            client,
            endpoints,
            tenant,
            access_token,
            refresh_token,
            expires_at,
        }
    }

    pub(crate) fn client(&self) -> &M365Client {
        &self.client
    }

    /// The tenant this session signed in to, as a lane key.
    pub(crate) fn tenant_key(&self) -> &str {
        &self.tenant
    }

    /// Adds the bearer token; only ever for Graph's own host.
    pub(crate) fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(self.access_token.expose_secret())
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The client and the bearer token, for request code in sibling
    /// modules (drive content) that sends its own requests.
    pub(crate) fn http_parts(&self) -> (&M365Client, &str) {
        (&self.client, self.access_token.expose_secret())
    }

    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    pub async fn organization(&self) -> Result<TenantOrganization, M365Error> {
        let orgs: Vec<TenantOrganization> = self.get_all("v1.0/organization").await?;
        orgs.into_iter().next().ok_or_else(|| {
            M365Error::new(
                ErrorKind::Protocol,
                "Microsoft Graph returned no organization for the signed-in account",
            )
        })
    }

    pub async fn me(&self) -> Result<SignedInUser, M365Error> {
        self.get_one("v1.0/me?$select=id,userPrincipalName,displayName")
            .await
    }

    /// The directory roles the signed-in user holds directly.
    pub async fn directory_roles(&self) -> Result<Vec<DirectoryRole>, M365Error> {
        let entries: Vec<MemberOfEntry> = self.get_all("v1.0/me/memberOf?$top=999").await?;
        Ok(entries
            .into_iter()
            .filter(|e| {
                e.odata_type
                    .eq_ignore_ascii_case("#microsoft.graph.directoryRole")
            })
            .map(|e| e.role)
            .collect())
    }

    async fn get_one<T: DeserializeOwned>(&self, path: &str) -> Result<T, M365Error> {
        let url = self.url(path)?;
        let body = self.get(&url).await?;
        parse(&body, &url)
    }

    /// Every item of a collection, following `@odata.nextLink` verbatim.
    async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, M365Error> {
        let mut items = Vec::new();
        self.stream(self.url(path)?, |page: Vec<T>| {
            items.extend(page);
            Ok(())
        })
        .await?;
        Ok(items)
    }

    /// Hands each page of a collection to `on_page` as it arrives, so a
    /// caller never holds more than one page it has not consumed.
    pub(crate) async fn stream<T: DeserializeOwned>(
        &self,
        mut url: Url,
        mut on_page: impl FnMut(Vec<T>) -> Result<(), M365Error>,
    ) -> Result<(), M365Error> {
        loop {
            let body = self.get(&url).await?;
            let page: Collection<T> = parse(&body, &url)?;
            drop(body);
            on_page(page.value)?;
            match page.next_link {
                Some(next) => url = self.same_origin(&next)?,
                None => return Ok(()),
            }
        }
    }

    /// One object, or `None` when Graph answers 404.
    pub(crate) async fn get_optional<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<Option<T>, M365Error> {
        match self.get(&url).await {
            Ok(body) => parse(&body, &url).map(Some),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `v1.0/{segments…}?{query}`, each segment percent-encoded: ids from
    /// clients can never reach another Graph path.
    pub(crate) fn graph_url(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, M365Error> {
        let mut url = self.url("v1.0/")?;
        url.path_segments_mut()
            .map_err(|_| M365Error::new(ErrorKind::Protocol, "the Graph URL cannot be a base"))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn url(&self, path: &str) -> Result<Url, M365Error> {
        self.endpoints
            .graph
            .join(path)
            .map_err(|e| M365Error::new(ErrorKind::Protocol, format!("bad Graph path {path}: {e}")))
    }

    /// A nextLink elsewhere than Graph would receive our bearer token.
    pub(crate) fn same_origin(&self, link: &str) -> Result<Url, M365Error> {
        let url = Url::parse(link).map_err(|_| {
            M365Error::new(
                ErrorKind::Protocol,
                "Microsoft Graph sent a malformed @odata.nextLink",
            )
        })?;
        if url.origin() != self.endpoints.graph.origin() {
            return Err(M365Error::new(
                ErrorKind::Protocol,
                format!(
                    "Microsoft Graph sent an @odata.nextLink to another host ({}); not following it",
                    host_of(&url)
                ),
            ));
        }
        Ok(url)
    }

    async fn get(&self, url: &Url) -> Result<Bytes, M365Error> {
        let host = host_of(url);
        // Directory reads serve people browsing: the interactive lane. Sites
        // and drives are SharePoint's, which throttles apart from the
        // directory: their `Retry-After` pauses SharePoint only.
        let lane = match answered_by(url) {
            Workload::SharePoint => Lane::interactive(&self.tenant).sharepoint(),
            _ => Lane::interactive(&self.tenant),
        };
        let held = self
            .client
            .send_in(&lane, &host, || {
                self.authorize(self.client.http.get(url.clone()))
                    .header("Accept", "application/json")
            })
            .await?;
        let status = held.response.status();
        let body = held
            .response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, &host, self.client.settings.request_timeout))?;
        drop(held.permit);
        if status.is_success() {
            return Ok(body);
        }
        let (code, message) = match serde_json::from_slice::<GraphErrorBody>(&body) {
            Ok(b) => (b.error.most_specific_code().to_owned(), b.error.message),
            Err(_) => (String::new(), String::new()),
        };
        let kind = match status.as_u16() {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            s if s >= 500 => ErrorKind::Unavailable { retry_after: None },
            _ => ErrorKind::Protocol,
        };
        let path = url.path();
        Err(M365Error::new(
            kind,
            format!(
                "Microsoft Graph ({host}) answered {path} with HTTP {}{}{}",
                status.as_u16(),
                if code.is_empty() {
                    String::new()
                } else {
                    format!(" {code}")
                },
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                },
            ),
        ))
    }
}

fn parse<T: DeserializeOwned>(body: &[u8], url: &Url) -> Result<T, M365Error> {
    serde_json::from_slice(body).map_err(|e| {
        M365Error::new(
            ErrorKind::Protocol,
            format!(
                "Microsoft Graph answered {} with an unexpected body: {e}",
                url.path()
            ),
        )
    })
}

/// Which service answers a Graph read: sites and drives (a user's OneDrive
/// included) are SharePoint's; users, groups and roles the directory's.
fn answered_by(url: &Url) -> Workload {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    // After the version: `sites/…`, `drives/…`, `users/{id}/drive…`, `me/drive…`.
    match segments.as_slice() {
        [_, first, ..] if is_sharepoint(first) => Workload::SharePoint,
        [_, "users" | "groups", _, next, ..] | [_, "me", next, ..] if is_sharepoint(next) => {
            Workload::SharePoint
        }
        _ => Workload::Directory,
    }
}

fn is_sharepoint(segment: &str) -> bool {
    ["sites", "drive", "drives"]
        .iter()
        .any(|s| segment.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sites_and_drives_are_sharepoints_and_the_rest_the_directorys() {
        let of = |path: &str| {
            answered_by(&Url::parse(&format!("https://graph.example/{path}")).unwrap())
        };
        assert_eq!(of("v1.0/sites?search=*"), Workload::SharePoint);
        assert_eq!(of("v1.0/sites/a,b,c/drives"), Workload::SharePoint);
        assert_eq!(
            of("v1.0/drives/d/items/root/children"),
            Workload::SharePoint
        );
        assert_eq!(of("v1.0/users/u1/drive"), Workload::SharePoint);
        assert_eq!(of("v1.0/groups/g1/drive"), Workload::SharePoint);
        assert_eq!(of("v1.0/me/drive"), Workload::SharePoint);
        assert_eq!(of("v1.0/users"), Workload::Directory);
        assert_eq!(of("v1.0/users/u1"), Workload::Directory);
        assert_eq!(of("v1.0/groups/g1/members"), Workload::Directory);
        assert_eq!(of("v1.0/me/memberOf"), Workload::Directory);
        assert_eq!(of("v1.0/organization"), Workload::Directory);
        // A user named like a service is still a user.
        assert_eq!(of("v1.0/users/sites"), Workload::Directory);
    }
}
