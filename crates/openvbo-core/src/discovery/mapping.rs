//! From the directory's records to openvbo's objects: only what the API
//! answers.

use crate::microsoft365::{
    DriveRecord, GroupRecord, MemberRecord, MemberType, SiteRecord, UserRecord,
};

use super::model::{
    DirectoryGroup, DirectorySite, DirectoryUser, GroupKind, GroupMember, Location, MemberKind,
    OneDrive, Team, UserKind,
};

fn location(on_premises_sync: Option<bool>) -> Location {
    if on_premises_sync == Some(true) {
        Location::Hybrid
    } else {
        Location::Cloud
    }
}

pub(crate) fn user(u: UserRecord) -> DirectoryUser {
    // Exchange backs shared (and room, equipment) mailboxes with a disabled
    // account that has a mailbox; Graph v1.0 lists no mailbox type.
    let kind = if u.account_enabled == Some(false) && u.mail.is_some() {
        UserKind::Shared
    } else {
        UserKind::User
    };
    let name = u.user_principal_name.unwrap_or_default();
    DirectoryUser {
        display_name: u.display_name.unwrap_or_else(|| name.clone()),
        name,
        kind,
        location: location(u.on_premises_sync_enabled),
        licensed: u.licensed,
        id: u.id,
    }
}

pub(crate) fn group(g: GroupRecord) -> DirectoryGroup {
    let kind = if g.unified {
        GroupKind::Office365
    } else if g.security_enabled == Some(true) {
        GroupKind::Security
    } else if g.dynamic_membership {
        GroupKind::DynamicDistribution
    } else {
        GroupKind::Distribution
    };
    let name = g
        .mail
        .clone()
        .or(g.mail_nickname.clone())
        .unwrap_or_default();
    DirectoryGroup {
        display_name: g.display_name.unwrap_or_else(|| name.clone()),
        name,
        kind,
        location: location(g.on_premises_sync_enabled),
        id: g.id,
    }
}

pub(crate) fn member(m: MemberRecord) -> GroupMember {
    let kind = match m.member_type {
        MemberType::User => MemberKind::User,
        MemberType::Group => MemberKind::Group,
        MemberType::Other => MemberKind::Unknown,
    };
    let login = m
        .user_principal_name
        .clone()
        .or(m.mail.clone())
        .unwrap_or_default();
    GroupMember {
        name: m.display_name.unwrap_or_else(|| login.clone()),
        login,
        kind,
        id: m.id,
    }
}

pub(crate) fn team(g: GroupRecord) -> Team {
    Team {
        display_name: g.display_name.unwrap_or_default(),
        description: g.description.unwrap_or_default(),
        mail: g.mail.unwrap_or_default(),
        id: g.id,
    }
}

/// OneDrive sites live under `https://<tenant>-my.sharepoint.com/personal/`.
fn is_personal(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    u.contains("-my.sharepoint.") && u.contains("/personal/")
}

/// A site without a URL is of no use to a backup; Graph always sends one.
pub(crate) fn site(s: SiteRecord) -> Option<DirectorySite> {
    let url = s.web_url?;
    let is_personal = is_personal(&url);
    let name = s.name.unwrap_or_default();
    Some(DirectorySite {
        title: s.display_name.unwrap_or_else(|| name.clone()),
        name,
        url,
        is_personal,
        id: s.id,
    })
}

pub(crate) fn onedrive(d: DriveRecord) -> OneDrive {
    OneDrive {
        name: d.name.unwrap_or_else(|| "OneDrive".into()),
        url: d.web_url.unwrap_or_default(),
        id: d.id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_user(enabled: Option<bool>, mail: Option<&str>, synced: Option<bool>) -> UserRecord {
        UserRecord {
            id: "u".into(),
            display_name: None,
            user_principal_name: Some("a@b.onmicrosoft.com".into()),
            mail: mail.map(str::to_owned),
            account_enabled: enabled,
            licensed: false,
            on_premises_sync_enabled: synced,
        }
    }

    #[test]
    fn a_disabled_account_with_a_mailbox_is_a_shared_mailbox() {
        assert_eq!(
            user(graph_user(Some(false), Some("info@b.com"), None)).kind,
            UserKind::Shared
        );
        assert_eq!(
            user(graph_user(Some(false), None, None)).kind,
            UserKind::User
        );
        assert_eq!(
            user(graph_user(Some(true), Some("a@b.com"), None)).kind,
            UserKind::User
        );
        let synced = user(graph_user(None, None, Some(true)));
        assert_eq!(synced.location, Location::Hybrid);
        assert_eq!(
            synced.display_name, "a@b.onmicrosoft.com",
            "falls back to the UPN"
        );
    }

    #[test]
    fn group_types_follow_exchange_and_entra_kinds() {
        let g = |types: &[&str], _mail_enabled: bool, security_enabled| GroupRecord {
            id: "g".into(),
            display_name: Some("G".into()),
            mail: Some("g@b.com".into()),
            security_enabled: Some(security_enabled),
            unified: types.contains(&"Unified"),
            dynamic_membership: types.contains(&"DynamicMembership"),
            ..GroupRecord::default()
        };
        assert_eq!(
            group(g(&["Unified"], true, false)).kind,
            GroupKind::Office365
        );
        assert_eq!(group(g(&[], false, true)).kind, GroupKind::Security);
        assert_eq!(group(g(&[], true, false)).kind, GroupKind::Distribution);
        assert_eq!(
            group(g(&["DynamicMembership"], true, false)).kind,
            GroupKind::DynamicDistribution
        );
    }

    #[test]
    fn a_site_without_a_url_is_left_out_and_personal_sites_are_marked() {
        let s = |url: Option<&str>| SiteRecord {
            id: "s".into(),
            name: Some("n".into()),
            display_name: None,
            web_url: url.map(str::to_owned),
        };
        assert!(site(s(None)).is_none());
        let personal = site(s(Some("https://c-my.sharepoint.com/personal/a_b_com"))).unwrap();
        assert!(personal.is_personal);
        assert_eq!(personal.title, "n");
        assert!(
            !site(s(Some("https://c.sharepoint.com/sites/Sales")))
                .unwrap()
                .is_personal
        );
    }
}
