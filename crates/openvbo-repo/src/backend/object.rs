//! S3-compatible object storage and memory, through the `object_store` crate. Transient
//! failures (500, 503 SlowDown, connection resets, timeouts) are retried by object_store's
//! own retry layer within the [`RetryBudget`]; what survives it is reported as `Unavailable`.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};

use super::{Backend, ObjectInfo};
use crate::error::{ErrorKind, RepoError, Result};

/// Where a repository lives in S3-compatible storage.
#[derive(Debug, Clone, Default)]
pub struct S3Location {
    /// `https://s3.example.com` or `http://127.0.0.1:9000`; `None` means AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// A folder inside the bucket ("" for the bucket root).
    pub prefix: String,
    pub access_key_id: String,
    /// Never logged, never put in a message.
    pub secret_access_key: String,
    /// Path-style (`endpoint/bucket/key`, most S3-compatible servers) or virtual-host style
    /// (`bucket.endpoint/key`: the bucket is put in front of the endpoint's host name here,
    /// so `endpoint` names the service, as in path style).
    pub virtual_hosted_style: bool,
    pub allow_http: bool,
    /// Certificates (PEM, one or more) trusted besides the system's roots: a service whose
    /// TLS certificate comes from a private CA, or is self-signed.
    pub root_certificates_pem: Option<Vec<u8>>,
    /// An HTTP proxy every request goes through (`http://proxy:3128`).
    pub proxy_url: Option<String>,
}

/// `https://s3.example.com:9000` → `https://bucket.s3.example.com:9000` (object_store takes
/// a virtual-host endpoint with the bucket already in it).
fn bucket_endpoint(endpoint: &str, bucket: &str) -> Result<String> {
    let (scheme, rest) = endpoint
        .split_once("://")
        .ok_or_else(|| RepoError::invalid(format!("the S3 endpoint {endpoint:?} is not a URL")))?;
    if rest.starts_with(&format!("{bucket}.")) {
        return Ok(endpoint.trim_end_matches('/').to_string());
    }
    Ok(format!(
        "{scheme}://{bucket}.{}",
        rest.trim_end_matches('/')
    ))
}

/// How long and how often a failing request is retried before it is reported.
#[derive(Debug, Clone, Copy)]
pub struct RetryBudget {
    pub max_retries: usize,
    pub total: Duration,
    pub first_backoff: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            max_retries: 6,
            total: Duration::from_secs(60),
            first_backoff: Duration::from_millis(100),
        }
    }
}

pub struct ObjectBackend {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    description: String,
}

impl ObjectBackend {
    /// In-memory storage, for tests.
    pub fn memory() -> Self {
        Self {
            store: Arc::new(object_store::memory::InMemory::new()),
            prefix: String::new(),
            description: "memory".into(),
        }
    }

    pub fn s3(loc: &S3Location, budget: RetryBudget) -> Result<Self> {
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: budget.first_backoff,
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: budget.max_retries,
            retry_timeout: budget.total,
        };
        // `with_client_options` resets allow_http, so set it on the options as well.
        let mut options = ClientOptions::new()
            .with_allow_http(loc.allow_http)
            .with_timeout(Duration::from_secs(120))
            .with_connect_timeout(Duration::from_secs(10));
        if let Some(pem) = &loc.root_certificates_pem {
            let certs = object_store::Certificate::from_pem_bundle(pem).map_err(|e| {
                RepoError::with_source(
                    ErrorKind::InvalidInput,
                    "the trusted certificates are not PEM certificates",
                    e,
                )
            })?;
            if certs.is_empty() {
                return Err(RepoError::invalid(
                    "the trusted certificates file holds no PEM certificate",
                ));
            }
            for c in certs {
                options = options.with_root_certificate(c);
            }
        }
        if let Some(proxy) = &loc.proxy_url {
            options = options.with_proxy_url(proxy);
        }
        let mut b = AmazonS3Builder::new()
            .with_region(&loc.region)
            .with_bucket_name(&loc.bucket)
            .with_access_key_id(&loc.access_key_id)
            .with_secret_access_key(&loc.secret_access_key)
            .with_virtual_hosted_style_request(loc.virtual_hosted_style)
            .with_client_options(options)
            .with_allow_http(loc.allow_http)
            .with_retry(retry);
        if let Some(ep) = &loc.endpoint {
            if loc.virtual_hosted_style {
                b = b.with_endpoint(bucket_endpoint(ep, &loc.bucket)?);
            } else {
                b = b.with_endpoint(ep);
            }
        }
        let store = b
            .build()
            .map_err(|e| RepoError::with_source(ErrorKind::InvalidInput, "bad S3 settings", e))?;
        let prefix = loc.prefix.trim_matches('/').to_string();
        let description = format!(
            "s3://{}/{} at {}",
            loc.bucket,
            prefix,
            loc.endpoint.as_deref().unwrap_or("AWS")
        );
        Ok(Self {
            store: Arc::new(store),
            prefix,
            description,
        })
    }

    fn path(&self, name: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(name)
        } else {
            Path::from(format!("{}/{}", self.prefix, name))
        }
    }

    fn strip<'a>(&self, full: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            full
        } else {
            full.strip_prefix(&self.prefix)
                .map(|s| s.trim_start_matches('/'))
                .unwrap_or(full)
        }
    }
}

fn map_err(what: String, e: object_store::Error) -> RepoError {
    use object_store::Error as E;
    let kind = match &e {
        E::NotFound { .. } => ErrorKind::NotFound,
        E::AlreadyExists { .. } | E::Precondition { .. } => ErrorKind::AlreadyExists,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => ErrorKind::AccessDenied,
        E::Generic { .. } => classify_generic(&e),
        _ => ErrorKind::Storage,
    };
    let message = match kind {
        ErrorKind::Unavailable => format!("{what}: the storage kept failing after retries"),
        ErrorKind::AccessDenied => format!("{what}: access denied (check the access key)"),
        _ => what,
    };
    RepoError::with_source(kind, message, e)
}

/// object_store reports HTTP and transport failures as `Generic`; the text is the only
/// stable signal of which one it was.
fn classify_generic(e: &object_store::Error) -> ErrorKind {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(&s.to_string());
        src = s.source();
    }
    let t = text.to_ascii_lowercase();
    // Status codes only where object_store prints one ("status code: 403 Forbidden"): a bare
    // "403" also turns up in elapsed times ("in 2.403s") of a store that is merely down.
    if t.contains("status code: 403")
        || t.contains("accessdenied")
        || t.contains("invalidaccesskeyid")
        || t.contains("signaturedoesnotmatch")
    {
        ErrorKind::AccessDenied
    } else if t.contains("nosuchbucket") {
        ErrorKind::NotFound
    } else if t.contains("retries")
        || t.contains("status code: 5")
        || t.contains("slowdown")
        || t.contains("timed out")
        || t.contains("timeout")
        || t.contains("connection")
        || t.contains("error sending request")
    {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Storage
    }
}

#[async_trait]
impl Backend for ObjectBackend {
    async fn put(&self, name: &str, data: Bytes, create_only: bool) -> Result<()> {
        let opts = PutOptions {
            mode: if create_only {
                PutMode::Create
            } else {
                PutMode::Overwrite
            },
            ..Default::default()
        };
        self.store
            .put_opts(&self.path(name), PutPayload::from_bytes(data), opts)
            .await
            .map(|_| ())
            .map_err(|e| map_err(format!("writing {name} to {}", self.description), e))
    }

    async fn get(&self, name: &str) -> Result<Bytes> {
        let what = || format!("reading {name} from {}", self.description);
        let r = self
            .store
            .get(&self.path(name))
            .await
            .map_err(|e| map_err(what(), e))?;
        r.bytes().await.map_err(|e| map_err(what(), e))
    }

    async fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        let want = range.end - range.start;
        let b = self
            .store
            .get_range(&self.path(name), range)
            .await
            .map_err(|e| map_err(format!("reading {name} from {}", self.description), e))?;
        if b.len() as u64 != want {
            return Err(RepoError::corrupted(format!("{name}: object is truncated")));
        }
        Ok(b)
    }

    async fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        // object_store merges ranges less than 1 MiB apart into one GET and runs the GETs
        // concurrently; the caller bounds the total.
        let out = self
            .store
            .get_ranges(&self.path(name), ranges)
            .await
            .map_err(|e| map_err(format!("reading {name} from {}", self.description), e))?;
        let complete = out.len() == ranges.len()
            && out
                .iter()
                .zip(ranges)
                .all(|(b, r)| b.len() as u64 == r.end - r.start);
        if !complete {
            return Err(RepoError::corrupted(format!("{name}: object is truncated")));
        }
        Ok(out)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let dir = prefix.trim_end_matches('/');
        let p = if dir.is_empty() && self.prefix.is_empty() {
            None
        } else {
            Some(self.path(dir))
        };
        let p = match (&p, dir.is_empty()) {
            (_, true) if !self.prefix.is_empty() => Some(Path::from(self.prefix.as_str())),
            _ => p,
        };
        let metas: Vec<_> = self
            .store
            .list(p.as_ref())
            .try_collect()
            .await
            .map_err(|e| map_err(format!("listing {prefix} in {}", self.description), e))?;
        let mut out: Vec<ObjectInfo> = metas
            .into_iter()
            .map(|m| ObjectInfo {
                name: self.strip(m.location.as_ref()).to_string(),
                size: m.size,
            })
            .filter(|o| o.name.starts_with(prefix))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn delete(&self, name: &str) -> Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(map_err(
                format!("deleting {name} in {}", self.description),
                e,
            )),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: Box::new(std::io::Error::other(text.to_owned())),
        }
    }

    #[test]
    fn a_store_that_is_down_is_unavailable_even_when_a_time_reads_403() {
        let down = generic(
            "Error performing PUT http://127.0.0.1:34615/b/config in 2.403179s, after 10 retries, \
             max_retries: 10, retry_timeout: 180s  - Server returned non-2xx status code: 503 \
             Service Unavailable: SlowDown",
        );
        assert_eq!(classify_generic(&down), ErrorKind::Unavailable);
        let denied = generic(
            "Error performing GET http://127.0.0.1:9000/b/config in 12ms - Server returned \
             non-2xx status code: 403 Forbidden: <Error><Code>AccessDenied</Code></Error>",
        );
        assert_eq!(classify_generic(&denied), ErrorKind::AccessDenied);
        let bad_key = generic(
            "Server returned non-2xx status code: 403 Forbidden: <Code>InvalidAccessKeyId</Code>",
        );
        assert_eq!(classify_generic(&bad_key), ErrorKind::AccessDenied);
    }
}
