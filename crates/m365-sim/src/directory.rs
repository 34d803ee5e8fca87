//! The simulator's live view of its tenants: the loaded data plus indexes
//! for the lookups every request makes, and per-user credential epochs so
//! password changes revoke refresh tokens.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::error::{join_problems, SimError};
use crate::options::UserFlags;
use crate::sharepoint::SharePointHosts;
use crate::tenant::{Group, Site, Tenant, User};

pub(crate) struct Directory {
    pub tenants: Vec<TenantEntry>,
    /// Lower-cased tenant GUIDs and domains → index into `tenants`.
    by_key: HashMap<String, usize>,
}

pub(crate) struct TenantEntry {
    pub tenant: Tenant,
    user_by_upn: HashMap<String, usize>,
    user_by_id: HashMap<String, usize>,
    group_by_id: HashMap<String, usize>,
    /// Direct memberships: object id → indexes of the groups that list it.
    groups_of: HashMap<String, Vec<usize>>,
    /// Bumped when a user's password changes; refresh tokens remember it.
    credential_epoch: Vec<u64>,
    /// Users deleted at run time stay in `tenant.users` (tokens and pages
    /// address users by index) but are marked here and unindexed.
    removed: Vec<bool>,
    removed_count: usize,
    pub sharepoint: SharePointHosts,
    /// Lower-cased site id → index into `tenant.sites`.
    site_by_id: HashMap<String, usize>,
    /// Lower-cased parent site id → indexes of its direct subsites.
    subsites_of: HashMap<String, Vec<usize>>,
}

/// A directory object a group can contain.
pub(crate) enum Member<'a> {
    User(&'a User),
    Group(&'a Group),
}

impl Directory {
    pub(crate) fn new(mut tenants: Vec<Tenant>) -> Result<Self, SimError> {
        let mut problems = Vec::new();
        for tenant in &tenants {
            problems.extend(
                tenant
                    .problems()
                    .into_iter()
                    .map(|p| format!("tenant '{}': {p}", tenant.display_name)),
            );
        }
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (index, tenant) in tenants.iter().enumerate() {
            if let Some(other) = by_key
                .get(&tenant.id.to_ascii_lowercase())
                .and_then(|&other| tenants.get(other))
            {
                problems.push(format!(
                    "tenants '{}' and '{}' have the same id {}",
                    other.display_name, tenant.display_name, tenant.id
                ));
            }
            by_key.insert(tenant.id.to_ascii_lowercase(), index);
        }
        let mut domain_owner: HashMap<String, usize> = HashMap::new();
        for (index, tenant) in tenants.iter().enumerate() {
            for domain in tenant
                .domains()
                .map(str::to_ascii_lowercase)
                .collect::<HashSet<_>>()
            {
                match domain_owner.get(&domain) {
                    Some(&other) if other != index => problems.push(format!(
                        "domain '{domain}' belongs to both '{}' and '{}'",
                        tenants.get(other).map_or("", |t| t.display_name.as_str()),
                        tenant.display_name
                    )),
                    _ => {
                        domain_owner.insert(domain, index);
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(SimError::InvalidTenants(join_problems(&problems)));
        }
        by_key.extend(domain_owner);

        for tenant in &mut tenants {
            normalize_ids(tenant);
        }
        Ok(Directory {
            tenants: tenants.into_iter().map(TenantEntry::new).collect(),
            by_key,
        })
    }

    /// The tenant at `index` (as `resolve` and grants name it).
    pub(crate) fn tenant(&self, index: usize) -> Option<&TenantEntry> {
        self.tenants.get(index)
    }

    fn tenant_mut(&mut self, index: usize) -> Option<&mut TenantEntry> {
        self.tenants.get_mut(index)
    }

    /// A tenant by GUID or any of its domains, case-insensitively.
    pub(crate) fn resolve(&self, key: &str) -> Option<usize> {
        self.by_key.get(&key.to_ascii_lowercase()).copied()
    }

    fn locate_user(&self, tenant_key: &str, upn: &str) -> Result<(usize, usize), SimError> {
        let t = self
            .resolve(tenant_key)
            .ok_or_else(|| SimError::UnknownTenant(tenant_key.to_owned()))?;
        let u = self
            .tenant(t)
            .and_then(|entry| entry.user_index_by_upn(upn))
            .ok_or_else(|| unknown_user(tenant_key, upn))?;
        Ok((t, u))
    }

    pub(crate) fn set_password(
        &mut self,
        tenant_key: &str,
        upn: &str,
        password: &str,
    ) -> Result<(), SimError> {
        let (t, u) = self.locate_user(tenant_key, upn)?;
        let entry = self
            .tenant_mut(t)
            .ok_or_else(|| unknown_user(tenant_key, upn))?;
        let (Some(user), Some(epoch)) = (
            entry.tenant.users.get_mut(u),
            entry.credential_epoch.get_mut(u),
        ) else {
            return Err(unknown_user(tenant_key, upn));
        };
        user.password = Some(password.to_owned());
        *epoch += 1;
        Ok(())
    }

    pub(crate) fn set_flags(
        &mut self,
        tenant_key: &str,
        upn: &str,
        flags: UserFlags,
    ) -> Result<(), SimError> {
        let (t, u) = self.locate_user(tenant_key, upn)?;
        let user = self
            .tenant_mut(t)
            .and_then(|entry| entry.tenant.users.get_mut(u))
            .ok_or_else(|| unknown_user(tenant_key, upn))?;
        user.account_enabled = flags.account_enabled;
        user.mfa_required = flags.mfa_required;
        user.locked = flags.locked;
        user.password_expired = flags.password_expired;
        Ok(())
    }

    /// The user disappears from Graph and can no longer sign in.
    pub(crate) fn remove_user(&mut self, tenant_key: &str, upn: &str) -> Result<(), SimError> {
        let (t, u) = self.locate_user(tenant_key, upn)?;
        self.tenant_mut(t)
            .ok_or_else(|| unknown_user(tenant_key, upn))?
            .remove_user(u);
        Ok(())
    }
}

fn unknown_user(tenant_key: &str, upn: &str) -> SimError {
    SimError::UnknownUser {
        tenant: tenant_key.to_owned(),
        upn: upn.to_owned(),
    }
}

/// Graph shows object GUIDs in lower case; normalising once lets every
/// lookup and reference compare plain strings.
fn normalize_ids(tenant: &mut Tenant) {
    tenant.id.make_ascii_lowercase();
    for user in &mut tenant.users {
        user.id.make_ascii_lowercase();
    }
    for group in &mut tenant.groups {
        group.id.make_ascii_lowercase();
        for member in &mut group.members {
            member.make_ascii_lowercase();
        }
    }
    for site in &mut tenant.sites {
        site.id.make_ascii_lowercase();
        if let Some(parent) = &mut site.parent_id {
            parent.make_ascii_lowercase();
        }
    }
}

impl TenantEntry {
    fn new(tenant: Tenant) -> Self {
        let user_by_upn = tenant
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.user_principal_name.to_ascii_lowercase(), i))
            .collect();
        let user_by_id = tenant
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        let group_by_id = tenant
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i))
            .collect();
        let mut groups_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, group) in tenant.groups.iter().enumerate() {
            for member in &group.members {
                let list = groups_of.entry(member.clone()).or_default();
                if !list.contains(&index) {
                    list.push(index);
                }
            }
        }
        let site_by_id = tenant
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut subsites_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, site) in tenant.sites.iter().enumerate() {
            if let Some(parent) = &site.parent_id {
                subsites_of.entry(parent.clone()).or_default().push(index);
            }
        }
        let credential_epoch = vec![0; tenant.users.len()];
        let removed = vec![false; tenant.users.len()];
        TenantEntry {
            sharepoint: SharePointHosts::of(&tenant),
            tenant,
            user_by_upn,
            user_by_id,
            group_by_id,
            groups_of,
            credential_epoch,
            removed,
            removed_count: 0,
            site_by_id,
            subsites_of,
        }
    }

    fn remove_user(&mut self, index: usize) {
        let (Some(removed), Some(user)) =
            (self.removed.get_mut(index), self.tenant.users.get(index))
        else {
            return;
        };
        if *removed {
            return;
        }
        *removed = true;
        self.removed_count += 1;
        self.user_by_upn
            .remove(&user.user_principal_name.to_ascii_lowercase());
        self.user_by_id.remove(&user.id);
    }

    /// `tenant.users[index]`, removed or not.
    pub(crate) fn user(&self, index: usize) -> Option<&User> {
        self.tenant.users.get(index)
    }

    /// The epoch of `tenant.users[index]`'s password.
    pub(crate) fn credential_epoch(&self, index: usize) -> Option<u64> {
        self.credential_epoch.get(index).copied()
    }

    /// Whether `tenant.users[index]` still exists.
    pub(crate) fn is_live(&self, index: usize) -> bool {
        !self.removed.get(index).copied().unwrap_or(true)
    }

    pub(crate) fn live_user_count(&self) -> usize {
        self.tenant.users.len() - self.removed_count
    }

    /// The user a personal site or drive belongs to, if it has a OneDrive.
    pub(crate) fn one_drive_owner(&self, index: usize) -> Option<&User> {
        let user = self.tenant.users.get(index)?;
        (self.is_live(index) && user.has_one_drive()).then_some(user)
    }

    /// Every site Graph's search can return, addressed by position: the
    /// tenant file's sites, then one personal site per user slot.
    pub(crate) fn site_slots(&self) -> usize {
        self.tenant.sites.len() + self.tenant.users.len()
    }

    pub(crate) fn site_at(&self, slot: usize) -> Option<Cow<'_, Site>> {
        match slot.checked_sub(self.tenant.sites.len()) {
            None => self.tenant.sites.get(slot).map(Cow::Borrowed),
            Some(user) => self
                .one_drive_owner(user)
                .map(|u| Cow::Owned(self.sharepoint.personal_site(u))),
        }
    }

    /// `/sites/{id}`, file sites and generated personal sites alike.
    pub(crate) fn find_site(&self, id: &str) -> Option<Cow<'_, Site>> {
        let lower = id.to_ascii_lowercase();
        if let Some(&i) = self.site_by_id.get(&lower) {
            return self.tenant.sites.get(i).map(Cow::Borrowed);
        }
        let owner = self.sharepoint.personal_site_owner(&lower)?;
        let &index = self.user_by_id.get(&owner)?;
        self.one_drive_owner(index)
            .map(|u| Cow::Owned(self.sharepoint.personal_site(u)))
    }

    /// Direct subsites of a site of the tenant file, in file order.
    pub(crate) fn subsites(&self, id: &str) -> &[usize] {
        self.subsites_of
            .get(&id.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub(crate) fn user_index_by_upn(&self, upn: &str) -> Option<usize> {
        self.user_by_upn.get(&upn.to_ascii_lowercase()).copied()
    }

    /// Graph's `/users/{id | userPrincipalName}`.
    pub(crate) fn find_user(&self, key: &str) -> Option<&User> {
        self.find_user_index(key).and_then(|i| self.user(i))
    }

    pub(crate) fn find_user_index(&self, key: &str) -> Option<usize> {
        let lower = key.to_ascii_lowercase();
        self.user_by_id
            .get(&lower)
            .or_else(|| self.user_by_upn.get(&lower))
            .copied()
    }

    pub(crate) fn find_group(&self, id: &str) -> Option<&Group> {
        self.group_by_id
            .get(&id.to_ascii_lowercase())
            .and_then(|&i| self.tenant.groups.get(i))
    }

    pub(crate) fn member(&self, id: &str) -> Option<Member<'_>> {
        if let Some(&i) = self.user_by_id.get(id) {
            return self.user(i).map(Member::User);
        }
        self.group_by_id
            .get(id)
            .and_then(|&i| self.tenant.groups.get(i))
            .map(Member::Group)
    }

    /// Groups that list `object_id` as a direct member, in file order.
    pub(crate) fn direct_groups_of(&self, object_id: &str) -> Vec<&Group> {
        let mut indexes = self.groups_of.get(object_id).cloned().unwrap_or_default();
        indexes.sort_unstable();
        indexes
            .iter()
            .filter_map(|&i| self.tenant.groups.get(i))
            .collect()
    }
}
