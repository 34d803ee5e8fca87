//! `/v6/objectstoragerepositories` (S3-compatible buckets that backup repositories extend
//! into; the credentials and the bucket are verified on add) and the
//! `/v6/S3CompatibleResources` browsing helpers.

use super::backup_repositories::text;
use super::engine::S3Bucket;
use super::service::{engine_error, RepositoryService};
use crate::backup::{
    AccountId, AccountType, ObjectStorageId, ObjectStorageRepository, ObjectStorageType,
};
use crate::store::Removal;
use crate::CoreError;

/// `RESTAmazonBucketS3Compatible` as sent.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketInput {
    pub service_point: Option<String>,
    pub custom_region_id: Option<String>,
    pub name: Option<String>,
}

/// `RESTObjectStorageRepositoryComposed` as sent (the S3-compatible part).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStorageInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub account_id: Option<AccountId>,
    pub amazon_bucket_s3_compatible: Option<BucketInput>,
    pub s3_folder: Option<String>,
    pub size_limit_enabled: Option<bool>,
    pub size_limit_gb: Option<i64>,
}

/// A bucket as the browsing calls name it: `accountId`, `ServicePoint`, `CustomRegionId`.
#[derive(Debug, Clone)]
pub struct BucketQuery {
    pub account_id: AccountId,
    pub service_point: String,
    pub custom_region_id: Option<String>,
}

fn bucket_name(raw: &str) -> Result<String, CoreError> {
    let b = raw.trim();
    // S3's rules: 3–63 characters of lower-case letters, digits, '.', '-' (compatible
    // services accept upper case and '_' too, so only what breaks a URL is refused).
    let ok = (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'));
    if !ok {
        return Err(CoreError::validation(
            "amazonBucketS3Compatible.name",
            format!(
                "'{}' is not a bucket name (3 to 63 letters, digits, '.', '-')",
                crate::ids::truncate_for_message(b)
            ),
        ));
    }
    Ok(b.to_string())
}

fn folder_name(field: &str, raw: &str) -> Result<String, CoreError> {
    let f = raw.trim().trim_matches('/');
    if f.is_empty()
        || f.len() > 512
        || f.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || f.chars().any(char::is_control)
    {
        return Err(CoreError::validation(
            field,
            format!(
                "'{}' is not a folder name (no empty, '.' or '..' parts)",
                crate::ids::truncate_for_message(raw)
            ),
        ));
    }
    Ok(f.to_string())
}

fn service_point(raw: Option<&str>) -> Result<String, CoreError> {
    let sp = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            CoreError::validation(
                "amazonBucketS3Compatible.servicePoint",
                "servicePoint is required: the URL of the S3-compatible service",
            )
        })?;
    if !(sp.starts_with("https://") || sp.starts_with("http://")) || sp.len() > 2048 {
        return Err(CoreError::validation(
            "amazonBucketS3Compatible.servicePoint",
            format!(
                "servicePoint '{}' must be an http(s) URL such as https://s3.example.com:9000",
                crate::ids::truncate_for_message(sp)
            ),
        ));
    }
    Ok(sp.trim_end_matches('/').to_string())
}

fn size_limit(enabled: bool, gb: Option<i64>) -> Result<Option<i64>, CoreError> {
    match (enabled, gb) {
        (false, _) => Ok(gb.filter(|g| *g > 0)),
        (true, Some(g)) if (1..=1_000_000_000).contains(&g) => Ok(Some(g)),
        (true, Some(g)) => Err(CoreError::validation(
            "sizeLimitGB",
            format!("sizeLimitGB must be a positive number of GB, not {g}"),
        )),
        (true, None) => Err(CoreError::validation(
            "sizeLimitGB",
            "sizeLimitGB is required when sizeLimitEnabled is true",
        )),
    }
}

impl RepositoryService {
    pub async fn add_object_storage(
        &self,
        input: ObjectStorageInput,
    ) -> Result<ObjectStorageRepository, CoreError> {
        let kind_raw = input
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| CoreError::validation("type", "type is required: AmazonS3Compatible"))?;
        match ObjectStorageType::parse(kind_raw) {
            Some(ObjectStorageType::AmazonS3Compatible) => {}
            Some(other) => {
                return Err(CoreError::validation("type", format!("{other} object storage is not supported by this server; use AmazonS3Compatible")))
            }
            None => return Err(CoreError::validation("type", format!("type '{}' is unknown", crate::ids::truncate_for_message(kind_raw)))),
        }
        let name = text("name", input.name.as_deref(), true)?;
        let description = text("description", input.description.as_deref(), false)?;
        let account_id = input
            .account_id
            .ok_or_else(|| CoreError::validation("accountId", "accountId is required"))?;
        let account = self.store.get_account(account_id).await?.ok_or_else(|| {
            CoreError::validation(
                "accountId",
                format!("there is no account with id {account_id}"),
            )
        })?;
        if account.account_type != AccountType::amazonS3CompatibleAccount {
            return Err(CoreError::validation(
                "accountId",
                "the account is not an amazonS3CompatibleAccount",
            ));
        }
        let bucket_in = input.amazon_bucket_s3_compatible.clone().ok_or_else(|| {
            CoreError::validation(
                "amazonBucketS3Compatible",
                "amazonBucketS3Compatible is required: servicePoint, customRegionId and name",
            )
        })?;
        let service_point = service_point(bucket_in.service_point.as_deref())?;
        let bucket = bucket_name(bucket_in.name.as_deref().unwrap_or(""))?;
        let folder = folder_name("s3Folder", input.s3_folder.as_deref().unwrap_or(""))?;
        let region = bucket_in
            .custom_region_id
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let enabled = input.size_limit_enabled.unwrap_or(false);
        let limit = size_limit(enabled, input.size_limit_gb)?;
        for other in self.store.list_object_storages().await? {
            if other.name.eq_ignore_ascii_case(&name) {
                return Err(CoreError::Conflict(format!(
                    "an object storage repository named '{}' already exists",
                    other.name
                )));
            }
        }
        let target = S3Bucket {
            account: self.s3_account(&account, &service_point, region.as_deref())?,
            bucket: bucket.clone(),
            folder: folder.clone(),
        };
        self.engines
            .probe(&target)
            .await
            .map_err(|e| engine_error("the object storage cannot be used", e))?;
        let storage = ObjectStorageRepository {
            id: ObjectStorageId::new_random(),
            name,
            description,
            storage_type: ObjectStorageType::AmazonS3Compatible,
            account_id,
            service_point,
            custom_region_id: region,
            bucket,
            folder,
            size_limit_enabled: enabled,
            size_limit_gb: limit,
            revision: 1,
            created_at: self.clock.now(),
        };
        self.store.insert_object_storage(&storage).await?;
        Ok(storage)
    }

    pub async fn object_storages(&self) -> Result<Vec<ObjectStorageRepository>, CoreError> {
        Ok(self.store.list_object_storages().await?)
    }

    pub async fn object_storage(
        &self,
        id: ObjectStorageId,
    ) -> Result<ObjectStorageRepository, CoreError> {
        self.store.get_object_storage(id).await?.ok_or_else(|| {
            CoreError::NotFound(format!(
                "there is no object storage repository with id {id}"
            ))
        })
    }

    /// Name, description and size limit; the type, account, bucket and folder cannot change.
    pub async fn update_object_storage(
        &self,
        id: ObjectStorageId,
        input: ObjectStorageInput,
    ) -> Result<(), CoreError> {
        let current = self.object_storage(id).await?;
        let refuse = |field: &str, what: &str| {
            Err(CoreError::validation(
                field,
                format!("the {what} of an object storage repository cannot change"),
            ))
        };
        if let Some(k) = input.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            if ObjectStorageType::parse(k.trim()) != Some(current.storage_type) {
                return refuse("type", "type");
            }
        }
        if input.account_id.is_some_and(|a| a != current.account_id) {
            return refuse("accountId", "account");
        }
        if let Some(b) = &input.amazon_bucket_s3_compatible {
            if b.service_point
                .as_deref()
                .is_some_and(|s| s.trim().trim_end_matches('/') != current.service_point)
            {
                return refuse("amazonBucketS3Compatible.servicePoint", "service point");
            }
            if b.name
                .as_deref()
                .is_some_and(|n| n.trim() != current.bucket)
            {
                return refuse("amazonBucketS3Compatible.name", "bucket");
            }
        }
        if input
            .s3_folder
            .as_deref()
            .is_some_and(|f| f.trim().trim_matches('/') != current.folder)
        {
            return refuse("s3Folder", "folder");
        }
        let mut next = current.clone();
        if input.name.is_some() {
            next.name = text("name", input.name.as_deref(), true)?;
        }
        if input.description.is_some() {
            next.description = text("description", input.description.as_deref(), false)?;
        }
        if input.size_limit_enabled.is_some() || input.size_limit_gb.is_some() {
            next.size_limit_enabled = input
                .size_limit_enabled
                .unwrap_or(current.size_limit_enabled);
            next.size_limit_gb = size_limit(
                next.size_limit_enabled,
                input.size_limit_gb.or(current.size_limit_gb),
            )?;
        }
        next.revision = current.revision + 1;
        if !self
            .store
            .update_object_storage(&next, current.revision)
            .await?
        {
            return Err(CoreError::Conflict("the object storage repository was changed by another request at the same time; retry".into()));
        }
        Ok(())
    }

    /// Refused while a backup repository is extended with it; the data stays in the bucket.
    pub async fn remove_object_storage(&self, id: ObjectStorageId) -> Result<(), CoreError> {
        match self.store.delete_object_storage(id).await? {
            Removal::Removed => Ok(()),
            Removal::NotFound => Err(CoreError::NotFound(format!(
                "there is no object storage repository with id {id}"
            ))),
            Removal::InUse(what) => Err(CoreError::Conflict(format!(
                "the object storage repository cannot be removed: {what}"
            ))),
        }
    }

    async fn browse_target(
        &self,
        q: &BucketQuery,
        bucket: &str,
        folder: &str,
    ) -> Result<S3Bucket, CoreError> {
        let account = self.store.get_account(q.account_id).await?.ok_or_else(|| {
            CoreError::validation(
                "accountId",
                format!("there is no account with id {}", q.account_id),
            )
        })?;
        let sp = service_point(Some(&q.service_point)).map_err(|_| {
            CoreError::validation("ServicePoint", "ServicePoint must be an http(s) URL")
        })?;
        Ok(S3Bucket {
            account: self.s3_account(&account, &sp, q.custom_region_id.as_deref())?,
            bucket: bucket_name(bucket)?,
            folder: folder.to_string(),
        })
    }

    /// Checks that the bucket exists and the account may use it (`buckets/{Name}`).
    pub async fn bucket(&self, q: &BucketQuery, name: &str) -> Result<String, CoreError> {
        let target = self.browse_target(q, name, "").await?;
        self.engines
            .list_folders(&target)
            .await
            .map_err(|e| engine_error("the bucket cannot be used", e))?;
        Ok(target.bucket)
    }

    /// Every bucket of the account; with `name`, just that one if it is usable.
    pub async fn buckets(
        &self,
        q: &BucketQuery,
        name: Option<&str>,
    ) -> Result<Vec<String>, CoreError> {
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            return Ok(vec![self.bucket(q, n).await?]);
        }
        let account = self.store.get_account(q.account_id).await?.ok_or_else(|| {
            CoreError::validation(
                "accountId",
                format!("there is no account with id {}", q.account_id),
            )
        })?;
        let sp = service_point(Some(&q.service_point))?;
        let a = self.s3_account(&account, &sp, q.custom_region_id.as_deref())?;
        self.engines
            .list_buckets(&a)
            .await
            .map_err(|e| engine_error("the buckets cannot be listed", e))
    }

    /// The folders at the top of the bucket (optionally only `name`).
    pub async fn folders(
        &self,
        q: &BucketQuery,
        bucket: &str,
        name: Option<&str>,
    ) -> Result<Vec<String>, CoreError> {
        let target = self.browse_target(q, bucket, "").await?;
        let mut all = self
            .engines
            .list_folders(&target)
            .await
            .map_err(|e| engine_error("the bucket cannot be listed", e))?;
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            all.retain(|f| f.eq_ignore_ascii_case(n));
        }
        Ok(all)
    }

    pub async fn add_folder(
        &self,
        q: &BucketQuery,
        bucket: &str,
        name: Option<&str>,
    ) -> Result<String, CoreError> {
        let name = folder_name("name", name.unwrap_or(""))?;
        let target = self.browse_target(q, bucket, "").await?;
        self.engines
            .create_folder(&target, &name)
            .await
            .map_err(|e| engine_error("the folder cannot be created", e))?;
        Ok(name)
    }
}
