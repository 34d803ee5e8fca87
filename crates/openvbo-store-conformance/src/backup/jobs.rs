use openvbo_core::backup::{
    BackupType, Job, JobId, JobItemId, JobItemList, JobStatus, ProxyId, RepositoryId,
};
use openvbo_core::store::{Removal, Store};

use super::super::fixtures::{assert_conflict, at, organization};
use super::fixtures::{item, job, repository};

/// Returns a job (SelectedItems, kept) and its repository.
pub(super) async fn run(store: &dyn Store, proxy: ProxyId) -> (Job, RepositoryId) {
    let org = organization("jobs", at(40));
    store.insert_organization(&org).await.unwrap();
    let repo = repository("Jobs repository", "/var/lib/openvbo/jobs", proxy, 40);
    store.insert_repository(&repo).await.unwrap();

    let entire = job(
        "Entire",
        org.id,
        repo.id,
        BackupType::EntireOrganization,
        41,
    );
    store
        .insert_job(&entire, &[], &[item("x1", "User")])
        .await
        .unwrap();
    assert_eq!(
        store.get_job(entire.id).await.unwrap().as_ref(),
        Some(&entire)
    );
    let twice = job(
        "Entire again",
        org.id,
        repo.id,
        BackupType::EntireOrganization,
        42,
    );
    assert_conflict(
        "jobs: a second EntireOrganization job of one organization on one repository",
        store.insert_job(&twice, &[], &[]).await,
        "Entire",
    );
    assert_eq!(store.get_job(twice.id).await.unwrap(), None);

    let selected = job("Selected", org.id, repo.id, BackupType::SelectedItems, 43);
    let items = [item("u1", "User"), item("g1", "Group"), item("s1", "Site")];
    // A duplicate id refuses the whole job.
    let dup = [item("u1", "User"), item("u1", "User")];
    assert!(store.insert_job(&selected, &dup, &[]).await.is_err());
    assert_eq!(store.get_job(selected.id).await.unwrap(), None);
    store.insert_job(&selected, &items, &[]).await.unwrap();

    let unknown_repo = job(
        "Nowhere",
        org.id,
        RepositoryId::new_random(),
        BackupType::SelectedItems,
        44,
    );
    assert!(
        store.insert_job(&unknown_repo, &[], &[]).await.is_err(),
        "jobs: the repository must exist"
    );

    let ids: Vec<JobId> = store
        .list_jobs(Some(org.id))
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        ids,
        vec![entire.id, selected.id],
        "jobs: creation order, by organization"
    );
    assert!(store.list_jobs(None).await.unwrap().len() >= 2);

    items_lists(store, &selected, &items).await;

    let mut edited = selected.clone();
    edited.name = "Selected (edited)".into();
    edited.is_enabled = false;
    edited.next_run = None;
    edited.revision = 2;
    edited.updated_at = at(50);
    assert!(store.update_job(&edited, 1).await.unwrap());
    assert!(
        !store.update_job(&edited, 1).await.unwrap(),
        "jobs: stale revision"
    );
    assert!(store
        .record_job_run(edited.id, Some(at(51)), JobStatus::Success, Some(at(52)))
        .await
        .unwrap());
    let stored = store.get_job(edited.id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.last_run,
            stored.last_status,
            stored.next_run,
            stored.revision,
            stored.name.as_str()
        ),
        (
            Some(at(51)),
            JobStatus::Success,
            Some(at(52)),
            2,
            "Selected (edited)"
        ),
        "jobs: a recorded run keeps the administrator's edit"
    );

    match store.delete_repository(repo.id).await.unwrap() {
        Removal::InUse(message) => assert!(message.contains("Entire"), "{message}"),
        other => panic!("jobs: a repository in use cannot go, got {other:?}"),
    }
    assert!(store.delete_job(entire.id).await.unwrap());
    assert!(!store.delete_job(entire.id).await.unwrap());
    assert!(store
        .list_job_items(entire.id, JobItemList::Excluded)
        .await
        .unwrap()
        .is_empty());

    // Removing an organization removes its jobs.
    let gone = organization("jobs-gone", at(45));
    store.insert_organization(&gone).await.unwrap();
    let doomed = job("Doomed", gone.id, repo.id, BackupType::SelectedItems, 46);
    store.insert_job(&doomed, &items, &[]).await.unwrap();
    assert!(store.delete_organization(gone.id).await.unwrap());
    assert_eq!(store.get_job(doomed.id).await.unwrap(), None);

    (stored, repo.id)
}

async fn items_lists(store: &dyn Store, job: &Job, items: &[openvbo_core::backup::JobItem]) {
    let sel = JobItemList::Selected;
    assert_eq!(
        store.list_job_items(job.id, sel).await.unwrap(),
        items.to_vec()
    );
    assert!(store
        .list_job_items(job.id, JobItemList::Excluded)
        .await
        .unwrap()
        .is_empty());

    let more = [item("t1", "Team")];
    assert!(store.add_job_items(job.id, sel, &more).await.unwrap());
    assert!(!store
        .add_job_items(JobId::new_random(), sel, &more)
        .await
        .unwrap());
    // All or nothing: one known id refuses the batch.
    assert!(store
        .add_job_items(job.id, sel, &[item("new", "User"), item("g1", "Group")])
        .await
        .is_err());
    let listed: Vec<String> = store
        .list_job_items(job.id, sel)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id.0)
        .collect();
    assert_eq!(
        listed,
        ["u1", "g1", "s1", "t1"],
        "jobs: items keep the order they were added in"
    );

    // The same id may be on the other list: the lists are independent.
    assert!(store
        .add_job_items(job.id, JobItemList::Excluded, &[item("u1", "User")])
        .await
        .unwrap());

    let mut changed = item("g1", "Group");
    changed.body = r#"{"type":"Group","id":"g1","mailbox":false}"#.into();
    assert!(store.update_job_item(job.id, sel, &changed).await.unwrap());
    assert!(!store
        .update_job_item(job.id, sel, &item("none", "User"))
        .await
        .unwrap());
    assert_eq!(
        store
            .get_job_item(job.id, sel, &JobItemId("g1".into()))
            .await
            .unwrap(),
        Some(changed)
    );

    let removed = store
        .remove_job_items(
            job.id,
            sel,
            &[
                JobItemId("s1".into()),
                JobItemId("t1".into()),
                JobItemId("zz".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(removed, 2, "jobs: only the listed items count as removed");
    assert_eq!(store.list_job_items(job.id, sel).await.unwrap().len(), 2);
    assert_eq!(
        store
            .list_job_items(job.id, JobItemList::Excluded)
            .await
            .unwrap()
            .len(),
        1
    );
}
