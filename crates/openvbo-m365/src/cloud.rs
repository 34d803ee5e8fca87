//! National clouds and the hosts that serve them.

use url::Url;

/// The Microsoft 365 national clouds. A token from one is useless in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NationalCloud {
    Global,
    /// GCC High (L4).
    UsGovHigh,
    /// DoD (L5).
    UsGovDod,
    /// Operated by 21Vianet.
    China,
    /// Microsoft Cloud Deutschland (closed in October 2021).
    Germany,
}

impl NationalCloud {
    pub fn login_host(self) -> &'static str {
        match self {
            NationalCloud::Global => "login.microsoftonline.com",
            NationalCloud::UsGovHigh | NationalCloud::UsGovDod => "login.microsoftonline.us",
            NationalCloud::China => "login.chinacloudapi.cn",
            NationalCloud::Germany => "login.microsoftonline.de",
        }
    }

    pub fn graph_host(self) -> &'static str {
        match self {
            NationalCloud::Global => "graph.microsoft.com",
            NationalCloud::UsGovHigh => "graph.microsoft.us",
            NationalCloud::UsGovDod => "dod-graph.microsoft.us",
            NationalCloud::China => "microsoftgraph.chinacloudapi.cn",
            NationalCloud::Germany => "graph.microsoft.de",
        }
    }
}

/// Where to sign in and where Graph is, for one cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Base of the Entra ID token endpoint (`{login}/{tenant}/oauth2/v2.0/token`).
    pub login: Url,
    /// Base of Graph (`{graph}/v1.0/…`).
    pub graph: Url,
    /// The resource named in the token scope: always the cloud's real Graph
    /// host, even when `graph` points elsewhere (a simulator or a proxy),
    /// because that is what the token is issued for.
    pub graph_resource: String,
}

impl Endpoints {
    pub fn for_cloud(cloud: NationalCloud) -> Self {
        Self::with_overrides(cloud, None, None)
    }

    /// The cloud's hosts, with either base replaced (used with the simulator).
    pub fn with_overrides(cloud: NationalCloud, login: Option<&Url>, graph: Option<&Url>) -> Self {
        let https = |host: &str| {
            Url::parse(&format!("https://{host}/"))
                .unwrap_or_else(|e| unreachable!("a fixed host name is a valid URL: {e}"))
        };
        Self {
            login: login
                .map(with_trailing_slash)
                .unwrap_or_else(|| https(cloud.login_host())),
            graph: graph
                .map(with_trailing_slash)
                .unwrap_or_else(|| https(cloud.graph_host())),
            graph_resource: format!("https://{}", cloud.graph_host()),
        }
    }
}

/// `Url::join` drops the last segment of a base without a trailing slash.
fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_cloud_hosts_follow_microsoft_docs() {
        let gov = Endpoints::for_cloud(NationalCloud::UsGovHigh);
        assert_eq!(gov.login.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(gov.graph.as_str(), "https://graph.microsoft.us/");
        let dod = Endpoints::for_cloud(NationalCloud::UsGovDod);
        assert_eq!(dod.graph_resource, "https://dod-graph.microsoft.us");
        let cn = Endpoints::for_cloud(NationalCloud::China);
        assert_eq!(cn.login.host_str(), Some("login.chinacloudapi.cn"));
    }

    #[test]
    fn overrides_replace_bases_but_not_the_resource() {
        let sim = Url::parse("http://127.0.0.1:9000/sim").unwrap();
        let e = Endpoints::with_overrides(NationalCloud::Global, Some(&sim), Some(&sim));
        assert_eq!(e.login.as_str(), "http://127.0.0.1:9000/sim/");
        assert_eq!(
            e.graph.join("v1.0/me").unwrap().as_str(),
            "http://127.0.0.1:9000/sim/v1.0/me"
        );
        assert_eq!(e.graph_resource, "https://graph.microsoft.com");
    }
}
