use openvbo_core::backup::{
    Bottleneck, Job, JobSessionId, JobSessionQuery, JobStatus, JobType, LogItemId, NewLogItem,
};
use openvbo_core::store::{Store, StoreError};

use super::super::fixtures::at;
use super::fixtures::session;

pub(super) async fn run(store: &dyn Store, job: &Job) {
    let first = session(job.id, at(100));
    store.insert_job_session(&first).await.unwrap();
    let concurrent = session(job.id, at(101));
    assert!(
        matches!(
            store.insert_job_session(&concurrent).await,
            Err(StoreError::Conflict(_))
        ),
        "sessions: one unfinished session per job"
    );

    // Progress while running, then the end.
    let mut running = first.clone();
    running.progress = 21;
    running.statistics.processed_objects = 523;
    running.statistics.transferred_data_bytes = 55_561_549;
    running.statistics.bottleneck = Bottleneck::Source;
    assert!(store.update_job_session(&running).await.unwrap());
    assert_eq!(
        store.get_job_session(first.id).await.unwrap().as_ref(),
        Some(&running)
    );
    let mut ended = running.clone();
    ended.status = JobStatus::Warning;
    ended.end_time = Some(at(110));
    ended.details = Some("1 item failed".into());
    assert!(store.update_job_session(&ended).await.unwrap());
    let mut late = ended.clone();
    late.status = JobStatus::Success;
    assert!(
        !store.update_job_session(&late).await.unwrap(),
        "sessions: an ended session is final"
    );
    assert_eq!(
        store.get_job_session(first.id).await.unwrap().as_ref(),
        Some(&ended)
    );

    // Now the job may run again.
    let second = session(job.id, at(120));
    store.insert_job_session(&second).await.unwrap();
    let other_job = session(openvbo_core::backup::JobId::new_random(), at(130));
    store.insert_job_session(&other_job).await.unwrap();

    let page = store
        .list_job_sessions(&JobSessionQuery {
            job_id: Some(job.id),
            limit: 1,
            ..JobSessionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2, "sessions: the total counts the whole filter");
    assert_eq!(
        page.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![second.id],
        "sessions: newest first, limited"
    );
    let next = store
        .list_job_sessions(&JobSessionQuery {
            job_id: Some(job.id),
            offset: 1,
            limit: 10,
            ..JobSessionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        next.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    let ended_after = store
        .list_job_sessions(&JobSessionQuery {
            end_time_lower_bound: Some(at(105)),
            limit: 10,
            ..JobSessionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ended_after.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![first.id],
        "sessions: endTimeLowerBound keeps ended sessions only"
    );
    let copies = store
        .list_job_sessions(&JobSessionQuery {
            job_type: Some(JobType::Copy),
            limit: 10,
            ..JobSessionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((copies.total, copies.items.len()), (0, 0));

    log(store, first.id).await;

    // After a crash, whatever was running is failed and says why.
    let failed = store
        .fail_unfinished_sessions(at(200), "[Failed] Session was interrupted")
        .await
        .unwrap();
    let mut expected = vec![second.id, other_job.id];
    expected.sort_unstable();
    let mut failed_sorted = failed.clone();
    failed_sorted.sort_unstable();
    assert_eq!(failed_sorted, expected);
    let after = store.get_job_session(second.id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.end_time),
        (JobStatus::Failed, Some(at(200)))
    );
    let log = store.list_log_items(second.id, 0, 10).await.unwrap();
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].title, "[Failed] Session was interrupted");
    assert!(store
        .fail_unfinished_sessions(at(201), "again")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .get_job_session(first.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Warning,
        "sessions: an ended session is not touched by crash recovery"
    );
}

async fn log(store: &dyn Store, session: JobSessionId) {
    assert_eq!(
        store
            .append_log_item(
                JobSessionId::new_random(),
                &NewLogItem {
                    id: LogItemId::new_random(),
                    title: "x".into(),
                    creation_time: at(0),
                    end_time: None,
                },
            )
            .await
            .unwrap(),
        None,
        "log: no session, no item"
    );
    let mut usns = Vec::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let item = NewLogItem {
            id: LogItemId::new_random(),
            title: format!("[Success] Processing mailbox: user{i}"),
            creation_time: at(100 + i),
            end_time: None,
        };
        let stored = store
            .append_log_item(session, &item)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (stored.id, stored.title.as_str()),
            (item.id, item.title.as_str())
        );
        usns.push(stored.usn);
        ids.push(item.id);
    }
    assert!(
        usns.windows(2).all(|w| w[0] < w[1]),
        "log: usn rises: {usns:?}"
    );

    assert!(store
        .update_log_item(
            session,
            ids[1],
            "[Warning] Processing mailbox: user1",
            Some(at(109))
        )
        .await
        .unwrap());
    assert!(!store
        .update_log_item(JobSessionId::new_random(), ids[1], "x", None)
        .await
        .unwrap());
    let one = store.get_log_item(session, ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (one.title.as_str(), one.end_time, one.usn),
        (
            "[Warning] Processing mailbox: user1",
            Some(at(109)),
            usns[1]
        )
    );

    let page = store.list_log_items(session, 1, 2).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|i| i.usn).collect::<Vec<_>>(),
        usns[1..3].to_vec(),
        "log: pages in usn order"
    );
    assert_eq!(
        store
            .list_log_items(session, 5, 10)
            .await
            .unwrap()
            .items
            .len(),
        0
    );
}
