use std::sync::Arc;

use openvbo_core::store::{AdminRecord, Store, StoreError};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::fixtures::{at, organization};

const WRITERS: usize = 24;

/// Many writers at once: all must succeed (no "database is locked"), and the
/// atomic operations must stay atomic. Works on a store in any state.
pub async fn concurrent_writes(store: Arc<dyn Store>) {
    let run = Uuid::new_v4().simple().to_string();

    let mut inserts = JoinSet::new();
    let mut expected = Vec::new();
    for i in 0..WRITERS {
        let org = organization(&format!("concurrent-{run}-{i}"), at(i as i64));
        expected.push(org.id);
        let store = Arc::clone(&store);
        inserts.spawn(async move { store.insert_organization(&org).await });
    }
    while let Some(joined) = inserts.join_next().await {
        if let Err(e) = joined.unwrap() {
            panic!("concurrency: inserting organizations of different tenants at once failed: {e}");
        }
    }
    let listed: Vec<_> = store
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .filter(|id| expected.contains(id))
        .collect();
    assert_eq!(
        listed, expected,
        "concurrency: every insert is stored, in creation order"
    );

    let key = format!("concurrent-{run}");
    let mut metas = JoinSet::new();
    for i in 0..WRITERS {
        let store = Arc::clone(&store);
        let key = key.clone();
        metas.spawn(async move { store.meta_get_or_insert(&key, &[i as u8]).await });
    }
    let mut seen = Vec::new();
    while let Some(joined) = metas.join_next().await {
        seen.push(joined.unwrap().unwrap());
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "concurrency: meta_get_or_insert is atomic; every caller sees the same value, got {seen:?}"
    );

    let name = format!("admin-{run}");
    let mut creates = JoinSet::new();
    for i in 0..WRITERS {
        let store = Arc::clone(&store);
        let admin = AdminRecord {
            user_name: if i % 2 == 0 {
                name.clone()
            } else {
                name.to_uppercase()
            },
            password_hash: format!("$argon2id${i}"),
        };
        creates.spawn(async move { store.create_admin(&admin).await });
    }
    let (mut created, mut conflicts) = (0, 0);
    while let Some(joined) = creates.join_next().await {
        match joined.unwrap() {
            Ok(()) => created += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("concurrency: creating the same administrator at once: {e}"),
        }
    }
    assert_eq!(
        (created, conflicts),
        (1, WRITERS - 1),
        "concurrency: exactly one of many identical administrator creations wins"
    );

    for id in expected {
        assert!(store.delete_organization(id).await.unwrap());
    }

    super::backup::concurrency::run(store).await;
}
