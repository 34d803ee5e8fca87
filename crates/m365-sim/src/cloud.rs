use serde::{Deserialize, Serialize};

/// The Microsoft cloud a tenant lives in; it decides which Graph host its
/// tokens are for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    #[default]
    Worldwide,
    #[serde(rename = "USGovernment")]
    UsGovernment,
    #[serde(rename = "USDefence", alias = "USDefense")]
    UsDefence,
    China,
    Germany,
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::Worldwide,
        Region::UsGovernment,
        Region::UsDefence,
        Region::China,
        Region::Germany,
    ];

    pub fn graph_host(self) -> &'static str {
        match self {
            Region::Worldwide => "graph.microsoft.com",
            Region::UsGovernment => "graph.microsoft.us",
            Region::UsDefence => "dod-graph.microsoft.us",
            Region::China => "microsoftgraph.chinacloudapi.cn",
            Region::Germany => "graph.microsoft.de",
        }
    }

    pub fn login_host(self) -> &'static str {
        match self {
            Region::Worldwide => "login.microsoftonline.com",
            Region::UsGovernment | Region::UsDefence => "login.microsoftonline.us",
            Region::China => "login.chinacloudapi.cn",
            Region::Germany => "login.microsoftonline.de",
        }
    }

    /// The DNS suffix of the cloud's SharePoint Online hosts.
    pub fn sharepoint_suffix(self) -> &'static str {
        match self {
            Region::Worldwide => "sharepoint.com",
            Region::UsGovernment => "sharepoint.us",
            Region::UsDefence => "sharepoint-mil.us",
            Region::China => "sharepoint.cn",
            Region::Germany => "sharepoint.de",
        }
    }
}
