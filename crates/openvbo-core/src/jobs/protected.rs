//! What the restore points say has been protected: the repository data
//! listings (users, mailboxes, OneDrives, sites, organizations and the
//! space each organization uses), the organizations' backup flags, and the
//! licensed (protected) users.
//!
//! Everything here is derived from restore points and their resources, so
//! it can never disagree with `GET /v6/RestorePoints`: an organization is
//! "backed up" from its first restore point on, whatever its sessions did.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

use super::service::JobService;
use crate::backup::{ProtectedResource, RepositoryId, ResourceKind, RestorePointFilter};
use crate::error::CoreError;
use crate::OrganizationId;

/// When an organization (or one of its resources) was first and last
/// backed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupTimes {
    pub first: OffsetDateTime,
    pub last: OffsetDateTime,
}

impl BackupTimes {
    fn widen(&mut self, first: OffsetDateTime, last: OffsetDateTime) {
        self.first = self.first.min(first);
        self.last = self.last.max(last);
    }
}

/// A user as protected in a repository: one entry for the mailbox, the
/// archive and the OneDrive of the same account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedUser {
    pub organization_id: OrganizationId,
    /// Microsoft's id of the user.
    pub id: String,
    pub display_name: String,
    /// The mailbox address, when the mailbox was backed up.
    pub email: String,
    /// Last backup time of each part, when that part was backed up.
    pub mailbox: Option<OffsetDateTime>,
    pub archive: Option<OffsetDateTime>,
    pub onedrive: Option<OffsetDateTime>,
    pub onedrive_urls: Vec<String>,
    pub times: BackupTimes,
}

/// The space an organization uses in a repository: the item bytes the
/// newest restore point of each of its resources holds (before
/// deduplication and compression, which the repository shares between
/// organizations, so no per-organization physical figure exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationUsage {
    pub organization_id: OrganizationId,
    pub repository_id: RepositoryId,
    pub used_bytes: u64,
    pub times: BackupTimes,
}

fn is_user_kind(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::Mailbox | ResourceKind::ArchiveMailbox | ResourceKind::OneDrive
    )
}

/// Groups the user resources (mailbox, archive, OneDrive) by account;
/// sorted by display name, then id, so pages are stable.
pub fn group_users(resources: &[ProtectedResource]) -> Vec<ProtectedUser> {
    let mut users: BTreeMap<(OrganizationId, String), ProtectedUser> = BTreeMap::new();
    for r in resources.iter().filter(|r| is_user_kind(r.kind)) {
        let user = users
            .entry((r.organization_id, r.resource_id.clone()))
            .or_insert_with(|| ProtectedUser {
                organization_id: r.organization_id,
                id: r.resource_id.clone(),
                display_name: r.display_name.clone(),
                email: String::new(),
                mailbox: None,
                archive: None,
                onedrive: None,
                onedrive_urls: Vec::new(),
                times: BackupTimes {
                    first: r.first_backup_time,
                    last: r.last_backup_time,
                },
            });
        user.times.widen(r.first_backup_time, r.last_backup_time);
        let last = Some(r.last_backup_time);
        match r.kind {
            ResourceKind::Mailbox => {
                user.mailbox = user.mailbox.max(last);
                user.email = r.address.clone();
                // The mailbox's display name is the account's.
                user.display_name = r.display_name.clone();
            }
            ResourceKind::ArchiveMailbox => user.archive = user.archive.max(last),
            _ => {
                user.onedrive = user.onedrive.max(last);
                if !r.address.is_empty() && !user.onedrive_urls.contains(&r.address) {
                    user.onedrive_urls.push(r.address.clone());
                }
            }
        }
    }
    let mut list: Vec<ProtectedUser> = users.into_values().collect();
    list.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    list
}

impl JobService {
    async fn require_repository(&self, id: RepositoryId) -> Result<(), CoreError> {
        match self.store.get_repository(id).await? {
            Some(_) => Ok(()),
            None => Err(CoreError::NotFound(format!(
                "There is no backup repository {id}."
            ))),
        }
    }

    /// Every resource with a restore point in `repository` (of one
    /// organization if given), sorted by kind, name and id.
    pub async fn protected(
        &self,
        repository: RepositoryId,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<ProtectedResource>, CoreError> {
        self.require_repository(repository).await?;
        let mut list = self
            .store
            .protected_resources(repository, organization)
            .await?;
        list.sort_by(|a, b| {
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then_with(|| a.resource_id.cmp(&b.resource_id))
        });
        Ok(list)
    }

    /// The users protected in `repository`.
    pub async fn protected_users(
        &self,
        repository: RepositoryId,
    ) -> Result<Vec<ProtectedUser>, CoreError> {
        Ok(group_users(&self.protected(repository, None).await?))
    }

    /// The users protected in any repository (of one organization if
    /// given): who counts against the licence. A user whose licence was
    /// revoked counts again only once backed up after the revocation.
    pub async fn licensed_users(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<ProtectedUser>, CoreError> {
        let mut all = Vec::new();
        for repo in self.store.list_repositories(None).await? {
            all.extend(
                self.store
                    .protected_resources(repo.id, organization)
                    .await?,
            );
        }
        let revoked: HashMap<(OrganizationId, String), OffsetDateTime> = self
            .store
            .licence_revocations(organization)
            .await?
            .into_iter()
            .map(|r| ((r.organization_id, r.user_id.to_lowercase()), r.revoked_at))
            .collect();
        let mut users = group_users(&all);
        users.retain(|u| {
            revoked
                .get(&(u.organization_id, u.id.to_lowercase()))
                .is_none_or(|at| u.times.last > *at)
        });
        Ok(users)
    }

    /// `DELETE /v6/LicensedUsers/{id}`: frees the licence of the licensed
    /// user `user_id` (Microsoft's id) now. The backups are kept; the user
    /// is licensed again by the next backup that protects them, as VB365
    /// reassigns a licence when a job processes the user again.
    pub async fn revoke_licence(&self, user_id: &str) -> Result<(), CoreError> {
        let holders: Vec<OrganizationId> = self
            .licensed_users(None)
            .await?
            .into_iter()
            .filter(|u| u.id.eq_ignore_ascii_case(user_id))
            .map(|u| u.organization_id)
            .collect();
        if holders.is_empty() {
            return Err(CoreError::NotFound(format!(
                "There is no licensed user {}.",
                crate::ids::truncate_for_message(user_id)
            )));
        }
        let now = self.runner.clock().now();
        for organization_id in holders {
            self.store
                .revoke_licence(&crate::store::LicenceRevocation {
                    organization_id,
                    user_id: user_id.to_lowercase(),
                    revoked_at: now,
                })
                .await?;
        }
        Ok(())
    }

    /// `LicensingInformation`: the users of `organization` with a backup,
    /// and how many of them were first backed up this calendar month (UTC).
    pub async fn licence_counts(
        &self,
        organization: OrganizationId,
    ) -> Result<(u32, u32), CoreError> {
        let users = self.licensed_users(Some(organization)).await?;
        let now = self.runner.clock().now();
        let month_start = now
            .replace_day(1)
            .map(|t| t.replace_time(time::Time::MIDNIGHT))
            .unwrap_or(now);
        let new = users
            .iter()
            .filter(|u| u.times.first >= month_start)
            .count();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok((count(users.len()), count(new)))
    }

    /// The first and last backup of every organization that has a restore
    /// point.
    pub async fn backup_times(&self) -> Result<HashMap<OrganizationId, BackupTimes>, CoreError> {
        let points = self
            .store
            .list_restore_points(&RestorePointFilter::default())
            .await?;
        let mut times: HashMap<OrganizationId, BackupTimes> = HashMap::new();
        for p in points {
            times
                .entry(p.organization_id)
                .and_modify(|t| t.widen(p.backup_time, p.backup_time))
                .or_insert(BackupTimes {
                    first: p.backup_time,
                    last: p.backup_time,
                });
        }
        Ok(times)
    }

    /// Space used per organization and repository, for
    /// `backedupOrganizations` (one repository) and `usedRepositories`
    /// (one organization). Sorted by repository, then organization.
    pub async fn usage(
        &self,
        repository: Option<RepositoryId>,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<OrganizationUsage>, CoreError> {
        if let Some(r) = repository {
            self.require_repository(r).await?;
        }
        let points = self
            .store
            .list_restore_points(&RestorePointFilter {
                repository_id: repository,
                organization_id: organization,
                ..RestorePointFilter::default()
            })
            .await?;
        type Key = (RepositoryId, OrganizationId);
        let mut times: BTreeMap<Key, BackupTimes> = BTreeMap::new();
        // Oldest first: a later point's size of a resource replaces an
        // earlier one's.
        let mut newest: HashMap<(Key, ResourceKind, String), i64> = HashMap::new();
        for p in points {
            let key = (p.repository_id, p.organization_id);
            times
                .entry(key)
                .and_modify(|t| t.widen(p.backup_time, p.backup_time))
                .or_insert(BackupTimes {
                    first: p.backup_time,
                    last: p.backup_time,
                });
            for r in self.store.list_restore_point_resources(p.id).await? {
                newest.insert((key, r.kind, r.resource_id), r.size_bytes);
            }
        }
        let mut used: HashMap<Key, u64> = HashMap::new();
        for ((key, _, _), size) in newest {
            *used.entry(key).or_default() += u64::try_from(size).unwrap_or(0);
        }
        Ok(times
            .into_iter()
            .map(|(key, times)| OrganizationUsage {
                repository_id: key.0,
                organization_id: key.1,
                used_bytes: used.get(&key).copied().unwrap_or(0),
                times,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(
        kind: ResourceKind,
        id: &str,
        name: &str,
        address: &str,
        day: u8,
    ) -> ProtectedResource {
        let t = time::macros::datetime!(2026-01-01 00:00 UTC) + time::Duration::days(day.into());
        ProtectedResource {
            organization_id: OrganizationId::from(uuid::Uuid::nil()),
            kind,
            resource_id: id.into(),
            display_name: name.into(),
            address: address.into(),
            first_backup_time: t,
            last_backup_time: t + time::Duration::days(1),
        }
    }

    #[test]
    fn a_users_mailbox_and_onedrive_are_one_entry_and_sites_are_not_users() {
        let users = group_users(&[
            resource(
                ResourceKind::OneDrive,
                "u1",
                "Nancy",
                "https://x/personal/nancy",
                3,
            ),
            resource(
                ResourceKind::Mailbox,
                "u1",
                "Nancy Davolio",
                "nancy@contoso.com",
                1,
            ),
            resource(
                ResourceKind::Mailbox,
                "u2",
                "Andrew",
                "andrew@contoso.com",
                2,
            ),
            resource(ResourceKind::Site, "s1", "Intranet", "https://x/sites/i", 1),
        ]);
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].id, "u2");
        let nancy = &users[1];
        assert_eq!(nancy.display_name, "Nancy Davolio");
        assert_eq!(nancy.email, "nancy@contoso.com");
        assert_eq!(
            nancy.onedrive_urls,
            vec!["https://x/personal/nancy".to_string()]
        );
        assert_eq!(
            nancy.times.first,
            time::macros::datetime!(2026-01-02 00:00 UTC)
        );
        assert_eq!(
            nancy.times.last,
            time::macros::datetime!(2026-01-05 00:00 UTC)
        );
        assert!(nancy.mailbox.is_some() && nancy.onedrive.is_some() && nancy.archive.is_none());
    }
}
