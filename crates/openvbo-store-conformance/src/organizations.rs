use openvbo_core::organization::Service;
use openvbo_core::store::Store;
use openvbo_core::{OrganizationId, Region};

use super::fixtures::{account, assert_conflict, at, organization};

pub(super) async fn run(store: &dyn Store) {
    assert!(store.list_organizations().await.unwrap().is_empty());
    round_trip_and_conflicts(store).await;
    ordering(store).await;
    optimistic_update(store).await;
    delete_cascades(store).await;
}

async fn round_trip_and_conflicts(store: &dyn Store) {
    let contoso = organization("contoso", at(0));
    store.insert_organization(&contoso).await.unwrap();
    assert_eq!(
        store.get_organization(contoso.id).await.unwrap().as_ref(),
        Some(&contoso),
        "organizations: every field survives a round trip, timestamps to the millisecond"
    );
    assert_eq!(
        store
            .get_organization(OrganizationId::new_random())
            .await
            .unwrap(),
        None
    );

    let mut same_tenant = organization("contoso-again", at(1));
    same_tenant.tenant_id = contoso.tenant_id.to_uppercase();
    // The user is told which organization already holds the tenant.
    let conflict = assert_conflict(
        "organizations: the same tenant (in any case) added twice",
        store.insert_organization(&same_tenant).await,
        &contoso.name,
    );
    assert!(
        conflict.contains(&contoso.id.to_string()),
        "organizations: the conflict {conflict:?} names the holder's id"
    );
    assert_eq!(store.get_organization(same_tenant.id).await.unwrap(), None);

    let mut same_id = organization("fabrikam", at(1));
    same_id.id = contoso.id;
    assert_conflict(
        "organizations: an id used twice",
        store.insert_organization(&same_id).await,
        &contoso.id.to_string(),
    );
    assert_eq!(
        store.get_organization(contoso.id).await.unwrap().as_ref(),
        Some(&contoso),
        "organizations: a refused insert changes nothing"
    );

    let mut bare = organization("bare", at(2));
    bare.exchange = None;
    bare.sharepoint = None;
    bare.region = Region::USGovernment;
    store.insert_organization(&bare).await.unwrap();
    assert_eq!(
        store.get_organization(bare.id).await.unwrap().as_ref(),
        Some(&bare)
    );

    assert_eq!(
        store.list_organizations().await.unwrap(),
        vec![contoso.clone(), bare.clone()],
        "organizations: listed with their accounts"
    );
    for org in [contoso, bare] {
        assert!(store.delete_organization(org.id).await.unwrap());
    }
}

async fn ordering(store: &dyn Store) {
    let late = organization("late", at(30));
    let early = organization("early", at(-30));
    let mut tie_a = organization("tie-a", at(0));
    let mut tie_b = organization("tie-b", at(0));
    tie_a.id = "00000000-0000-4000-8000-00000000000a".parse().unwrap();
    tie_b.id = "ffffffff-0000-4000-8000-00000000000b".parse().unwrap();
    for org in [&late, &tie_b, &early, &tie_a] {
        store.insert_organization(org).await.unwrap();
    }
    let names: Vec<String> = store
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        names,
        [&early, &tie_a, &tie_b, &late].map(|o| o.name.clone()),
        "organizations: listed by creation time, then id"
    );
    for org in [late, early, tie_a, tie_b] {
        assert!(store.delete_organization(org.id).await.unwrap());
    }
}

async fn optimistic_update(store: &dyn Store) {
    let original = organization("northwind", at(0));
    let neighbour = organization("neighbour", at(1));
    store.insert_organization(&original).await.unwrap();
    store.insert_organization(&neighbour).await.unwrap();

    let mut changed = original.clone();
    changed.revision = 2;
    changed.display_name = "Northwind Traders".into();
    changed.region = Region::Germany;
    changed.is_teams_chats_online = true;
    changed.sharepoint = None;
    changed.exchange = Some(account("backup@northwind.onmicrosoft.com", &[9, 9]));
    changed.updated_at = at(5);
    assert!(
        store.update_organization(&changed, 1).await.unwrap(),
        "organizations: update at the expected revision"
    );
    assert_eq!(
        store.get_organization(original.id).await.unwrap().as_ref(),
        Some(&changed),
        "organizations: the update replaced the row and its accounts"
    );

    let mut stale = original.clone();
    stale.revision = 2;
    stale.display_name = "Lost update".into();
    assert!(
        !store.update_organization(&stale, 1).await.unwrap(),
        "organizations: an update from a stale revision is refused"
    );
    assert_eq!(
        store.get_organization(original.id).await.unwrap().as_ref(),
        Some(&changed),
        "organizations: a refused update changes nothing"
    );

    let mut steal = changed.clone();
    steal.revision = 3;
    steal.tenant_id = neighbour.tenant_id.clone();
    assert_conflict(
        "organizations: an update taking another organization's tenant",
        store.update_organization(&steal, 2).await,
        &neighbour.name,
    );
    assert_eq!(
        store.get_organization(original.id).await.unwrap().as_ref(),
        Some(&changed),
        "organizations: a conflicting update changes nothing"
    );

    let mut ghost = organization("ghost", at(0));
    ghost.revision = 2;
    assert!(
        !store.update_organization(&ghost, 1).await.unwrap(),
        "organizations: updating an organization that does not exist"
    );
    assert_eq!(store.get_organization(ghost.id).await.unwrap(), None);

    for org in [original, neighbour] {
        assert!(store.delete_organization(org.id).await.unwrap());
    }
}

async fn delete_cascades(store: &dyn Store) {
    let org = organization("adatum", at(0));
    store.insert_organization(&org).await.unwrap();
    assert!(store.delete_organization(org.id).await.unwrap());
    assert_eq!(store.get_organization(org.id).await.unwrap(), None);
    assert!(
        !store.delete_organization(org.id).await.unwrap(),
        "organizations: deleting twice reports false"
    );
    assert!(
        !store.update_organization(&org, 1).await.unwrap(),
        "organizations: a deleted organization cannot be updated"
    );

    // Same id again, without accounts: leftovers of the old accounts would
    // reappear here if the delete had not cascaded.
    let mut reborn = organization("adatum", at(1));
    reborn.id = org.id;
    reborn.tenant_id = org.tenant_id.clone();
    reborn.exchange = None;
    reborn.sharepoint = None;
    store.insert_organization(&reborn).await.unwrap();
    let stored = store.get_organization(org.id).await.unwrap().unwrap();
    for service in Service::ALL {
        assert!(
            stored.account(service).is_none(),
            "organizations: deleting an organization deletes its {} account",
            service.display_name()
        );
    }
    assert!(store.delete_organization(org.id).await.unwrap());
    assert!(store.list_organizations().await.unwrap().is_empty());
}
