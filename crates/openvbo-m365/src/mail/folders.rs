//! A mailbox's folder tree: v1.0 lists one level at a time, so the tree is
//! walked breadth-first through `childFolders`, hidden folders included.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::error::{ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::mail::http::Payload;

/// Graph's largest folder page.
const PAGE: &str = "250";

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MailFolder {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub parent_folder_id: Option<String>,
    #[serde(default)]
    pub child_folder_count: u32,
    #[serde(default)]
    pub total_item_count: u64,
    #[serde(default)]
    pub unread_item_count: u64,
    #[serde(default)]
    pub is_hidden: bool,
    /// `/Inbox/Projects`: display names from the top of the mailbox.
    #[serde(skip)]
    pub path: String,
}

#[derive(Deserialize)]
struct FolderPage {
    value: Vec<MailFolder>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

impl GraphSession {
    /// Every folder of the mailbox, parents before children.
    pub async fn mail_folders(&self, mailbox: &str) -> Result<Vec<MailFolder>, M365Error> {
        let lane = self.mail_lane(mailbox);
        let mut folders: Vec<MailFolder> = Vec::new();
        let top = self.graph_url(
            &["users", mailbox, "mailFolders"],
            &[("includeHiddenFolders", "true"), ("$top", PAGE)],
        )?;
        let mut queue: Vec<(url::Url, String)> = vec![(top, String::new())];
        while let Some((first, parent_path)) = queue.pop() {
            let mut url = first;
            loop {
                let page: FolderPage = self
                    .mail_json(&lane, Method::GET, &url, &Payload::None, None)
                    .await?;
                for mut folder in page.value {
                    folder.path = format!("{parent_path}/{}", folder.display_name);
                    if folder.child_folder_count > 0 {
                        let children = self.graph_url(
                            &["users", mailbox, "mailFolders", &folder.id, "childFolders"],
                            &[("includeHiddenFolders", "true"), ("$top", PAGE)],
                        )?;
                        queue.insert(0, (children, folder.path.clone()));
                    }
                    folders.push(folder);
                }
                match page.next_link {
                    Some(next) => url = self.same_origin(&next)?,
                    None => break,
                }
            }
        }
        Ok(folders)
    }

    /// Creates `name` under `parent` (a folder id or well-known name;
    /// `None`: the top of the mailbox), or returns the folder of that name
    /// already there.
    pub async fn create_mail_folder(
        &self,
        mailbox: &str,
        parent: Option<&str>,
        name: &str,
    ) -> Result<MailFolder, M365Error> {
        let lane = self.mail_lane(mailbox);
        let parent_id = parent.unwrap_or("msgfolderroot");
        let url = self.graph_url(
            &["users", mailbox, "mailFolders", parent_id, "childFolders"],
            &[],
        )?;
        let body = Payload::Json(json!({"displayName": name, "isHidden": false}));
        let parent_path = String::new();
        match self
            .mail_json::<MailFolder>(&lane, Method::POST, &url, &body, None)
            .await
        {
            Ok(mut folder) => {
                folder.path = format!("{parent_path}/{name}");
                Ok(folder)
            }
            Err(e) if e.kind == ErrorKind::Conflict => {
                let list = self.graph_url(
                    &["users", mailbox, "mailFolders", parent_id, "childFolders"],
                    &[("includeHiddenFolders", "true"), ("$top", PAGE)],
                )?;
                let mut url = list;
                loop {
                    let page: FolderPage = self
                        .mail_json(&lane, Method::GET, &url, &Payload::None, None)
                        .await?;
                    if let Some(mut found) = page
                        .value
                        .into_iter()
                        .find(|f| f.display_name.eq_ignore_ascii_case(name))
                    {
                        found.path = format!("{parent_path}/{}", found.display_name);
                        return Ok(found);
                    }
                    match page.next_link {
                        Some(next) => url = self.same_origin(&next)?,
                        None => return Err(e),
                    }
                }
            }
            Err(e) => Err(e),
        }
    }
}
