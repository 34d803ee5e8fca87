//! Self-consistency checks of one tenant, each problem naming the
//! offending object so an operator can fix the file.

use std::collections::{HashMap, HashSet};

use crate::ids::is_guid;
use crate::tenant::{is_domain_name, is_site_id, Tenant};

impl Tenant {
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_guid(&self.id) {
            problems.push(format!("tenant id '{}' is not a GUID", self.id));
        }
        if self.display_name.trim().is_empty() {
            problems.push("tenant displayName is empty".to_owned());
        }
        let mut domains = HashSet::new();
        for domain in self.domains() {
            if !is_domain_name(domain) {
                problems.push(format!("'{domain}' is not a valid domain name"));
            }
            if !domains.insert(domain.to_ascii_lowercase()) {
                problems.push(format!("domain '{domain}' is listed twice"));
            }
        }
        let mut object_ids = HashSet::new();
        self.user_problems(&mut object_ids, &mut problems);
        self.group_problems(&mut object_ids, &mut problems);
        self.site_problems(&mut problems);
        self.drive_problems(&mut problems);
        problems
    }

    fn user_problems(&self, object_ids: &mut HashSet<String>, problems: &mut Vec<String>) {
        let mut upns = HashSet::new();
        for user in &self.users {
            let upn = &user.user_principal_name;
            if !is_guid(&user.id) {
                problems.push(format!("user '{upn}': id '{}' is not a GUID", user.id));
            } else if !object_ids.insert(user.id.to_ascii_lowercase()) {
                problems.push(format!("user '{upn}': id '{}' is used twice", user.id));
            }
            match upn.split_once('@') {
                Some((local, domain)) if !local.is_empty() && !domain.contains('@') => {
                    if !self.owns_domain(domain) {
                        problems.push(format!(
                            "user '{upn}': domain '{domain}' is not one of the tenant's domains"
                        ));
                    }
                }
                _ => problems.push(format!(
                    "user '{upn}': userPrincipalName must look like name@domain"
                )),
            }
            if user.mailbox_type == crate::user::MailboxType::NoMailbox
                && !user.mail_folders.is_empty()
            {
                problems.push(format!(
                    "user '{upn}': mailFolders are listed but the user has no mailbox (mailboxType none)"
                ));
            }
            crate::mail_spec::mail_problems(upn, &user.mail_folders, problems);
            if !upns.insert(upn.to_ascii_lowercase()) {
                problems.push(format!("user '{upn}': userPrincipalName is used twice"));
            }
            if user.roles.iter().any(|r| r.trim().is_empty()) {
                problems.push(format!("user '{upn}': a role name is empty"));
            }
            for licence in &user.assigned_licenses {
                let bad_plan = licence.disabled_plans.iter().find(|p| !is_guid(p));
                if !is_guid(&licence.sku_id) {
                    problems.push(format!(
                        "user '{upn}': licence skuId '{}' is not a GUID",
                        licence.sku_id
                    ));
                } else if let Some(plan) = bad_plan {
                    problems.push(format!(
                        "user '{upn}': disabled plan '{plan}' is not a GUID"
                    ));
                }
            }
        }
    }

    fn group_problems(&self, object_ids: &mut HashSet<String>, problems: &mut Vec<String>) {
        for group in &self.groups {
            let name = &group.display_name;
            if !is_guid(&group.id) {
                problems.push(format!("group '{name}': id '{}' is not a GUID", group.id));
            } else if !object_ids.insert(group.id.to_ascii_lowercase()) {
                problems.push(format!("group '{name}': id '{}' is used twice", group.id));
            }
            if group.is_team && !group.is_unified() {
                problems.push(format!(
                    "group '{name}': only Microsoft 365 groups (groupTypes [\"Unified\"]) can be Teams"
                ));
            }
        }
        for group in &self.groups {
            for member in &group.members {
                if member.eq_ignore_ascii_case(&group.id) {
                    problems.push(format!(
                        "group '{}': cannot be a member of itself",
                        group.display_name
                    ));
                } else if !object_ids.contains(&member.to_ascii_lowercase()) {
                    problems.push(format!(
                        "group '{}': member '{member}' is neither a user nor a group of the tenant",
                        group.display_name
                    ));
                }
            }
        }
    }

    fn site_problems(&self, problems: &mut Vec<String>) {
        // Lower-cased id → parent id, to check parents exist and form no loop.
        let mut parent_of: HashMap<String, Option<String>> = HashMap::new();
        for site in &self.sites {
            if !is_site_id(&site.id) {
                problems.push(format!(
                    "site '{}': id '{}' must be 'hostname,guid,guid'",
                    site.name, site.id
                ));
            }
            let parent = site.parent_id.as_ref().map(|p| p.to_ascii_lowercase());
            if parent_of
                .insert(site.id.to_ascii_lowercase(), parent)
                .is_some()
            {
                problems.push(format!(
                    "site '{}': id '{}' is used twice",
                    site.name, site.id
                ));
            }
            match url::Url::parse(&site.web_url) {
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {
                    if site.is_personal && !u.path().starts_with("/personal/") {
                        problems.push(format!(
                            "site '{}': a personal site's webUrl must be under /personal/",
                            site.name
                        ));
                    }
                }
                _ => problems.push(format!(
                    "site '{}': webUrl '{}' is not an absolute http(s) URL",
                    site.name, site.web_url
                )),
            }
        }
        for site in &self.sites {
            let Some(parent) = &site.parent_id else {
                continue;
            };
            if !parent_of.contains_key(&parent.to_ascii_lowercase()) {
                problems.push(format!(
                    "site '{}': parentId '{parent}' is not a site of the tenant",
                    site.name
                ));
            } else if is_in_loop(&parent_of, &site.id.to_ascii_lowercase()) {
                problems.push(format!(
                    "site '{}': parentId makes the site its own ancestor",
                    site.name
                ));
            }
        }
    }
}

fn is_in_loop(parent_of: &HashMap<String, Option<String>>, start: &str) -> bool {
    let mut current = start;
    // A chain longer than the number of sites must revisit one.
    for _ in 0..=parent_of.len() {
        match parent_of.get(current) {
            Some(Some(parent)) if parent == start => return true,
            Some(Some(parent)) => current = parent,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::demo::demo_tenant;

    #[test]
    fn subsite_loops_are_reported() {
        let mut tenant = demo_tenant();
        let (a, b) = (tenant.sites[0].id.clone(), tenant.sites[1].id.clone());
        tenant.sites[0].parent_id = Some(b);
        tenant.sites[1].parent_id = Some(a);
        let problems = tenant.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("its own ancestor"), "{problems:?}");
    }
}
