//! The `systemd` section: units and their drop-ins.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::de::{is_default, nullable};

/// systemd units to write, enable, disable or mask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Systemd {
    /// The units.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub units: Vec<Unit>,
}

/// One systemd unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unit {
    /// The unit file name with its type suffix, such as `hello.service`. Unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Whether the unit is enabled (`true`), disabled (`false`), or left alone (unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether the unit is masked (linked to `/dev/null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<bool>,
    /// The unit file's contents. Leave unset to keep an existing unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
    /// Drop-in files for this unit.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_default"
    )]
    pub dropins: Vec<Dropin>,
}

/// A drop-in file under `<unit>.d/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dropin {
    /// The drop-in file name, ending in `.conf`. Unique within the unit.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The drop-in's contents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
}
