//! The drive engine against the simulator over real HTTP: a tenant with a
//! OneDrive and a site with two libraries, the connector signed in, a real
//! repository, and raw Graph access for changes made "by someone else".
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use m365_sim::{ContentStats, SimOptions, Simulator, Tenant};
use openvbo_backup::graph_drive::GraphDrives;
use openvbo_backup::{
    DriveSource, MailSource, RepositoryOpener, SourceError, SourceErrorKind, SourceProvider,
    UnitError,
};
use openvbo_core::backup::{RepositoryId, ResourceKind};
use openvbo_core::jobs::{NoEvents, ResourceTarget, UnitControl, UnitOfWork};
use openvbo_core::OrganizationId;
use openvbo_m365::drive::ResourceUnits;
use openvbo_m365::{ConnectorSettings, Endpoints, M365Client, NationalCloud, Url};
use openvbo_repo::{
    DynBackend, LocalBackend, RepoOptions, Repository, RestorePointId, TreeEntry, WrappingKey,
};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const PASSWORD: &str = "Drive-Passw0rd!";
pub const ADMIN: &str = "admin@northwind.onmicrosoft.com";
pub const NANCY_ID: &str = "50000000-0000-4000-8000-000000000002";
pub const SITE_ID: &str = "northwind.sharepoint.com,50000000-0000-4000-8000-0000000000a1,50000000-0000-4000-8000-0000000000b1";

/// Nancy's OneDrive; HR's "Documents" and "Archive" libraries. `big`: a
/// generated file of that size in the OneDrive.
pub fn tenant(big: Option<u64>) -> Tenant {
    let mut items = vec![
        json!({"path": "Documents/Q3/plan.txt", "content": "hello world"}),
        json!({"path": "Documents/notes.txt", "content": "notes"}),
        json!({"path": "top.txt", "content": "at the root"}),
        json!({"path": "Videos/clip.bin", "size": 300_000, "seed": 42}),
        json!({"path": "Empty folder/"}),
    ];
    if let Some(size) = big {
        items.push(json!({"path": "Big/huge.bin", "size": size, "seed": 7}));
    }
    serde_json::from_value(json!({
        "id": "50000000-0000-4000-8000-000000000000",
        "displayName": "Northwind",
        "initialDomain": "northwind.onmicrosoft.com",
        "users": [
            {"id": "50000000-0000-4000-8000-000000000001", "userPrincipalName": ADMIN,
             "displayName": "Admin", "password": PASSWORD, "roles": ["Global Administrator"]},
            {"id": NANCY_ID, "userPrincipalName": "nancy@northwind.onmicrosoft.com",
             "displayName": "Nancy", "driveItems": items}
        ],
        "sites": [{"id": SITE_ID, "name": "hr", "displayName": "HR",
                   "webUrl": "https://northwind.sharepoint.com/sites/hr",
                   "drives": [
                       {"name": "Documents", "items": [
                           {"path": "Policies/handbook.txt", "content": "Be kind."},
                           {"path": "welcome.txt", "content": "Welcome to HR"}]},
                       {"name": "Archive", "items": [
                           {"path": "2019/old.txt", "content": "old"}]}]}]
    }))
    .unwrap()
}

/// Drives through the connector; no mail in these tests.
pub struct SimSources(pub Arc<GraphDrives>);

#[async_trait]
impl SourceProvider for SimSources {
    async fn mail(&self, _o: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError> {
        Err(SourceError::new(SourceErrorKind::Other, "no mail here"))
    }
    async fn drives(&self, _o: OrganizationId) -> Result<Arc<dyn DriveSource>, SourceError> {
        Ok(self.0.clone())
    }
}

pub struct Repos(pub Repository);

#[async_trait]
impl RepositoryOpener for Repos {
    async fn open(&self, _id: RepositoryId) -> Result<Repository, UnitError> {
        Ok(self.0.clone())
    }
}

pub struct Harness {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub sources: Arc<SimSources>,
    pub repo: Repository,
    pub org: OrganizationId,
    pub repo_id: RepositoryId,
    pub _dir: tempfile::TempDir,
}

pub async fn start(big: Option<u64>) -> Harness {
    let sim = Simulator::new(vec![tenant(big)], SimOptions::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(listener, std::future::pending()));
    let url = Url::parse(&base).unwrap();
    let endpoints = Endpoints::with_overrides(NationalCloud::Global, Some(&url), Some(&url));
    let client = M365Client::new(ConnectorSettings::default()).unwrap();
    let session = client
        .sign_in_with_password(
            &endpoints,
            "northwind.onmicrosoft.com",
            ADMIN,
            &SecretString::from(PASSWORD),
        )
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token: Value = http
        .post(format!(
            "{base}/northwind.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", PASSWORD),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let backend: DynBackend = Arc::new(LocalBackend::new(dir.path()));
    // Small packs, so what the repository buffers (a pack filling, one
    // uploading) stays well below a large test file.
    let options = RepoOptions {
        data_pack_size: 4 * 1024 * 1024,
        ..RepoOptions::default()
    };
    let repo = Repository::init(backend, &WrappingKey::from_bytes([9u8; 32]), None, options)
        .await
        .unwrap();
    let drives = GraphDrives::new(Arc::new(session), Arc::new(ResourceUnits::default()));
    Harness {
        sim,
        base,
        http,
        token,
        sources: Arc::new(SimSources(Arc::new(drives))),
        repo,
        org: OrganizationId::new_random(),
        repo_id: RepositoryId::new_random(),
        _dir: dir,
    }
}

pub fn control() -> UnitControl {
    UnitControl::new(Arc::new(NoEvents))
}

/// One stored entry, for comparing restore points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    Folder {
        id: String,
        parent: Option<String>,
        name: String,
    },
    File {
        id: String,
        folder: String,
        name: String,
        bytes: Vec<u8>,
    },
}

impl Harness {
    pub fn onedrive(&self) -> UnitOfWork {
        UnitOfWork {
            organization_id: self.org,
            repository_id: self.repo_id,
            resource: ResourceTarget {
                kind: ResourceKind::OneDrive,
                id: NANCY_ID.into(),
                display_name: "Nancy".into(),
                address: "nancy@northwind.onmicrosoft.com".into(),
            },
            previous: None,
            origin: Default::default(),
        }
    }

    pub fn site(&self) -> UnitOfWork {
        UnitOfWork {
            organization_id: self.org,
            repository_id: self.repo_id,
            resource: ResourceTarget {
                kind: ResourceKind::Site,
                id: SITE_ID.into(),
                display_name: "HR".into(),
                address: "https://northwind.sharepoint.com/sites/hr".into(),
            },
            previous: None,
            origin: Default::default(),
        }
    }

    pub fn content(&self) -> ContentStats {
        self.sim.stats().content
    }

    /// A raw Graph request, as another client changing the drive would make.
    pub async fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<reqwest::Body>,
        json_body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/v1.0{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            r = r.body(body);
        }
        if let Some(j) = json_body {
            r = r.json(&j);
        }
        let response = r.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The drive id of Nancy's OneDrive, or of a library of the site.
    pub async fn drive_id(&self, library: Option<&str>) -> String {
        match library {
            None => {
                let (_, d) = self
                    .graph(
                        reqwest::Method::GET,
                        &format!("/users/{NANCY_ID}/drive"),
                        None,
                        None,
                    )
                    .await;
                d["id"].as_str().unwrap().to_owned()
            }
            Some(name) => {
                let (_, all) = self
                    .graph(
                        reqwest::Method::GET,
                        &format!("/sites/{SITE_ID}/drives"),
                        None,
                        None,
                    )
                    .await;
                all["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| d["name"] == name)
                    .unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        }
    }

    pub async fn item_id(&self, drive: &str, path: &str) -> String {
        let (_, item) = self
            .graph(
                reqwest::Method::GET,
                &format!("/drives/{drive}/root:/{path}"),
                None,
                None,
            )
            .await;
        item["id"].as_str().unwrap().to_owned()
    }

    /// Writes a file (new or replaced) at `path`.
    pub async fn put(&self, drive: &str, path: &str, bytes: &str) {
        self.graph(
            reqwest::Method::PUT,
            &format!("/drives/{drive}/root:/{path}:/content"),
            Some(bytes.to_owned().into()),
            None,
        )
        .await;
    }

    pub async fn patch(&self, drive: &str, item: &str, change: Value) {
        self.graph(
            reqwest::Method::PATCH,
            &format!("/drives/{drive}/items/{item}"),
            None,
            Some(change),
        )
        .await;
    }

    pub async fn delete(&self, drive: &str, item: &str) {
        self.graph(
            reqwest::Method::DELETE,
            &format!("/drives/{drive}/items/{item}"),
            None,
            None,
        )
        .await;
    }

    /// Every folder and file of a restore point, with each file's bytes.
    pub async fn point(&self, id: &str) -> Vec<Entry> {
        let point = self
            .repo
            .read_point(&RestorePointId(id.into()))
            .await
            .unwrap();
        let mut out = Vec::new();
        let mut entries = self.repo.entries(&point);
        while let Some(e) = entries.next().await {
            match e.unwrap() {
                TreeEntry::Folder(f) => out.push(Entry::Folder {
                    id: f.id,
                    parent: f.parent,
                    name: f.name,
                }),
                TreeEntry::Item(i) => {
                    let mut bytes = Vec::new();
                    for part in &i.parts {
                        let mut s = self.repo.read_part(part);
                        while let Some(c) = s.next().await {
                            bytes.extend_from_slice(&c.unwrap());
                        }
                    }
                    out.push(Entry::File {
                        id: i.id,
                        folder: i.folder,
                        name: i.metadata["name"].as_str().unwrap_or_default().to_owned(),
                        bytes,
                    })
                }
            }
        }
        out.sort();
        out
    }

    /// A point as paths: `path → bytes` for files, `path/` for folders,
    /// paths rebuilt from the stored parents (`top` is where a drive's root
    /// files live).
    pub async fn tree(&self, id: &str) -> BTreeMap<String, String> {
        let entries = self.point(id).await;
        let folders: BTreeMap<String, (Option<String>, String)> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Folder { id, parent, name } => {
                    Some((id.clone(), (parent.clone(), name.clone())))
                }
                _ => None,
            })
            .collect();
        let path_of = |mut id: String| {
            let mut parts = Vec::new();
            while let Some((parent, name)) = folders.get(&id) {
                parts.push(name.clone());
                match parent {
                    Some(p) => id = p.clone(),
                    None => break,
                }
            }
            parts.reverse();
            parts.join("/")
        };
        let mut out = BTreeMap::new();
        for e in entries {
            match e {
                Entry::Folder { id, .. } => {
                    out.insert(format!("{}/", path_of(id)), String::new());
                }
                Entry::File {
                    folder,
                    name,
                    bytes,
                    ..
                } => {
                    let dir = path_of(folder);
                    let path = if dir.is_empty() {
                        name
                    } else {
                        format!("{dir}/{name}")
                    };
                    let text = String::from_utf8(bytes.clone())
                        .unwrap_or_else(|_| format!("<{} bytes>", bytes.len()));
                    out.insert(path, text);
                }
            }
        }
        out
    }
}
