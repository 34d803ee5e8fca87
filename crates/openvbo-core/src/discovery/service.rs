//! The listings and lookups of an organization's directory objects.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::cache::{CacheSettings, Listing, Lookup, SetCache, SetKey};
use super::mapping::{group, member, onedrive, site, team, user};
use super::model::{DirectoryGroup, DirectorySite, DirectoryUser, GroupMember, OneDrive, Team};
use super::query::{GroupFilter, Page, PageRequest, SiteFilter, UserFilter};
use super::sessions::SessionPool;
use crate::clock::SharedClock;
use crate::crypto::Sealer;
use crate::error::CoreError;
use crate::microsoft365::{
    DirectorySession, DriveRecord, FailureKind, GroupRecord, M365Failure, SiteRecord,
};
use crate::organization::{Organization, OrganizationService, RemovalListener, Service};
use crate::OrganizationId;

type Session = Arc<dyn DirectorySession>;
type GraphFuture<T> = Pin<Box<dyn Future<Output = Result<T, M365Failure>> + Send>>;

/// Gathers a streamed listing, converting each item as its page arrives and
/// refusing to grow beyond the cache's capacity.
struct Collector<G, T> {
    items: Vec<T>,
    max: usize,
    convert: fn(G) -> Option<T>,
}

impl<G, T> Collector<G, T> {
    fn new(max: usize, convert: fn(G) -> Option<T>) -> Self {
        Self {
            items: Vec::new(),
            max,
            convert,
        }
    }

    fn push(&mut self, page: Vec<G>) -> Result<(), M365Failure> {
        self.items.extend(page.into_iter().filter_map(self.convert));
        if self.items.len() > self.max {
            return Err(M365Failure::too_large(self.max));
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<T> {
        self.items.shrink_to_fit();
        self.items
    }
}

/// A listing op: stream `$call` on the session into a collector. The
/// captured names before `;` are cloned into each attempt.
macro_rules! listing {
    ($($cap:ident),* ; |$s:ident, $c:ident| $call:expr, $convert:expr) => {
        move |$s: Session, max: usize| -> GraphFuture<Vec<_>> {
            $(let $cap = $cap.clone();)*
            Box::pin(async move {
                let mut collector = Collector::new(max, $convert);
                let $c = &mut |page| collector.push(page);
                $call.await?;
                Ok(collector.finish())
            })
        }
    };
}

/// A single-object op with owned copies of its arguments.
fn one<T: Send + 'static>(
    id: &str,
    call: impl Fn(Session, String) -> GraphFuture<T> + Send,
) -> impl Fn(Session) -> GraphFuture<T> + Send {
    let id = id.to_owned();
    move |s| call(s, id.clone())
}

#[derive(Clone)]
pub struct DiscoveryService {
    organizations: OrganizationService,
    sessions: Arc<SessionPool>,
    cache: Arc<SetCache>,
    /// Kept alive here; the organization service holds it weakly.
    _forget: Arc<dyn RemovalListener>,
}

/// What discovery keeps of an organization, dropped when it is removed.
struct Forget {
    sessions: Arc<SessionPool>,
    cache: Arc<SetCache>,
}

impl RemovalListener for Forget {
    fn removed(&self, id: OrganizationId) {
        self.sessions.forget(id);
        self.cache.forget(id);
    }
}

impl DiscoveryService {
    /// Signs in with `organizations`' token source; sessions and `setId`s
    /// age on `clock`.
    pub fn new(
        organizations: OrganizationService,
        sealer: Arc<Sealer>,
        cache: CacheSettings,
        clock: SharedClock,
    ) -> Self {
        let sessions = Arc::new(SessionPool::new(
            organizations.token_source(),
            sealer,
            clock.clone(),
        ));
        let cache = Arc::new(SetCache::new(cache, clock));
        let forget: Arc<dyn RemovalListener> = Arc::new(Forget {
            sessions: sessions.clone(),
            cache: cache.clone(),
        });
        organizations.on_removed(Arc::downgrade(&forget));
        Self {
            organizations,
            sessions,
            cache,
            _forget: forget,
        }
    }

    async fn organization(&self, id: OrganizationId) -> Result<Organization, CoreError> {
        self.organizations.get(id).await
    }

    /// Runs `op` with the organization's session; a token Graph no longer
    /// accepts is replaced once.
    async fn with_graph<T>(
        &self,
        org: &Organization,
        service: Service,
        op: impl Fn(Session) -> GraphFuture<T> + Send,
    ) -> Result<T, CoreError> {
        let session = self.sessions.session(org, service).await?;
        match op(session).await {
            Err(e) if e.kind == FailureKind::TokenRejected => {
                self.sessions.forget(org.id);
                let session = self.sessions.session(org, service).await?;
                op(session).await.map_err(|e| graph_error(e, org))
            }
            other => other.map_err(|e| graph_error(e, org)),
        }
    }

    /// The cached set named by the request, or the listing fetched now (by
    /// `fetch`) and cached under a new set id.
    async fn set<T: Send + Sync + 'static>(
        &self,
        org: &Organization,
        service: Service,
        listing: Listing,
        request: &PageRequest,
        fetch: impl Fn(Session, usize) -> GraphFuture<Vec<T>> + Send,
    ) -> Result<(uuid::Uuid, Arc<Vec<T>>), CoreError> {
        let key = SetKey {
            organization: org.id,
            listing,
        };
        if let Some(set_id) = request.set_id {
            return match self.cache.get::<T>(set_id, &key) {
                Lookup::Found(items) => Ok((set_id, items)),
                Lookup::Missing => Err(CoreError::NotFound(format!(
                    "setId {set_id} is unknown or has expired; request the first page again without setId"
                ))),
                Lookup::OtherListing => Err(CoreError::NotFound(format!(
                    "setId {set_id} belongs to another listing; request the first page of this one without setId"
                ))),
            };
        }
        let max = self.cache.max_items();
        let items = self
            .with_graph(org, service, move |s| fetch(s, max))
            .await?;
        Ok(self.cache.insert(key, items))
    }

    /// A live session of the organization's `service` account (shared with
    /// discovery's, renewed), for other readers of the organization.
    pub async fn session(
        &self,
        id: OrganizationId,
        service: Service,
    ) -> Result<Arc<dyn DirectorySession>, CoreError> {
        let org = self.organization(id).await?;
        self.sessions.session(&org, service).await
    }

    pub async fn users(
        &self,
        id: OrganizationId,
        request: PageRequest,
        filter: &UserFilter,
    ) -> Result<Page<DirectoryUser>, CoreError> {
        let org = self.organization(id).await?;
        let fetch = listing!(; |s, sink| s.users(sink), |u| Some(user(u)));
        let (set_id, items) = self
            .set(&org, Service::Exchange, Listing::Users, &request, fetch)
            .await?;
        let admits = |u: &DirectoryUser| filter.admits(u);
        let admits: Option<&dyn Fn(&DirectoryUser) -> bool> =
            (!filter.is_empty()).then_some(&admits);
        Ok(Page::select(&items, &request, set_id, admits))
    }

    pub async fn user(
        &self,
        id: OrganizationId,
        user_id: &str,
    ) -> Result<DirectoryUser, CoreError> {
        let org = self.organization(id).await?;
        usable("user", user_id, &org)?;
        self.with_graph(
            &org,
            Service::Exchange,
            one(user_id, |s, id| Box::pin(async move { s.user(&id).await })),
        )
        .await?
        .map(user)
        .ok_or_else(|| not_found("user", user_id, &org))
    }

    pub async fn groups(
        &self,
        id: OrganizationId,
        request: PageRequest,
        filter: &GroupFilter,
    ) -> Result<Page<DirectoryGroup>, CoreError> {
        let org = self.organization(id).await?;
        let fetch = listing!(; |s, sink| s.groups(sink), |g| Some(group(g)));
        let (set_id, items) = self
            .set(&org, Service::Exchange, Listing::Groups, &request, fetch)
            .await?;
        let admits = |g: &DirectoryGroup| filter.admits(g);
        let admits: Option<&dyn Fn(&DirectoryGroup) -> bool> =
            (!filter.is_empty()).then_some(&admits);
        Ok(Page::select(&items, &request, set_id, admits))
    }

    async fn graph_group(
        &self,
        org: &Organization,
        group_id: &str,
    ) -> Result<Option<GroupRecord>, CoreError> {
        usable("group", group_id, org)?;
        self.with_graph(
            org,
            Service::Exchange,
            one(group_id, |s, id| {
                Box::pin(async move { s.group(&id).await })
            }),
        )
        .await
    }

    pub async fn group(
        &self,
        id: OrganizationId,
        group_id: &str,
    ) -> Result<DirectoryGroup, CoreError> {
        let org = self.organization(id).await?;
        self.graph_group(&org, group_id)
            .await?
            .map(group)
            .ok_or_else(|| not_found("group", group_id, &org))
    }

    pub async fn group_members(
        &self,
        id: OrganizationId,
        group_id: &str,
        request: PageRequest,
    ) -> Result<Page<GroupMember>, CoreError> {
        let org = self.organization(id).await?;
        usable("group", group_id, &org)?;
        if request.set_id.is_none() && self.graph_group(&org, group_id).await?.is_none() {
            // An unknown group is not found, not an empty page.
            return Err(not_found("group", group_id, &org));
        }
        let gid = group_id.to_owned();
        let fetch = listing!(gid; |s, sink| s.group_members(&gid, sink), |m| Some(member(m)));
        let listing = Listing::Members(group_id.to_owned());
        let (set_id, items) = self
            .set(&org, Service::Exchange, listing, &request, fetch)
            .await?;
        Ok(Page::select(&items, &request, set_id, None))
    }

    pub async fn teams(
        &self,
        id: OrganizationId,
        request: PageRequest,
        filter: &GroupFilter,
    ) -> Result<Page<Team>, CoreError> {
        let org = self.organization(id).await?;
        let fetch = listing!(; |s, sink| s.teams(sink), |g| Some(team(g)));
        let (set_id, items) = self
            .set(&org, Service::Exchange, Listing::Teams, &request, fetch)
            .await?;
        Ok(Page::of(
            items.iter().filter(|t| filter.admits_team(t)),
            &request,
            set_id,
        ))
    }

    pub async fn team(&self, id: OrganizationId, team_id: &str) -> Result<Team, CoreError> {
        let org = self.organization(id).await?;
        self.graph_group(&org, team_id)
            .await?
            .filter(|g| g.is_team)
            .map(team)
            .ok_or_else(|| not_found("team", team_id, &org))
    }

    pub async fn sites(
        &self,
        id: OrganizationId,
        request: PageRequest,
        filter: &SiteFilter,
    ) -> Result<Page<DirectorySite>, CoreError> {
        let org = self.organization(id).await?;
        let (set_id, items) = match &filter.parent_id {
            Some(parent) => {
                usable("site", parent, &org)?;
                if request.set_id.is_none() && self.graph_site(&org, parent).await?.is_none() {
                    return Err(not_found("site", parent, &org));
                }
                let pid = parent.clone();
                let fetch = listing!(pid; |s, sink| s.subsites(&pid, sink), site);
                let listing = Listing::Sites(Some(parent.clone()));
                self.set(&org, Service::SharePoint, listing, &request, fetch)
                    .await?
            }
            None => {
                let fetch = listing!(; |s, sink| s.sites(sink), site);
                self.set(
                    &org,
                    Service::SharePoint,
                    Listing::Sites(None),
                    &request,
                    fetch,
                )
                .await?
            }
        };
        Ok(Page::of(
            items.iter().filter(|s| filter.admits(s)),
            &request,
            set_id,
        ))
    }

    async fn graph_site(
        &self,
        org: &Organization,
        site_id: &str,
    ) -> Result<Option<SiteRecord>, CoreError> {
        usable("site", site_id, org)?;
        self.with_graph(
            org,
            Service::SharePoint,
            one(site_id, |s, id| Box::pin(async move { s.site(&id).await })),
        )
        .await
    }

    pub async fn site(
        &self,
        id: OrganizationId,
        site_id: &str,
    ) -> Result<DirectorySite, CoreError> {
        let org = self.organization(id).await?;
        self.graph_site(&org, site_id)
            .await?
            .and_then(site)
            .ok_or_else(|| not_found("site", site_id, &org))
    }

    async fn graph_drive(
        &self,
        org: &Organization,
        user_id: &str,
    ) -> Result<Option<DriveRecord>, CoreError> {
        usable("user", user_id, org)?;
        self.with_graph(
            org,
            Service::SharePoint,
            one(user_id, |s, id| {
                Box::pin(async move { s.user_drive(&id).await })
            }),
        )
        .await
    }

    pub async fn onedrives(
        &self,
        id: OrganizationId,
        user_id: &str,
        request: PageRequest,
    ) -> Result<Page<OneDrive>, CoreError> {
        let org = self.organization(id).await?;
        usable("user", user_id, &org)?;
        if request.set_id.is_none() {
            // An unknown user is not found; a user without OneDrive an empty page.
            self.user(id, user_id).await?;
        }
        let uid = user_id.to_owned();
        let fetch = listing!(
            uid;
            |s, sink| async {
                match s.user_drive(&uid).await? {
                    Some(drive) => sink(vec![drive]),
                    None => Ok(()),
                }
            },
            |d| Some(onedrive(d))
        );
        let listing = Listing::OneDrives(user_id.to_owned());
        let (set_id, items) = self
            .set(&org, Service::SharePoint, listing, &request, fetch)
            .await?;
        Ok(Page::select(&items, &request, set_id, None))
    }

    pub async fn onedrive(
        &self,
        id: OrganizationId,
        user_id: &str,
        onedrive_id: &str,
    ) -> Result<OneDrive, CoreError> {
        let org = self.organization(id).await?;
        usable("OneDrive", onedrive_id, &org)?;
        self.user(id, user_id).await?;
        self.graph_drive(&org, user_id)
            .await?
            .filter(|d| d.id == onedrive_id)
            .map(onedrive)
            .ok_or_else(|| not_found("OneDrive", onedrive_id, &org))
    }
}

fn not_found(what: &str, id: &str, org: &Organization) -> CoreError {
    CoreError::NotFound(format!(
        "{what} '{}' does not exist in organization {}",
        crate::ids::truncate_for_message(id),
        org.name
    ))
}

/// Whether `id` can name an object: never `.` or `..` (however they were
/// encoded on the way in — the caller's interface has decoded them), nor anything
/// with a path separator or a percent sign. Such an id would be resolved by the URL it is put
/// into (`/users/..` is the user *listing*), so it is refused here, before
/// Microsoft is called: no object has such an id, hence not found.
fn usable(what: &str, id: &str, org: &Organization) -> Result<(), CoreError> {
    let trimmed = id.trim();
    let unusable = trimmed.is_empty()
        || trimmed == "."
        || trimmed == ".."
        // `%` too: no Graph id or UPN holds one, and a still-encoded id
        // (`%2e%2e`) must not meet a layer that decodes it once more.
        || id.contains(['/', '\\', '%'])
        || id.chars().any(char::is_control);
    if unusable {
        return Err(not_found(what, id, org));
    }
    Ok(())
}

fn graph_error(err: M365Failure, org: &Organization) -> CoreError {
    match err.kind {
        FailureKind::TooLarge => CoreError::Capacity(format!(
            "{}; the listing of organization {} is larger than the cache (discovery_cache_max_items)",
            err.message, org.name
        )),
        FailureKind::Forbidden | FailureKind::TokenRejected => CoreError::StoredCredentials {
            organization: org.id,
            message: format!(
                "Microsoft Graph refused to read organization {} with its stored account ({}); check the account's roles, or give the organization another account",
                org.name, err.message
            ),
        },
        _ => crate::organization::upstream(err, "reading the organization from Microsoft Graph"),
    }
}

#[cfg(test)]
mod send_check {
    use super::*;

    #[allow(dead_code)]
    fn futures_are_send(s: &DiscoveryService, id: OrganizationId) {
        fn is_send<T: Send>(_: &T) {}
        let req = PageRequest::new(None, None, None).unwrap();
        is_send(&s.users(id, req, &UserFilter::default()));
        is_send(&s.user(id, "x"));
        is_send(&s.sites(id, req, &SiteFilter::default()));
        is_send(&s.onedrives(id, "x", req));
    }
}
