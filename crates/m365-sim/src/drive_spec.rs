//! The drive parts of a tenant file: a user's `driveItems` and a site's
//! `drives[].items`, and the checks that refuse a file with bad content
//! before the simulator starts.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// One file or folder of a drive, addressed by its path from the drive root.
/// A path ending in `/` is an empty folder; folders on the way to an item
/// exist implicitly. Content is at most one of `content` (UTF-8 text),
/// `contentBase64`, or `size` + `seed` (generated on demand).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriveItemSpec {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A document library of a site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteDriveSpec {
    pub name: String,
    #[serde(default)]
    pub items: Vec<DriveItemSpec>,
}

impl DriveItemSpec {
    pub fn is_folder(&self) -> bool {
        self.path.ends_with('/')
    }

    /// The path's segments, without empty ones from the trailing `/`.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

/// Characters SharePoint refuses in file and folder names.
const FORBIDDEN_NAME_CHARS: &[char] = &['"', '*', ':', '<', '>', '?', '\\', '|'];

pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.contains(FORBIDDEN_NAME_CHARS)
        && !name.contains('/')
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

/// Problems of one drive's items, each naming `owner` and the item.
pub(crate) fn item_problems(owner: &str, items: &[DriveItemSpec], problems: &mut Vec<String>) {
    let mut files = HashSet::new();
    let mut folders = HashSet::new();
    for item in items {
        let path = &item.path;
        let segments = item.segments();
        if segments.is_empty() || path.starts_with('/') || path.contains("//") {
            problems.push(format!(
                "{owner}: drive item path '{path}' is not a relative path like 'Folder/name.txt'"
            ));
            continue;
        }
        if let Some(bad) = segments.iter().find(|s| !is_valid_name(s)) {
            problems.push(format!(
                "{owner}: drive item '{path}': '{bad}' is not a valid file or folder name"
            ));
            continue;
        }
        let sources = [
            item.content.is_some(),
            item.content_base64.is_some(),
            item.size.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if item.is_folder() && (sources > 0 || item.seed.is_some()) {
            problems.push(format!(
                "{owner}: drive item '{path}' is a folder (ends with '/') and cannot have content"
            ));
        }
        if sources > 1 {
            problems.push(format!(
                "{owner}: drive item '{path}' has more than one of content, contentBase64 and size"
            ));
        }
        if item.seed.is_some() && item.size.is_none() {
            problems.push(format!(
                "{owner}: drive item '{path}' has a seed but no size"
            ));
        }
        if let Some(b64) = &item.content_base64 {
            if STANDARD.decode(b64.trim()).is_err() {
                problems.push(format!(
                    "{owner}: drive item '{path}': contentBase64 is not valid base64"
                ));
            }
        }
        let lower: Vec<String> = segments.iter().map(|s| s.to_lowercase()).collect();
        let key = lower.join("/");
        let (parents, leaf_is_folder) = if item.is_folder() {
            (lower.len(), true)
        } else {
            (lower.len() - 1, false)
        };
        for depth in 1..=parents {
            let Some(prefix) = lower.get(..depth) else {
                break;
            };
            let folder = prefix.join("/");
            if files.contains(&folder) {
                problems.push(format!(
                    "{owner}: drive item '{path}': '{folder}' is a file, not a folder"
                ));
            }
            folders.insert(folder);
        }
        if !leaf_is_folder {
            if folders.contains(&key) {
                problems.push(format!(
                    "{owner}: drive item '{path}': a folder already has this path"
                ));
            } else if !files.insert(key) {
                problems.push(format!(
                    "{owner}: two drive items have the path '{path}' (names are case-insensitive)"
                ));
            }
        }
    }
}

impl crate::tenant::Tenant {
    /// Drive content problems: bad items, and items for a user without a
    /// OneDrive.
    pub(crate) fn drive_problems(&self, problems: &mut Vec<String>) {
        for user in &self.users {
            let owner = format!("user '{}'", user.user_principal_name);
            if !user.drive_items.is_empty() && !user.has_one_drive() {
                problems.push(format!("{owner} has driveItems but no OneDrive (oneDrive is false or the user cannot have one)"));
            }
            item_problems(&owner, &user.drive_items, problems);
        }
        for site in &self.sites {
            let mut names = HashSet::new();
            for drive in &site.drives {
                let owner = format!("site '{}' drive '{}'", site.name, drive.name);
                if drive.name.trim().is_empty() || !names.insert(drive.name.to_lowercase()) {
                    problems.push(format!(
                        "site '{}': drive names must be non-empty and unique ('{}')",
                        site.name, drive.name
                    ));
                }
                item_problems(&owner, &drive.items, problems);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> DriveItemSpec {
        DriveItemSpec {
            path: path.into(),
            ..DriveItemSpec::default()
        }
    }

    #[test]
    fn clashes_and_bad_content_are_named() {
        let mut problems = Vec::new();
        let items = vec![
            spec("Docs/a.txt"),
            spec("docs/A.TXT"),
            DriveItemSpec {
                content_base64: Some("***".into()),
                ..spec("b.bin")
            },
            spec("Docs/a.txt/c.txt"),
            spec("bad|name.txt"),
            DriveItemSpec {
                content: Some("x".into()),
                ..spec("Empty/")
            },
        ];
        item_problems("user 'u'", &items, &mut problems);
        let all = problems.join("\n");
        assert!(
            all.contains("two drive items have the path 'docs/A.TXT'"),
            "{all}"
        );
        assert!(
            all.contains("'b.bin': contentBase64 is not valid base64"),
            "{all}"
        );
        assert!(all.contains("'docs/a.txt' is a file"), "{all}");
        assert!(all.contains("'bad|name.txt' is not a valid"), "{all}");
        assert!(all.contains("'Empty/' is a folder"), "{all}");
        assert_eq!(problems.len(), 5, "{all}");
    }
}
