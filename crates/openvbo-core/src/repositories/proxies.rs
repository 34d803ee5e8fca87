//! The built-in `Local` proxy: created once (the store keeps the first one), then the
//! same id forever. openvbo has no remote proxies.

use crate::backup::{Proxy, ProxyId, ProxyType};
use crate::CoreError;

use super::service::RepositoryService;

/// VB365's defaults for a proxy ([PS] `Add-VBOProxy`).
pub const PROXY_PORT: i32 = 9193;
pub const PROXY_THREADS: i32 = 64;

impl RepositoryService {
    /// The local proxy, stored at first use.
    pub async fn local_proxy(&self) -> Result<Proxy, CoreError> {
        self.local_proxy
            .get_or_try_init(|| async {
                let candidate = Proxy {
                    id: ProxyId::new_random(),
                    kind: ProxyType::Local,
                    host_name: self.options.host_name.clone(),
                    description: "Backup proxy on the openvbo server".into(),
                    port: PROXY_PORT,
                    threads_number: PROXY_THREADS,
                    enable_network_throttling: false,
                    throttling_value: None,
                    throttling_unit: None,
                    internet_proxy: None,
                    created_at: self.clock.now(),
                };
                Ok::<_, CoreError>(self.store.local_proxy(&candidate).await?)
            })
            .await
            .cloned()
    }

    pub async fn proxies(&self) -> Result<Vec<Proxy>, CoreError> {
        self.local_proxy().await?;
        Ok(self.store.list_proxies().await?)
    }

    pub async fn proxy(&self, id: ProxyId) -> Result<Proxy, CoreError> {
        self.local_proxy().await?;
        self.store
            .get_proxy(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("there is no proxy with id {id}")))
    }
}
