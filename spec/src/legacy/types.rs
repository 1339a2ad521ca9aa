//! The spec 2.x config shape (2.0.0 to 2.3.0 in one model), only as far as translation to 3.x
//! needs it. Fields a version lacks are set aside before reading (see `gate`), so one model
//! serves every 2.x version. Spec 1 has its own small model in `v1`.

use serde::Deserialize;

use crate::de::nullable;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Config {
    #[serde(default, deserialize_with = "nullable")]
    pub ignition: Ignition,
    #[serde(default, deserialize_with = "nullable")]
    pub storage: Storage,
    #[serde(default, deserialize_with = "nullable")]
    pub systemd: Systemd,
    #[serde(default, deserialize_with = "nullable")]
    pub networkd: Networkd,
    #[serde(default, deserialize_with = "nullable")]
    pub passwd: Passwd,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ignition {
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub config: IgnitionConfig,
    #[serde(default, deserialize_with = "nullable")]
    pub timeouts: Timeouts,
    #[serde(default, deserialize_with = "nullable")]
    pub security: Security,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IgnitionConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub append: Vec<Reference>,
    #[serde(default)]
    pub replace: Option<Reference>,
}

/// A config or CA reference: a URL and an optional hash.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reference {
    #[serde(default, deserialize_with = "nullable")]
    pub source: String,
    #[serde(default, deserialize_with = "nullable")]
    pub verification: Verification,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Verification {
    #[serde(default)]
    pub hash: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Timeouts {
    #[serde(default)]
    pub http_response_headers: Option<i64>,
    #[serde(default)]
    pub http_total: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Security {
    #[serde(default, deserialize_with = "nullable")]
    pub tls: Tls,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tls {
    #[serde(default, deserialize_with = "nullable")]
    pub certificate_authorities: Vec<Reference>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Storage {
    #[serde(default, deserialize_with = "nullable")]
    pub disks: Vec<Disk>,
    #[serde(default, deserialize_with = "nullable")]
    pub raid: Vec<Raid>,
    #[serde(default, deserialize_with = "nullable")]
    pub filesystems: Vec<Filesystem>,
    #[serde(default, deserialize_with = "nullable")]
    pub files: Vec<File>,
    #[serde(default, deserialize_with = "nullable")]
    pub directories: Vec<Directory>,
    #[serde(default, deserialize_with = "nullable")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Disk {
    #[serde(default, deserialize_with = "nullable")]
    pub device: String,
    #[serde(default, deserialize_with = "nullable")]
    pub wipe_table: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub partitions: Vec<Partition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Partition {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub number: i64,
    /// In 512-byte sectors (2.0.0 to 2.2.0; deprecated by 2.3.0's `sizeMiB`).
    #[serde(default)]
    pub size: Option<i64>,
    /// In 512-byte sectors (2.0.0 to 2.2.0; deprecated by 2.3.0's `startMiB`).
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default, rename = "sizeMiB")]
    pub size_mib: Option<i64>,
    #[serde(default, rename = "startMiB")]
    pub start_mib: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub type_guid: String,
    #[serde(default, deserialize_with = "nullable")]
    pub guid: String,
    #[serde(default, deserialize_with = "nullable")]
    pub wipe_partition_entry: bool,
    #[serde(default)]
    pub should_exist: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Raid {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub level: String,
    #[serde(default, deserialize_with = "nullable")]
    pub devices: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub spares: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub options: Vec<String>,
}

/// A named filesystem: either one to mount (`mount`) or one already mounted at `path`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Filesystem {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub mount: Option<Mount>,
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Mount {
    #[serde(default, deserialize_with = "nullable")]
    pub device: String,
    #[serde(default, deserialize_with = "nullable")]
    pub format: String,
    #[serde(default)]
    pub create: Option<Create>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub wipe_filesystem: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub options: Vec<String>,
}

/// The deprecated `mount.create` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Create {
    #[serde(default, deserialize_with = "nullable")]
    pub force: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeUser {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
}

pub(crate) type NodeGroup = NodeUser;

/// The fields files, directories and links share. (Written out in each type rather than
/// flattened, because serde's flatten hides unused keys.)
pub(crate) struct Node<'a> {
    pub filesystem: &'a str,
    pub path: &'a str,
    pub user: &'a NodeUser,
    pub group: &'a NodeGroup,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct File {
    #[serde(default, deserialize_with = "nullable")]
    pub filesystem: String,
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user: NodeUser,
    #[serde(default, deserialize_with = "nullable")]
    pub group: NodeGroup,
    #[serde(default)]
    pub overwrite: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub append: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub contents: Contents,
    #[serde(default)]
    pub mode: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contents {
    #[serde(default, deserialize_with = "nullable")]
    pub compression: String,
    #[serde(default, deserialize_with = "nullable")]
    pub source: String,
    #[serde(default, deserialize_with = "nullable")]
    pub verification: Verification,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Directory {
    #[serde(default, deserialize_with = "nullable")]
    pub filesystem: String,
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user: NodeUser,
    #[serde(default, deserialize_with = "nullable")]
    pub group: NodeGroup,
    #[serde(default)]
    pub overwrite: Option<bool>,
    #[serde(default)]
    pub mode: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Link {
    #[serde(default, deserialize_with = "nullable")]
    pub filesystem: String,
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user: NodeUser,
    #[serde(default, deserialize_with = "nullable")]
    pub group: NodeGroup,
    #[serde(default)]
    pub overwrite: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub target: String,
    #[serde(default, deserialize_with = "nullable")]
    pub hard: bool,
}

impl File {
    pub fn node(&self) -> Node<'_> {
        Node {
            filesystem: &self.filesystem,
            path: &self.path,
            user: &self.user,
            group: &self.group,
        }
    }
}

impl Directory {
    pub fn node(&self) -> Node<'_> {
        Node {
            filesystem: &self.filesystem,
            path: &self.path,
            user: &self.user,
            group: &self.group,
        }
    }
}

impl Link {
    pub fn node(&self) -> Node<'_> {
        Node {
            filesystem: &self.filesystem,
            path: &self.path,
            user: &self.user,
            group: &self.group,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Systemd {
    #[serde(default, deserialize_with = "nullable")]
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Unit {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The deprecated form of `enabled: true`.
    #[serde(default, deserialize_with = "nullable")]
    pub enable: bool,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub mask: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub contents: String,
    #[serde(default, deserialize_with = "nullable")]
    pub dropins: Vec<Dropin>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dropin {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub contents: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Networkd {
    #[serde(default, deserialize_with = "nullable")]
    pub units: Vec<NetworkdUnit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkdUnit {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub contents: String,
    #[serde(default, deserialize_with = "nullable")]
    pub dropins: Vec<Dropin>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Passwd {
    #[serde(default, deserialize_with = "nullable")]
    pub users: Vec<User>,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub ssh_authorized_keys: Vec<String>,
    #[serde(default)]
    pub uid: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub gecos: String,
    #[serde(default, deserialize_with = "nullable")]
    pub home_dir: String,
    #[serde(default, deserialize_with = "nullable")]
    pub no_create_home: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub primary_group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub no_user_group: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub no_log_init: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub shell: String,
    #[serde(default, deserialize_with = "nullable")]
    pub system: bool,
    /// 2.0.0's way of giving the account fields; deprecated from 2.1.0, dropped by 3.x.
    #[serde(default)]
    pub create: Option<UserCreate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserCreate {
    #[serde(default)]
    pub uid: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub gecos: String,
    #[serde(default, deserialize_with = "nullable")]
    pub home_dir: String,
    #[serde(default, deserialize_with = "nullable")]
    pub no_create_home: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub primary_group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub no_user_group: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub no_log_init: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub shell: String,
    #[serde(default, deserialize_with = "nullable")]
    pub system: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Group {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub gid: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub password_hash: String,
    #[serde(default, deserialize_with = "nullable")]
    pub system: bool,
}
