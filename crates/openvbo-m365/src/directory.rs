//! Reading an organization's objects from Graph: users, groups and their
//! members, sites, teams, OneDrives. Each listing asks for the largest page
//! Graph allows and only the properties openvbo uses, and streams pages to
//! the caller.

use serde::Deserialize;

use crate::error::M365Error;
use crate::graph::GraphSession;

/// Graph's largest page for directory collections.
const PAGE: &str = "999";

const USER_FIELDS: &str =
    "id,displayName,userPrincipalName,mail,accountEnabled,userType,assignedLicenses,onPremisesSyncEnabled";
const GROUP_FIELDS: &str = "id,displayName,description,mail,mailNickname,mailEnabled,securityEnabled,groupTypes,resourceProvisioningOptions,onPremisesSyncEnabled";
const MEMBER_FIELDS: &str = "id,displayName,userPrincipalName,mail";
const TEAM_FILTER: &str = "resourceProvisioningOptions/Any(x:x eq 'Team')";

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<serde_json::Value>,
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GraphGroup {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub group_types: Vec<String>,
    #[serde(default)]
    pub resource_provisioning_options: Vec<String>,
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
}

impl GraphGroup {
    pub fn is_team(&self) -> bool {
        self.resource_provisioning_options
            .iter()
            .any(|o| o.eq_ignore_ascii_case("Team"))
    }
}

/// A direct member of a group: a user or another group.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GraphMember {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: String,
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
}

impl GraphMember {
    pub fn is_user(&self) -> bool {
        self.odata_type
            .eq_ignore_ascii_case("#microsoft.graph.user")
    }

    pub fn is_group(&self) -> bool {
        self.odata_type
            .eq_ignore_ascii_case("#microsoft.graph.group")
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GraphSite {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
}

impl GraphSite {
    /// OneDrive sites live under `https://<tenant>-my.sharepoint.com/personal/`.
    pub fn is_personal(&self) -> bool {
        self.web_url.as_deref().is_some_and(|u| {
            let u = u.to_ascii_lowercase();
            u.contains("-my.sharepoint.") && u.contains("/personal/")
        })
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GraphDrive {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
}

type Sink<'a, T> = &'a mut (dyn FnMut(Vec<T>) -> Result<(), M365Error> + Send);

impl GraphSession {
    pub async fn users(&self, sink: Sink<'_, GraphUser>) -> Result<(), M365Error> {
        let url = self.graph_url(&["users"], &[("$select", USER_FIELDS), ("$top", PAGE)])?;
        self.stream(url, sink).await
    }

    /// `id` is an object id or a user principal name.
    pub async fn user(&self, id: &str) -> Result<Option<GraphUser>, M365Error> {
        let url = self.graph_url(&["users", id], &[("$select", USER_FIELDS)])?;
        self.get_optional(url).await
    }

    pub async fn groups(&self, sink: Sink<'_, GraphGroup>) -> Result<(), M365Error> {
        let url = self.graph_url(&["groups"], &[("$select", GROUP_FIELDS), ("$top", PAGE)])?;
        self.stream(url, sink).await
    }

    pub async fn group(&self, id: &str) -> Result<Option<GraphGroup>, M365Error> {
        let url = self.graph_url(&["groups", id], &[("$select", GROUP_FIELDS)])?;
        self.get_optional(url).await
    }

    /// Direct members only, as Graph's `/members`.
    pub async fn group_members(
        &self,
        id: &str,
        sink: Sink<'_, GraphMember>,
    ) -> Result<(), M365Error> {
        let url = self.graph_url(
            &["groups", id, "members"],
            &[("$select", MEMBER_FIELDS), ("$top", PAGE)],
        )?;
        self.stream(url, sink).await
    }

    /// Groups that are Microsoft Teams.
    pub async fn teams(&self, sink: Sink<'_, GraphGroup>) -> Result<(), M365Error> {
        let url = self.graph_url(
            &["groups"],
            &[
                ("$filter", TEAM_FILTER),
                ("$select", GROUP_FIELDS),
                ("$top", PAGE),
            ],
        )?;
        self.stream(url, sink).await
    }

    /// Every site a delegated token can find (`search=*`; `getAllSites`
    /// needs application permissions).
    pub async fn sites(&self, sink: Sink<'_, GraphSite>) -> Result<(), M365Error> {
        let url = self.graph_url(&["sites"], &[("search", "*"), ("$top", PAGE)])?;
        self.stream(url, sink).await
    }

    pub async fn subsites(&self, id: &str, sink: Sink<'_, GraphSite>) -> Result<(), M365Error> {
        let url = self.graph_url(&["sites", id, "sites"], &[("$top", PAGE)])?;
        self.stream(url, sink).await
    }

    /// `id` is `host,siteCollectionGuid,webGuid`.
    pub async fn site(&self, id: &str) -> Result<Option<GraphSite>, M365Error> {
        let url = self.graph_url(&["sites", id], &[])?;
        self.get_optional(url).await
    }

    /// A site's document libraries (`/sites/{id}/drives`, paged).
    pub async fn site_drives(&self, id: &str, sink: Sink<'_, GraphDrive>) -> Result<(), M365Error> {
        let url = self.graph_url(&["sites", id, "drives"], &[("$select", "id,name,webUrl")])?;
        self.stream(url, sink).await
    }

    /// The user's OneDrive, or `None` when the user has none (Graph answers
    /// 404 "User's mysite not found."). The caller checks the user exists.
    pub async fn user_drive(&self, user_id: &str) -> Result<Option<GraphDrive>, M365Error> {
        let url = self.graph_url(
            &["users", user_id, "drive"],
            &[("$select", "id,name,webUrl")],
        )?;
        self.get_optional(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_sites_are_recognised_by_their_url() {
        let site = |url: &str| GraphSite {
            id: "x".into(),
            name: None,
            display_name: None,
            web_url: Some(url.into()),
        };
        assert!(site("https://contoso-my.sharepoint.com/personal/adele_contoso_com").is_personal());
        assert!(!site("https://contoso.sharepoint.com/sites/Sales").is_personal());
    }
}
