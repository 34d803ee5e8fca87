use openvbo_core::backup::{Job, RepositoryId, ResourceKind, RestorePointFilter, RestorePointId};
use openvbo_core::store::{Store, StoreError};

use super::super::fixtures::at;
use super::fixtures::{point, resource};

pub(super) async fn run(store: &dyn Store, job: &Job, repo: RepositoryId) {
    let p1 = point(job, at(300));
    store.insert_restore_point(&p1).await.unwrap();
    assert!(matches!(
        store.insert_restore_point(&p1).await,
        Err(StoreError::Conflict(_))
    ));
    let mailbox = resource(p1.id, ResourceKind::Mailbox, "u1", "Nancy");
    let drive = resource(p1.id, ResourceKind::OneDrive, "d1", "Nancy");
    assert!(store.add_restore_point_resource(&mailbox).await.unwrap());
    assert!(store.add_restore_point_resource(&drive).await.unwrap());
    assert!(matches!(
        store.add_restore_point_resource(&mailbox).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store
            .add_restore_point_resource(&resource(
                RestorePointId::new_random(),
                ResourceKind::Site,
                "s",
                "x"
            ))
            .await
            .unwrap(),
        "restore points: no point, no resource"
    );
    let stored = store.get_restore_point(p1.id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.is_exchange,
            stored.is_onedrive,
            stored.is_sharepoint,
            stored.is_teams
        ),
        (true, true, false, false),
        "restore points: the flags follow the resources added"
    );
    assert_eq!(
        store.list_restore_point_resources(p1.id).await.unwrap(),
        vec![mailbox.clone(), drive.clone()]
    );

    let p2 = point(job, at(400));
    store.insert_restore_point(&p2).await.unwrap();
    let renamed = resource(p2.id, ResourceKind::Mailbox, "u1", "Nancy Davolio");
    let site = resource(p2.id, ResourceKind::Site, "s1", "Team site");
    store.add_restore_point_resource(&renamed).await.unwrap();
    store.add_restore_point_resource(&site).await.unwrap();
    // A user's mailbox and OneDrive share the user's id in one point.
    let megan_mail = resource(p2.id, ResourceKind::Mailbox, "u2", "Megan");
    let megan_drive = resource(p2.id, ResourceKind::OneDrive, "u2", "Megan");
    assert!(store.add_restore_point_resource(&megan_mail).await.unwrap());
    assert!(
        store
            .add_restore_point_resource(&megan_drive)
            .await
            .unwrap(),
        "restore points: a user's mailbox and OneDrive are two resources of one point"
    );
    assert!(matches!(
        store.add_restore_point_resource(&megan_drive).await,
        Err(StoreError::Conflict(_))
    ));

    let ids = |points: Vec<openvbo_core::backup::RestorePoint>| {
        points.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    let by_job = RestorePointFilter {
        job_id: Some(job.id),
        ..RestorePointFilter::default()
    };
    assert_eq!(
        ids(store.list_restore_points(&by_job).await.unwrap()),
        vec![p1.id, p2.id]
    );
    let after = RestorePointFilter {
        organization_id: Some(job.organization_id),
        repository_id: Some(repo),
        created_after: Some(at(300)),
        ..RestorePointFilter::default()
    };
    assert_eq!(
        ids(store.list_restore_points(&after).await.unwrap()),
        vec![p2.id],
        "restore points: backupTime means created strictly after"
    );
    let elsewhere = RestorePointFilter {
        repository_id: Some(RepositoryId::new_random()),
        ..RestorePointFilter::default()
    };
    assert!(store
        .list_restore_points(&elsewhere)
        .await
        .unwrap()
        .is_empty());

    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::Mailbox, "u1")
            .await
            .unwrap(),
        Some(renamed.clone()),
        "restore points: the newest backup of a resource"
    );
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::OneDrive, "d1")
            .await
            .unwrap(),
        Some(drive.clone())
    );
    // One user's mailbox and OneDrive (one id): each by its kind.
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::Mailbox, "u2")
            .await
            .unwrap(),
        Some(megan_mail.clone())
    );
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::OneDrive, "u2")
            .await
            .unwrap(),
        Some(megan_drive.clone()),
        "restore points: the latest backup of a resource is looked up by id and kind"
    );
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::Site, "u2")
            .await
            .unwrap(),
        None
    );

    let protected = store.protected_resources(repo, None).await.unwrap();
    let summary: Vec<_> = protected
        .iter()
        .map(|p| {
            (
                p.kind,
                p.resource_id.as_str(),
                p.display_name.as_str(),
                p.first_backup_time,
                p.last_backup_time,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (ResourceKind::Mailbox, "u2", "Megan", at(400), at(400)),
            (
                ResourceKind::Mailbox,
                "u1",
                "Nancy Davolio",
                at(300),
                at(400)
            ),
            (ResourceKind::OneDrive, "u2", "Megan", at(400), at(400)),
            (ResourceKind::OneDrive, "d1", "Nancy", at(300), at(300)),
            (ResourceKind::Site, "s1", "Team site", at(400), at(400)),
        ],
        "restore points: protected resources with first and last backup and the latest name"
    );
    assert!(store
        .protected_resources(repo, Some(openvbo_core::OrganizationId::new_random()))
        .await
        .unwrap()
        .is_empty());

    // Points moved to another repository (one removed and attached again) keep their id
    // and resources; an unknown point moves nothing; moving is all or nothing per call.
    let other = RepositoryId::new_random();
    let in_repo = |r: RepositoryId| RestorePointFilter {
        repository_id: Some(r),
        ..RestorePointFilter::default()
    };
    assert_eq!(
        store
            .move_restore_points(&[p2.id, RestorePointId::new_random()], other)
            .await
            .unwrap(),
        1,
        "restore points: only existing points move"
    );
    assert_eq!(
        ids(store.list_restore_points(&in_repo(other)).await.unwrap()),
        vec![p2.id]
    );
    assert_eq!(
        ids(store.list_restore_points(&in_repo(repo)).await.unwrap()),
        vec![p1.id]
    );
    assert_eq!(
        store
            .list_restore_point_resources(p2.id)
            .await
            .unwrap()
            .len(),
        4,
        "restore points: a moved point keeps its resources"
    );
    assert_eq!(store.move_restore_points(&[], repo).await.unwrap(), 0);
    assert_eq!(store.move_restore_points(&[p2.id], repo).await.unwrap(), 1);
    assert_eq!(
        ids(store.list_restore_points(&in_repo(repo)).await.unwrap()),
        vec![p1.id, p2.id]
    );

    // Revoked licences: a later revocation replaces the earlier one.
    let revocation = |user: &str, t: i64| openvbo_core::store::LicenceRevocation {
        organization_id: job.organization_id,
        user_id: user.to_owned(),
        revoked_at: at(t),
    };
    store.revoke_licence(&revocation("u1", 500)).await.unwrap();
    store.revoke_licence(&revocation("u1", 600)).await.unwrap();
    store.revoke_licence(&revocation("u2", 500)).await.unwrap();
    assert_eq!(
        store
            .licence_revocations(Some(job.organization_id))
            .await
            .unwrap(),
        vec![revocation("u1", 600), revocation("u2", 500)],
        "licences: one revocation per user, the latest"
    );
    assert_eq!(store.licence_revocations(None).await.unwrap().len(), 2);
    assert!(store
        .licence_revocations(Some(openvbo_core::OrganizationId::new_random()))
        .await
        .unwrap()
        .is_empty());
    assert!(
        matches!(
            store
                .revoke_licence(&openvbo_core::store::LicenceRevocation {
                    organization_id: openvbo_core::OrganizationId::new_random(),
                    ..revocation("u1", 700)
                })
                .await,
            Err(StoreError::Conflict(_))
        ),
        "licences: only of an organization that exists"
    );

    assert!(store.delete_restore_point(p1.id).await.unwrap());
    assert!(!store.delete_restore_point(p1.id).await.unwrap());
    assert!(store
        .list_restore_point_resources(p1.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::OneDrive, "d1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .latest_resource_backup(job.id, ResourceKind::Mailbox, "u1")
            .await
            .unwrap(),
        Some(renamed)
    );
}
