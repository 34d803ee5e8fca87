//! The live state of every drive: items by id, the tree, and a change log
//! that delta rounds read. Drives are built on first use from the tenant
//! file (or generated for `--synthetic-files`), so a tenant of 100,000
//! users costs nothing until a drive is opened.
//!
//! Every change gets the drive's next sequence number. A delta token is
//! "everything after sequence N" for one epoch of the drive; the expiry knob
//! starts a new epoch, so older tokens answer 410 `resyncRequired`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::drive_content::{Content, Spool};
use crate::drive_spec::DriveItemSpec;
use crate::ids::derived_guid;

/// Delta rounds remembered per drive; an older round's nextLink answers 410.
const ROUNDS_KEPT: usize = 64;

/// An item's position in its drive. Only [`Drive`] mints one (when it adds an item),
/// and items are never removed (a deletion leaves a tombstone for delta), so an
/// `ItemIx` always names an item of the drive that gave it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ItemIx(usize);

impl ItemIx {
    /// Every drive's first item.
    pub(crate) const ROOT: ItemIx = ItemIx(0);
}

#[derive(Clone, Debug)]
pub(crate) enum DriveOwner {
    /// A user's OneDrive.
    User { user_id: String },
    /// A site's document library.
    Library { site_id: String, name: String },
}

#[derive(Clone, Debug)]
pub(crate) struct VersionInfo {
    pub id: String,
    pub modified: OffsetDateTime,
    pub size: u64,
}

#[derive(Clone, Debug)]
pub(crate) enum ItemKind {
    Folder,
    File {
        content: Content,
        /// base64 quickXorHash, once known.
        hash: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub id: String,
    /// The GUID in eTag and cTag.
    pub guid: String,
    pub name: String,
    pub parent: Option<ItemIx>,
    pub children: Vec<ItemIx>,
    pub kind: ItemKind,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
    /// eTag version: bumps when the item's own properties or content change.
    pub etag_version: u32,
    /// cTag version: bumps when the content (or, for folders, a descendant) changes.
    pub ctag_version: u32,
    pub versions: Vec<VersionInfo>,
    /// The sequence number of the last change that delta reports.
    pub seq: u64,
    pub deleted: bool,
}

impl Item {
    pub(crate) fn is_folder(&self) -> bool {
        matches!(self.kind, ItemKind::Folder)
    }
}

pub(crate) struct Drive {
    pub id: String,
    pub tenant: usize,
    pub owner: DriveOwner,
    /// `personal/{name}` or `sites/{name}`: where download URLs point.
    pub site_path: String,
    /// The library's `webUrl`; items' URLs continue it.
    pub web_url: String,
    /// `ItemIx::ROOT` first. Deleted items stay (as tombstones for delta), so the
    /// list never shrinks and every `ItemIx` handed out stays valid.
    items: Vec<Item>,
    by_id: HashMap<String, ItemIx>,
    pub seq: u64,
    /// Latest change sequence → item, so a delta round reads only changes.
    changes: BTreeMap<u64, ItemIx>,
    pub epoch: u32,
    rounds: VecDeque<(u64, Arc<Round>)>,
    next_round: u64,
    next_created: u64,
}

/// One delta round: the items to report, fixed when the round started, and
/// the sequence number its deltaLink resumes after.
pub(crate) struct Round {
    pub items: Vec<ItemIx>,
    pub upto: u64,
}

/// Why a write was refused, in Graph's terms.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WriteError {
    NameAlreadyExists(String),
    InvalidName(String),
    NotAFolder,
    /// Moving a folder into itself or its own subtree.
    IntoItself,
    RootIsReadOnly,
}

/// What to do when a name is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    Fail,
    Replace,
    Rename,
}

impl Conflict {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Some(Conflict::Fail),
            "replace" => Some(Conflict::Replace),
            "rename" => Some(Conflict::Rename),
            _ => None,
        }
    }
}

/// Tenant-file items are dated like the rest of the tenant file.
fn file_epoch() -> OffsetDateTime {
    time::macros::datetime!(2024-03-01 08:00:00 UTC)
}

/// `01` and 32 base32 characters, like SharePoint's item ids.
fn item_id(drive_id: &str, key: &str) -> (String, String) {
    let guid = derived_guid(&["drive-item", drive_id, key]);
    let more = derived_guid(&["drive-item-id", drive_id, key]);
    let raw = format!("{guid}{more}").replace('-', "");
    let mut id = String::from("01");
    let mut bits = 0u32;
    let mut acc = 0u32;
    for c in raw.chars().filter_map(|c| c.to_digit(16)) {
        acc = (acc << 4) | c;
        bits += 4;
        while bits >= 5 {
            bits -= 5;
            id.push(base32_digit((acc >> bits) & 31));
        }
    }
    id.truncate(34);
    (id, guid.to_uppercase())
}

/// RFC 4648's base32 alphabet (`A`-`Z`, `2`-`7`) for a value below 32.
fn base32_digit(value: u32) -> char {
    match u8::try_from(value) {
        Ok(v @ 0..=25) => char::from(b'A' + v),
        Ok(v @ 26..=31) => char::from(b'2' + (v - 26)),
        _ => '?',
    }
}

impl Drive {
    /// The item `ix` names.
    #[allow(
        clippy::indexing_slicing,
        reason = "an ItemIx is minted only by push, as the index of the item it adds to this list, which never shrinks"
    )]
    pub(crate) fn item(&self, ix: ItemIx) -> &Item {
        &self.items[ix.0]
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "an ItemIx is minted only by push, as the index of the item it adds to this list, which never shrinks"
    )]
    pub(crate) fn item_mut(&mut self, ix: ItemIx) -> &mut Item {
        &mut self.items[ix.0]
    }

    pub(crate) fn new(
        id: String,
        tenant: usize,
        owner: DriveOwner,
        specs: &[DriveItemSpec],
    ) -> Self {
        let (root_id, root_guid) = item_id(&id, "");
        let mut drive = Drive {
            id,
            tenant,
            owner,
            site_path: String::new(),
            web_url: String::new(),
            items: Vec::new(),
            by_id: HashMap::new(),
            seq: 0,
            changes: BTreeMap::new(),
            epoch: 1,
            rounds: VecDeque::new(),
            next_round: 1,
            next_created: 0,
        };
        drive.push(Item {
            id: root_id,
            guid: root_guid,
            name: "root".into(),
            parent: None,
            children: Vec::new(),
            kind: ItemKind::Folder,
            created: file_epoch(),
            modified: file_epoch(),
            etag_version: 1,
            ctag_version: 1,
            versions: Vec::new(),
            seq: 0,
            deleted: false,
        });
        for spec in specs {
            drive.load(spec);
        }
        drive
    }

    fn push(&mut self, mut item: Item) -> ItemIx {
        let ix = ItemIx(self.items.len());
        self.seq += 1;
        item.seq = self.seq;
        self.changes.insert(self.seq, ix);
        self.by_id.insert(item.id.to_ascii_uppercase(), ix);
        if let Some(parent) = item.parent {
            self.item_mut(parent).children.push(ix);
        }
        self.items.push(item);
        ix
    }

    fn load(&mut self, spec: &DriveItemSpec) {
        let segments = spec.segments();
        let folders = if spec.is_folder() {
            segments.len()
        } else {
            segments.len().saturating_sub(1)
        };
        let mut parent = ItemIx::ROOT;
        let mut key = String::new();
        for name in segments.iter().take(folders) {
            key.push('/');
            key.push_str(&name.to_lowercase());
            parent = match self.child_named(parent, name) {
                Some(existing) => existing,
                None => {
                    let (id, guid) = item_id(&self.id, &key);
                    self.push(new_item(
                        id,
                        guid,
                        name,
                        parent,
                        ItemKind::Folder,
                        file_epoch(),
                    ))
                }
            };
        }
        if spec.is_folder() {
            return;
        }
        let Some(name) = segments.last() else { return };
        key.push('/');
        key.push_str(&name.to_lowercase());
        let content = spec_content(spec);
        let hash = content.eager_hash();
        let (id, guid) = item_id(&self.id, &key);
        let mut item = new_item(
            id,
            guid,
            name,
            parent,
            ItemKind::File { content, hash },
            file_epoch(),
        );
        item.versions = vec![version(&item)];
        self.push(item);
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<ItemIx> {
        let ix = *self.by_id.get(&id.to_ascii_uppercase())?;
        (!self.item(ix).deleted).then_some(ix)
    }

    pub(crate) fn child_named(&self, parent: ItemIx, name: &str) -> Option<ItemIx> {
        self.item(parent)
            .children
            .iter()
            .copied()
            .find(|&c| !self.item(c).deleted && self.item(c).name.eq_ignore_ascii_case(name))
    }

    /// `root:/a/b` resolution, case-insensitively.
    pub(crate) fn resolve_path(&self, from: ItemIx, path: &str) -> Option<ItemIx> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(from, |at, name| self.child_named(at, name))
    }

    /// `/drive/root:/Folder/Sub` for `parentReference.path`.
    pub(crate) fn path_of(&self, ix: ItemIx) -> String {
        let mut names = Vec::new();
        let mut at = self.item(ix).parent;
        let mut cur = ix;
        while let Some(parent) = at {
            names.push(self.item(cur).name.as_str());
            cur = parent;
            at = self.item(parent).parent;
        }
        names.reverse();
        names.join("/")
    }

    pub(crate) fn live_children(&self, ix: ItemIx) -> Vec<ItemIx> {
        let mut children: Vec<ItemIx> = self
            .item(ix)
            .children
            .iter()
            .copied()
            .filter(|&c| !self.item(c).deleted)
            .collect();
        children.sort_by_key(|&c| self.item(c).name.to_lowercase());
        children
    }

    /// A folder's size is the sum of its live descendants'.
    pub(crate) fn size_of(&self, ix: ItemIx) -> u64 {
        match &self.item(ix).kind {
            ItemKind::File { content, .. } => content.size(),
            ItemKind::Folder => self
                .item(ix)
                .children
                .iter()
                .filter(|&&c| !self.item(c).deleted)
                .map(|&c| self.size_of(c))
                .sum(),
        }
    }

    pub(crate) fn last_modified(&self) -> OffsetDateTime {
        self.items
            .iter()
            .map(|i| i.modified)
            .max()
            .unwrap_or_else(file_epoch)
    }

    // ----- delta -----

    /// Starts a round reporting changes after `since` (0: everything that
    /// exists). Live items come in tree order, parents before children;
    /// deletions follow.
    pub(crate) fn start_round(&mut self, since: u64) -> (u64, Arc<Round>) {
        let changed: std::collections::HashSet<ItemIx> =
            self.changes.range(since + 1..).map(|(_, &ix)| ix).collect();
        let mut items = Vec::new();
        let mut stack = vec![ItemIx::ROOT];
        while let Some(ix) = stack.pop() {
            if since == 0 || changed.contains(&ix) {
                items.push(ix);
            }
            let mut children = self.live_children(ix);
            children.reverse();
            stack.extend(children);
        }
        if since > 0 {
            items.extend(
                self.changes
                    .range(since + 1..)
                    .map(|(_, &ix)| ix)
                    .filter(|&ix| self.item(ix).deleted),
            );
        }
        let round = Arc::new(Round {
            items,
            upto: self.seq,
        });
        let id = self.next_round;
        self.next_round += 1;
        self.rounds.push_back((id, round.clone()));
        while self.rounds.len() > ROUNDS_KEPT {
            self.rounds.pop_front();
        }
        (id, round)
    }

    pub(crate) fn round(&self, id: u64) -> Option<Arc<Round>> {
        self.rounds
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, round)| round.clone())
    }

    /// The expiry knob: every token and round issued so far is gone.
    pub(crate) fn expire_delta(&mut self) {
        self.epoch += 1;
        self.rounds.clear();
    }

    // ----- writes -----

    fn touch(&mut self, ix: ItemIx) {
        self.seq += 1;
        let old = self.item(ix).seq;
        self.changes.remove(&old);
        self.item_mut(ix).seq = self.seq;
        self.changes.insert(self.seq, ix);
    }

    /// A change below a folder shows in its cTag and in delta, not its eTag.
    fn touch_ancestors(&mut self, ix: ItemIx, now: OffsetDateTime) {
        let mut at = self.item(ix).parent;
        while let Some(folder) = at {
            self.item_mut(folder).ctag_version += 1;
            self.item_mut(folder).modified = now;
            self.touch(folder);
            at = self.item(folder).parent;
        }
    }

    fn free_name(&self, parent: ItemIx, name: &str) -> String {
        let (stem, ext) = match name.rfind('.') {
            Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
            _ => (name, ""),
        };
        (1..)
            .map(|n| format!("{stem} {n}{ext}"))
            .find(|candidate| self.child_named(parent, candidate).is_none())
            .unwrap_or_else(|| name.to_owned())
    }

    /// Where a new item called `name` goes under `parent`: `Ok((name,
    /// Some(existing)))` when it replaces a file.
    fn place(
        &self,
        parent: ItemIx,
        name: &str,
        conflict: Conflict,
        folder: bool,
    ) -> Result<(String, Option<ItemIx>), WriteError> {
        if !crate::drive_spec::is_valid_name(name) {
            return Err(WriteError::InvalidName(name.to_owned()));
        }
        if !self.item(parent).is_folder() {
            return Err(WriteError::NotAFolder);
        }
        match self.child_named(parent, name) {
            None => Ok((name.to_owned(), None)),
            Some(existing) => match conflict {
                Conflict::Fail => Err(WriteError::NameAlreadyExists(name.to_owned())),
                Conflict::Rename => Ok((self.free_name(parent, name), None)),
                Conflict::Replace if folder || self.item(existing).is_folder() => {
                    if folder && self.item(existing).is_folder() {
                        Ok((name.to_owned(), Some(existing)))
                    } else {
                        Err(WriteError::NameAlreadyExists(name.to_owned()))
                    }
                }
                Conflict::Replace => Ok((name.to_owned(), Some(existing))),
            },
        }
    }

    /// Creates or replaces a file; returns the item and whether it is new.
    pub(crate) fn put_file(
        &mut self,
        parent: ItemIx,
        name: &str,
        conflict: Conflict,
        content: Content,
        hash: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(ItemIx, bool), WriteError> {
        let (name, existing) = self.place(parent, name, conflict, false)?;
        match existing {
            Some(ix) => {
                self.replace_content(ix, content, hash, now);
                Ok((ix, false))
            }
            None => {
                let (id, guid) = self.fresh_id();
                let mut item = new_item(
                    id,
                    guid,
                    &name,
                    parent,
                    ItemKind::File { content, hash },
                    now,
                );
                item.versions = vec![version(&item)];
                let ix = self.push(item);
                self.touch_ancestors(ix, now);
                Ok((ix, true))
            }
        }
    }

    pub(crate) fn replace_content(
        &mut self,
        ix: ItemIx,
        content: Content,
        hash: Option<String>,
        now: OffsetDateTime,
    ) {
        let item = self.item_mut(ix);
        item.kind = ItemKind::File { content, hash };
        item.modified = now;
        item.etag_version += 1;
        item.ctag_version += 1;
        let v = version(item);
        item.versions.push(v);
        self.touch(ix);
        self.touch_ancestors(ix, now);
    }

    /// Creates a folder (`replace` on an existing folder returns it as is).
    pub(crate) fn create_folder(
        &mut self,
        parent: ItemIx,
        name: &str,
        conflict: Conflict,
        now: OffsetDateTime,
    ) -> Result<(ItemIx, bool), WriteError> {
        let (name, existing) = self.place(parent, name, conflict, true)?;
        if let Some(ix) = existing {
            return Ok((ix, false));
        }
        let (id, guid) = self.fresh_id();
        let ix = self.push(new_item(id, guid, &name, parent, ItemKind::Folder, now));
        self.touch_ancestors(ix, now);
        Ok((ix, true))
    }

    /// Deletes an item and everything below it; each gets a tombstone.
    pub(crate) fn delete(&mut self, ix: ItemIx, now: OffsetDateTime) -> Result<(), WriteError> {
        if ix == ItemIx::ROOT {
            return Err(WriteError::RootIsReadOnly);
        }
        self.touch_ancestors(ix, now);
        let mut stack = vec![ix];
        while let Some(at) = stack.pop() {
            stack.extend(
                self.item(at)
                    .children
                    .iter()
                    .copied()
                    .filter(|&c| !self.item(c).deleted),
            );
            self.item_mut(at).deleted = true;
            self.item_mut(at).modified = now;
            self.touch(at);
        }
        Ok(())
    }

    /// PATCH: a new name and/or a new parent.
    pub(crate) fn rename_move(
        &mut self,
        ix: ItemIx,
        name: Option<&str>,
        new_parent: Option<ItemIx>,
        now: OffsetDateTime,
    ) -> Result<(), WriteError> {
        if ix == ItemIx::ROOT {
            return Err(WriteError::RootIsReadOnly);
        }
        let old_parent = self.item(ix).parent.unwrap_or(ItemIx::ROOT);
        let parent = new_parent.unwrap_or(old_parent);
        let name = name.unwrap_or(&self.item(ix).name).to_owned();
        if !crate::drive_spec::is_valid_name(&name) {
            return Err(WriteError::InvalidName(name));
        }
        if !self.item(parent).is_folder() {
            return Err(WriteError::NotAFolder);
        }
        let mut at = Some(parent);
        while let Some(a) = at {
            if a == ix {
                return Err(WriteError::IntoItself);
            }
            at = self.item(a).parent;
        }
        if let Some(other) = self.child_named(parent, &name) {
            if other != ix {
                return Err(WriteError::NameAlreadyExists(name));
            }
        }
        self.touch_ancestors(ix, now);
        if parent != old_parent {
            self.item_mut(old_parent).children.retain(|&c| c != ix);
            self.item_mut(parent).children.push(ix);
            self.item_mut(ix).parent = Some(parent);
        }
        let item = self.item_mut(ix);
        item.name = name;
        item.modified = now;
        item.etag_version += 1;
        self.touch(ix);
        self.touch_ancestors(ix, now);
        Ok(())
    }

    fn fresh_id(&mut self) -> (String, String) {
        self.next_created += 1;
        item_id(
            &self.id,
            &format!("created:{}:{}", self.next_created, self.seq),
        )
    }

    /// Records a hash learned from a whole download.
    pub(crate) fn learn_hash(&mut self, ix: ItemIx, size: u64, hash: String) {
        if let ItemKind::File {
            content,
            hash: known,
        } = &mut self.item_mut(ix).kind
        {
            if known.is_none() && content.size() == size {
                *known = Some(hash);
            }
        }
    }
}

fn new_item(
    id: String,
    guid: String,
    name: &str,
    parent: ItemIx,
    kind: ItemKind,
    at: OffsetDateTime,
) -> Item {
    Item {
        id,
        guid,
        name: name.to_owned(),
        parent: Some(parent),
        children: Vec::new(),
        kind,
        created: at,
        modified: at,
        etag_version: 1,
        ctag_version: 1,
        versions: Vec::new(),
        seq: 0,
        deleted: false,
    }
}

fn version(item: &Item) -> VersionInfo {
    let size = match &item.kind {
        ItemKind::File { content, .. } => content.size(),
        ItemKind::Folder => 0,
    };
    VersionInfo {
        id: format!("{}.0", item.versions.len() + 1),
        modified: item.modified,
        size,
    }
}

fn spec_content(spec: &DriveItemSpec) -> Content {
    use base64::Engine;
    if let Some(text) = &spec.content {
        return Content::Bytes(text.clone().into_bytes().into());
    }
    if let Some(b64) = &spec.content_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .unwrap_or_default();
        return Content::Bytes(bytes.into());
    }
    match spec.size {
        Some(size) => Content::Generated {
            size,
            seed: spec.seed.unwrap_or(0),
        },
        None => Content::Bytes(Default::default()),
    }
}

/// Every opened drive, by lower-cased drive id, plus what drive handlers
/// share: the spool, the download-URL clock and key, upload sessions.
pub(crate) struct DriveStores {
    drives: Mutex<HashMap<String, Arc<Mutex<Drive>>>>,
    pub spool: Spool,
    pub urls: crate::download_url::UrlSigner,
    pub sessions: crate::upload_session::Sessions,
    pub faults: Mutex<DownloadFaults>,
    pub units: crate::resource_units::ResourceUnits,
    /// `--synthetic-files` and `--content-seed`.
    pub content: crate::options::ContentOptions,
}

/// The download fault knob: the next `times` downloads break their
/// connection after `after_bytes` bytes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DownloadFaults {
    pub reset_after_bytes: u64,
    pub times: u32,
}

pub(crate) fn relock<G>(result: Result<G, PoisonError<G>>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

impl DriveStores {
    pub(crate) fn new(content: crate::options::ContentOptions) -> Self {
        DriveStores {
            content,
            drives: Mutex::new(HashMap::new()),
            spool: Spool::new(),
            urls: crate::download_url::UrlSigner::new(),
            sessions: crate::upload_session::Sessions::default(),
            faults: Mutex::new(DownloadFaults::default()),
            units: crate::resource_units::ResourceUnits::default(),
        }
    }

    /// The drive with this id, building it with `build` on first use.
    pub(crate) fn open(
        &self,
        id: &str,
        build: impl FnOnce() -> Option<Drive>,
    ) -> Option<Arc<Mutex<Drive>>> {
        let key = id.to_ascii_lowercase();
        if let Some(drive) = relock(self.drives.lock()).get(&key) {
            return Some(drive.clone());
        }
        // Built outside the map's lock: generating a large drive must not
        // stall requests to other drives.
        let drive = Arc::new(Mutex::new(build()?));
        Some(
            relock(self.drives.lock())
                .entry(key)
                .or_insert(drive)
                .clone(),
        )
    }

    pub(crate) fn opened(&self, id: &str) -> Option<Arc<Mutex<Drive>>> {
        relock(self.drives.lock())
            .get(&id.to_ascii_lowercase())
            .cloned()
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, DownloadFaults> {
        relock(self.faults.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str, content: &str) -> DriveItemSpec {
        DriveItemSpec {
            path: path.into(),
            content: Some(content.into()),
            ..DriveItemSpec::default()
        }
    }

    #[test]
    fn base32_digits_are_rfc4648s_alphabet() {
        let digits: String = (0..32).map(base32_digit).collect();
        assert_eq!(digits, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        assert_eq!(base32_digit(32), '?');
        assert_eq!(base32_digit(u32::MAX), '?');
        let (id, _) = item_id("b!x", "/a");
        assert_eq!(id.len(), 34);
        assert!(id.starts_with("01"));
        assert!(id[2..].chars().all(|c| digits.contains(c)), "{id}");
    }

    fn names(drive: &Drive, round: &Round) -> Vec<String> {
        round
            .items
            .iter()
            .map(|&ix| {
                let item = drive.item(ix);
                format!("{}{}", if item.deleted { "-" } else { "" }, item.name)
            })
            .collect()
    }

    #[test]
    fn rounds_report_changes_after_their_token_in_tree_order() {
        let now = file_epoch();
        let mut d = Drive::new(
            "b!x".into(),
            0,
            DriveOwner::User {
                user_id: "u".into(),
            },
            &[spec("A/one.txt", "1"), spec("B/two.txt", "2")],
        );
        let (_, full) = d.start_round(0);
        assert_eq!(names(&d, &full), ["root", "A", "one.txt", "B", "two.txt"]);
        let token = full.upto;
        let a = d.resolve_path(ItemIx::ROOT, "a").unwrap_or(ItemIx::ROOT);
        let (c, _) = d
            .create_folder(a, "C", Conflict::Fail, now)
            .unwrap_or((ItemIx::ROOT, false));
        d.put_file(
            c,
            "three.txt",
            Conflict::Fail,
            Content::Bytes("3".into()),
            None,
            now,
        )
        .unwrap_or((ItemIx::ROOT, false));
        let two = d
            .resolve_path(ItemIx::ROOT, "B/two.txt")
            .unwrap_or(ItemIx::ROOT);
        d.delete(two, now).unwrap_or(());
        let (_, inc) = d.start_round(token);
        assert_eq!(
            names(&d, &inc),
            ["root", "A", "C", "three.txt", "B", "-two.txt"]
        );
        assert_eq!(
            d.put_file(
                c,
                "THREE.txt",
                Conflict::Fail,
                Content::Bytes("x".into()),
                None,
                now
            ),
            Err(WriteError::NameAlreadyExists("THREE.txt".into()))
        );
        let renamed = d.put_file(
            c,
            "three.txt",
            Conflict::Rename,
            Content::Bytes("x".into()),
            None,
            now,
        );
        let renamed = renamed.map(|(ix, _)| d.item(ix).name.clone());
        assert_eq!(renamed, Ok("three 1.txt".into()));
        assert_eq!(
            d.rename_move(a, None, Some(c), now),
            Err(WriteError::IntoItself)
        );
    }
}
