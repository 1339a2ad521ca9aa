//! fcos `boot_device`: LUKS on the root filesystem (TPM2, Tang, threshold, discard, or an
//! IBM Crypto Express card) and/or mirroring of the boot disk, rendered as the partitions,
//! RAID arrays, LUKS volume and filesystems of the OS image layout, under the user's config.

use crate::merge;
use crate::translate::{to_json, Ctx};
use crate::tree::{OriginId, K, V};

const RESERVED_TYPE_GUID: &str = "8DA63339-0007-60C0-C436-083AC8230908";
const BIOS_TYPE_GUID: &str = "21686148-6449-6E6F-744E-656564454649";
const PREP_TYPE_GUID: &str = "9E1A2D38-C612-4316-AA26-8B49521E5A8B";
const ESP_TYPE_GUID: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const WARN_MIRROR_WITHOUT_LAYOUT: &str =
    "boot_device.layout should be specified when boot_device.mirror is specified";

// Sizes of the partitions of the OS image; new layouts would need new templates.
const RESERVED_MIB: i64 = 1;
const BIOS_MIB: i64 = 1;
const PREP_MIB: i64 = 4;
const ESP_MIB: i64 = 127;
const BOOT_MIB: i64 = 384;

pub const WARN_WRONG_PARTITION_NUMBER: &str =
    "incorrect partition number; a new partition will be created using reserved label";

fn obj(o: OriginId, fields: Vec<(&'static str, V)>) -> V {
    V::new(o, K::Obj(fields))
}

fn partition(o: OriginId, label: String, size: Option<i64>, type_guid: Option<&str>) -> V {
    let mut p = obj(o, vec![("label", V::str(o, label))]);
    if let Some(s) = size {
        p.set("sizeMiB", V::int(o, s));
    }
    if let Some(t) = type_guid {
        p.set("typeGuid", V::str(o, t));
    }
    p
}

fn filesystem(o: OriginId, device: String, format: &str, label: String) -> V {
    obj(
        o,
        vec![
            ("device", V::str(o, device)),
            ("format", V::str(o, format)),
            ("label", V::str(o, label)),
            ("wipeFilesystem", V::bool(o, true)),
        ],
    )
}

pub fn apply(root: &V, out: &mut V, cx: &mut Ctx<'_>) {
    let Some(bd) = root.get("boot_device") else {
        return;
    };
    let luks = bd.get("luks");
    let cex = cx.dialect.minor >= 6
        && luks
            .and_then(|l| l.get("cex"))
            .is_some_and(|c| c.is_true("enabled"));
    let want_luks = luks.is_some_and(|l| l.is_true("tpm2") || !l.list_at("tang").is_empty()) || cex;
    let mirror = bd.get("mirror");
    let devices = mirror.map_or(&[][..], |m| m.list_at("devices"));
    let want_mirror = !devices.is_empty();
    if !want_luks && !want_mirror {
        return;
    }
    let layout = bd.str_at("layout");
    if let (Some(m), None, true) = (mirror, layout, want_mirror) {
        // Butane's warning: the partitions mirrored depend on the architecture's layout,
        // and x86_64's is only a default.
        cx.diag.warning(m.origin, WARN_MIRROR_WITHOUT_LAYOUT);
    }
    let (bios, efi, prep) = match layout {
        None | Some("x86_64") => (true, true, false),
        Some("aarch64") => (false, true, false),
        Some("ppc64le") => (false, false, true),
        Some("s390x-eckd" | "s390x-virt" | "s390x-zfcp") => (false, false, false),
        Some(_) => return, // reported by the checks
    };

    let mut disks = Vec::new();
    let mut filesystems = Vec::new();
    let mut raid = Vec::new();
    if want_mirror {
        for (i, dev) in devices.iter().enumerate() {
            let o = dev.origin;
            let n = i + 1;
            let mut parts = Vec::new();
            if bios {
                parts.push(partition(
                    o,
                    format!("bios-{n}"),
                    Some(BIOS_MIB),
                    Some(BIOS_TYPE_GUID),
                ));
            } else if prep {
                parts.push(partition(
                    o,
                    format!("prep-{n}"),
                    Some(PREP_MIB),
                    Some(PREP_TYPE_GUID),
                ));
            } else {
                parts.push(partition(
                    o,
                    format!("reserved-{n}"),
                    Some(RESERVED_MIB),
                    Some(RESERVED_TYPE_GUID),
                ));
            }
            if efi {
                parts.push(partition(
                    o,
                    format!("esp-{n}"),
                    Some(ESP_MIB),
                    Some(ESP_TYPE_GUID),
                ));
            } else {
                parts.push(partition(
                    o,
                    format!("reserved-{n}"),
                    Some(RESERVED_MIB),
                    Some(RESERVED_TYPE_GUID),
                ));
            }
            parts.push(partition(o, format!("boot-{n}"), Some(BOOT_MIB), None));
            parts.push(partition(o, format!("root-{n}"), None, None));
            disks.push(obj(
                o,
                vec![
                    ("device", V::str(o, dev.as_str().unwrap_or_default())),
                    ("partitions", V::list(o, parts)),
                    ("wipeTable", V::bool(o, true)),
                ],
            ));
            if efi {
                filesystems.push(filesystem(
                    o,
                    format!("/dev/disk/by-partlabel/esp-{n}"),
                    "vfat",
                    format!("esp-{n}"),
                ));
            }
        }
        let mo = mirror.map_or(bd.origin, |m| m.origin);
        let members = |prefix: &str| {
            V::list(
                mo,
                (1..=devices.len())
                    .map(|n| V::str(mo, format!("/dev/disk/by-partlabel/{prefix}-{n}")))
                    .collect(),
            )
        };
        raid.push(obj(
            mo,
            vec![
                ("devices", members("boot")),
                ("level", V::str(mo, "raid1")),
                ("name", V::str(mo, "md-boot")),
                ("options", V::list(mo, vec![V::str(mo, "--metadata=1.0")])),
            ],
        ));
        raid.push(obj(
            mo,
            vec![
                ("devices", members("root")),
                ("level", V::str(mo, "raid1")),
                ("name", V::str(mo, "md-root")),
            ],
        ));
        filesystems.push(filesystem(
            mo,
            "/dev/md/md-boot".to_owned(),
            "ext4",
            "boot".to_owned(),
        ));
    }

    let mut luks_list = Vec::new();
    if let (true, Some(l)) = (want_luks, luks) {
        let o = l.origin;
        let device = l.str_at("device").unwrap_or_default();
        let luks_device = match layout {
            Some("s390x-eckd") => format!("{device}2"),
            Some("s390x-zfcp") => format!("{device}4"),
            _ if want_mirror => "/dev/md/md-root".to_owned(),
            _ => "/dev/disk/by-partlabel/root".to_owned(),
        };
        let mut entry = V::obj(o);
        if cex {
            let cex_src = l.get("cex").map_or(o, |c| c.origin);
            entry.set(
                "cex",
                obj(cex_src, vec![("enabled", V::bool(cex_src, true))]),
            );
        } else {
            let mut clevis = V::obj(o);
            for (key, json) in [
                ("tang", "tang"),
                ("threshold", "threshold"),
                ("tpm2", "tpm2"),
            ] {
                if let Some(v) = l.get(key) {
                    let converted = match key {
                        "tang" => V::list(
                            v.origin,
                            v.as_list()
                                .iter()
                                .map(|t| to_json(tang_def(), t, cx))
                                .collect(),
                        ),
                        _ => v.clone(),
                    };
                    clevis.set(json, converted);
                }
            }
            entry.set("clevis", clevis);
        }
        entry.set("device", V::str(o, luks_device));
        if let Some(d) = l.get("discard") {
            entry.set("discard", d.clone());
        }
        entry.set("label", V::str(o, "luks-root"));
        entry.set("name", V::str(o, "root"));
        entry.set("wipeVolume", V::bool(o, true));
        luks_list.push(entry);
    }

    let root_device = if want_luks {
        "/dev/mapper/root"
    } else {
        "/dev/md/md-root"
    };
    filesystems.push(filesystem(
        bd.origin,
        root_device.to_owned(),
        "xfs",
        "root".to_owned(),
    ));

    let o = bd.origin;
    let mut storage = V::obj(o);
    if !disks.is_empty() {
        storage.set("disks", V::list(o, disks));
    }
    storage.set("filesystems", V::list(o, filesystems));
    if !luks_list.is_empty() {
        storage.set("luks", V::list(o, luks_list));
    }
    if !raid.is_empty() {
        storage.set("raid", V::list(o, raid));
    }
    let parent = obj(o, vec![("storage", storage)]);
    let child = std::mem::replace(out, V::obj(root.origin));
    *out = merge::merge(parent, child);
}

fn tang_def() -> &'static crate::schema::Obj {
    crate::schema::ROOT
        .fields
        .iter()
        .find(|f| f.yaml == "boot_device")
        .and_then(|f| f.ty.obj())
        .and_then(|bd| bd.fields.iter().find(|f| f.yaml == "luks"))
        .and_then(|f| f.ty.obj())
        .and_then(|l| l.fields.iter().find(|f| f.yaml == "tang"))
        .and_then(|f| f.ty.obj())
        .unwrap_or(&crate::schema::ROOT)
}

/// Partitions with the OS image's reserved labels but another number create a new
/// partition instead of reusing the image's (on disks whose table is kept).
pub fn warn_reserved_labels(out: &V, cx: &mut Ctx<'_>) {
    let Some(storage) = out.get("storage") else {
        return;
    };
    for disk in storage.list_at("disks") {
        if disk.is_true("wipeTable") {
            continue;
        }
        for part in disk.list_at("partitions") {
            let Some(label) = part.get("label") else {
                continue;
            };
            let number = part.get("number").and_then(V::as_int).unwrap_or(0);
            let expected = match label.as_str().unwrap_or_default() {
                "BIOS-BOOT" | "PowerPC-PReP-boot" => 1,
                "EFI-SYSTEM" => 2,
                "boot" => 3,
                "root" => 4,
                _ => continue,
            };
            if number != expected {
                cx.diag.warning(label.origin, WARN_WRONG_PARTITION_NUMBER);
            }
        }
    }
}
