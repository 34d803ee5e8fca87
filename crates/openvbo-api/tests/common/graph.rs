//! Microsoft Graph of the simulator, signed in as contoso's administrator:
//! the tests' own view of Microsoft's side, to change mailboxes and drives
//! "behind the backup's back" (as a user in Outlook or OneDrive would) and
//! to read what a restore wrote. One client for every test binary.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use url::Url;

use super::{Sim, M365_PASSWORD};

/// The client id Microsoft's own tools sign in with; the simulator takes any.
pub const CLIENT_ID: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";

/// Where a simulator listens: [`Graph::new`] takes a [`Sim`], a simulator
/// started with other options, or its URL.
pub trait SimUrl {
    fn sim_url(&self) -> &Url;
}

impl SimUrl for Url {
    fn sim_url(&self) -> &Url {
        self
    }
}

impl SimUrl for Sim {
    fn sim_url(&self) -> &Url {
        &self.url
    }
}

pub struct Graph {
    base: String,
    http: reqwest::Client,
    token: String,
}

/// `path` with each segment percent-encoded (spaces as `%20`), slashes kept.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Graph {
    pub async fn new(sim: &impl SimUrl) -> Graph {
        let base = sim.sim_url().as_str().trim_end_matches('/').to_owned();
        // File content is behind a pre-authenticated URL, which must be
        // fetched without the bearer token: redirects are followed by hand.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let answer: Value = http
            .post(format!("{base}/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .form(&[
                ("client_id", CLIENT_ID),
                ("grant_type", "password"),
                ("username", "admin@contoso.onmicrosoft.com"),
                ("password", M365_PASSWORD),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Graph {
            base,
            http,
            token: answer["access_token"].as_str().expect("a token").to_owned(),
        }
    }

    fn v1(&self, path: &str) -> String {
        format!("{}/v1.0/{}", self.base, path.trim_start_matches('/'))
    }

    /// A Graph call (`path` below `/v1.0`, with or without its leading
    /// slash) whose answer the caller checks.
    pub async fn request(&self, method: Method, path: &str) -> reqwest::Response {
        self.http
            .request(method, self.v1(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// A Graph call that must succeed; its JSON answer (Null when empty).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), self.v1(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A GET that must succeed.
    pub async fn json(&self, path: &str) -> Value {
        self.send(Method::GET, path, None).await
    }

    /// A GET of a whole URL (a page's `@odata.nextLink`) that must succeed.
    async fn get_url(&self, url: &str) -> Value {
        let r = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        r.json().await.unwrap()
    }

    // ---- mail ----

    /// Every folder of a mailbox as (path, id), paths like `/Inbox/Projects`.
    pub async fn folders(&self, user: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut queue = vec![(format!("users/{user}/mailFolders?$top=250"), String::new())];
        while let Some((path, prefix)) = queue.pop() {
            let page = self.json(&path).await;
            for f in page["value"].as_array().unwrap() {
                let name = f["displayName"].as_str().unwrap();
                let id = f["id"].as_str().unwrap().to_owned();
                let full = format!("{prefix}/{name}");
                if f["childFolderCount"].as_u64().unwrap_or(0) > 0 {
                    queue.push((
                        format!("users/{user}/mailFolders/{id}/childFolders?$top=250"),
                        full.clone(),
                    ));
                }
                out.push((full, id));
            }
        }
        out
    }

    /// The id of the folder at `path` (as [`Self::folders`] writes it).
    pub async fn folder_id(&self, user: &str, path: &str) -> Option<String> {
        self.folders(user)
            .await
            .into_iter()
            .find(|(p, _)| p == path)
            .map(|(_, id)| id)
    }

    pub async fn child_folder_id(&self, user: &str, parent: &str, name: &str) -> String {
        let page = self
            .json(&format!("/users/{user}/mailFolders/{parent}/childFolders"))
            .await;
        page["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["displayName"] == name)
            .unwrap_or_else(|| panic!("no folder {name:?}: {page}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The messages of a folder (id or well-known name), with the
    /// properties a restore must keep.
    pub async fn messages(&self, user: &str, folder: &str) -> Vec<Value> {
        let page = self
            .json(&format!(
                "users/{user}/mailFolders/{folder}/messages?$top=100&$select=id,subject,isRead,isDraft,receivedDateTime,sentDateTime,from,internetMessageId"
            ))
            .await;
        page["value"].as_array().unwrap().clone()
    }

    /// Message id by subject in a folder (id or well-known name); only the
    /// id and subject are read, so the simulator counts no download.
    pub async fn message_id(&self, user: &str, folder: &str, subject: &str) -> String {
        let page = self
            .json(&format!(
                "/users/{user}/mailFolders/{folder}/messages?$top=100&$select=id,subject"
            ))
            .await;
        page["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"] == subject)
            .unwrap_or_else(|| panic!("no {subject:?} in {folder}: {page}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A message's MIME.
    pub async fn mime(&self, user: &str, message: &str) -> Vec<u8> {
        let response = self
            .request(
                Method::GET,
                &format!("users/{user}/messages/{message}/$value"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap().to_vec()
    }

    /// A received (not draft) message in `folder`.
    pub async fn add_message(&self, user: &str, folder: &str, subject: &str) {
        self.send(
            Method::POST,
            &format!("/users/{user}/mailFolders/{folder}/messages"),
            Some(json!({
                "subject": subject, "body": {"contentType": "text", "content": format!("{subject} body")},
                "from": {"emailAddress": {"address": "x@contoso.com"}},
                "singleValueExtendedProperties": [{"id": "Integer 0x0E07", "value": "4"}]
            })),
        )
        .await;
    }

    // ---- drives ----

    /// A user's OneDrive id.
    pub async fn drive_of(&self, user: &str) -> String {
        let drive = self.json(&format!("/users/{user}/drive")).await;
        drive["id"].as_str().unwrap().to_owned()
    }

    /// A site's document libraries: (name, drive id).
    pub async fn site_drives(&self, site: &str) -> Vec<(String, String)> {
        let r = self.json(&format!("/sites/{site}/drives")).await;
        r["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_owned(),
                    d["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The drive item at `path` as Graph gives it (eTag, file hashes…).
    pub async fn item(&self, drive: &str, path: &str) -> Value {
        self.json(&format!("/drives/{drive}/root:/{}", encode_path(path)))
            .await
    }

    pub async fn item_id(&self, drive: &str, path: &str) -> String {
        self.item(drive, path).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A file's bytes, or None if there is no file at `path`.
    pub async fn read(&self, drive: &str, path: &str) -> Option<Vec<u8>> {
        let r = self
            .request(
                Method::GET,
                &format!("/drives/{drive}/root:/{}:/content", encode_path(path)),
            )
            .await;
        if r.status() == StatusCode::NOT_FOUND {
            return None;
        }
        let r = if r.status().is_redirection() {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            self.http.get(to).send().await.unwrap()
        } else {
            r
        };
        assert!(r.status().is_success(), "reading {path}: {}", r.status());
        Some(r.bytes().await.unwrap().to_vec())
    }

    pub async fn write(&self, drive: &str, path: &str, bytes: &[u8]) {
        let r = self
            .http
            .put(self.v1(&format!(
                "/drives/{drive}/root:/{}:/content",
                encode_path(path)
            )))
            .bearer_auth(&self.token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "writing {path}: {}", r.status());
    }

    pub async fn write_file(&self, drive: &str, path: &str, content: &str) {
        self.write(drive, path, content.as_bytes()).await;
    }

    /// Deletes the item at `path` (Graph answers 204).
    pub async fn delete(&self, drive: &str, path: &str) {
        let r = self
            .request(
                Method::DELETE,
                &format!("/drives/{drive}/root:/{}", encode_path(path)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "deleting {path}");
    }

    /// Deletes the item at `path` by its id.
    pub async fn delete_item(&self, drive: &str, path: &str) {
        let id = self.item_id(drive, path).await;
        self.send(Method::DELETE, &format!("/drives/{drive}/items/{id}"), None)
            .await;
    }

    /// Renames and/or moves (into the folder at `to_folder`, "" for the root).
    pub async fn move_item(&self, drive: &str, path: &str, to_folder: Option<&str>, name: &str) {
        let id = self.item_id(drive, path).await;
        let mut body = json!({"name": name});
        if let Some(folder) = to_folder {
            let parent = if folder.is_empty() {
                self.json(&format!("/drives/{drive}/root")).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                self.item_id(drive, folder).await
            };
            body["parentReference"] = json!({"id": parent});
        }
        self.send(
            Method::PATCH,
            &format!("/drives/{drive}/items/{id}"),
            Some(body),
        )
        .await;
    }

    /// Names of the children of the folder at `path` ("" for the root), every page, sorted.
    pub async fn children(&self, drive: &str, path: &str) -> Vec<String> {
        let mut url = if path.is_empty() {
            self.v1(&format!("/drives/{drive}/root/children"))
        } else {
            self.v1(&format!(
                "/drives/{drive}/root:/{}:/children",
                encode_path(path)
            ))
        };
        let mut names = Vec::new();
        loop {
            let r = self.get_url(&url).await;
            for child in r["value"].as_array().unwrap() {
                names.push(child["name"].as_str().unwrap().to_owned());
            }
            match r["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_owned(),
                None => break,
            }
        }
        names.sort();
        names
    }
}
