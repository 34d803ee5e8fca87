//! Which restore point shows each resource at the asked time: per resource, the newest point
//! with a backup time at or before it. An item deleted after that point is still there; one
//! created after it is not; a resource first backed up later is absent. Only points of added
//! repositories count: a removed repository's points are not listed (`GET /v6/RestorePoints`),
//! so explore must not show them either; re-attaching the repository brings them back.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::options::{ExploreOptions, RestoreKind};
use crate::backup::{
    JobId, ResourceKind, RestorePoint, RestorePointFilter, RestorePointId, RestorePointResource,
};
use crate::store::{Store, StoreError};
use crate::OrganizationId;

/// One resource as a session shows it: from which point, backed up when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChosenResource {
    pub point_id: RestorePointId,
    pub backup_time: OffsetDateTime,
    pub resource: RestorePointResource,
}

fn shows(kind: RestoreKind, resource: ResourceKind) -> bool {
    matches!(
        (kind, resource),
        (
            RestoreKind::Exchange,
            ResourceKind::Mailbox | ResourceKind::ArchiveMailbox
        ) | (RestoreKind::OneDrive, ResourceKind::OneDrive)
            | (RestoreKind::SharePoint, ResourceKind::Site)
            | (RestoreKind::Teams, ResourceKind::Team)
    )
}

fn holds(kind: RestoreKind, point: &RestorePoint) -> bool {
    match kind {
        RestoreKind::Exchange => point.is_exchange,
        RestoreKind::OneDrive => point.is_onedrive,
        RestoreKind::SharePoint => point.is_sharepoint,
        RestoreKind::Teams => point.is_teams,
    }
}

/// The chosen resources, ordered by display name then id (a stable listing order).
pub async fn choose(
    store: &dyn Store,
    organization: OrganizationId,
    job: Option<JobId>,
    options: &ExploreOptions,
) -> Result<Vec<ChosenResource>, StoreError> {
    let filter = RestorePointFilter {
        organization_id: Some(organization),
        job_id: job,
        ..Default::default()
    };
    let points = store.list_restore_points(&filter).await?;
    let added: HashSet<_> = store
        .list_repositories(None)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut newest: HashMap<String, ChosenResource> = HashMap::new();
    for point in points
        .iter()
        .filter(|p| holds(options.kind, p) && added.contains(&p.repository_id))
    {
        if options.up_to.is_some_and(|up_to| point.backup_time > up_to) {
            continue;
        }
        for resource in store.list_restore_point_resources(point.id).await? {
            if !shows(options.kind, resource.kind) {
                continue;
            }
            let candidate = ChosenResource {
                point_id: point.id,
                backup_time: point.backup_time,
                resource,
            };
            match newest.get(&candidate.resource.resource_id) {
                Some(kept) if kept.backup_time >= candidate.backup_time => {}
                _ => {
                    newest.insert(candidate.resource.resource_id.clone(), candidate);
                }
            }
        }
    }
    let mut chosen: Vec<_> = newest.into_values().collect();
    chosen.sort_by(|a, b| {
        (
            a.resource.display_name.to_lowercase(),
            &a.resource.resource_id,
        )
            .cmp(&(
                b.resource.display_name.to_lowercase(),
                &b.resource.resource_id,
            ))
    });
    Ok(chosen)
}
