//! Mailboxes at run time: the folder tree, the messages, and a change
//! sequence that message and folder delta read from.
//!
//! Each change (create, update, move, delete) takes the mailbox's next
//! sequence number; a message remembers the number of its last change and
//! a removal leaves a tombstone with its own. A delta round fixes an upper
//! bound when it starts, so its pages are consistent while writes go on,
//! and its deltaLink resumes from that bound. Synthetic mailboxes keep
//! their generated messages virtual (see `synthetic_mail`): only what a
//! write touched is stored here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use time::OffsetDateTime;

use crate::ids::{b64url, derived_guid};
use crate::mail_spec::{MailFolderSpec, MessageSpec};
use crate::mime_render::{self, AttachmentBytes, Mime, RenderAttachment, Structured};
use crate::synthetic_mail::SyntheticMailbox;
use crate::user::User;

/// Exchange's well-known folders every mailbox has, with display names.
pub(crate) const WELL_KNOWN: [(&str, &str); 7] = [
    ("inbox", "Inbox"),
    ("drafts", "Drafts"),
    ("sentitems", "Sent Items"),
    ("deleteditems", "Deleted Items"),
    ("junkemail", "Junk Email"),
    ("outbox", "Outbox"),
    ("archive", "Archive"),
];

/// Default time of tenant-file messages without `receivedDateTime`.
const DEFAULT_TIME: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

pub(crate) type FolderIx = usize;
pub(crate) const ROOT: FolderIx = 0;

pub(crate) struct Folder {
    pub id: String,
    pub display_name: String,
    pub parent: Option<FolderIx>,
    pub well_known: Option<&'static str>,
    pub hidden: bool,
    pub deleted: bool,
    /// The change that last touched the folder (create, rename, delete).
    pub seq: u64,
    /// Bumped by the expiry knob: delta tokens of older epochs are gone.
    pub epoch: u32,
}

/// What a message says; shared between versions of the same message.
pub(crate) struct Content {
    pub mime: Mime,
    pub subject: String,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub sent: OffsetDateTime,
    pub received: OffsetDateTime,
    pub internet_message_id: String,
    pub importance: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// MIME with attachments the JSON view does not list (raw MIME).
    pub mime_has_attachments: bool,
}

#[derive(Clone)]
pub(crate) struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub bytes: AttachmentBytes,
}

#[derive(Clone)]
pub(crate) struct Message {
    pub id: String,
    pub folder: FolderIx,
    pub seq: u64,
    /// `None` for a virtual (synthetic) message: generated when needed.
    pub content: Option<Arc<Content>>,
    /// The synthetic ordinal behind a virtual message (0 otherwise).
    pub ordinal: u32,
    pub is_read: bool,
    pub is_draft: bool,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
    /// Counts changes, for `changeKey`.
    pub version: u32,
}

impl Message {
    pub(crate) fn change_key(&self) -> String {
        format!(
            "CQAAABYAAA{}",
            b64url(derived_guid(&[&self.id, &self.version.to_string()]).as_bytes())
                .get(..22)
                .unwrap_or_default()
        )
    }
}

pub(crate) struct Tombstone {
    pub folder: FolderIx,
    pub id: String,
    pub seq: u64,
}

pub(crate) struct Mailbox {
    pub user_id: String,
    pub folders: Vec<Folder>,
    pub messages: BTreeMap<String, Message>,
    pub tombstones: Vec<Tombstone>,
    pub seq: u64,
    pub synthetic: Option<SyntheticMailbox>,
    /// Virtual (synthetic) messages a write replaced or removed.
    pub shadowed: HashSet<String>,
    /// Drives "now" for writes: a fixed start plus one second per change,
    /// so times are deterministic and always move forward.
    pub clock: OffsetDateTime,
}

fn folder_id(user_id: &str, path: &str) -> String {
    format!(
        "AAMkAGI{}",
        b64url(derived_guid(&["mailfolder", user_id, path]).as_bytes())
    )
}

pub(crate) fn message_id(user_id: &str, key: &str) -> String {
    format!(
        "AAMkAGI{}AAA=",
        b64url(derived_guid(&["message", user_id, key]).as_bytes())
    )
}

pub(crate) fn attachment_id(message_key: &str, n: usize) -> String {
    format!(
        "AAMkAGI{}",
        b64url(derived_guid(&["attachment", message_key, &n.to_string()]).as_bytes())
    )
}

impl Mailbox {
    /// The mailbox of `user` as its tenant file describes it: well-known
    /// folders always, listed folders and messages in file order.
    pub(crate) fn build(user: &User, synthetic: Option<SyntheticMailbox>) -> Mailbox {
        let mut mailbox = Mailbox {
            user_id: user.id.clone(),
            folders: vec![Folder {
                id: folder_id(&user.id, ""),
                display_name: "Top of Information Store".to_owned(),
                parent: None,
                well_known: Some("msgfolderroot"),
                hidden: false,
                deleted: false,
                seq: 0,
                epoch: 0,
            }],
            messages: BTreeMap::new(),
            tombstones: Vec::new(),
            seq: 0,
            synthetic: None,
            shadowed: HashSet::new(),
            clock: DEFAULT_TIME,
        };
        for (name, display) in WELL_KNOWN {
            let listed = user.mail_folders.iter().find(|f| {
                f.well_known_name
                    .as_deref()
                    .is_some_and(|w| w.eq_ignore_ascii_case(name))
            });
            let display = listed.map_or(display, |f| f.display_name.as_str());
            mailbox.add_folder(ROOT, display, Some(name), false);
        }
        mailbox.load(ROOT, "", &user.mail_folders);
        if let Some(mut synthetic) = synthetic {
            synthetic.add_folders(&mut mailbox);
            mailbox.synthetic = Some(synthetic);
        }
        mailbox
    }

    /// The folder `ix` names.
    #[allow(
        clippy::indexing_slicing,
        reason = "a FolderIx is ROOT (pushed by build) or came from this mailbox's own list, which never shrinks (a deletion only marks the folder)"
    )]
    pub(crate) fn folder(&self, ix: FolderIx) -> &Folder {
        &self.folders[ix]
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "a FolderIx is ROOT (pushed by build) or came from this mailbox's own list, which never shrinks (a deletion only marks the folder)"
    )]
    pub(crate) fn folder_mut(&mut self, ix: FolderIx) -> &mut Folder {
        &mut self.folders[ix]
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.clock += time::Duration::seconds(1);
        self.seq
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock
    }

    pub(crate) fn path_of(&self, folder: FolderIx) -> String {
        let mut names = Vec::new();
        let mut at = Some(folder);
        while let Some(ix) = at {
            if ix == ROOT {
                break;
            }
            names.push(self.folder(ix).display_name.as_str());
            at = self.folder(ix).parent;
        }
        names.reverse();
        format!("/{}", names.join("/"))
    }

    pub(crate) fn add_folder(
        &mut self,
        parent: FolderIx,
        name: &str,
        well_known: Option<&'static str>,
        hidden: bool,
    ) -> FolderIx {
        let path = format!("{}/{name}", self.path_of(parent).trim_end_matches('/'));
        let key = well_known.map_or(path.to_lowercase(), str::to_owned);
        let mut id = folder_id(&self.user_id, &key);
        if self.folders.iter().any(|f| f.id == id) {
            // A folder re-created after a delete gets a new id, as in Exchange.
            id = folder_id(&self.user_id, &format!("{key}#{}", self.seq + 1));
        }
        let seq = self.next_seq();
        self.folders.push(Folder {
            id,
            display_name: name.to_owned(),
            parent: Some(parent),
            well_known,
            hidden,
            deleted: false,
            seq,
            epoch: 0,
        });
        self.folders.len() - 1
    }

    fn load(&mut self, parent: FolderIx, parent_path: &str, specs: &[MailFolderSpec]) {
        for spec in specs {
            let folder = match &spec.well_known_name {
                Some(name) => self.find_folder(name),
                None => self.child_named(parent, &spec.display_name).or_else(|| {
                    Some(self.add_folder(parent, &spec.display_name, None, spec.is_hidden))
                }),
            };
            let Some(folder) = folder else { continue };
            let path = format!("{parent_path}/{}", spec.display_name);
            for (n, message) in spec.messages.iter().enumerate() {
                let key = format!("{path}#{n}");
                let content = content_from_spec(&self.user_id, &key, message);
                let id = message_id(&self.user_id, &key);
                let seq = self.next_seq();
                let created = content.received;
                self.messages.insert(
                    id.clone(),
                    Message {
                        id,
                        folder,
                        seq,
                        content: Some(Arc::new(content)),
                        ordinal: 0,
                        is_read: message.is_read,
                        is_draft: false,
                        created,
                        modified: created,
                        version: 0,
                    },
                );
            }
            self.load(folder, &path, &spec.child_folders);
        }
    }

    fn child_named(&self, parent: FolderIx, name: &str) -> Option<FolderIx> {
        self.folders.iter().position(|f| {
            !f.deleted && f.parent == Some(parent) && f.display_name.eq_ignore_ascii_case(name)
        })
    }

    /// A live folder by id or well-known name.
    pub(crate) fn find_folder(&self, key: &str) -> Option<FolderIx> {
        self.folders.iter().position(|f| {
            !f.deleted && (f.id == key || f.well_known.is_some_and(|w| w.eq_ignore_ascii_case(key)))
        })
    }

    /// A deleted folder's id is remembered, so delta can say so.
    pub(crate) fn find_deleted_folder(&self, key: &str) -> bool {
        self.folders.iter().any(|f| f.deleted && f.id == key)
    }

    pub(crate) fn children(&self, parent: FolderIx) -> impl Iterator<Item = FolderIx> + '_ {
        (0..self.folders.len()).filter(move |&ix| {
            let f = self.folder(ix);
            !f.deleted && f.parent == Some(parent)
        })
    }

    /// Messages in a folder: stored ones plus virtual ones not shadowed,
    /// in a stable order.
    pub(crate) fn folder_messages(&self, folder: FolderIx) -> Vec<Message> {
        let mut out: Vec<Message> = self.virtual_messages(folder);
        let mut stored: Vec<&Message> = self
            .messages
            .values()
            .filter(|m| m.folder == folder)
            .collect();
        stored.sort_by_key(|m| m.seq);
        out.extend(stored.into_iter().cloned());
        out
    }

    pub(crate) fn virtual_messages(&self, folder: FolderIx) -> Vec<Message> {
        match &self.synthetic {
            Some(s) => s
                .messages_in(self, folder)
                .filter(|m| !self.shadowed.contains(&m.id))
                .collect(),
            None => Vec::new(),
        }
    }

    pub(crate) fn unread_and_total(&self, folder: FolderIx) -> (usize, usize) {
        let messages = self.folder_messages(folder);
        (
            messages.iter().filter(|m| !m.is_read).count(),
            messages.len(),
        )
    }

    /// What a message says, generated for a virtual one.
    pub(crate) fn content(&self, message: &Message) -> Arc<Content> {
        match (&message.content, &self.synthetic) {
            (Some(content), _) => content.clone(),
            (None, Some(synthetic)) => Arc::new(synthetic.content(&self.user_id, message.ordinal)),
            (None, None) => Arc::new(content_from_mime(
                Mime::raw("\r\n\r\n"),
                &self.user_id,
                &message.id,
            )),
        }
    }

    /// A live message by id (stored or virtual).
    pub(crate) fn message(&self, id: &str) -> Option<Message> {
        if let Some(m) = self.messages.get(id) {
            return Some(m.clone());
        }
        if self.shadowed.contains(id) {
            return None;
        }
        self.synthetic.as_ref()?.message_by_id(self, id)
    }

    /// Adds a new message (restore, a test's write) and returns it.
    pub(crate) fn insert(
        &mut self,
        folder: FolderIx,
        content: Content,
        is_read: bool,
        is_draft: bool,
    ) -> Message {
        let seq = self.next_seq();
        let id = message_id(&self.user_id, &format!("created#{seq}"));
        let now = self.now();
        let message = Message {
            id: id.clone(),
            folder,
            seq,
            content: Some(Arc::new(content)),
            ordinal: 0,
            is_read,
            is_draft,
            created: now,
            modified: now,
            version: 0,
        };
        self.messages.insert(id, message.clone());
        message
    }

    /// Applies `change` to a message and records it as a change.
    pub(crate) fn update(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Message),
    ) -> Option<Message> {
        let mut message = self.message(id)?;
        message.content = Some(self.content(&message));
        self.shadowed.insert(id.to_owned());
        let seq = self.next_seq();
        change(&mut message);
        message.seq = seq;
        message.version += 1;
        message.modified = self.now();
        self.messages.insert(id.to_owned(), message.clone());
        Some(message)
    }

    pub(crate) fn delete_message(&mut self, id: &str) -> Option<Message> {
        let mut message = self.message(id)?;
        message.content = Some(self.content(&message));
        self.shadowed.insert(id.to_owned());
        self.messages.remove(id);
        let seq = self.next_seq();
        self.tombstones.push(Tombstone {
            folder: message.folder,
            id: id.to_owned(),
            seq,
        });
        Some(message)
    }

    /// Moves a message; like Exchange without immutable ids, the copy in
    /// the destination has a new id.
    pub(crate) fn move_message(&mut self, id: &str, to: FolderIx) -> Option<Message> {
        let old = self.delete_message(id)?;
        let seq = self.next_seq();
        let new_id = message_id(&self.user_id, &format!("moved#{seq}"));
        let message = Message {
            id: new_id.clone(),
            folder: to,
            seq,
            version: old.version + 1,
            modified: self.now(),
            ..old
        };
        self.messages.insert(new_id, message.clone());
        Some(message)
    }

    /// Deletes a folder with everything below it.
    pub(crate) fn delete_folder(&mut self, folder: FolderIx) {
        let below: Vec<FolderIx> = self.children(folder).collect();
        for child in below {
            self.delete_folder(child);
        }
        let ids: Vec<String> = self
            .folder_messages(folder)
            .into_iter()
            .map(|m| m.id)
            .collect();
        for id in ids {
            self.delete_message(&id);
        }
        let seq = self.next_seq();
        let entry = self.folder_mut(folder);
        entry.deleted = true;
        entry.seq = seq;
    }

    pub(crate) fn rename_folder(&mut self, folder: FolderIx, name: &str) {
        let seq = self.next_seq();
        let entry = self.folder_mut(folder);
        entry.display_name = name.to_owned();
        entry.seq = seq;
    }
}

impl Content {
    /// The fields again, to render a changed copy.
    pub(crate) fn clone_fields(&self) -> StructuredFields {
        StructuredFields {
            subject: self.subject.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            sent: self.sent,
            received: self.received,
            internet_message_id: self.internet_message_id.clone(),
            importance: self.importance.clone(),
            body_text: self.body_text.clone(),
            body_html: self.body_html.clone(),
            attachments: self.attachments.clone(),
        }
    }
}

/// A tenant-file message as content: raw MIME kept byte for byte, or
/// structured fields rendered into MIME.
fn content_from_spec(user_id: &str, key: &str, spec: &MessageSpec) -> Content {
    if let Some(mime) = &spec.mime {
        return content_from_mime(Mime::raw(mime), user_id, key);
    }
    let received = spec
        .received_date_time
        .as_deref()
        .and_then(mime_render::parse_rfc3339)
        .unwrap_or(DEFAULT_TIME);
    let attachments: Vec<Attachment> = spec
        .attachments
        .iter()
        .enumerate()
        .map(|(n, a)| Attachment {
            id: attachment_id(&format!("{user_id}{key}"), n),
            name: a.name.clone(),
            content_type: a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            bytes: match (&a.content_base64, a.size, a.seed) {
                (Some(b64), _, _) => AttachmentBytes::Inline(Arc::from(
                    STANDARD.decode(b64.trim()).unwrap_or_default(),
                )),
                (None, size, seed) => AttachmentBytes::Generated {
                    seed: seed.unwrap_or(0),
                    size: size.unwrap_or(0),
                },
            },
        })
        .collect();
    let message_id = format!(
        "<{}@{}>",
        &derived_guid(&["internet-message-id", user_id, key])[..18],
        spec.from
            .as_deref()
            .and_then(|f| f.rsplit_once('@'))
            .map_or("openvbo.invalid", |(_, d)| d)
    );
    structured_content(StructuredFields {
        subject: spec.subject.clone().unwrap_or_default(),
        from: spec.from.clone(),
        to: spec.to.clone(),
        cc: spec.cc.clone(),
        sent: received,
        received,
        internet_message_id: message_id,
        importance: spec
            .importance
            .clone()
            .unwrap_or_else(|| "normal".to_owned()),
        body_text: spec.body.clone().unwrap_or_default(),
        body_html: spec.body_html.clone(),
        attachments,
    })
}

pub(crate) struct StructuredFields {
    pub subject: String,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub sent: OffsetDateTime,
    pub received: OffsetDateTime,
    pub internet_message_id: String,
    pub importance: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachments: Vec<Attachment>,
}

pub(crate) fn structured_content(fields: StructuredFields) -> Content {
    let mime = mime_render::render(&Structured {
        subject: &fields.subject,
        from: fields.from.as_deref().unwrap_or("unknown@openvbo.invalid"),
        to: &fields.to,
        cc: &fields.cc,
        date: fields.sent,
        message_id: &fields.internet_message_id,
        importance: &fields.importance,
        body: &fields.body_text,
        body_html: fields.body_html.as_deref(),
        attachments: fields
            .attachments
            .iter()
            .map(|a| RenderAttachment {
                name: &a.name,
                content_type: &a.content_type,
                content: a.bytes.clone(),
            })
            .collect(),
    });
    Content {
        mime,
        subject: fields.subject,
        from: fields.from,
        to: fields.to,
        cc: fields.cc,
        sent: fields.sent,
        received: fields.received,
        internet_message_id: fields.internet_message_id,
        importance: fields.importance,
        body_text: fields.body_text,
        body_html: fields.body_html,
        attachments: fields.attachments,
        mime_has_attachments: false,
    }
}

/// The JSON view of raw MIME, read from its headers and text parts.
pub(crate) fn content_from_mime(mime: Mime, user_id: &str, key: &str) -> Content {
    let view = mime_render::view(&mime.head_text());
    let date = view.date.unwrap_or(DEFAULT_TIME);
    Content {
        subject: view.subject,
        from: view.from,
        to: view.to,
        cc: view.cc,
        sent: date,
        received: date,
        internet_message_id: view.message_id.unwrap_or_else(|| {
            format!(
                "<{}@openvbo.invalid>",
                &derived_guid(&["internet-message-id", user_id, key])[..18]
            )
        }),
        importance: view
            .importance
            .filter(|i| ["low", "normal", "high"].contains(&i.as_str()))
            .unwrap_or_else(|| "normal".to_owned()),
        body_text: view.body_text,
        body_html: view.body_html,
        attachments: Vec::new(),
        mime_has_attachments: view.has_attachments,
        mime,
    }
}

/// Every mailbox of every tenant, built on first use.
pub(crate) struct MailStores {
    boxes: Mutex<HashMap<(usize, usize), Mailbox>>,
    pub synthetic_messages: u32,
    pub content_seed: u64,
}

impl MailStores {
    pub(crate) fn new(synthetic_messages: u32, content_seed: u64) -> Self {
        MailStores {
            boxes: Mutex::new(HashMap::new()),
            synthetic_messages,
            content_seed,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<(usize, usize), Mailbox>> {
        self.boxes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
