//! Backup proxies: where backups run. openvbo has one, built in: the
//! `Local` proxy, created once with a stable id.

use time::OffsetDateTime;

use super::ids::ProxyId;

text_enum!(
    /// `RESTProxy.type`.
    ProxyType { Local, Domain, Workgroup }
);

text_enum!(
    /// `RESTProxy.throttlingUnit`.
    ThrottlingUnit { Mbps, MBs, KBs }
);

text_enum!(
    /// `RESTProxy.internetProxyType`.
    InternetProxyType { FromManagementServer, Custom }
);

/// `RESTInternetProxySettings` (no password: v6 never returns one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternetProxy {
    pub kind: InternetProxyType,
    pub host_name: Option<String>,
    pub port: Option<i32>,
    pub use_authentication: Option<bool>,
    pub user_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub id: ProxyId,
    pub kind: ProxyType,
    pub host_name: String,
    pub description: String,
    pub port: i32,
    pub threads_number: i32,
    pub enable_network_throttling: bool,
    pub throttling_value: Option<i64>,
    pub throttling_unit: Option<ThrottlingUnit>,
    /// None: no internet proxy is used.
    pub internet_proxy: Option<InternetProxy>,
    pub created_at: OffsetDateTime,
}
