//! Object storage: accounts (credentials) and the buckets/folders that
//! backup repositories extend into.

use time::OffsetDateTime;

use super::ids::{AccountId, ObjectStorageId};
use crate::crypto::SealedSecret;

text_enum!(
    /// `RESTCredential.accountType`; Veeam spells these in lower camel case.
    AccountType {
        #[allow(non_camel_case_types)]
        azureBlobAccount,
        #[allow(non_camel_case_types)]
        amazonS3Account,
        #[allow(non_camel_case_types)]
        amazonS3CompatibleAccount,
    }
);

text_enum!(
    /// `RESTObjectStorageType`.
    ObjectStorageType { AzureBlob, AmazonS3, AmazonS3Compatible, AzureBlobArchive, AmazonS3Glacier }
);

/// `RESTCredential`: an access key and its sealed secret, which is never
/// returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStorageAccount {
    pub id: AccountId,
    pub account_type: AccountType,
    pub user_name: String,
    pub secret: SealedSecret,
    pub description: String,
    pub revision: i64,
    pub created_at: OffsetDateTime,
}

/// `RESTObjectStorageRepositoryComposed` for S3-compatible storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStorageRepository {
    pub id: ObjectStorageId,
    pub name: String,
    pub description: String,
    pub storage_type: ObjectStorageType,
    pub account_id: AccountId,
    /// `amazonBucketS3Compatible.servicePoint`: the endpoint URL.
    pub service_point: String,
    pub custom_region_id: Option<String>,
    pub bucket: String,
    /// `s3Folder`. One folder of one bucket holds one repository.
    pub folder: String,
    pub size_limit_enabled: bool,
    pub size_limit_gb: Option<i64>,
    pub revision: i64,
    pub created_at: OffsetDateTime,
}
