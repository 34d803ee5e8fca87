//! The restore rules against fakes behind core's write ports (no connector, no HTTP): what a
//! mail restore skips, merges and creates, and what a drive restore leaves, replaces or puts
//! beside, with the counts each reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, RepositoryId, ResourceKind, RestorePointId,
};
use openvbo_core::microsoft365::{FailureKind, M365Failure, PortFuture, Sink};
use openvbo_core::restore::content::{ContentStream, RestoreContent};
use openvbo_core::restore::drive::{Destination, DocumentAction, DriveRestore, PlannedFile};
use openvbo_core::restore::mail::{
    MailRestoreOptions, MailRestorer, MailTarget, MessageFacts, Outcome,
};
use openvbo_core::restore::writers::{
    ByteReader, DriveEntry, DriveWriter, LiveMailFolder, MailWriter, MessageToWrite, OnConflict,
    PresentMessage, DRIVE_ROOT,
};
use openvbo_core::restore::ChosenResource;
use openvbo_core::CoreError;
use tokio::io::AsyncReadExt;

// ---- mail ----------------------------------------------------------------------------------

/// A mailbox: its folders and what each holds, and every message written.
#[derive(Default)]
struct Mailbox {
    folders: Mutex<Vec<LiveMailFolder>>,
    present: Mutex<HashMap<String, Vec<PresentMessage>>>,
    written: Mutex<Vec<(String, MessageToWrite)>>,
    listings: Mutex<usize>,
}

fn failure(kind: FailureKind, message: &str) -> M365Failure {
    M365Failure::new(kind, message)
}

impl MailWriter for Mailbox {
    fn folders<'a>(&'a self, _mailbox: &'a str) -> PortFuture<'a, Vec<LiveMailFolder>> {
        Box::pin(async move { Ok(self.folders.lock().unwrap().clone()) })
    }

    fn create_folder<'a>(
        &'a self,
        _mailbox: &'a str,
        parent: Option<&'a str>,
        name: &'a str,
    ) -> PortFuture<'a, LiveMailFolder> {
        Box::pin(async move {
            let folder = LiveMailFolder {
                id: format!("{}>{name}", parent.unwrap_or("top")),
                path: String::new(),
            };
            self.folders.lock().unwrap().push(folder.clone());
            Ok(folder)
        })
    }

    fn messages<'a>(
        &'a self,
        _mailbox: &'a str,
        folder: &'a str,
        sink: Sink<'a, PresentMessage>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            *self.listings.lock().unwrap() += 1;
            let page = self
                .present
                .lock()
                .unwrap()
                .get(folder)
                .cloned()
                .unwrap_or_default();
            sink(page)
        })
    }

    /// MIME here is `Subject: …` and `Message-ID: …` lines, then the body.
    fn parse(
        &self,
        mime: &[u8],
        is_read: bool,
        sent: Option<&str>,
        received: Option<&str>,
    ) -> Result<MessageToWrite, M365Failure> {
        let text = std::str::from_utf8(mime).unwrap();
        let (head, body) = text.split_once("\n\n").ok_or_else(|| {
            failure(
                FailureKind::Unusable,
                "the stored MIME cannot be parsed as a message",
            )
        })?;
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::to_owned)
        };
        Ok(MessageToWrite {
            subject: header("Subject: ").unwrap_or_default(),
            internet_message_id: header("Message-ID: "),
            body: body.to_owned(),
            is_read,
            sent: sent.map(str::to_owned),
            received: received.map(str::to_owned),
            ..MessageToWrite::default()
        })
    }

    fn create_message<'a>(
        &'a self,
        _mailbox: &'a str,
        folder: &'a str,
        message: Box<MessageToWrite>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            if message.subject == "refused" {
                return Err(failure(
                    FailureKind::Forbidden,
                    "ErrorAccessDenied: the mailbox refused the write",
                ));
            }
            self.written
                .lock()
                .unwrap()
                .push((folder.to_owned(), *message));
            Ok(())
        })
    }
}

/// Backed-up content: MIME by content reference.
#[derive(Default)]
struct Backup(HashMap<Vec<u8>, Vec<u8>>);

#[async_trait]
impl RestoreContent for Backup {
    async fn entries(
        &self,
        _repository: RepositoryId,
        _chosen: &ChosenResource,
    ) -> Result<BoxStream<'static, Result<CatalogItem, CoreError>>, CoreError> {
        Ok(stream::empty().boxed())
    }

    async fn open(
        &self,
        _repository: RepositoryId,
        content_ref: &[u8],
    ) -> Result<ContentStream, CoreError> {
        let bytes = self
            .0
            .get(content_ref)
            .cloned()
            .ok_or_else(|| CoreError::NotFound("no such content".into()))?;
        Ok(stream::iter([Ok(bytes)]).boxed())
    }

    fn message_facts(&self, _content_ref: &[u8]) -> MessageFacts {
        MessageFacts::default()
    }
}

fn item(kind: CatalogItemKind, id: &str, parent: Option<&str>, path: &str) -> CatalogItem {
    CatalogItem {
        restore_point_id: RestorePointId::new_random(),
        resource_kind: ResourceKind::Mailbox,
        resource_id: "nancy".into(),
        item_id: id.into(),
        parent_id: parent.map(str::to_owned),
        kind,
        name: id.into(),
        sender: None,
        size_bytes: 1,
        created: None,
        modified: None,
        path: path.into(),
        content_ref: id.as_bytes().to_vec(),
    }
}

fn message(id: &str, path: &str, parent: &str) -> CatalogItem {
    item(CatalogItemKind::Message, id, Some(parent), path)
}

fn mime(subject: &str, message_id: &str) -> Vec<u8> {
    format!("Subject: {subject}\nMessage-ID: {message_id}\n\nbody of {subject}").into_bytes()
}

fn present(id: &str, subject: &str) -> PresentMessage {
    PresentMessage {
        internet_message_id: id.into(),
        subject: subject.into(),
    }
}

/// Nancy's mailbox today: Inbox holds A unchanged and B with another subject; the backup's
/// folder Projects was deleted since.
fn nancys_mailbox() -> Mailbox {
    let mailbox = Mailbox::default();
    mailbox.folders.lock().unwrap().push(LiveMailFolder {
        id: "inbox".into(),
        path: "/Inbox".into(),
    });
    mailbox.present.lock().unwrap().insert(
        "inbox".into(),
        vec![present("<a@x>", "Hello"), present("<b@x>", "Old subject")],
    );
    mailbox
}

fn nancys_backup() -> Backup {
    let mut backup = Backup::default();
    for (id, subject, message_id) in [
        ("a", "Hello", "<a@x>"),
        ("b", "New subject", "<b@x>"),
        ("c", "Deleted since", "<c@x>"),
        ("d", "In a deleted folder", "<d@x>"),
        ("f", "refused", "<f@x>"),
    ] {
        backup
            .0
            .insert(id.as_bytes().to_vec(), mime(subject, message_id));
    }
    backup.0.insert(b"broken".to_vec(), b"no headers".to_vec());
    backup
}

fn original() -> MailTarget {
    MailTarget {
        mailbox: "nancy".into(),
        folder: None,
        original: true,
    }
}

#[tokio::test]
async fn mail_restore_skips_what_is_there_merges_what_changed_and_recreates_the_rest() {
    let mailbox = nancys_mailbox();
    let backup = nancys_backup();
    let options = MailRestoreOptions {
        mark_unread: true,
        ..MailRestoreOptions::default()
    };
    let mut restorer = MailRestorer::new(
        &mailbox,
        &backup,
        RepositoryId::new_random(),
        original(),
        options,
    )
    .await
    .unwrap();
    let c = message("c", "/Inbox", "inbox");
    let items = vec![
        message("a", "/Inbox", "inbox"),
        message("b", "/Inbox", "inbox"),
        c.clone(),
        // The same message twice in one restore is written once.
        c,
        message("d", "/Inbox/Projects", "projects-id"),
        message("broken", "/Inbox", "inbox"),
        message("f", "/Inbox", "inbox"),
    ];
    let mut outcomes = Vec::new();
    restorer
        .restore_items(
            &items,
            |_| MessageFacts::default(),
            |i, o| outcomes.push((i.item_id.clone(), o.clone())),
        )
        .await;
    let stats = restorer.stats.clone();
    assert_eq!(
        (stats.created, stats.merged, stats.skipped, stats.failed),
        (2, 1, 2, 2),
        "{outcomes:?}"
    );
    let outcome = |id: &str| {
        outcomes
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, o)| o.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(outcome("a"), vec![Outcome::Skipped]);
    assert_eq!(outcome("b"), vec![Outcome::Merged]);
    assert_eq!(outcome("c").len(), 2);
    assert!(outcome("c").contains(&Outcome::Created) && outcome("c").contains(&Outcome::Skipped));
    // Failures say why, in the message and in the exceptions.
    assert!(
        matches!(&outcome("broken")[..], [Outcome::Failed(why)] if why.contains("cannot be parsed"))
    );
    assert!(
        matches!(&outcome("f")[..], [Outcome::Failed(why)] if why.starts_with("writing the message: ErrorAccessDenied"))
    );
    assert_eq!(stats.exceptions.len(), 2, "{:?}", stats.exceptions);
    assert!(stats
        .exceptions
        .iter()
        .any(|e| e.starts_with("Message \"f\" in /Inbox: writing the message")));
    // What was written: B beside its changed copy, C, and D in Projects re-created under
    // Inbox; all unread as asked.
    let written = mailbox.written.lock().unwrap();
    let mut subjects: Vec<(String, String)> = written
        .iter()
        .map(|(folder, m)| (folder.clone(), m.subject.clone()))
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        vec![
            ("inbox".to_owned(), "Deleted since".to_owned()),
            ("inbox".to_owned(), "New subject".to_owned()),
            (
                "inbox>Projects".to_owned(),
                "In a deleted folder".to_owned()
            ),
        ]
    );
    assert!(written.iter().all(|(_, m)| !m.is_read));
    // One listing per folder compared, however many messages go there.
    assert_eq!(*mailbox.listings.lock().unwrap(), 2);
}

#[tokio::test]
async fn without_changed_and_deleted_items_only_what_is_missing_elsewhere_is_written() {
    let options = MailRestoreOptions {
        changed_items: false,
        deleted_items: false,
        mark_unread: false,
    };
    let items = vec![
        message("a", "/Inbox", "inbox"),
        message("b", "/Inbox", "inbox"),
        message("c", "/Inbox", "inbox"),
    ];
    // Into the original mailbox: a missing message was deleted on purpose, a changed one
    // stays as it is.
    let mailbox = nancys_mailbox();
    let backup = nancys_backup();
    let mut restorer = MailRestorer::new(
        &mailbox,
        &backup,
        RepositoryId::new_random(),
        original(),
        options,
    )
    .await
    .unwrap();
    restorer
        .restore_items(&items, |_| MessageFacts::default(), |_, _| {})
        .await;
    assert_eq!((restorer.stats.created, restorer.stats.skipped), (0, 3));
    assert!(mailbox.written.lock().unwrap().is_empty());
    // Into another mailbox's folder: nothing there was deleted, so C is created, under the
    // asked folder with the original structure beneath it.
    let other = nancys_mailbox();
    let mut restorer = MailRestorer::new(
        &other,
        &backup,
        RepositoryId::new_random(),
        MailTarget {
            mailbox: "bob".into(),
            folder: Some("Restored".into()),
            original: false,
        },
        options,
    )
    .await
    .unwrap();
    restorer
        .restore_items(&items, |_| MessageFacts::default(), |_, _| {})
        .await;
    assert_eq!((restorer.stats.created, restorer.stats.skipped), (3, 0));
    let written = other.written.lock().unwrap();
    assert!(written.iter().all(|(f, _)| f == "top>Restored>Inbox"));
    // Read state as backed up (no facts: read).
    assert!(written.iter().all(|(_, m)| m.is_read));
}

// ---- drives --------------------------------------------------------------------------------

/// An upload made: parent id, name, conflict behaviour, bytes.
type Upload = (String, String, OnConflict, Vec<u8>);

/// A drive: entries by (parent id, lower-cased name), and the uploads made.
#[derive(Default)]
struct Drive {
    entries: Mutex<HashMap<(String, String), DriveEntry>>,
    uploads: Mutex<Vec<Upload>>,
    /// Names that appear between the listing and the upload (a race with a user).
    appears: Vec<String>,
}

impl Drive {
    fn put(&self, parent: &str, name: &str, bytes: &[u8]) {
        self.entries.lock().unwrap().insert(
            (parent.to_owned(), name.to_lowercase()),
            DriveEntry {
                id: format!("{parent}/{name}"),
                name: name.to_owned(),
                is_folder: false,
                size: bytes.len() as u64,
                content_hash: Some(String::from_utf8(bytes.to_vec()).unwrap()),
            },
        );
    }
}

impl DriveWriter for Drive {
    fn user_drive<'a>(&'a self, _user: &'a str) -> PortFuture<'a, Option<String>> {
        Box::pin(async move { Ok(None) })
    }

    fn children<'a>(&'a self, _drive: &'a str, folder: &'a str) -> PortFuture<'a, Vec<DriveEntry>> {
        Box::pin(async move {
            Ok(self
                .entries
                .lock()
                .unwrap()
                .iter()
                .filter(|((parent, _), _)| parent == folder)
                .map(|(_, e)| e.clone())
                .collect())
        })
    }

    fn ensure_folder<'a>(
        &'a self,
        _drive: &'a str,
        parent: &'a str,
        name: &'a str,
    ) -> PortFuture<'a, String> {
        Box::pin(async move {
            if name == "locked" {
                return Err(failure(FailureKind::Forbidden, "accessDenied: locked"));
            }
            Ok(format!("{parent}/{name}"))
        })
    }

    fn upload<'a>(
        &'a self,
        _drive: &'a str,
        parent: &'a str,
        name: &'a str,
        size: u64,
        conflict: OnConflict,
        mut bytes: ByteReader<'a>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut all = Vec::new();
            bytes.read_to_end(&mut all).await.unwrap();
            assert_eq!(all.len() as u64, size);
            let taken = self
                .entries
                .lock()
                .unwrap()
                .contains_key(&(parent.to_owned(), name.to_lowercase()))
                || self.appears.iter().any(|n| n == name);
            if taken && conflict == OnConflict::Fail {
                return Err(failure(FailureKind::Conflict, "nameAlreadyExists"));
            }
            self.uploads
                .lock()
                .unwrap()
                .push((parent.to_owned(), name.to_owned(), conflict, all));
            Ok(())
        })
    }

    fn content_hash<'a>(&'a self, mut bytes: ByteReader<'a>) -> PortFuture<'a, (String, u64)> {
        Box::pin(async move {
            let mut all = Vec::new();
            bytes.read_to_end(&mut all).await.unwrap();
            let length = all.len() as u64;
            Ok((String::from_utf8(all).unwrap(), length))
        })
    }
}

fn file(folder: &[&str], name: &str, bytes: &[u8]) -> (PlannedFile, Vec<u8>) {
    (
        PlannedFile {
            folder: folder.iter().map(|s| (*s).to_owned()).collect(),
            name: name.to_owned(),
            size: bytes.len() as u64,
        },
        bytes.to_vec(),
    )
}

async fn restore(drive: &Drive, action: DocumentAction) -> openvbo_core::restore::drive::Outcome {
    let (files, bytes): (Vec<PlannedFile>, Vec<Vec<u8>>) = [
        file(&[], "same.txt", b"unchanged"),
        file(&[], "plan.txt", b"backed-up plan"),
        file(&[], "new.txt", b"gone since"),
        file(&["locked"], "x.txt", b"cannot go"),
    ]
    .into_iter()
    .unzip();
    DriveRestore {
        writer: drive,
        action,
    }
    .run(
        &Destination {
            drive: "d1".into(),
            folder: vec!["Restored".into()],
        },
        vec![vec!["Empty".into()]],
        files,
        |i| Ok(Cursor::new(bytes[i].clone())),
    )
    .await
}

fn existing_drive(appears: &[&str]) -> Drive {
    let drive = Drive {
        appears: appears.iter().map(|s| (*s).to_owned()).collect(),
        ..Drive::default()
    };
    let folder = format!("{DRIVE_ROOT}/Restored");
    drive.put(&folder, "same.txt", b"unchanged");
    drive.put(&folder, "Plan.txt", b"edited after the backup");
    drive
}

#[tokio::test]
async fn keep_leaves_changed_files_and_restores_beside_them() {
    // new.txt appears between the listing and its upload: kept too.
    let drive = existing_drive(&["new.txt"]);
    let outcome = restore(&drive, DocumentAction::Keep).await;
    assert_eq!(
        (
            outcome.total,
            outcome.restored,
            outcome.unchanged,
            outcome.failed
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(
        outcome.bytes,
        (b"backed-up plan".len() + b"gone since".len()) as u64
    );
    let mut uploads: Vec<(String, OnConflict, Vec<u8>)> = drive
        .uploads
        .lock()
        .unwrap()
        .iter()
        .map(|(_, n, c, b)| (n.clone(), *c, b.clone()))
        .collect();
    uploads.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        uploads,
        vec![
            ("new.txt".into(), OnConflict::Rename, b"gone since".to_vec()),
            (
                "plan.txt".into(),
                OnConflict::Rename,
                b"backed-up plan".to_vec()
            ),
        ]
    );
    let issue = &outcome.issues[0];
    assert_eq!(issue.path, "Restored/locked/x.txt");
    assert!(
        issue
            .error
            .contains("its folder could not be created: accessDenied"),
        "{}",
        issue.error
    );
}

#[tokio::test]
async fn overwrite_replaces_changed_files_but_never_rewrites_unchanged_ones() {
    let drive = existing_drive(&[]);
    let outcome = restore(&drive, DocumentAction::Overwrite).await;
    assert_eq!(
        (outcome.restored, outcome.unchanged, outcome.failed),
        (2, 1, 1)
    );
    let uploads = drive.uploads.lock().unwrap();
    assert_eq!(uploads.len(), 2);
    assert!(uploads
        .iter()
        .all(|(parent, name, conflict, _)| parent == "root/Restored"
            && name != "same.txt"
            && *conflict == OnConflict::Replace));
}
