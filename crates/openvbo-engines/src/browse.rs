//! Bucket and folder browsing (`/v6/S3CompatibleResources`) and the credential/bucket probe
//! on add. These need calls the engine's whole-object backend does not make (delimited
//! listings), so they go to object_store directly.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use openvbo_core::repositories::{EngineError, EngineErrorKind, S3Account, S3Bucket};

use crate::errors::from_object_store;
use crate::location::s3_location;

/// Marks an empty folder: S3 has no folders, only names with a common prefix.
const FOLDER_MARKER: &str = ".openvbo-folder";

fn store(bucket: &S3Bucket, roots: Option<&[u8]>) -> Result<Arc<dyn ObjectStore>, EngineError> {
    let loc = s3_location(bucket, roots)?;
    let mut options = ClientOptions::new()
        .with_allow_http(loc.allow_http)
        .with_timeout(Duration::from_secs(30))
        .with_connect_timeout(Duration::from_secs(5));
    if let Some(pem) = roots {
        let certs = object_store::Certificate::from_pem_bundle(pem).map_err(|e| {
            EngineError::with_source(
                EngineErrorKind::InvalidInput,
                "the trusted certificates are not PEM certificates",
                e,
            )
        })?;
        for c in certs {
            options = options.with_root_certificate(c);
        }
    }
    let mut b = AmazonS3Builder::new()
        .with_region(&loc.region)
        .with_bucket_name(&loc.bucket)
        .with_access_key_id(&loc.access_key_id)
        .with_secret_access_key(&loc.secret_access_key)
        .with_virtual_hosted_style_request(false)
        .with_client_options(options)
        .with_allow_http(loc.allow_http)
        // An administrator is waiting: a dead endpoint is reported within seconds.
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        });
    if let Some(ep) = &loc.endpoint {
        b = b.with_endpoint(ep);
    }
    let s = b.build().map_err(|e| {
        EngineError::with_source(EngineErrorKind::InvalidInput, "bad S3 settings", e)
    })?;
    Ok(Arc::new(s))
}

fn folder_path(folder: &str) -> Option<Path> {
    let f = folder.trim_matches('/');
    (!f.is_empty()).then(|| Path::from(f))
}

/// Says, in the words an administrator needs, why the bucket cannot be used.
fn explain(bucket: &S3Bucket, e: EngineError) -> EngineError {
    let where_ = format!(
        "bucket '{}' at {}",
        bucket.bucket,
        bucket.account.service_point.trim_end_matches('/')
    );
    let message = match e.kind {
        EngineErrorKind::AccessDenied => format!(
            "the {where_} refused the account's credentials: check the access key and the secret key"
        ),
        EngineErrorKind::NotFound => format!("there is no {where_}"),
        EngineErrorKind::Unreachable => format!(
            "the service point {} cannot be reached: check the address and that it is up",
            bucket.account.service_point.trim_end_matches('/')
        ),
        _ => format!("the {where_} cannot be used: {}", e.message),
    };
    EngineError { message, ..e }
}

/// Lists the folder (credentials and bucket) and writes then deletes a probe object in it
/// (write permission).
pub(crate) async fn probe(bucket: &S3Bucket, roots: Option<&[u8]>) -> Result<(), EngineError> {
    let s = store(bucket, roots)?;
    let what = || format!("probing bucket {}", bucket.bucket);
    s.list_with_delimiter(folder_path(&bucket.folder).as_ref())
        .await
        .map_err(|e| explain(bucket, from_object_store(what(), e)))?;
    let name = format!(".openvbo-probe-{:016x}", rand::random::<u64>());
    let p = match folder_path(&bucket.folder) {
        Some(f) => Path::from(format!("{f}/{name}")),
        None => Path::from(name),
    };
    s.put(&p, PutPayload::from_bytes(Bytes::from_static(b"openvbo")))
        .await
        .map_err(|e| explain(bucket, from_object_store(what(), e)))?;
    s.delete(&p)
        .await
        .map_err(|e| explain(bucket, from_object_store(what(), e)))?;
    Ok(())
}

/// The folders directly inside `bucket.folder`.
pub(crate) async fn list_folders(
    bucket: &S3Bucket,
    roots: Option<&[u8]>,
) -> Result<Vec<String>, EngineError> {
    let s = store(bucket, roots)?;
    let listing = s
        .list_with_delimiter(folder_path(&bucket.folder).as_ref())
        .await
        .map_err(|e| {
            explain(
                bucket,
                from_object_store(format!("listing {}", bucket.bucket), e),
            )
        })?;
    let mut names: Vec<String> = listing
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// Creates `name` inside `bucket.folder` (a marker object, since S3 has no folders).
pub(crate) async fn create_folder(
    bucket: &S3Bucket,
    name: &str,
    roots: Option<&[u8]>,
) -> Result<(), EngineError> {
    let clean = name.trim_matches('/');
    if clean.is_empty()
        || clean
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(EngineError::new(
            EngineErrorKind::InvalidInput,
            "a folder name must not be empty or contain empty, '.' or '..' parts",
        ));
    }
    let s = store(bucket, roots)?;
    let full = match folder_path(&bucket.folder) {
        Some(f) => format!("{f}/{clean}/{FOLDER_MARKER}"),
        None => format!("{clean}/{FOLDER_MARKER}"),
    };
    s.put(&Path::from(full), PutPayload::from_bytes(Bytes::new()))
        .await
        .map_err(|e| {
            explain(
                bucket,
                from_object_store(format!("creating folder {clean}"), e),
            )
        })?;
    Ok(())
}

/// object_store has no ListBuckets call; until a signed request is added, say so plainly.
pub(crate) async fn list_buckets(_account: &S3Account) -> Result<Vec<String>, EngineError> {
    Err(EngineError::new(
        EngineErrorKind::InvalidInput,
        "listing all buckets is not supported yet; give the bucket name (Name=) to check one",
    ))
}
