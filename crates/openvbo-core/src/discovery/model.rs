//! What openvbo knows of an organization's objects: only what the API
//! answers, kept compact because listings of 100,000 objects are cached.

/// Where an object is mastered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Cloud,
    /// Synchronised from an on-premises directory.
    Hybrid,
}

/// `RESTUser.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserKind {
    User,
    /// A shared mailbox (Exchange backs it with a disabled account).
    Shared,
    Public,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    pub id: String,
    pub display_name: String,
    /// The user principal name.
    pub name: String,
    pub kind: UserKind,
    pub location: Location,
    pub licensed: bool,
}

/// `RESTGroup.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    Office365,
    Security,
    Distribution,
    DynamicDistribution,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub id: String,
    pub display_name: String,
    /// The mail address, or the mail nickname when there is none.
    pub name: String,
    pub kind: GroupKind,
    pub location: Location,
}

/// `RESTGroupMember.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Group,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    pub id: String,
    pub name: String,
    /// The user principal name of a user, the mail of a group.
    pub login: String,
    pub kind: MemberKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectorySite {
    pub id: String,
    pub url: String,
    pub name: String,
    pub title: String,
    pub is_personal: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub mail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneDrive {
    pub id: String,
    pub name: String,
    pub url: String,
}
