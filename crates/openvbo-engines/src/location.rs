//! The port's locations → the engine's backends.

use std::sync::Arc;
use std::time::Duration;

use openvbo_core::repositories::{
    EngineError, EngineErrorKind, EngineLocation, S3Account, S3Bucket,
};
use openvbo_repo::backend::RetryBudget;
use openvbo_repo::{DynBackend, LocalBackend, ObjectBackend, S3Location};
use secrecy::ExposeSecret;

use crate::errors::from_repo;

/// A bounded budget: an administrator waits on the answer of an add.
pub(crate) fn budget() -> RetryBudget {
    RetryBudget {
        max_retries: 3,
        total: Duration::from_secs(20),
        first_backoff: Duration::from_millis(100),
    }
}

/// `roots`: certificates (PEM) trusted besides the system's, for services whose TLS
/// certificate comes from a private CA.
pub(crate) fn s3_location(
    bucket: &S3Bucket,
    roots: Option<&[u8]>,
) -> Result<S3Location, EngineError> {
    let endpoint = endpoint(&bucket.account)?;
    // Amazon S3 itself is addressed virtual-host style (path style is deprecated there):
    // without an endpoint object_store builds `https://bucket.s3.region.amazonaws.com`.
    let aws = endpoint.scheme() == "https"
        && endpoint
            .host_str()
            .is_some_and(|h| h == "s3.amazonaws.com" || h.ends_with(".amazonaws.com"));
    Ok(S3Location {
        allow_http: endpoint.scheme() == "http",
        endpoint: (!aws).then(|| endpoint.as_str().trim_end_matches('/').to_string()),
        region: bucket.account.region.clone(),
        bucket: bucket.bucket.clone(),
        prefix: bucket.folder.trim_matches('/').to_string(),
        access_key_id: bucket.account.access_key.clone(),
        secret_access_key: bucket.account.secret_key.expose_secret().to_string(),
        // S3-compatible services (MinIO, Wasabi, Ceph…) take path-style requests.
        virtual_hosted_style: false,
        root_certificates_pem: roots.map(<[u8]>::to_vec),
        proxy_url: None,
    })
}

pub(crate) fn endpoint(account: &S3Account) -> Result<url::Url, EngineError> {
    let url = url::Url::parse(account.service_point.trim()).map_err(|_| {
        EngineError::new(
            EngineErrorKind::InvalidInput,
            "the service point must be a URL such as https://s3.example.com:9000",
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" || url.host().is_none() {
        return Err(EngineError::new(
            EngineErrorKind::InvalidInput,
            "the service point must be an http or https URL with a host",
        ));
    }
    Ok(url)
}

pub(crate) fn backend(
    at: &EngineLocation,
    roots: Option<&[u8]>,
) -> Result<DynBackend, EngineError> {
    match at {
        EngineLocation::Local { path } => Ok(Arc::new(LocalBackend::new(path.clone()))),
        EngineLocation::ObjectStorage { bucket, .. } => {
            let b = ObjectBackend::s3(&s3_location(bucket, roots)?, budget()).map_err(from_repo)?;
            Ok(Arc::new(b))
        }
    }
}
