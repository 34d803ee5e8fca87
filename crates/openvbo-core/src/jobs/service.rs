//! The rules of the v6 Jobs resource: what a job may be, and what may be
//! done to it. Runs go through the [`JobRunner`].
//!
//! Refusals: an empty name, an unknown repository, a `SelectedItems` job
//! with nothing selected, an item type openvbo does not know, a second
//! `EntireOrganization` job of one organization on one repository (the
//! store decides that atomically), starting a job that is running or
//! disabled.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::policy::{parse_policy, policy_json, stored_schedule, SchedulePolicyInput};
use super::runner::{next_run, JobRunner, StopReason};
use crate::backup::{
    BackupType, Job, JobId, JobItem, JobItemId, JobItemList, JobSession, JobStatus, RepositoryId,
};
use crate::error::{CoreError, ValidationError};
use crate::store::Store;
use crate::OrganizationId;

/// Item types of `RESTJobItemComposed.type`.
const ITEM_TYPES: [&str; 5] = ["User", "Group", "Site", "Team", "PartialOrganization"];

/// `RESTJob` as a request carries it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub backup_type: Option<String>,
    pub repository_id: Option<String>,
    pub schedule_policy: Option<SchedulePolicyInput>,
    pub selected_items: Option<Vec<Value>>,
    pub excluded_items: Option<Vec<Value>>,
    pub run_now: Option<bool>,
    pub is_enabled: Option<bool>,
}

#[derive(Clone)]
pub struct JobService {
    pub(super) store: Arc<dyn Store>,
    pub(super) runner: Arc<JobRunner>,
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Validation(ValidationError::field(field, message))
}

/// A job item as stored: its id is derived from its type and object, so
/// the same object cannot be on a list twice.
pub fn job_item(field: &str, body: &Value) -> Result<JobItem, CoreError> {
    let body = &camel_keys(body);
    let kind = body.get("type").and_then(Value::as_str).ok_or_else(|| {
        invalid(
            field,
            "every item needs a type (User, Group, Site, Team, PartialOrganization)",
        )
    })?;
    let kind = ITEM_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(kind))
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "item type {kind:?} is not one of User, Group, Site, Team, PartialOrganization"
                ),
            )
        })?;
    let object = match *kind {
        "PartialOrganization" => Some("organization".to_string()),
        "User" => body
            .get("user")
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string),
        "Group" => body
            .get("group")
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string),
        "Site" => body
            .get("site")
            .and_then(|o| o.get("id").or_else(|| o.get("url")))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => body
            .get("team")
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string),
    }
    .filter(|s| !s.trim().is_empty())
    .ok_or_else(|| {
        invalid(
            field,
            format!("a {kind} item needs the {}'s id", kind.to_ascii_lowercase()),
        )
    })?;
    // VB365's form: the object type's GUID combined with the object's id.
    let type_guid = match *kind {
        "User" => "2b38d840-8098-4614-b369-ebce33f9b2c7",
        "Group" => "9592732d-22d8-426a-8167-d9635158e945",
        "Site" => "e1fa728c-4150-4724-ab3b-5deda33db0cf",
        "Team" => "7b985334-bc0e-4791-b30c-d03a1fecc840",
        _ => "c37da450-6c4b-48c4-87e2-cc557ef5d897",
    };
    let id = format!("{type_guid}{}", object.to_ascii_lowercase());
    let mut normalised = body.clone();
    if let Value::Object(map) = &mut normalised {
        map.insert("type".into(), Value::String((*kind).into()));
        map.insert("id".into(), Value::String(id.clone()));
        map.remove("_links");
    }
    Ok(JobItem {
        id: JobItemId(id),
        item_type: (*kind).into(),
        body: normalised.to_string(),
    })
}

/// Clients send `"Mailbox"`, `"User"`, `"Id"`: keys as ASP.NET reads them,
/// whatever their case, are stored in the schema's camelCase.
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(first) => first.to_lowercase().chain(c).collect(),
                        None => String::new(),
                    };
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

fn items(field: &str, list: &Option<Vec<Value>>) -> Result<Vec<JobItem>, CoreError> {
    list.iter()
        .flatten()
        .enumerate()
        .map(|(i, v)| job_item(&format!("{field}[{i}]"), v))
        .collect()
}

fn backup_type(text: Option<&str>) -> Result<BackupType, CoreError> {
    match text {
        None => Ok(BackupType::EntireOrganization),
        Some(t) if t.eq_ignore_ascii_case("EntireOrganization") => {
            Ok(BackupType::EntireOrganization)
        }
        Some(t) if t.eq_ignore_ascii_case("SelectedItems") => Ok(BackupType::SelectedItems),
        Some(t) => Err(invalid(
            "backupType",
            format!("backupType {t:?} is not EntireOrganization or SelectedItems"),
        )),
    }
}

impl JobService {
    pub fn new(store: Arc<dyn Store>, runner: Arc<JobRunner>) -> Self {
        JobService { store, runner }
    }

    pub fn runner(&self) -> &Arc<JobRunner> {
        &self.runner
    }

    async fn repository(&self, raw: Option<&str>) -> Result<RepositoryId, CoreError> {
        let raw = raw.ok_or_else(|| invalid("repositoryId", "repositoryId is required"))?;
        let id: RepositoryId = raw
            .parse()
            .map_err(|e: crate::ids::MalformedId| invalid("repositoryId", e.to_string()))?;
        match self.store.get_repository(id).await? {
            Some(_) => Ok(id),
            None => Err(invalid(
                "repositoryId",
                format!("There is no backup repository {id}."),
            )),
        }
    }

    pub async fn create(
        &self,
        organization: OrganizationId,
        input: JobInput,
    ) -> Result<Job, CoreError> {
        if self.store.get_organization(organization).await?.is_none() {
            return Err(CoreError::NotFound(format!(
                "There is no organization {organization}."
            )));
        }
        let name = input.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(invalid("name", "name is required"));
        }
        let repository_id = self.repository(input.repository_id.as_deref()).await?;
        let backup_type = backup_type(input.backup_type.as_deref())?;
        let selected = items("selectedItems", &input.selected_items)?;
        let excluded = items("excludedItems", &input.excluded_items)?;
        if backup_type == BackupType::SelectedItems && selected.is_empty() {
            return Err(invalid(
                "selectedItems",
                "a SelectedItems job needs at least one selected item",
            ));
        }
        let schedule = parse_policy(&input.schedule_policy.clone().unwrap_or_default())?;
        let now = self.runner.clock().now();
        let is_enabled = input.is_enabled.unwrap_or(true);
        let mut job = Job {
            id: JobId::new_random(),
            organization_id: organization,
            repository_id,
            name: name.to_string(),
            description: input.description.clone().unwrap_or_default(),
            backup_type,
            schedule_policy: policy_json(&schedule).to_string(),
            is_enabled,
            last_run: None,
            next_run: None,
            last_status: JobStatus::Stopped,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        job.next_run = next_run(&job, now);
        self.store.insert_job(&job, &selected, &excluded).await?;
        if input.run_now.unwrap_or(false) {
            self.runner.start(job.id, 0).await?;
            return self.get(job.id).await;
        }
        Ok(job)
    }

    pub async fn list(&self, organization: Option<OrganizationId>) -> Result<Vec<Job>, CoreError> {
        Ok(self.store.list_jobs(organization).await?)
    }

    pub async fn get(&self, id: JobId) -> Result<Job, CoreError> {
        self.store
            .get_job(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("There is no job {id}.")))
    }

    /// PUT: the job's own fields (absent ones keep their value); lists are
    /// replaced when given.
    pub async fn update(&self, id: JobId, input: JobInput) -> Result<(), CoreError> {
        let current = self.get(id).await?;
        let mut job = current.clone();
        if let Some(name) = input.name.as_deref() {
            if name.trim().is_empty() {
                return Err(invalid("name", "name must not be empty"));
            }
            job.name = name.trim().to_string();
        }
        if let Some(d) = &input.description {
            job.description = d.clone();
        }
        if input.repository_id.is_some() {
            let repo = self.repository(input.repository_id.as_deref()).await?;
            if repo != current.repository_id {
                return Err(invalid(
                    "repositoryId",
                    "a job's repository cannot be changed; create a new job",
                ));
            }
        }
        if input.backup_type.is_some() {
            job.backup_type = backup_type(input.backup_type.as_deref())?;
        }
        if let Some(p) = &input.schedule_policy {
            job.schedule_policy = policy_json(&parse_policy(p)?).to_string();
        }
        if let Some(e) = input.is_enabled {
            job.is_enabled = e;
        }
        let selected = match &input.selected_items {
            Some(_) => Some(items("selectedItems", &input.selected_items)?),
            None => None,
        };
        if job.backup_type == BackupType::SelectedItems {
            let count = match &selected {
                Some(s) => s.len(),
                None => self
                    .store
                    .list_job_items(id, JobItemList::Selected)
                    .await?
                    .len(),
            };
            if count == 0 {
                return Err(invalid(
                    "selectedItems",
                    "a SelectedItems job needs at least one selected item",
                ));
            }
        }
        let now = self.runner.clock().now();
        job.next_run = next_run(&job, now);
        job.updated_at = now;
        job.revision = current.revision + 1;
        if !self.store.update_job(&job, current.revision).await? {
            return Err(CoreError::Conflict(
                "The job was changed meanwhile; read it again and retry.".into(),
            ));
        }
        if let Some(list) = selected {
            self.replace_items(id, JobItemList::Selected, list).await?;
        }
        if input.excluded_items.is_some() {
            let list = items("excludedItems", &input.excluded_items)?;
            self.replace_items(id, JobItemList::Excluded, list).await?;
        }
        Ok(())
    }

    async fn replace_items(
        &self,
        id: JobId,
        list: JobItemList,
        items: Vec<JobItem>,
    ) -> Result<(), CoreError> {
        let old: Vec<JobItemId> = self
            .store
            .list_job_items(id, list)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        self.store.remove_job_items(id, list, &old).await?;
        self.store.add_job_items(id, list, &items).await?;
        Ok(())
    }

    pub async fn delete(&self, id: JobId) -> Result<(), CoreError> {
        if self.runner.running_session(id).is_some() {
            return Err(CoreError::Conflict(
                "The job is running; stop it before removing it.".into(),
            ));
        }
        if !self.store.delete_job(id).await? {
            return Err(CoreError::NotFound(format!("There is no job {id}.")));
        }
        Ok(())
    }

    pub async fn set_enabled(&self, id: JobId, enabled: bool) -> Result<(), CoreError> {
        for _ in 0..3 {
            let current = self.get(id).await?;
            let mut job = current.clone();
            job.is_enabled = enabled;
            let now = self.runner.clock().now();
            job.next_run = next_run(&job, now);
            job.updated_at = now;
            job.revision += 1;
            if self.store.update_job(&job, current.revision).await? {
                return Ok(());
            }
        }
        Err(CoreError::Conflict("The job keeps changing; retry.".into()))
    }

    pub async fn start(&self, id: JobId) -> Result<JobSession, CoreError> {
        self.get(id).await?;
        self.runner.start(id, 0).await
    }

    pub async fn stop(&self, id: JobId) -> Result<(), CoreError> {
        let job = self.get(id).await?;
        if !self.runner.stop(id, StopReason::User) {
            return Err(CoreError::Conflict(format!(
                "The job \"{}\" is not running.",
                job.name
            )));
        }
        Ok(())
    }

    pub async fn items(&self, id: JobId, list: JobItemList) -> Result<Vec<JobItem>, CoreError> {
        self.get(id).await?;
        Ok(self.store.list_job_items(id, list).await?)
    }

    pub async fn item(
        &self,
        id: JobId,
        list: JobItemList,
        item: &str,
    ) -> Result<JobItem, CoreError> {
        self.get(id).await?;
        self.store
            .get_job_item(id, list, &JobItemId(item.to_string()))
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("The job has no item {item} on that list.")))
    }

    pub async fn add_items(
        &self,
        id: JobId,
        list: JobItemList,
        bodies: &[Value],
    ) -> Result<(), CoreError> {
        let field = match list {
            JobItemList::Selected => "selectedItems",
            JobItemList::Excluded => "excludedItems",
        };
        let new = items(field, &Some(bodies.to_vec()))?;
        if !self.store.add_job_items(id, list, &new).await? {
            return Err(CoreError::NotFound(format!("There is no job {id}.")));
        }
        Ok(())
    }

    pub async fn remove_items(
        &self,
        id: JobId,
        list: JobItemList,
        ids: &[String],
    ) -> Result<(), CoreError> {
        let job = self.get(id).await?;
        let ids: Vec<JobItemId> = ids.iter().cloned().map(JobItemId).collect();
        if list == JobItemList::Selected && job.backup_type == BackupType::SelectedItems {
            let left = self
                .store
                .list_job_items(id, list)
                .await?
                .into_iter()
                .filter(|i| !ids.contains(&i.id))
                .count();
            if left == 0 {
                return Err(invalid(
                    "selectedItems",
                    "a SelectedItems job needs at least one selected item",
                ));
            }
        }
        self.store.remove_job_items(id, list, &ids).await?;
        Ok(())
    }

    /// The stored schedule policy document of a job, for its body.
    pub fn policy_of(job: &Job) -> Value {
        serde_json::from_str(&job.schedule_policy)
            .unwrap_or_else(|_| policy_json(&stored_schedule(&job.schedule_policy)))
    }
}

/// Sessions and their log.
impl JobService {
    pub async fn sessions(
        &self,
        query: &crate::backup::JobSessionQuery,
    ) -> Result<crate::backup::Page<JobSession>, CoreError> {
        Ok(self.store.list_job_sessions(query).await?)
    }

    pub async fn session(&self, id: crate::backup::JobSessionId) -> Result<JobSession, CoreError> {
        self.store
            .get_job_session(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("There is no job session {id}.")))
    }

    pub async fn log_items(
        &self,
        id: crate::backup::JobSessionId,
        offset: u64,
        limit: u64,
    ) -> Result<crate::backup::Page<crate::backup::LogItem>, CoreError> {
        Ok(self.store.list_log_items(id, offset, limit).await?)
    }

    pub async fn log_item(
        &self,
        id: crate::backup::JobSessionId,
        item: crate::backup::LogItemId,
    ) -> Result<Option<crate::backup::LogItem>, CoreError> {
        Ok(self.store.get_log_item(id, item).await?)
    }

    /// Restore points, oldest first: only those of backup repositories that are added. A
    /// removed repository's points stay in the store (its data stays, as in VB365, and an
    /// attach adopts them again with their ids) but are not shown, as VB365 does not.
    pub async fn restore_points(
        &self,
        filter: &crate::backup::RestorePointFilter,
    ) -> Result<Vec<crate::backup::RestorePoint>, CoreError> {
        let points = self.store.list_restore_points(filter).await?;
        let added: std::collections::HashSet<crate::backup::RepositoryId> = self
            .store
            .list_repositories(None)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        Ok(points
            .into_iter()
            .filter(|p| added.contains(&p.repository_id))
            .collect())
    }

    /// A restore point of an added repository (a removed repository's are not found).
    pub async fn restore_point(
        &self,
        id: crate::backup::RestorePointId,
    ) -> Result<crate::backup::RestorePoint, CoreError> {
        let not_found = || CoreError::NotFound(format!("There is no restore point {id}."));
        let point = self
            .store
            .get_restore_point(id)
            .await?
            .ok_or_else(not_found)?;
        match self.store.get_repository(point.repository_id).await? {
            Some(_) => Ok(point),
            None => Err(not_found()),
        }
    }

    pub async fn restore_point_resources(
        &self,
        id: crate::backup::RestorePointId,
    ) -> Result<Vec<crate::backup::RestorePointResource>, CoreError> {
        self.restore_point(id).await?;
        Ok(self.store.list_restore_point_resources(id).await?)
    }
}
