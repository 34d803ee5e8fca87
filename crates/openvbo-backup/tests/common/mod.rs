//! An in-memory mailbox tenant with Graph-like deltas, and a real local
//! repository in a temp dir.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_backup::*;
use openvbo_core::backup::{RepositoryId, ResourceKind};
use openvbo_core::jobs::{ResourceTarget, UnitEvents, UnitOfWork};
use openvbo_core::OrganizationId;
use openvbo_repo::{DynBackend, LocalBackend, RepoOptions, Repository, TreeEntry, WrappingKey};

#[derive(Clone)]
pub struct Msg {
    pub id: String,
    pub version: u64,
    pub subject: String,
    pub body: Vec<u8>,
    pub is_read: bool,
}

#[derive(Default)]
pub struct Folder {
    pub name: String,
    /// Live messages by id.
    pub messages: BTreeMap<String, Msg>,
    /// (version, id, removed?) in order: what deltas replay.
    pub log: Vec<(u64, String, bool)>,
    /// Tokens below this are gone (410).
    pub oldest_token: u64,
}

#[derive(Default)]
pub struct Tenant {
    pub folders: BTreeMap<String, Folder>,
    pub clock: u64,
    pub failing: HashSet<String>,
}

#[derive(Default, Clone)]
pub struct FakeMail {
    pub tenant: Arc<Mutex<Tenant>>,
    pub mime_downloads: Arc<AtomicU64>,
    /// Delta rounds asked (one per folder per run unless skipped).
    pub delta_rounds: Arc<AtomicU64>,
}

impl FakeMail {
    pub fn add_folder(&self, id: &str) {
        let mut t = self.tenant.lock().unwrap();
        t.folders.insert(
            id.into(),
            Folder {
                name: id.into(),
                ..Folder::default()
            },
        );
    }

    pub fn put(&self, folder: &str, id: &str, subject: &str) {
        let mut t = self.tenant.lock().unwrap();
        t.clock += 1;
        let v = t.clock;
        let f = t.folders.get_mut(folder).unwrap();
        let body = format!(
            "Subject: {subject}\r\nX-Id: {id}\r\nX-V: {v}\r\n\r\n{}",
            "body ".repeat(50)
        );
        f.messages.insert(
            id.into(),
            Msg {
                id: id.into(),
                version: v,
                subject: subject.into(),
                body: body.into_bytes(),
                is_read: true,
            },
        );
        f.log.push((v, id.into(), false));
    }

    /// Marks a message read or unread; as in Exchange, that alone is a new
    /// version (change key) that the next delta lists.
    pub fn set_read(&self, folder: &str, id: &str, read: bool) {
        let mut t = self.tenant.lock().unwrap();
        t.clock += 1;
        let v = t.clock;
        let f = t.folders.get_mut(folder).unwrap();
        let m = f.messages.get_mut(id).unwrap();
        m.is_read = read;
        m.version = v;
        f.log.push((v, id.into(), false));
    }

    pub fn remove(&self, folder: &str, id: &str) {
        let mut t = self.tenant.lock().unwrap();
        t.clock += 1;
        let v = t.clock;
        let f = t.folders.get_mut(folder).unwrap();
        f.messages.remove(id);
        f.log.push((v, id.into(), true));
    }

    /// Every token issued so far for this folder is forgotten.
    pub fn expire_tokens(&self, folder: &str) {
        let mut t = self.tenant.lock().unwrap();
        let now = t.clock + 1;
        t.folders.get_mut(folder).unwrap().oldest_token = now;
    }

    pub fn fail(&self, id: &str, failing: bool) {
        let mut t = self.tenant.lock().unwrap();
        if failing {
            t.failing.insert(id.into());
        } else {
            t.failing.remove(id);
        }
    }

    pub fn downloads(&self) -> u64 {
        self.mime_downloads.load(Ordering::SeqCst)
    }

    /// (folder, id, change key) of every live message.
    pub fn state(&self) -> Vec<(String, String, String)> {
        let t = self.tenant.lock().unwrap();
        let mut out = Vec::new();
        for (fid, f) in &t.folders {
            for m in f.messages.values() {
                out.push((fid.clone(), m.id.clone(), format!("ck{}", m.version)));
            }
        }
        out.sort();
        out
    }
}

fn meta(m: &Msg) -> MessageMeta {
    MessageMeta {
        id: m.id.clone(),
        change_key: format!("ck{}", m.version),
        subject: m.subject.clone(),
        sender: Some("nancy@contoso.example".into()),
        size: m.body.len() as u64,
        received: Some(1_700_000_000),
        sent: Some(1_699_999_940),
        is_read: Some(m.is_read),
        modified: 1_700_000_000 + m.version as i64,
        draft: false,
        internet_message_id: Some(format!("<{}@contoso.example>", m.id)),
        has_attachments: Some(false),
    }
}

#[async_trait]
impl MailSource for FakeMail {
    async fn folders(&self, mailbox: &str) -> Result<Vec<SourceFolder>, SourceError> {
        if mailbox.contains("broken") {
            return Err(SourceError::new(
                SourceErrorKind::Forbidden,
                "ErrorAccessDenied: access to the mailbox is denied",
            ));
        }
        let t = self.tenant.lock().unwrap();
        Ok(t.folders
            .iter()
            .map(|(id, f)| SourceFolder {
                id: id.clone(),
                parent: None,
                name: f.name.clone(),
                path: format!("/{}", f.name),
                item_count: Some(f.messages.len() as u64),
            })
            .collect())
    }

    async fn message_delta(
        &self,
        _mailbox: &str,
        folder: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<MessageChange>, SourceError>>, SourceError>
    {
        self.delta_rounds.fetch_add(1, Ordering::SeqCst);
        let t = self.tenant.lock().unwrap();
        let f = t.folders.get(folder).unwrap();
        let since: Option<u64> = since.map(|s| s.parse().unwrap());
        let (changes, reset) = match since {
            Some(v) if v >= f.oldest_token => {
                // Coalesced: the last event of each id after `v`.
                let mut last: BTreeMap<String, bool> = BTreeMap::new();
                for (ver, id, removed) in &f.log {
                    if *ver > v {
                        last.insert(id.clone(), *removed);
                    }
                }
                let changes = last
                    .into_iter()
                    .map(|(id, removed)| match (removed, f.messages.get(&id)) {
                        (false, Some(m)) => MessageChange::Upsert(meta(m)),
                        _ => MessageChange::Removed { id },
                    })
                    .collect::<Vec<_>>();
                (changes, false)
            }
            other => (
                f.messages
                    .values()
                    .map(|m| MessageChange::Upsert(meta(m)))
                    .collect(),
                other.is_some(),
            ),
        };
        let token = t.clock.to_string();
        // Pages of 3, like Graph's pages, then the token.
        let mut events: Vec<Result<DeltaEvent<MessageChange>, SourceError>> = changes
            .chunks(3)
            .map(|c| {
                Ok(DeltaEvent::Page {
                    changes: c.to_vec(),
                    reset,
                })
            })
            .collect();
        if events.is_empty() {
            events.push(Ok(DeltaEvent::Page {
                changes: Vec::new(),
                reset,
            }));
        }
        events.push(Ok(DeltaEvent::End { token }));
        Ok(stream::iter(events).boxed())
    }

    async fn message_mime(&self, _mailbox: &str, id: &str) -> Result<ByteStream, SourceError> {
        let t = self.tenant.lock().unwrap();
        self.mime_downloads.fetch_add(1, Ordering::SeqCst);
        if t.failing.contains(id) {
            return Err(SourceError::new(
                SourceErrorKind::Other,
                "ErrorItemCorrupt: the item cannot be read",
            ));
        }
        let body = t
            .folders
            .values()
            .find_map(|f| f.messages.get(id))
            .map(|m| m.body.clone())
            .ok_or_else(|| SourceError::new(SourceErrorKind::NotFound, "no such message"))?;
        let chunks: Vec<Result<Bytes, SourceError>> = body
            .chunks(64)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Ok(stream::iter(chunks).boxed())
    }
}

pub struct Sources(pub FakeMail);

#[async_trait]
impl SourceProvider for Sources {
    async fn mail(&self, _o: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError> {
        Ok(Arc::new(self.0.clone()))
    }
    async fn drives(&self, _o: OrganizationId) -> Result<Arc<dyn DriveSource>, SourceError> {
        Err(SourceError::new(
            SourceErrorKind::Other,
            "no drives in this tenant",
        ))
    }
}

pub struct Repos(pub Repository);

#[async_trait]
impl RepositoryOpener for Repos {
    async fn open(&self, _id: RepositoryId) -> Result<Repository, UnitError> {
        Ok(self.0.clone())
    }
}

pub async fn repo(dir: &std::path::Path) -> Repository {
    let backend: DynBackend = Arc::new(LocalBackend::new(dir));
    Repository::init(
        backend,
        &WrappingKey::from_bytes([9u8; 32]),
        None,
        RepoOptions::default(),
    )
    .await
    .unwrap()
}

pub fn unit(org: OrganizationId, repo: RepositoryId) -> UnitOfWork {
    UnitOfWork {
        organization_id: org,
        repository_id: repo,
        resource: ResourceTarget {
            kind: ResourceKind::Mailbox,
            id: "user-nancy".into(),
            display_name: "Nancy Davolio".into(),
            address: "nancy@contoso.example".into(),
        },
        previous: None,
        origin: Default::default(),
    }
}

/// (folder, id, change key) of every item of the latest complete point.
pub async fn point_state(repo: &Repository, point_id: &str) -> Vec<(String, String, String)> {
    let point = repo
        .read_point(&openvbo_repo::RestorePointId(point_id.into()))
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut entries = repo.entries(&point);
    while let Some(e) = entries.next().await {
        if let TreeEntry::Item(i) = e.unwrap() {
            out.push((i.folder, i.id, i.change_key));
        }
    }
    out.sort();
    out
}

/// Counts stored items, and raises the stop flag after `stop_after` of them.
pub struct StopAfter {
    pub stored: AtomicU64,
    pub stop_after: u64,
    pub stop: Arc<std::sync::atomic::AtomicBool>,
}

impl UnitEvents for StopAfter {
    fn item_stored(&self, _bytes: u64) {
        let n = self.stored.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.stop_after {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// id → (isRead, sent) as the point's item metadata records them.
pub async fn point_read_state(
    repo: &Repository,
    point_id: &str,
) -> BTreeMap<String, (serde_json::Value, serde_json::Value)> {
    let point = repo
        .read_point(&openvbo_repo::RestorePointId(point_id.into()))
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    let mut entries = repo.entries(&point);
    while let Some(e) = entries.next().await {
        if let TreeEntry::Item(i) = e.unwrap() {
            out.insert(
                i.id,
                (i.metadata["isRead"].clone(), i.metadata["sent"].clone()),
            );
        }
    }
    out
}

/// The stored MIME of one item of a point, read back from the repository.
pub async fn point_mime(repo: &Repository, point_id: &str, id: &str) -> Vec<u8> {
    let point = repo
        .read_point(&openvbo_repo::RestorePointId(point_id.into()))
        .await
        .unwrap();
    let mut entries = repo.entries(&point);
    while let Some(e) = entries.next().await {
        if let TreeEntry::Item(i) = e.unwrap() {
            if i.id == id {
                let part = i.parts.iter().find(|p| p.name == "mime").unwrap();
                let mut out = Vec::new();
                let mut chunks = repo.read_part(part);
                while let Some(c) = chunks.next().await {
                    out.extend_from_slice(&c.unwrap());
                }
                return out;
            }
        }
    }
    panic!("{id} is not in {point_id}")
}

impl FakeMail {
    pub fn delta_rounds(&self) -> u64 {
        self.delta_rounds.load(Ordering::SeqCst)
    }

    /// The message's current MIME, as a download would give it.
    pub fn body(&self, folder: &str, id: &str) -> Vec<u8> {
        let t = self.tenant.lock().unwrap();
        t.folders[folder].messages[id].body.clone()
    }
}
