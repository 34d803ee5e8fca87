//! Mailboxes of synthetic users (`--synthetic-messages N`,
//! `--content-seed S`): `N` messages spread over the well-known folders and
//! a few nested ones, generated on demand from (seed, user, ordinal) and
//! never stored. Sizes look like real mail (bodies from about 4 KB to
//! 60 KB with a median near 15 KB; every 8th message has an attachment,
//! and attachments repeat across mailboxes, as forwarded files do). Writes
//! to a synthetic mailbox are stored by `mail_store` as an overlay that
//! shadows the generated message.

use time::OffsetDateTime;

use crate::ids::derived_guid;
use crate::mail_store::{
    attachment_id, message_id, structured_content, Attachment, Content, FolderIx, Mailbox, Message,
    StructuredFields, ROOT,
};
use crate::mime_render::AttachmentBytes;
use crate::synthetic_files::pick;

/// Where generated messages go, by weight out of 100.
const SPREAD: [(&str, u32); 7] = [
    ("inbox", 50),
    ("sentitems", 20),
    ("archive", 10),
    ("deleteditems", 5),
    ("/Inbox/Projects", 8),
    ("/Inbox/Projects/2025", 4),
    ("/Receipts", 3),
];

const START: OffsetDateTime = time::macros::datetime!(2024-01-01 08:00 UTC);

const WORDS: [&str; 24] = [
    "backup",
    "plan",
    "quarter",
    "review",
    "budget",
    "meeting",
    "team",
    "project",
    "update",
    "status",
    "draft",
    "customer",
    "invoice",
    "schedule",
    "report",
    "notes",
    "agenda",
    "design",
    "release",
    "contract",
    "summary",
    "follow-up",
    "deadline",
    "numbers",
];

#[derive(Clone)]
pub(crate) struct SyntheticMailbox {
    seed: u64,
    count: u32,
    address: String,
    /// Folder per SPREAD entry, filled by `add_folders`.
    folders: Vec<FolderIx>,
}

fn mix(a: u64, b: u64) -> u64 {
    let mut x = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl SyntheticMailbox {
    pub(crate) fn new(content_seed: u64, user_id: &str, address: &str, count: u32) -> Self {
        let user_hash = user_id.bytes().fold(0u64, |h, b| mix(h, u64::from(b)));
        SyntheticMailbox {
            seed: mix(content_seed, user_hash),
            count,
            address: address.to_owned(),
            folders: Vec::new(),
        }
    }

    /// Creates the nested folders and records where each share goes.
    pub(crate) fn add_folders(&mut self, mailbox: &mut Mailbox) {
        let mut folders = Vec::new();
        for (place, _) in SPREAD {
            let ix = match place.strip_prefix('/') {
                None => mailbox.find_folder(place).unwrap_or(ROOT),
                Some(path) => {
                    let mut at = ROOT;
                    for name in path.split('/') {
                        let existing = mailbox
                            .children(at)
                            .find(|&c| mailbox.folder(c).display_name == name);
                        at = match existing {
                            Some(existing) => existing,
                            None => mailbox.add_folder(at, name, None, false),
                        };
                    }
                    at
                }
            };
            folders.push(ix);
        }
        self.folders = folders;
    }

    fn folder_of(&self, n: u32) -> FolderIx {
        let mut pick = (mix(self.seed, u64::from(n)) % 100) as u32;
        for (i, (_, weight)) in SPREAD.iter().enumerate() {
            if pick < *weight {
                return self.folders.get(i).copied().unwrap_or(ROOT);
            }
            pick -= weight;
        }
        ROOT
    }

    fn id(user_id: &str, n: u32) -> String {
        message_id(user_id, &format!("synthetic#{n}"))
    }

    fn message(&self, user_id: &str, n: u32) -> Message {
        let at = START + time::Duration::minutes(i64::from(n) * 7);
        Message {
            id: Self::id(user_id, n),
            folder: self.folder_of(n),
            seq: 0,
            content: None,
            ordinal: n,
            is_read: !mix(self.seed, u64::from(n) + 1).is_multiple_of(3),
            is_draft: false,
            created: at,
            modified: at,
            version: 0,
        }
    }

    pub(crate) fn messages_in<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        folder: FolderIx,
    ) -> impl Iterator<Item = Message> + 'a {
        (0..self.count)
            .filter(move |&n| self.folder_of(n) == folder)
            .map(move |n| self.message(&mailbox.user_id, n))
    }

    /// A virtual message from its id: ids embed nothing readable, so the
    /// ordinal is found by hashing candidates (ids are cached per call
    /// site by the caller when it matters).
    pub(crate) fn message_by_id(&self, mailbox: &Mailbox, id: &str) -> Option<Message> {
        (0..self.count)
            .find(|&n| Self::id(&mailbox.user_id, n) == id)
            .map(|n| self.message(&mailbox.user_id, n))
    }

    pub(crate) fn content(&self, user_id: &str, n: u32) -> Content {
        let h = mix(self.seed, u64::from(n) + 2);
        // 15 KB · 2^(−2…+2): 3.75 KB to 60 KB, median 15 KB.
        let exponent = (h % 1000) as f64 / 1000.0 * 4.0 - 2.0;
        let size = (15_000.0 * exponent.exp2()) as usize;
        let body = text(h, size);
        let at = START + time::Duration::minutes(i64::from(n) * 7);
        let subject = format!("{} {} #{n}", pick(&WORDS, h), pick(&WORDS, h >> 8));
        let peer = format!("colleague{}@contoso.example", h % 40);
        let outgoing = self.folder_of(n) == self.folders.get(1).copied().unwrap_or(ROOT);
        let (from, to) = if outgoing {
            (self.address.clone(), peer)
        } else {
            (peer, self.address.clone())
        };
        let attachments = if n.is_multiple_of(8) {
            // Shared across mailboxes: the seed ignores the user.
            let shared = u64::from(n % 64);
            vec![Attachment {
                id: attachment_id(&format!("{user_id}synthetic#{n}"), 0),
                name: format!("{}-{shared}.pdf", pick(&WORDS, shared)),
                content_type: "application/pdf".to_owned(),
                bytes: AttachmentBytes::Generated {
                    seed: mix(0x5eed, shared),
                    size: 20_000 + (mix(7, shared) % 400_000),
                },
            }]
        } else {
            Vec::new()
        };
        structured_content(StructuredFields {
            subject,
            from: Some(from),
            to: vec![to],
            cc: Vec::new(),
            sent: at,
            received: at,
            internet_message_id: format!(
                "<{}@contoso.example>",
                &derived_guid(&[user_id, &n.to_string()])[..18]
            ),
            importance: "normal".to_owned(),
            body_text: body,
            body_html: None,
            attachments,
        })
    }
}

/// Word salad of `size` bytes in lines of about 72 characters.
fn text(seed: u64, size: usize) -> String {
    let mut out = String::with_capacity(size + 16);
    let mut state = seed;
    let mut line = 0;
    while out.len() < size {
        state = mix(state, 1);
        let word = pick(&WORDS, state);
        out.push_str(word);
        line += word.len() + 1;
        if line > 72 {
            out.push('\n');
            line = 0;
        } else {
            out.push(' ');
        }
    }
    out
}
