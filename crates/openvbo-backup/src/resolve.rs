//! A job's selection as resources, through discovery:
//! - `User` items: the mailbox, the OneDrive, and the personal site (whose
//!   document library *is* the OneDrive, so it resolves to the same unit);
//! - `Site` items: the site, all its document libraries;
//! - `PartialOrganization`: every user's mailbox, every user's OneDrive
//!   (users who have one), every site (not personal sites, which are
//!   OneDrives), by its flags;
//! - `EntireOrganization`: all three.
//!
//! What openvbo cannot back up yet (archive mailboxes, group conversations
//! and sites, Teams, a personal site's lists other than its Documents
//! library) is returned as warnings for the session log, never skipped
//! silently.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use openvbo_core::backup::{BackupType, Job, JobItem, ResourceKind};
use openvbo_core::discovery::{
    DirectorySite, DirectoryUser, DiscoveryService, PageRequest, SiteFilter, UserFilter,
};
use openvbo_core::jobs::{Resolved, ResourceTarget, SelectionResolver};
use openvbo_core::organization::Service;
use openvbo_core::CoreError;
use openvbo_m365::GraphSession;
use serde_json::Value;

use crate::connector::GraphSessions;

pub struct DiscoveryResolver {
    discovery: DiscoveryService,
}

impl DiscoveryResolver {
    pub fn new(discovery: DiscoveryService) -> Self {
        DiscoveryResolver { discovery }
    }

    /// Every user of the organization, page by page.
    async fn users(&self, job: &Job) -> Result<Vec<DirectoryUser>, CoreError> {
        let mut out = Vec::new();
        let mut request = PageRequest {
            offset: 0,
            limit: 1000,
            set_id: None,
        };
        loop {
            let page = self
                .discovery
                .users(job.organization_id, request, &UserFilter::default())
                .await?;
            let n = page.results.len() as u32;
            out.extend(page.results);
            if n == 0 || out.len() as u32 >= page.total_count {
                return Ok(out);
            }
            request = PageRequest {
                offset: request.offset + n,
                limit: 1000,
                set_id: Some(page.set_id),
            };
        }
    }
}

impl DiscoveryResolver {
    /// Every site of the organization but personal sites, page by page.
    async fn sites(&self, job: &Job) -> Result<Vec<DirectorySite>, CoreError> {
        let mut out = Vec::new();
        let filter = SiteFilter::default();
        let mut request = PageRequest {
            offset: 0,
            limit: 1000,
            set_id: None,
        };
        loop {
            let page = self
                .discovery
                .sites(job.organization_id, request, &filter)
                .await?;
            let n = page.results.len() as u32;
            out.extend(page.results);
            if n == 0 || out.len() as u32 >= page.total_count {
                return Ok(out);
            }
            request = PageRequest {
                offset: request.offset + n,
                limit: 1000,
                set_id: Some(page.set_id),
            };
        }
    }

    /// Whether the user has a OneDrive (an unlicensed user has none): one
    /// Graph request, `GET /users/{id}/drive`. Discovery's OneDrive listing
    /// would first look the user up again (a second request per user on
    /// every run), though the user comes from the listing just read.
    async fn has_one_drive(
        &self,
        session: &Result<Arc<GraphSession>, String>,
        user: &DirectoryUser,
    ) -> Result<bool, String> {
        let session = session.as_ref().map_err(Clone::clone)?;
        session
            .user_drive(&user.id)
            .await
            .map(|d| d.is_some())
            .map_err(|e| e.message)
    }
}

fn flag(body: &Value, name: &str) -> bool {
    body.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn mailbox(u: &DirectoryUser) -> ResourceTarget {
    ResourceTarget {
        kind: ResourceKind::Mailbox,
        id: u.id.clone(),
        display_name: u.display_name.clone(),
        address: u.name.clone(),
    }
}

fn one_drive(u: &DirectoryUser) -> ResourceTarget {
    ResourceTarget {
        kind: ResourceKind::OneDrive,
        id: u.id.clone(),
        display_name: u.display_name.clone(),
        address: u.name.clone(),
    }
}

fn site(s: &DirectorySite) -> ResourceTarget {
    ResourceTarget {
        kind: ResourceKind::Site,
        id: s.id.clone(),
        display_name: if s.title.is_empty() {
            s.name.clone()
        } else {
            s.title.clone()
        },
        address: s.url.clone(),
    }
}

/// The site id of a `Site` item (`site.id`).
fn site_id(body: &Value) -> Option<&str> {
    body.get("site")
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
}

/// What an excluded item takes out: (kind, id) pairs. A `User` item with
/// no flag set excludes all of the user.
fn exclusions(items: &[JobItem]) -> HashSet<(ResourceKind, String)> {
    let mut out = HashSet::new();
    for item in items {
        let Ok(body) = serde_json::from_str::<Value>(&item.body) else {
            continue;
        };
        if let Some(id) = user_id(&body) {
            let any = ["mailbox", "oneDrive", "personalSite", "archiveMailbox"]
                .iter()
                .any(|f| flag(&body, f));
            if !any || flag(&body, "mailbox") {
                out.insert((ResourceKind::Mailbox, id.to_string()));
            }
            if !any || flag(&body, "oneDrive") || flag(&body, "personalSite") {
                out.insert((ResourceKind::OneDrive, id.to_string()));
            }
        } else if let Some(id) = site_id(&body) {
            out.insert((ResourceKind::Site, id.to_string()));
        }
    }
    out
}

/// The user id of a `User` item (`user.id`).
fn user_id(body: &Value) -> Option<&str> {
    body.get("user")
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
}

fn item_name(body: &Value) -> String {
    for (obj, field) in [
        ("user", "displayName"),
        ("group", "displayName"),
        ("site", "title"),
        ("team", "displayName"),
    ] {
        if let Some(name) = body
            .get(obj)
            .and_then(|o| o.get(field))
            .and_then(Value::as_str)
        {
            return name.to_string();
        }
    }
    "the organization".into()
}

#[async_trait]
impl SelectionResolver for DiscoveryResolver {
    async fn resolve(
        &self,
        job: &Job,
        selected: &[JobItem],
        excluded: &[JobItem],
    ) -> Result<Resolved, CoreError> {
        let excluded = exclusions(excluded);
        let mut out = Resolved::default();
        let (mut all_mailboxes, mut all_drives, mut all_sites) = (false, false, false);
        let mut wanted: Vec<ResourceTarget> = Vec::new();
        if job.backup_type == BackupType::EntireOrganization {
            (all_mailboxes, all_drives, all_sites) = (true, true, true);
            out.warnings.push(
                "Organization: archive mailboxes, group conversations and Teams are not backed up yet; mailboxes, OneDrives and site document libraries are"
                    .into(),
            );
        }
        for item in selected {
            let body: Value = serde_json::from_str(&item.body).unwrap_or(Value::Null);
            let name = item_name(&body);
            match item.item_type.to_ascii_lowercase().as_str() {
                "user" => {
                    let Some(id) = user_id(&body) else {
                        out.warnings
                            .push(format!("{name}: the selected user has no id; skipped"));
                        continue;
                    };
                    let (mail, drive, personal) = (
                        flag(&body, "mailbox"),
                        flag(&body, "oneDrive"),
                        flag(&body, "personalSite"),
                    );
                    if mail || drive || personal {
                        let user = self.discovery.user(job.organization_id, id).await?;
                        if mail {
                            wanted.push(mailbox(&user));
                        }
                        if drive || personal {
                            wanted.push(one_drive(&user));
                        }
                    }
                    if personal {
                        out.warnings.push(format!(
                            "{name}: the personal site is backed up as its document library (the OneDrive); its other lists are not backed up yet"
                        ));
                    }
                    if flag(&body, "archiveMailbox") {
                        out.warnings.push(format!(
                            "{name}: backing up the archive mailbox is not supported yet"
                        ));
                    }
                }
                "site" => {
                    let Some(id) = site_id(&body) else {
                        out.warnings
                            .push(format!("{name}: the selected site has no id; skipped"));
                        continue;
                    };
                    let found = self.discovery.site(job.organization_id, id).await?;
                    wanted.push(site(&found));
                }
                "partialorganization" => {
                    all_mailboxes |= flag(&body, "mailbox");
                    all_drives |= flag(&body, "oneDrive");
                    all_sites |= flag(&body, "sites");
                    for (f, what) in [
                        ("archiveMailbox", "archive mailboxes"),
                        ("teams", "Teams"),
                        ("teamsChats", "Teams chats"),
                    ] {
                        if flag(&body, f) {
                            out.warnings.push(format!(
                                "Organization: backing up {what} is not supported yet"
                            ));
                        }
                    }
                }
                _ => out.warnings.push(format!(
                    "{name}: backing up a {} (its conversations, site or posts) is not supported yet",
                    item.item_type
                )),
            }
        }
        if all_mailboxes || all_drives {
            let users = self.users(job).await?;
            if all_mailboxes {
                wanted.extend(users.iter().map(mailbox));
            }
            if all_drives {
                let session = GraphSessions::graph_session(
                    &self.discovery,
                    job.organization_id,
                    Service::SharePoint,
                )
                .await
                .map_err(|e| e.to_string());
                for user in &users {
                    if excluded.contains(&(ResourceKind::OneDrive, user.id.clone())) {
                        continue;
                    }
                    match self.has_one_drive(&session, user).await {
                        Ok(true) => wanted.push(one_drive(user)),
                        Ok(false) => {}
                        Err(e) => out.warnings.push(format!(
                            "{}: could not tell whether the user has a OneDrive ({e}); not backed up this time",
                            user.display_name
                        )),
                    }
                }
            }
        }
        if all_sites {
            wanted.extend(self.sites(job).await?.iter().map(site));
        }
        let mut seen = HashSet::new();
        out.resources = alternate(
            wanted
                .into_iter()
                .filter(|r| {
                    let key = (r.kind, r.id.clone());
                    !excluded.contains(&key) && seen.insert(key)
                })
                .collect(),
        );
        Ok(out)
    }
}

/// Mailboxes and the other resources (OneDrives, sites) taken in turn, each
/// in its own order. A session runs a few units at a time: Exchange limits
/// mailboxes and SharePoint's resource units limit drives, independently,
/// so units of both kinds side by side keep both budgets busy; all
/// mailboxes first would leave the drives' budget idle, then wait on it.
fn alternate(resources: Vec<ResourceTarget>) -> Vec<ResourceTarget> {
    let (mail, other): (Vec<_>, Vec<_>) = resources
        .into_iter()
        .partition(|r| r.kind == ResourceKind::Mailbox);
    let mut out = Vec::with_capacity(mail.len() + other.len());
    let (mut mail, mut other) = (mail.into_iter(), other.into_iter());
    loop {
        match (mail.next(), other.next()) {
            (None, None) => return out,
            (m, o) => out.extend(m.into_iter().chain(o)),
        }
    }
}

#[cfg(test)]
mod tests {
    use openvbo_core::backup::JobItemId;
    use serde_json::json;

    use super::*;

    fn item(kind: &str, body: Value) -> JobItem {
        JobItem {
            id: JobItemId("x".into()),
            item_type: kind.into(),
            body: body.to_string(),
        }
    }

    #[test]
    fn an_excluded_user_takes_out_what_its_flags_say_and_a_site_itself() {
        let all = exclusions(&[
            item("User", json!({"user": {"id": "u1"}})),
            item("User", json!({"user": {"id": "u2"}, "oneDrive": true})),
            item("User", json!({"user": {"id": "u3"}, "mailbox": true})),
            item("Site", json!({"site": {"id": "s1"}})),
            item("User", Value::Null),
        ]);
        let want: HashSet<(ResourceKind, String)> = [
            (ResourceKind::Mailbox, "u1"),
            (ResourceKind::OneDrive, "u1"),
            (ResourceKind::OneDrive, "u2"),
            (ResourceKind::Mailbox, "u3"),
            (ResourceKind::Site, "s1"),
        ]
        .into_iter()
        .map(|(k, id)| (k, id.to_string()))
        .collect();
        assert_eq!(all, want);
    }

    #[test]
    fn mailboxes_and_drives_take_turns() {
        let target = |kind, id: &str| ResourceTarget {
            kind,
            id: id.into(),
            display_name: id.into(),
            address: String::new(),
        };
        let order = alternate(vec![
            target(ResourceKind::Mailbox, "m1"),
            target(ResourceKind::Mailbox, "m2"),
            target(ResourceKind::Mailbox, "m3"),
            target(ResourceKind::OneDrive, "d1"),
            target(ResourceKind::Site, "s1"),
        ]);
        let ids: Vec<&str> = order.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["m1", "d1", "m2", "s1", "m3"]);
    }

    #[test]
    fn a_site_target_is_named_by_its_title_and_addressed_by_its_url() {
        let s = DirectorySite {
            id: "host,a,b".into(),
            url: "https://contoso.sharepoint.com/sites/hr".into(),
            name: "hr".into(),
            title: "HR".into(),
            is_personal: false,
        };
        let t = site(&s);
        assert_eq!(
            (
                t.kind,
                t.id.as_str(),
                t.display_name.as_str(),
                t.address.as_str()
            ),
            (
                ResourceKind::Site,
                "host,a,b",
                "HR",
                "https://contoso.sharepoint.com/sites/hr"
            )
        );
        let untitled = site(&DirectorySite {
            title: String::new(),
            ..s
        });
        assert_eq!(untitled.display_name, "hr");
    }
}
