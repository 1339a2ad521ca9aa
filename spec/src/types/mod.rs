//! The config model of spec 3.6.0. Older versions are read into the same model after the
//! fields they lack are set aside (see `gate`).

mod ignition;
mod passwd;
mod resource;
mod storage;
mod systemd;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use ignition::{Ignition, IgnitionConfig, Proxy, Security, Timeouts, Tls};
pub use passwd::{Passwd, PasswdGroup, PasswdUser};
pub use resource::{HttpHeader, Resource, Verification};
pub use storage::{
    Cex, Clevis, ClevisCustom, Directory, Disk, File, Filesystem, Link, Luks, NodeGroup, NodeUser,
    Partition, Raid, Storage, Tang,
};
pub use systemd::{Dropin, Systemd, Unit};

impl Config {
    /// Reads a config that is already known to fit the model (one Kindling wrote, or a merge
    /// of two), with serde's plain errors and unknown keys ignored. User input goes through
    /// [`crate::parse`] instead, which reports every problem by its JSON path.
    ///
    /// It runs the parser's own compiled deserializer rather than one of its own, so the
    /// engine carries that code once (see `fast::config_from_text`).
    pub fn from_json(text: &str) -> Result<Config, serde_json::Error> {
        crate::fast::config_from_text(text, &mut |_| {})
    }
}

use crate::de::{is_default, nullable};

/// An Ignition config, spec 3.6.0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "Ignition config, spec 3.6.0")]
pub struct Config {
    /// Metadata about the config. `ignition.version` is required.
    #[serde(default, deserialize_with = "nullable")]
    pub ignition: Ignition,
    /// Kernel arguments the installed system must (not) have.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub kernel_arguments: KernelArguments,
    /// Users and groups.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub passwd: Passwd,
    /// Disks, filesystems, files, directories and links.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub storage: Storage,
    /// systemd units.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub systemd: Systemd,
}

/// Kernel arguments to add or remove on the installed system.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KernelArguments {
    /// Arguments that must be present.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub should_exist: Vec<String>,
    /// Arguments that must be absent.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub should_not_exist: Vec<String>,
}
