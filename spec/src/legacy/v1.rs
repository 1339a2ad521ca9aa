//! Spec 1 (`"ignitionVersion": 1`), CoreOS Container Linux's first config format, and its
//! translation to the 2.x model, as Flatcar's Ignition does it: each filesystem gets a
//! generated name (`_translate-filesystem-<index>`) that its files then refer to, and inline
//! file contents become `data:` URLs.

use serde::Deserialize;

use super::translate::Origins;
use super::types as v2;
use super::url::data_url;
use crate::de::nullable;
use crate::jp;
use crate::report::Report;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Config {
    #[serde(default, deserialize_with = "nullable")]
    pub ignition_version: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub storage: Storage,
    #[serde(default, deserialize_with = "nullable")]
    pub systemd: v2::Systemd,
    #[serde(default, deserialize_with = "nullable")]
    pub networkd: Networkd,
    #[serde(default, deserialize_with = "nullable")]
    pub passwd: Passwd,
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
    #[serde(default, deserialize_with = "nullable")]
    pub label: String,
    #[serde(default, deserialize_with = "nullable")]
    pub number: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub size: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub start: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub type_guid: String,
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
}

/// A filesystem and the files written into it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Filesystem {
    #[serde(default, deserialize_with = "nullable")]
    pub device: String,
    #[serde(default, deserialize_with = "nullable")]
    pub format: String,
    #[serde(default)]
    pub create: Option<v2::Create>,
    #[serde(default, deserialize_with = "nullable")]
    pub files: Vec<File>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct File {
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// The contents themselves, not a URL.
    #[serde(default, deserialize_with = "nullable")]
    pub contents: String,
    #[serde(default)]
    pub mode: Option<i64>,
    #[serde(default)]
    pub uid: Option<i64>,
    #[serde(default)]
    pub gid: Option<i64>,
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Passwd {
    #[serde(default, deserialize_with = "nullable")]
    pub users: Vec<User>,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<v2::Group>,
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
    pub create: Option<v2::UserCreate>,
}

/// The name spec 1's filesystem number `index` gets in the 2.x model.
pub(crate) fn filesystem_name(index: usize) -> String {
    format!("_translate-filesystem-{index}")
}

/// Spec 1's own rules, by spec 1's paths: what the 2.x checks could only report by the
/// paths of the 2.x model built from it.
pub(crate) fn validate(config: &Config, report: &mut Report) {
    if config.ignition_version != 1 {
        report.error(
            jp!("ignitionVersion"),
            format!(
                "ignitionVersion must be 1, found {}: write newer configs with \"ignition\": {{\"version\": \"3.6.0\"}}",
                config.ignition_version
            ),
        );
    }
    for (i, fs) in config.storage.filesystems.iter().enumerate() {
        let at = jp!("storage", "filesystems", i);
        super::validate::device(&fs.device, &at.key("device"), report);
        super::validate::format(&fs.format, &at.key("format"), report);
        for (j, file) in fs.files.iter().enumerate() {
            let at = at.key("files").index(j);
            super::validate::absolute(&file.path, &at.key("path"), report);
            super::validate::mode(file.mode, &at.key("mode"), report);
        }
    }
}

/// Builds the 2.x model of a spec 1 config, as Flatcar's Ignition does before translating on.
pub(crate) fn to_v2(old: Config) -> (v2::Config, Origins) {
    let mut new = v2::Config::default();
    let mut origins = Origins::default();
    new.ignition.version = "2.0.0".to_owned();
    for disk in old.storage.disks {
        new.storage.disks.push(v2::Disk {
            device: disk.device,
            wipe_table: disk.wipe_table,
            partitions: disk
                .partitions
                .into_iter()
                .map(|p| v2::Partition {
                    label: (!p.label.is_empty()).then_some(p.label),
                    number: p.number,
                    size: Some(p.size),
                    start: Some(p.start),
                    type_guid: p.type_guid,
                    ..v2::Partition::default()
                })
                .collect(),
        });
    }
    for array in old.storage.raid {
        new.storage.raid.push(v2::Raid {
            name: array.name,
            level: array.level,
            devices: array.devices,
            spares: array.spares,
            options: Vec::new(),
        });
    }
    for (i, fs) in old.storage.filesystems.into_iter().enumerate() {
        let name = filesystem_name(i);
        origins.filesystems.push(jp!("storage", "filesystems", i));
        for (j, file) in fs.files.into_iter().enumerate() {
            origins
                .files
                .push(jp!("storage", "filesystems", i, "files", j));
            new.storage.files.push(v2::File {
                filesystem: name.clone(),
                path: file.path,
                user: v2::NodeUser {
                    id: file.uid,
                    name: None,
                },
                group: v2::NodeUser {
                    id: file.gid,
                    name: None,
                },
                contents: v2::Contents {
                    source: data_url(file.contents.as_bytes()),
                    ..v2::Contents::default()
                },
                mode: file.mode,
                ..v2::File::default()
            });
        }
        new.storage.filesystems.push(v2::Filesystem {
            name,
            mount: Some(v2::Mount {
                device: fs.device,
                format: fs.format,
                create: fs.create,
                ..v2::Mount::default()
            }),
            path: None,
        });
    }
    new.systemd = old.systemd;
    new.networkd.units = old
        .networkd
        .units
        .into_iter()
        .map(|u| v2::NetworkdUnit {
            name: u.name,
            contents: u.contents,
            dropins: Vec::new(),
        })
        .collect();
    new.passwd.groups = old.passwd.groups;
    new.passwd.users = old
        .passwd
        .users
        .into_iter()
        .map(|u| v2::User {
            name: u.name,
            password_hash: u.password_hash,
            ssh_authorized_keys: u.ssh_authorized_keys,
            create: u.create,
            ..v2::User::default()
        })
        .collect();
    (new, origins)
}
