//! A directory user as a tenant file describes it, including the mailbox
//! and OneDrive facts the product browses.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    #[default]
    Member,
    Guest,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        }
    }
}

/// The kind of Exchange Online mailbox behind a user, as Graph reports it in
/// `mailboxSettings.userPurpose`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxType {
    #[default]
    User,
    Shared,
    Room,
    Equipment,
    /// No mailbox at all: `mail` is null and mailbox endpoints answer
    /// `MailboxNotEnabledForRESTAPI`.
    #[serde(rename = "none")]
    NoMailbox,
}

impl MailboxType {
    /// Shared, room and equipment mailboxes: Exchange creates them with a
    /// disabled account behind them.
    pub fn is_resource(self) -> bool {
        matches!(
            self,
            MailboxType::Shared | MailboxType::Room | MailboxType::Equipment
        )
    }

    /// Graph's `userPurpose`, or `None` without a mailbox.
    pub fn user_purpose(self) -> Option<&'static str> {
        match self {
            MailboxType::User => Some("user"),
            MailboxType::Shared => Some("shared"),
            MailboxType::Room => Some("room"),
            MailboxType::Equipment => Some("equipment"),
            MailboxType::NoMailbox => None,
        }
    }
}

/// One licence assignment, as in Graph's `assignedLicenses`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
}

// `remote = "Self"` turns the derives into inherent functions, so the trait
// impls below can wrap them: `accountEnabled`'s default depends on
// `mailboxType`, which a field-level serde default cannot see.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    /// `None`: the account has no password and can never sign in with one.
    #[serde(default)]
    pub password: Option<String>,
    /// Directory role display names, e.g. "Global Administrator".
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub mfa_required: bool,
    /// In a tenant file: defaults to true, except false for shared, room
    /// and equipment mailboxes.
    #[serde(default = "yes")]
    pub account_enabled: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub password_expired: bool,
    /// Defaults to the UPN when absent or null (ignored without a mailbox).
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_type: UserType,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub preferred_language: Option<String>,
    #[serde(default)]
    pub usage_location: Option<String>,
    #[serde(default)]
    pub mailbox_type: MailboxType,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
    /// Whether the user has a OneDrive (and so a personal site). `None`:
    /// members with a user mailbox do, everyone else does not.
    #[serde(default)]
    pub one_drive: Option<bool>,
    /// Files and folders of the user's OneDrive (see `drive_spec`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drive_items: Vec<crate::drive_spec::DriveItemSpec>,
    /// Mail folders and messages (see `mail_spec`); the well-known folders
    /// exist whether listed or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mail_folders: Vec<crate::mail_spec::MailFolderSpec>,
}

fn yes() -> bool {
    true
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        User::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        if !fields.contains_key("accountEnabled") {
            let mailbox = match fields.get("mailboxType") {
                Some(value) => MailboxType::deserialize(value).map_err(D::Error::custom)?,
                None => MailboxType::default(),
            };
            fields.insert(
                "accountEnabled".to_owned(),
                Value::Bool(!mailbox.is_resource()),
            );
        }
        User::deserialize(Value::Object(fields)).map_err(D::Error::custom)
    }
}

impl Default for User {
    /// The same defaults as an omitted field in a tenant file (for a user
    /// mailbox), so code can build users with `..User::default()` and stay
    /// source-compatible when fields are added.
    fn default() -> Self {
        User {
            id: String::new(),
            user_principal_name: String::new(),
            display_name: String::new(),
            password: None,
            roles: Vec::new(),
            mfa_required: false,
            account_enabled: true,
            locked: false,
            password_expired: false,
            mail: None,
            user_type: UserType::Member,
            given_name: None,
            surname: None,
            job_title: None,
            department: None,
            office_location: None,
            mobile_phone: None,
            business_phones: Vec::new(),
            preferred_language: None,
            usage_location: None,
            mailbox_type: MailboxType::User,
            assigned_licenses: Vec::new(),
            one_drive: None,
            drive_items: Vec::new(),
            mail_folders: Vec::new(),
        }
    }
}

impl User {
    /// The address the account is known by: `mail`, else the UPN.
    pub fn effective_mail(&self) -> &str {
        self.mail.as_deref().unwrap_or(&self.user_principal_name)
    }

    /// Graph's `mail`: null for an account without a mailbox.
    pub fn mailbox_address(&self) -> Option<&str> {
        (self.mailbox_type != MailboxType::NoMailbox).then(|| self.effective_mail())
    }

    pub fn has_one_drive(&self) -> bool {
        self.one_drive
            .unwrap_or(self.user_type == UserType::Member && self.mailbox_type == MailboxType::User)
    }
}
