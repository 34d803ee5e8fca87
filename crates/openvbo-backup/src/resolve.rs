//! A job's selection as resources, through discovery: `EntireOrganization`
//! and `PartialOrganization` with mailboxes mean every user's mailbox;
//! `User` items their mailbox. What openvbo cannot back up yet is returned
//! as warnings for the session log, never skipped silently.

use std::collections::HashSet;

use async_trait::async_trait;
use openvbo_core::backup::{BackupType, Job, JobItem, ResourceKind};
use openvbo_core::discovery::{DirectoryUser, DiscoveryService, PageRequest, UserFilter};
use openvbo_core::jobs::{Resolved, ResourceTarget, SelectionResolver};
use openvbo_core::CoreError;
use serde_json::Value;

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
        let excluded_users: HashSet<String> = excluded
            .iter()
            .filter_map(|i| serde_json::from_str::<Value>(&i.body).ok())
            .filter_map(|b| user_id(&b).map(str::to_string))
            .collect();
        let mut out = Resolved::default();
        let mut all_mailboxes = false;
        let mut wanted: Vec<ResourceTarget> = Vec::new();
        if job.backup_type == BackupType::EntireOrganization {
            all_mailboxes = true;
            out.warnings.push(
                "Organization: OneDrives, sites, archive mailboxes, group conversations and Teams are not backed up yet; only mailboxes are"
                    .into(),
            );
        }
        for item in selected {
            let body: Value = serde_json::from_str(&item.body).unwrap_or(Value::Null);
            let name = item_name(&body);
            match item.item_type.as_str() {
                "User" => {
                    if flag(&body, "mailbox") {
                        if let Some(id) = user_id(&body) {
                            let user = self.discovery.user(job.organization_id, id).await?;
                            wanted.push(mailbox(&user));
                        }
                    }
                    for (f, what) in [("archiveMailbox", "archive mailbox"), ("oneDrive", "OneDrive"), ("personalSite", "personal site")] {
                        if flag(&body, f) {
                            out.warnings.push(format!("{name}: backing up the {what} is not supported yet"));
                        }
                    }
                }
                "PartialOrganization" => {
                    if flag(&body, "mailbox") {
                        all_mailboxes = true;
                    }
                    for (f, what) in [("archiveMailbox", "archive mailboxes"), ("oneDrive", "OneDrives"), ("sites", "sites"), ("teams", "Teams")] {
                        if flag(&body, f) {
                            out.warnings.push(format!("Organization: backing up {what} is not supported yet"));
                        }
                    }
                }
                other => out.warnings.push(format!(
                    "{name}: backing up a {other} (its conversations, site or posts) is not supported yet"
                )),
            }
        }
        if all_mailboxes {
            wanted.extend(self.users(job).await?.iter().map(mailbox));
        }
        let mut seen = HashSet::new();
        out.resources = wanted
            .into_iter()
            .filter(|r| !excluded_users.contains(&r.id) && seen.insert(r.id.clone()))
            .collect();
        Ok(out)
    }
}
