//! The `storage` section: disks, RAID, LUKS, filesystems and the files written into them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Resource;
use crate::de::{is_default, nullable};

/// Block devices and the files, directories and links to write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// Disks to partition.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub disks: Vec<Disk>,
    /// Software RAID arrays to build.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub raid: Vec<Raid>,
    /// Filesystems to create or reuse, and where to mount them while provisioning.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub filesystems: Vec<Filesystem>,
    /// Files to write.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub files: Vec<File>,
    /// Directories to create.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub directories: Vec<Directory>,
    /// Symbolic and hard links to create.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub links: Vec<Link>,
    /// LUKS2 encrypted volumes.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub luks: Vec<Luks>,
}

/// A disk and its GPT partitions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    /// The absolute path of the disk device, such as `/dev/vdb`. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub device: String,
    /// Wipe the partition table before partitioning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wipe_table: Option<bool>,
    /// Partitions the disk must (or must not) have.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub partitions: Vec<Partition>,
}

/// One GPT partition, matched to an existing one by number or label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Partition {
    /// The partition label: at most 36 characters, no `:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The partition number; 0 means the next free number.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub number: i64,
    /// Size in MiB; 0 means as large as possible.
    #[serde(rename = "sizeMiB", skip_serializing_if = "Option::is_none")]
    pub size_mib: Option<i64>,
    /// Start in MiB; 0 means the start of the largest free area.
    #[serde(rename = "startMiB", skip_serializing_if = "Option::is_none")]
    pub start_mib: Option<i64>,
    /// The GPT partition type GUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_guid: Option<String>,
    /// The partition's unique GUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// Delete and recreate the partition when it does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wipe_partition_entry: Option<bool>,
    /// `false` deletes the partition; unset or `true` creates or keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_exist: Option<bool>,
    /// Grow an existing partition to the given size instead of failing on a size mismatch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize: Option<bool>,
}

/// A software RAID array built with mdadm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Raid {
    /// The array name, used as `/dev/md/<name>`. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The RAID level: `linear`, `raid0`, `0`, `stripe`, `raid1`, `1`, `mirror`, `raid4`, `4`,
    /// `raid5`, `5`, `raid6`, `6`, `raid10` or `10`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The absolute paths of the member devices.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub devices: Vec<String>,
    /// How many of the devices are spares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spares: Option<i64>,
    /// Extra options passed to `mdadm --create`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub options: Vec<String>,
}

/// A filesystem on a device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Filesystem {
    /// The absolute path of the device. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub device: String,
    /// The filesystem type: `ext4`, `btrfs`, `xfs`, `vfat`, `swap` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Erase whatever is on the device before creating the filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wipe_filesystem: Option<bool>,
    /// The filesystem label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The filesystem UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Extra options passed to mkfs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub options: Vec<String>,
    /// Where the filesystem is mounted in the target system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Mount options used while provisioning.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub mount_options: Vec<String>,
}

/// The owning user of a file, directory or link, by id or by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeUser {
    /// The user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The user name, looked up in the target system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The owning group of a file, directory or link, by id or by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroup {
    /// The group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The group name, looked up in the target system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A regular file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// The absolute path of the file. Unique across files, directories and links.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// Replace an existing file at `path` instead of failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    /// The owner.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub user: NodeUser,
    /// The owning group.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub group: NodeGroup,
    /// The file's contents.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub contents: Resource,
    /// Content appended to the file, in order.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub append: Vec<Resource>,
    /// The permission bits as a decimal number (0644 octal is 420); default 0644.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<i64>,
}

/// A directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// The absolute path of the directory. Unique across files, directories and links.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// Replace an existing non-directory at `path` instead of failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    /// The owner.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub user: NodeUser,
    /// The owning group.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub group: NodeGroup,
    /// The permission bits as a decimal number (0755 octal is 493); default 0755.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<i64>,
}

/// A symbolic or hard link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The absolute path of the link. Unique across files, directories and links.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// Replace an existing node at `path` instead of failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    /// The owner of a symbolic link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub user: NodeUser,
    /// The owning group of a symbolic link.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub group: NodeGroup,
    /// What the link points to. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Make a hard link instead of a symbolic one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hard: Option<bool>,
}

/// A LUKS2 encrypted volume, opened as `/dev/mapper/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Luks {
    /// The mapping name. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The absolute path of the device to encrypt. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The key, as a resource; a random key is generated when unset.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub key_file: Resource,
    /// The LUKS label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The LUKS UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Extra options passed to `cryptsetup luksFormat`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub options: Vec<String>,
    /// Erase whatever is on the device before formatting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wipe_volume: Option<bool>,
    /// Bind the volume to network or TPM unlocking with Clevis.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub clevis: Clevis,
    /// Allow discards (TRIM) through the encrypted layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard: Option<bool>,
    /// Extra options passed to `cryptsetup luksOpen`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub open_options: Vec<String>,
    /// IBM Crypto Express (CEX) secure keys, on s390x.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub cex: Cex,
}

/// Clevis bindings for a LUKS volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Clevis {
    /// A hand-written Clevis pin configuration; excludes the other fields.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub custom: ClevisCustom,
    /// Tang servers to bind to.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub tang: Vec<Tang>,
    /// How many bindings must succeed to unlock (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// Bind to the TPM2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpm2: Option<bool>,
}

/// A custom Clevis pin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClevisCustom {
    /// The pin's JSON configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Whether unlocking needs the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_network: Option<bool>,
    /// The pin: `tpm2`, `tang` or `sss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

/// A Tang server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tang {
    /// The server's `http` or `https` URL. Unique within the list.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// The thumbprint of a trusted signing key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// The server's advertisement (JSON), to bind without contacting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertisement: Option<String>,
}

/// IBM Crypto Express settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cex {
    /// Encrypt with a CEX secure key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}
