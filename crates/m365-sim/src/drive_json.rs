//! driveItem and drive objects as Graph v1.0 shows them for OneDrive for
//! Business and SharePoint Online.

use serde_json::{json, Map, Value};

use crate::drive_store::{Drive, DriveOwner, ItemIx, ItemKind};
use crate::wire_time::rfc3339;

/// What a rendering may include besides the item's own properties.
pub(crate) struct Render<'a> {
    /// `http://host` of the request, for links.
    pub base: &'a str,
    /// Delta omits `parentReference.path` (and cTag), as on ODB.
    pub in_delta: bool,
    /// Issue `@microsoft.graph.downloadUrl` for files.
    pub download_urls: bool,
    pub signer: &'a crate::download_url::UrlSigner,
    /// `personal/{name}` or `sites/{name}`: where download URLs point.
    pub site_path: &'a str,
    pub web_url: &'a str,
}

pub(crate) fn drive_type(drive: &Drive) -> &'static str {
    match drive.owner {
        DriveOwner::User { .. } => "business",
        DriveOwner::Library { .. } => "documentLibrary",
    }
}

fn mime_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "md" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

pub(crate) fn etag(drive: &Drive, ix: ItemIx) -> String {
    let item = &drive.item(ix);
    format!("\"{{{}}},{}\"", item.guid, item.etag_version)
}

pub(crate) fn ctag(drive: &Drive, ix: ItemIx) -> String {
    let item = &drive.item(ix);
    format!("\"c:{{{}}},{}\"", item.guid, item.ctag_version)
}

fn parent_reference(drive: &Drive, ix: ItemIx, with_path: bool) -> Value {
    let mut parent = Map::new();
    parent.insert("driveType".into(), json!(drive_type(drive)));
    parent.insert("driveId".into(), json!(drive.id));
    if let Some(p) = drive.item(ix).parent {
        parent.insert("id".into(), json!(drive.item(p).id));
        if with_path {
            let path = drive.path_of(p);
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            parent.insert(
                "path".into(),
                json!(format!("/drives/{}/root:{path}", drive.id)),
            );
        }
    }
    Value::Object(parent)
}

/// A deleted item as delta reports it on ODB: no name, no cTag.
fn tombstone(drive: &Drive, ix: ItemIx) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(drive.item(ix).id));
    object.insert("deleted".into(), json!({"state": "deleted"}));
    object.insert("parentReference".into(), parent_reference(drive, ix, false));
    object
}

pub(crate) fn item(drive: &Drive, ix: ItemIx, r: &Render<'_>) -> Map<String, Value> {
    let item = &drive.item(ix);
    if item.deleted {
        return tombstone(drive, ix);
    }
    let path = drive.path_of(ix);
    let mut o = Map::new();
    o.insert("id".into(), json!(item.id));
    o.insert("name".into(), json!(item.name));
    o.insert("eTag".into(), json!(etag(drive, ix)));
    let is_root = ix == ItemIx::ROOT;
    if !item.is_folder() && !r.in_delta {
        o.insert("cTag".into(), json!(ctag(drive, ix)));
    }
    o.insert("createdDateTime".into(), json!(rfc3339(item.created)));
    o.insert("lastModifiedDateTime".into(), json!(rfc3339(item.modified)));
    o.insert("size".into(), json!(drive.size_of(ix)));
    o.insert(
        "webUrl".into(),
        json!(if is_root {
            r.web_url.to_owned()
        } else {
            format!("{}/{}", r.web_url, path)
        }),
    );
    o.insert(
        "fileSystemInfo".into(),
        json!({"createdDateTime": rfc3339(item.created), "lastModifiedDateTime": rfc3339(item.modified)}),
    );
    let by = json!({"user": {"displayName": "System Account"}});
    o.insert("createdBy".into(), by.clone());
    o.insert("lastModifiedBy".into(), by);
    if !is_root {
        o.insert(
            "parentReference".into(),
            parent_reference(drive, ix, !r.in_delta),
        );
    } else {
        o.insert("root".into(), json!({}));
        o.insert(
            "parentReference".into(),
            json!({"driveType": drive_type(drive), "driveId": drive.id}),
        );
    }
    match &item.kind {
        ItemKind::Folder => {
            let count = drive
                .item(ix)
                .children
                .iter()
                .filter(|&&c| !drive.item(c).deleted)
                .count();
            o.insert("folder".into(), json!({"childCount": count}));
        }
        ItemKind::File { hash, .. } => {
            let mut file = Map::new();
            file.insert("mimeType".into(), json!(mime_type(&item.name)));
            if let Some(hash) = hash {
                file.insert("hashes".into(), json!({"quickXorHash": hash}));
            }
            o.insert("file".into(), Value::Object(file));
            if r.download_urls {
                o.insert(
                    "@microsoft.graph.downloadUrl".into(),
                    json!(r
                        .signer
                        .url(r.base, r.site_path, &drive.id, &item.id, &item.guid)),
                );
            }
        }
    }
    o
}

/// Keeps `id`, the selected properties, and the annotations they imply
/// (`content.downloadUrl` selects `@microsoft.graph.downloadUrl`).
pub(crate) fn select(object: &mut Map<String, Value>, fields: &[String]) {
    let wants_url = fields
        .iter()
        .any(|f| f.eq_ignore_ascii_case("content.downloadUrl"));
    object.retain(|key, _| {
        key == "id"
            || key == "deleted"
            || (key == "@microsoft.graph.downloadUrl" && wants_url)
            || fields.iter().any(|f| f.eq_ignore_ascii_case(key))
    });
}

pub(crate) fn versions(drive: &Drive, ix: ItemIx) -> Vec<Value> {
    drive
        .item(ix)
        .versions
        .iter()
        .rev()
        .map(|v| {
            json!({
                "id": v.id,
                "lastModifiedDateTime": rfc3339(v.modified),
                "size": v.size,
                "lastModifiedBy": {"user": {"displayName": "System Account"}},
            })
        })
        .collect()
}
