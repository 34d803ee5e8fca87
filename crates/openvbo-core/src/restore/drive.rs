//! Backed-up files put back into a drive (a OneDrive or a document library) through a
//! [`DriveWriter`]: folders re-created by name (an existing one is reused), then each file
//! uploaded from its backed-up bytes (the writer streams them, small ones in one request,
//! large ones through an upload session).
//!
//! What happens to a file already at the destination (`documentAction`):
//! - the same bytes as the backed-up file (same size and content hash, the hash Microsoft
//!   reports, read with one listing per destination folder): nothing is written, whatever the
//!   action; it is counted as skipped for having no changes (`skippedItemsByNoChangesCount`),
//!   so restoring twice makes no copies;
//! - `Overwrite`: the backed-up bytes replace it (Microsoft keeps the replaced one as a
//!   version);
//! - `Keep`: it stays as it is and the backed-up file is restored beside it under a free name
//!   Microsoft picks (`plan 1.txt`), so nothing changed after the backup is lost.
//!
//! A file that fails is counted and reported, and the others go on.

use std::collections::HashMap;

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio::io::AsyncRead;

use super::writers::{DriveEntry, DriveWriter, OnConflict, DRIVE_ROOT};
use crate::error::UpstreamFailure;
use crate::microsoft365::{FailureKind, M365Failure};
use crate::CoreError;

/// Uploads in flight per restore: enough to hide Microsoft's latency, few enough that one
/// restore does not spend the tenant's whole budget at once.
const UPLOADS_IN_FLIGHT: usize = 4;

/// Failed files named in the answer (every one is counted).
pub const ISSUES_LISTED: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentAction {
    Keep,
    Overwrite,
}

impl DocumentAction {
    /// `documentAction` as sent (any case); absent is `Keep`, which loses nothing.
    pub fn from_wire(raw: Option<&str>) -> Result<Self, CoreError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::Keep),
            Some(a) if a.eq_ignore_ascii_case("keep") => Ok(Self::Keep),
            Some(a) if a.eq_ignore_ascii_case("overwrite") => Ok(Self::Overwrite),
            Some(a) => Err(CoreError::NotSupported(format!(
                "documentAction must be Overwrite or Keep (got '{}')",
                crate::ids::truncate_for_message(a)
            ))),
        }
    }
}

/// Where files go: a drive, and folder names under its root.
#[derive(Clone, Debug)]
pub struct Destination {
    pub drive: String,
    pub folder: Vec<String>,
}

/// A `folder` of a request body as names under the drive's root (`/` or `\` between them).
pub fn destination_folder(folder: Option<&str>) -> Result<Vec<String>, CoreError> {
    let segments: Vec<String> = folder
        .unwrap_or_default()
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect();
    if segments.iter().any(|s| s == "..") {
        return Err(CoreError::NotSupported(
            "folder must not contain '..'".into(),
        ));
    }
    Ok(segments)
}

/// One file to restore: its folder names relative to the destination folder.
#[derive(Clone, Debug)]
pub struct PlannedFile {
    pub folder: Vec<String>,
    pub name: String,
    pub size: u64,
}

impl PlannedFile {
    fn shown(&self, base: &[String]) -> String {
        let mut parts: Vec<&str> = base.iter().map(String::as_str).collect();
        parts.extend(self.folder.iter().map(String::as_str));
        parts.push(&self.name);
        parts.join("/")
    }
}

/// A file that could not be restored (`RESTRestoreObject`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub title: String,
    pub error: String,
}

/// What a restore did (`RESTItemRestoreStatistics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub total: u64,
    pub restored: u64,
    /// Already there with the same bytes: not written.
    pub unchanged: u64,
    pub failed: u64,
    pub bytes: u64,
    /// At most [`ISSUES_LISTED`].
    pub issues: Vec<Issue>,
}

/// The drive behind a OneDrive id: a user's id or name gives that user's drive; anything
/// else (Microsoft answers that it is no user) is taken as a drive id.
pub async fn drive_of(writer: &dyn DriveWriter, id: &str) -> Result<String, CoreError> {
    match writer.user_drive(id).await {
        Ok(Some(drive)) => Ok(drive),
        Ok(None) => Ok(id.to_owned()),
        Err(e) if !e.is_transient() => Ok(id.to_owned()),
        Err(e) => Err(CoreError::Upstream {
            failure: UpstreamFailure::Unavailable,
            message: format!(
                "Microsoft 365 could not be used while finding the drive '{}': {}; nothing was changed",
                crate::ids::truncate_for_message(id),
                e.message
            ),
            retry_after: None,
            source: Some(e),
        }),
    }
}

/// What became of one file that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Uploaded,
    /// The destination already held the same bytes.
    Unchanged,
}

/// One restore into one drive.
pub struct DriveRestore<'a> {
    pub writer: &'a dyn DriveWriter,
    pub action: DocumentAction,
}

impl DriveRestore<'_> {
    /// The folder at `path` under the root, created where missing; ids cached in `known`.
    async fn ensure_folder(
        &self,
        drive: &str,
        path: &[String],
        known: &mut HashMap<Vec<String>, String>,
    ) -> Result<String, M365Failure> {
        let mut parent = DRIVE_ROOT.to_owned();
        for (depth, name) in (1..=path.len()).zip(path) {
            let prefix = path.get(..depth).unwrap_or_default().to_vec();
            if let Some(id) = known.get(&prefix) {
                parent = id.clone();
                continue;
            }
            let made = self.writer.ensure_folder(drive, &parent, name).await?;
            known.insert(prefix, made.clone());
            parent = made;
        }
        Ok(parent)
    }

    /// Whether `existing` holds exactly the bytes of `files[index]`: same size, then same
    /// content hash (read from the backup only when the sizes match). Without a hash from
    /// Microsoft nothing can be told, and the file is written.
    async fn unchanged<R, O>(
        &self,
        existing: &DriveEntry,
        file: &PlannedFile,
        index: usize,
        open: &O,
    ) -> Result<bool, String>
    where
        R: AsyncRead + Unpin + Send,
        O: Fn(usize) -> Result<R, CoreError>,
    {
        if existing.is_folder || existing.size != file.size {
            return Ok(false);
        }
        let Some(theirs) = &existing.content_hash else {
            return Ok(false);
        };
        let reader = open(index).map_err(|e| e.to_string())?;
        let (ours, length) = self
            .writer
            .content_hash(Box::new(reader))
            .await
            .map_err(|e| format!("reading the backup: {}", e.message))?;
        Ok(length == file.size && ours == *theirs)
    }

    /// Uploads `file` (bytes from `open(index)`) under `parent`, unless the same bytes are
    /// already there; `existing` is what the folder holds under that name, if anything.
    async fn upload<R, O>(
        &self,
        drive: &str,
        parent: &str,
        existing: Option<&DriveEntry>,
        file: &PlannedFile,
        index: usize,
        open: &O,
    ) -> Result<Written, String>
    where
        R: AsyncRead + Unpin + Send,
        O: Fn(usize) -> Result<R, CoreError>,
    {
        // An unchanged file is never sent again.
        if let Some(item) = existing {
            if self.unchanged(item, file, index, open).await? {
                return Ok(Written::Unchanged);
            }
        }
        let first = match (self.action, existing.is_some()) {
            (DocumentAction::Overwrite, _) => OnConflict::Replace,
            (DocumentAction::Keep, true) => OnConflict::Rename,
            // Fail, not Rename: a file that appeared since the lookup is caught below.
            (DocumentAction::Keep, false) => OnConflict::Fail,
        };
        let reader = open(index).map_err(|e| e.to_string())?;
        let result = self
            .writer
            .upload(
                drive,
                parent,
                &file.name,
                file.size,
                first,
                Box::new(reader),
            )
            .await;
        match result {
            Err(e) if e.kind == FailureKind::Conflict && self.action == DocumentAction::Keep => {
                // The name is taken: keep what is there, restore beside it (read again:
                // the first attempt may have consumed the reader).
                let reader = open(index).map_err(|e| e.to_string())?;
                self.writer
                    .upload(
                        drive,
                        parent,
                        &file.name,
                        file.size,
                        OnConflict::Rename,
                        Box::new(reader),
                    )
                    .await
                    .map(|()| Written::Uploaded)
                    .map_err(|e| e.message)
            }
            other => other.map(|()| Written::Uploaded).map_err(|e| e.message),
        }
    }

    /// One file into its folder (made beforehand, or the reason it could not be).
    async fn restore_one<'f, R, O>(
        &self,
        drive: &str,
        parent: Result<(String, Option<DriveEntry>), String>,
        file: &'f PlannedFile,
        index: usize,
        open: &O,
    ) -> (&'f PlannedFile, Result<Written, String>)
    where
        R: AsyncRead + Unpin + Send,
        O: Fn(usize) -> Result<R, CoreError>,
    {
        let result = match parent {
            Ok((parent, existing)) => {
                self.upload(drive, &parent, existing.as_ref(), file, index, open)
                    .await
            }
            Err(why) => Err(why),
        };
        (file, result)
    }

    /// Restores `folders` (so empty ones come back too) and `files` into `to`; `open(i)`
    /// gives the bytes of `files[i]` (called again if an upload has to be redone).
    pub async fn run<R, O>(
        &self,
        to: &Destination,
        folders: Vec<Vec<String>>,
        files: Vec<PlannedFile>,
        open: O,
    ) -> Outcome
    where
        R: AsyncRead + Unpin + Send,
        O: Fn(usize) -> Result<R, CoreError>,
    {
        let drive = to.drive.as_str();
        let mut outcome = Outcome {
            total: files.len() as u64,
            ..Outcome::default()
        };
        let full = |rel: &[String]| {
            let mut p = to.folder.clone();
            p.extend(rel.iter().cloned());
            p
        };
        // Parents before children: a sorted list puts every prefix first.
        let mut wanted: Vec<Vec<String>> = folders.iter().map(|f| full(f)).collect();
        wanted.extend(files.iter().map(|f| full(&f.folder)));
        wanted.sort();
        wanted.dedup();
        let mut known: HashMap<Vec<String>, String> = HashMap::new();
        let mut broken: HashMap<Vec<String>, String> = HashMap::new();
        for path in wanted.into_iter().filter(|p| !p.is_empty()) {
            if let Err(e) = self.ensure_folder(drive, &path, &mut known).await {
                broken.insert(path, e.message);
            }
        }
        known.insert(Vec::new(), DRIVE_ROOT.to_owned());
        // What each destination folder already holds, read once per folder (a listing page
        // instead of a lookup per file): name (as Microsoft compares them) → item.
        let mut present: HashMap<Vec<String>, Result<HashMap<String, DriveEntry>, String>> =
            HashMap::new();
        for file in &files {
            let path = full(&file.folder);
            if present.contains_key(&path) {
                continue;
            }
            let listing = match known.get(&path) {
                Some(id) => self
                    .writer
                    .children(drive, id)
                    .await
                    .map(|items| {
                        items
                            .into_iter()
                            .map(|i| (i.name.to_lowercase(), i))
                            .collect()
                    })
                    .map_err(|e| format!("its folder could not be read: {}", e.message)),
                None => Err(format!(
                    "its folder could not be created: {}",
                    broken
                        .get(&path)
                        .cloned()
                        .unwrap_or_else(|| "unknown error".to_owned())
                )),
            };
            present.insert(path, listing);
        }
        let parent_of = |file: &PlannedFile| {
            let path = full(&file.folder);
            let id = known.get(&path).cloned();
            match (id, present.get(&path)) {
                (Some(id), Some(Ok(items))) => {
                    Ok((id, items.get(&file.name.to_lowercase()).cloned()))
                }
                (_, Some(Err(why))) => Err(why.clone()),
                _ => Err("unknown error".to_owned()),
            }
        };
        let mut queue = files.iter().enumerate();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < UPLOADS_IN_FLIGHT {
                let Some((index, file)) = queue.next() else {
                    break;
                };
                running.push(self.restore_one(drive, parent_of(file), file, index, &open));
            }
            let Some((file, result)) = running.next().await else {
                break;
            };
            match result {
                Ok(Written::Uploaded) => {
                    outcome.restored += 1;
                    outcome.bytes += file.size;
                }
                Ok(Written::Unchanged) => outcome.unchanged += 1,
                Err(error) => {
                    outcome.failed += 1;
                    let path = file.shown(&to.folder);
                    tracing::warn!(file = %path, %error, "a file could not be restored");
                    if outcome.issues.len() < ISSUES_LISTED {
                        outcome.issues.push(Issue {
                            path,
                            title: file.name.clone(),
                            error,
                        });
                    }
                }
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_actions_are_read_in_any_case_and_default_to_keep() {
        assert_eq!(
            DocumentAction::from_wire(None).ok(),
            Some(DocumentAction::Keep)
        );
        assert_eq!(
            DocumentAction::from_wire(Some("OVERWRITE")).ok(),
            Some(DocumentAction::Overwrite)
        );
        assert_eq!(
            DocumentAction::from_wire(Some("keep")).ok(),
            Some(DocumentAction::Keep)
        );
        assert!(DocumentAction::from_wire(Some("merge")).is_err());
    }

    #[test]
    fn destination_folders_are_names_under_the_root() {
        assert_eq!(
            destination_folder(Some("/Restored\\2026/ ./x ")).ok(),
            Some(vec![
                "Restored".to_owned(),
                "2026".to_owned(),
                "x".to_owned()
            ])
        );
        assert_eq!(destination_folder(None).ok(), Some(Vec::new()));
        assert!(destination_folder(Some("a/../b")).is_err());
    }
}
