//! Filesystems: devices, formats, labels, and how they relate to configured disks.

use std::collections::HashMap;

use super::paths::check_path;
use super::Ctx;
use crate::jp;
use crate::types::Storage;
use crate::version::SpecVersion;

pub(crate) fn validate(ctx: &mut Ctx<'_>, s: &Storage) {
    let disks: HashMap<&str, _> = s.disks.iter().map(|d| (d.device.as_str(), d)).collect();
    for (i, fs) in s.filesystems.iter().enumerate() {
        let at = jp!("storage", "filesystems", i);
        if let Some(disk) = disks.get(fs.device.as_str()) {
            if !disk.partitions.is_empty() {
                ctx.warning(at.key("device"), "filesystem overwrites partitioned device: point device at a partition (e.g. /dev/disk/by-partlabel/…) instead of the whole disk");
            } else if fs.wipe_filesystem != Some(true) && disk.wipe_table == Some(true) {
                ctx.warning(at.key("device"), "device matches disk with wipeTable enabled; filesystem will be wiped: set wipeFilesystem to true to make that explicit");
            }
        }
    }
    for (i, fs) in s.filesystems.iter().enumerate() {
        let at = jp!("storage", "filesystems", i);
        if let Some(path) = fs.path.as_deref().filter(|p| !p.is_empty()) {
            check_path(ctx, path, || at.key("path"));
        }
        check_path(ctx, &fs.device, || at.key("device"));
        let nonempty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let format = fs.format.as_deref().unwrap_or("");
        if format.is_empty() {
            if nonempty(&fs.path)
                || nonempty(&fs.label)
                || nonempty(&fs.uuid)
                || fs.wipe_filesystem == Some(true)
                || !fs.mount_options.is_empty()
                || !fs.options.is_empty()
            {
                ctx.error(
                    at.key("format"),
                    "format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified: set format (ext4, xfs, btrfs, vfat, swap or none)",
                );
            }
        } else {
            let known = ["ext4", "btrfs", "xfs", "swap", "vfat"].contains(&format)
                || (format == "none" && ctx.since(SpecVersion::V3_3));
            if !known {
                let choices = if ctx.since(SpecVersion::V3_3) {
                    "ext4, xfs, btrfs, vfat, swap or none"
                } else {
                    "ext4, xfs, btrfs, vfat or swap"
                };
                ctx.error(
                    at.key("format"),
                    format!("invalid filesystem format {format:?}: use {choices}"),
                );
            }
        }
        if let Some(label) = fs.label.as_deref().filter(|l| !l.is_empty()) {
            let limit = match format {
                "" => {
                    ctx.error(
                        at.key("label"),
                        "filesystem must specify format if label is specified",
                    );
                    None
                }
                "ext4" => Some(16),
                "btrfs" => Some(256),
                "xfs" => Some(12),
                "swap" => Some(15),
                "vfat" => Some(11),
                _ => None,
            };
            if let Some(limit) = limit.filter(|l| label.len() > *l) {
                ctx.error(
                    at.key("label"),
                    format!("filesystem labels cannot be longer than {limit} characters when using {format}: shorten the label"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn fs(v: &str, body: &str) -> String {
        format!(r#"{{"ignition":{{"version":"{v}"}},"storage":{{"filesystems":[{body}]}}}}"#)
    }

    #[test]
    fn formats_depend_on_the_version() {
        assert_error(
            &fs("3.2.0", r#"{"device":"/dev/vdb","format":"none"}"#),
            "$.storage.filesystems.0.format",
            "invalid filesystem format",
        );
        assert_clean(&fs("3.3.0", r#"{"device":"/dev/vdb","format":"none"}"#));
        assert_error(
            &fs("3.3.0", r#"{"device":"/dev/vdb","format":"ntfs"}"#),
            "$.storage.filesystems.0.format",
            "invalid filesystem format",
        );
    }

    #[test]
    fn other_fields_need_a_format() {
        assert_error(
            &fs("3.0.0", r#"{"device":"/dev/vdb","path":"/var"}"#),
            "$.storage.filesystems.0.format",
            "format cannot be empty",
        );
        assert_error(
            &fs("3.0.0", r#"{"device":"/dev/vdb","label":"x"}"#),
            "$.storage.filesystems.0.label",
            "filesystem must specify format",
        );
    }

    #[test]
    fn labels_are_limited_per_format() {
        assert_error(
            &fs(
                "3.0.0",
                r#"{"device":"/dev/vdb","format":"xfs","label":"thirteen-long"}"#,
            ),
            "$.storage.filesystems.0.label",
            "filesystem labels cannot be longer than 12",
        );
        assert_clean(&fs(
            "3.0.0",
            r#"{"device":"/dev/vdb","format":"ext4","label":"sixteen-chars-ok"}"#,
        ));
    }

    #[test]
    fn devices_and_paths_are_absolute() {
        assert_error(
            &fs("3.0.0", r#"{"device":"vdb","format":"ext4"}"#),
            "$.storage.filesystems.0.device",
            "path not absolute",
        );
        assert_error(
            &fs(
                "3.0.0",
                r#"{"device":"/dev/vdb","format":"ext4","path":"var"}"#,
            ),
            "$.storage.filesystems.0.path",
            "path not absolute",
        );
    }
}
