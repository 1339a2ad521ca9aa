//! The `passwd` section: users and groups.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::de::{is_default, nullable};

/// Users and groups to create, change or delete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Passwd {
    /// Users.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub users: Vec<PasswdUser>,
    /// Groups.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub groups: Vec<PasswdGroup>,
}

/// One user account. Fields other than `name` apply only when the user is created, except
/// `passwordHash` and `sshAuthorizedKeys`, which also apply to an existing user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswdUser {
    /// The login name. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The password hash in crypt(3) form. Never printed by Kindling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// SSH public keys allowed to log in as this user.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub ssh_authorized_keys: Vec<String>,
    /// The user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<i64>,
    /// The GECOS (comment) field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gecos: Option<String>,
    /// The home directory (default `/home/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_dir: Option<String>,
    /// Do not create the home directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_create_home: Option<bool>,
    /// The primary group, by name or id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_group: Option<String>,
    /// Supplementary groups.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub groups: Vec<String>,
    /// Do not create a group named after the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_user_group: Option<bool>,
    /// Do not add the user to the lastlog and faillog databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_log_init: Option<bool>,
    /// Create a system account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    /// The login shell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// `false` deletes the user; unset or `true` creates or keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_exist: Option<bool>,
}

/// One group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswdGroup {
    /// The group name. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<i64>,
    /// The group password hash in crypt(3) form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Create a system group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    /// `false` deletes the group; unset or `true` creates or keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_exist: Option<bool>,
}
