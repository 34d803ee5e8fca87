//! The backup stores' atomic rules under concurrent callers.

use std::sync::Arc;

use openvbo_core::backup::{JobId, LogItemId, NewLogItem};
use openvbo_core::store::{Store, StoreError};
use tokio::task::JoinSet;

use super::super::fixtures::at;
use super::fixtures::{local_proxy, session};

const CALLERS: usize = 16;

/// Works on a store in any state.
pub(crate) async fn run(store: Arc<dyn Store>) {
    // However many callers race to create it, there is one local proxy.
    let mut proxies = JoinSet::new();
    for _ in 0..CALLERS {
        let store = Arc::clone(&store);
        proxies.spawn(async move { store.local_proxy(&local_proxy()).await });
    }
    let mut ids = Vec::new();
    while let Some(joined) = proxies.join_next().await {
        ids.push(joined.unwrap().unwrap().id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "concurrency: every caller gets the same local proxy: {ids:?}"
    );
    let locals = store
        .list_proxies()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.id == ids[0])
        .count();
    assert_eq!(locals, 1);

    // One run of a job at a time, however many starts race.
    let job = JobId::new_random();
    let mut starts = JoinSet::new();
    for i in 0..CALLERS {
        let store = Arc::clone(&store);
        let s = session(job, at(i as i64));
        starts.spawn(async move { store.insert_job_session(&s).await.map(|()| s.id) });
    }
    let (mut started, mut refused) = (Vec::new(), 0);
    while let Some(joined) = starts.join_next().await {
        match joined.unwrap() {
            Ok(id) => started.push(id),
            Err(StoreError::Conflict(_)) => refused += 1,
            Err(e) => panic!("concurrency: starting a job at once: {e}"),
        }
    }
    assert_eq!(
        (started.len(), refused),
        (1, CALLERS - 1),
        "concurrency: exactly one session of a job starts"
    );

    // Log items appended at once all get distinct, rising usns.
    let mut appends = JoinSet::new();
    for i in 0..CALLERS {
        let store = Arc::clone(&store);
        let session = started[0];
        appends.spawn(async move {
            let item = NewLogItem {
                id: LogItemId::new_random(),
                title: format!("[Success] item {i}"),
                creation_time: at(0),
                end_time: None,
            };
            store.append_log_item(session, &item).await
        });
    }
    let mut usns = Vec::new();
    while let Some(joined) = appends.join_next().await {
        usns.push(joined.unwrap().unwrap().unwrap().usn);
    }
    usns.sort_unstable();
    usns.dedup();
    assert_eq!(
        usns.len(),
        CALLERS,
        "concurrency: no usn is handed out twice"
    );
    let log = store.list_log_items(started[0], 0, 100).await.unwrap();
    assert_eq!(
        log.items.iter().map(|i| i.usn).collect::<Vec<_>>(),
        usns,
        "concurrency: the log lists them in usn order"
    );
}
