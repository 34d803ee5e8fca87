use openvbo_core::backup::{ProxyId, ProxyType};
use openvbo_core::store::Store;

use super::fixtures::local_proxy;

/// Returns the local proxy's id.
pub(super) async fn run(store: &dyn Store) -> ProxyId {
    assert!(store.list_proxies().await.unwrap().is_empty());
    let first = local_proxy();
    let stored = store.local_proxy(&first).await.unwrap();
    assert_eq!(
        stored, first,
        "proxies: the first candidate is stored whole"
    );

    let mut second = local_proxy();
    second.host_name = "elsewhere".into();
    let again = store.local_proxy(&second).await.unwrap();
    assert_eq!(
        again, first,
        "proxies: the local proxy keeps its id and fields once created"
    );
    assert_eq!(store.list_proxies().await.unwrap(), vec![first.clone()]);
    assert_eq!(
        store.get_proxy(first.id).await.unwrap().as_ref(),
        Some(&first)
    );
    assert_eq!(store.get_proxy(ProxyId::new_random()).await.unwrap(), None);
    assert_eq!(stored.kind, ProxyType::Local);
    first.id
}
