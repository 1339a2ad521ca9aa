//! Spec 2.x's validation rules, a subset: the ones that catch real mistakes (paths, modes,
//! hashes, URLs, unit names, filesystem references) and the ones translation depends on.
//! Each finding carries the JSON path in the 2.x config as written.

use std::collections::HashMap;

use super::types::{Config, Contents, Mount, Node, Partition, Reference, User};
use super::LegacyVersion;
use crate::jp;
use crate::path::JsonPath;
use crate::report::Report;
use crate::validate::resource::check_url;
use crate::version::SpecVersion;

/// Formats spec 2.x can create.
const FORMATS: &[&str] = &["ext4", "btrfs", "xfs", "swap", "vfat"];

pub(crate) fn validate(version: LegacyVersion, c: &Config, report: &mut Report) {
    let ign = &c.ignition;
    for (i, r) in ign.config.append.iter().enumerate() {
        reference(r, &jp!("ignition", "config", "append", i), report);
    }
    if let Some(r) = &ign.config.replace {
        reference(r, &jp!("ignition", "config", "replace"), report);
    }
    for (i, r) in ign.security.tls.certificate_authorities.iter().enumerate() {
        let at = jp!("ignition", "security", "tls", "certificateAuthorities", i);
        reference(r, &at, report);
    }
    for (key, value) in [
        ("httpResponseHeaders", ign.timeouts.http_response_headers),
        ("httpTotal", ign.timeouts.http_total),
    ] {
        if value.is_some_and(|v| v < 0) {
            report.error(
                jp!("ignition", "timeouts", key),
                "timeouts must be non-negative: give seconds, or leave it unset for the default",
            );
        }
    }

    let s = &c.storage;
    for (i, disk) in s.disks.iter().enumerate() {
        let at = jp!("storage", "disks", i);
        device(&disk.device, &at.key("device"), report);
        for (j, p) in disk.partitions.iter().enumerate() {
            partition(p, &at.key("partitions").index(j), report);
        }
    }
    for (i, array) in s.raid.iter().enumerate() {
        let at = jp!("storage", "raid", i);
        if array.name.is_empty() {
            report.error(
                at.key("name"),
                "raid array has no name: set name, used as /dev/md/<name>",
            );
        }
        for (j, dev) in array.devices.iter().enumerate() {
            device(dev, &at.key("devices").index(j), report);
        }
    }

    // Filesystem names: "root" is predefined; every other name must be defined once.
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, fs) in s.filesystems.iter().enumerate() {
        let at = jp!("storage", "filesystems", i);
        if fs.name.is_empty() {
            report.warning(
                at.key("name"),
                "filesystem has no name: files, directories and links cannot refer to it; give it a name",
            );
        } else if let Some(first) = names.insert(&fs.name, i) {
            report.error(
                at.key("name"),
                format!(
                    "filesystem name {:?} is already used by storage.filesystems.{first}: give each filesystem its own name",
                    fs.name
                ),
            );
        }
        match (&fs.mount, &fs.path) {
            (None, None) => report.error(
                at.clone(),
                "filesystem must specify mount or path: give mount (device and format) for one to mount, or path for one already mounted",
            ),
            (Some(_), Some(_)) => report.error(
                at.key("path"),
                "filesystem must not specify mount and path: keep mount to mount the device, or path for a filesystem that is already mounted",
            ),
            (None, Some(path)) => absolute(path, &at.key("path"), report),
            (Some(m), None) => mount(m, &at.key("mount"), report),
        }
    }
    let known = |name: &str| name == "root" || names.contains_key(name);

    for (i, f) in s.files.iter().enumerate() {
        let at = jp!("storage", "files", i);
        node(&f.node(), &at, &known, report);
        mode(f.mode, &at.key("mode"), report);
        contents(&f.contents, &at.key("contents"), report);
    }
    for (i, d) in s.directories.iter().enumerate() {
        let at = jp!("storage", "directories", i);
        node(&d.node(), &at, &known, report);
        mode(d.mode, &at.key("mode"), report);
    }
    for (i, l) in s.links.iter().enumerate() {
        let at = jp!("storage", "links", i);
        node(&l.node(), &at, &known, report);
        if l.target.is_empty() {
            report.error(
                at.key("target"),
                "link has no target: set target to the path the link points to",
            );
        }
    }

    for (i, unit) in c.systemd.units.iter().enumerate() {
        let at = jp!("systemd", "units", i);
        unit_name(&unit.name, SYSTEMD_TYPES, &at.key("name"), report);
        if unit.enable {
            report.warning(
                at.key("enable"),
                "enable is deprecated: use enabled: true (it is translated to that)",
            );
        }
        for (j, d) in unit.dropins.iter().enumerate() {
            dropin_name(&d.name, &at.key("dropins").index(j).key("name"), report);
        }
    }
    for (i, unit) in c.networkd.units.iter().enumerate() {
        let at = jp!("networkd", "units", i);
        unit_name(&unit.name, NETWORKD_TYPES, &at.key("name"), report);
        for (j, d) in unit.dropins.iter().enumerate() {
            dropin_name(&d.name, &at.key("dropins").index(j).key("name"), report);
        }
    }

    for (i, user) in c.passwd.users.iter().enumerate() {
        passwd_user(version, user, &jp!("passwd", "users", i), report);
    }
    for (i, group) in c.passwd.groups.iter().enumerate() {
        if group.name.is_empty() {
            report.error(
                jp!("passwd", "groups", i, "name"),
                "group has no name: set name",
            );
        }
    }
}

fn reference(r: &Reference, at: &JsonPath, report: &mut Report) {
    if r.source.is_empty() {
        report.error(
            at.key("source"),
            "source is required: set it to the URL to fetch",
        );
    } else {
        url(&r.source, &at.key("source"), report);
    }
    if let Some(h) = &r.verification.hash {
        hash(h, &at.key("verification").key("hash"), report);
    }
}

fn contents(c: &Contents, at: &JsonPath, report: &mut Report) {
    if !c.source.is_empty() {
        url(&c.source, &at.key("source"), report);
    }
    if !matches!(c.compression.as_str(), "" | "gzip") {
        report.error(
            at.key("compression"),
            format!(
                "invalid compression method {:?}: use gzip, or leave it unset",
                c.compression
            ),
        );
    }
    if let Some(h) = &c.verification.hash {
        hash(h, &at.key("verification").key("hash"), report);
    }
}

/// 2.x's schemes, plus Flatcar's `oem://` (whether the fetch layer reads it is for the 3.x
/// checks of the translated config to say).
fn url(source: &str, at: &JsonPath, report: &mut Report) {
    if source.to_ascii_lowercase().starts_with("oem:") {
        return;
    }
    if let Err(msg) = check_url(SpecVersion::V3_0, source) {
        report.error(at.clone(), msg);
    }
}

/// Spec 2.x hashes: `sha512-<128 hex digits>`.
fn hash(hash: &str, at: &JsonPath, report: &mut Report) {
    let problem = match hash.split_once('-') {
        None => Some("malformed hash specifier: write it as sha512-<hex digest>".to_owned()),
        Some(("sha512", sum)) if sum.len() == 128 && sum.bytes().all(|b| b.is_ascii_hexdigit()) => {
            None
        }
        Some(("sha512", sum)) => Some(format!(
            "incorrect size for hash sum: a sha512 digest has 128 hex digits, found {}",
            sum.len()
        )),
        Some((other, _)) => Some(format!(
            "unrecognized hash function {other:?}: spec 2.x supports sha512 only"
        )),
    };
    if let Some(msg) = problem {
        report.error(at.clone(), msg);
    }
}

fn partition(p: &Partition, at: &JsonPath, report: &mut Report) {
    if let Some(label) = &p.label {
        if label.chars().count() > 36 {
            report.error(
                at.key("label"),
                "partition labels may not exceed 36 characters: shorten it",
            );
        }
    }
    if p.number < 0 {
        report.error(
            at.key("number"),
            "partition number must not be negative: use 0 for the next free number",
        );
    }
    if (p.size.is_some() || p.start.is_some()) && (p.size_mib.is_some() || p.start_mib.is_some()) {
        report.error(
            at.clone(),
            "cannot mix sectors (size, start) and MiB (sizeMiB, startMiB): give the partition in MiB only",
        );
    }
    for (key, value) in [
        ("size", p.size),
        ("start", p.start),
        ("sizeMiB", p.size_mib),
        ("startMiB", p.start_mib),
    ] {
        if value.is_some_and(|v| v < 0) {
            report.error(
                at.key(key),
                format!("{key} must not be negative: use 0 for the default"),
            );
        }
    }
}

fn mount(m: &Mount, at: &JsonPath, report: &mut Report) {
    device(&m.device, &at.key("device"), report);
    format(&m.format, &at.key("format"), report);
    if let Some(create) = &m.create {
        report.warning(
            at.key("create"),
            "create is deprecated: use wipeFilesystem (2.1.0) instead",
        );
        if m.wipe_filesystem {
            report.error(at.key("wipeFilesystem"), "cannot use create and wipeFilesystem together: keep wipeFilesystem and remove create");
        }
        if !m.options.is_empty() {
            report.error(at.key("options"), "cannot use create with mount options: move the mkfs options into options and remove create");
        }
        if !create.force {
            // 3.x can only say "wipe" or "reuse a matching filesystem", which create without
            // force is neither of; Flatcar's Ignition refuses it the same way.
            report.error(
                at.key("create").key("force"),
                "create without force cannot be translated to spec 3.x: set force: true, or use wipeFilesystem",
            );
        }
    }
    if let Some(label) = &m.label {
        let limit = match m.format.as_str() {
            "ext4" => Some(16),
            "btrfs" => Some(256),
            "xfs" => Some(12),
            "swap" => Some(15),
            "vfat" => Some(11),
            _ => None,
        };
        if let Some(limit) = limit.filter(|l| label.len() > *l) {
            report.error(
                at.key("label"),
                format!(
                    "filesystem labels of format {} may not exceed {limit} characters: shorten it",
                    m.format
                ),
            );
        }
    }
}

pub(crate) fn format(format: &str, at: &JsonPath, report: &mut Report) {
    if !FORMATS.contains(&format) {
        report.error(
            at.clone(),
            format!(
                "invalid filesystem format {format:?}: use one of {}",
                FORMATS.join(", ")
            ),
        );
    }
}

pub(crate) fn device(dev: &str, at: &JsonPath, report: &mut Report) {
    absolute(dev, at, report);
}

pub(crate) fn absolute(path: &str, at: &JsonPath, report: &mut Report) {
    if path.is_empty() {
        report.error(
            at.clone(),
            "path not specified: set an absolute path such as /etc/example",
        );
    } else if !path.starts_with('/') {
        report.error(at.clone(), format!("path not absolute: use /{path}"));
    }
}

pub(crate) fn mode(mode: Option<i64>, at: &JsonPath, report: &mut Report) {
    if mode.is_some_and(|m| !(0..=0o7777).contains(&m)) {
        report.error(
            at.clone(),
            "illegal file mode: give permission bits only (0 to 07777), written in decimal (420 for 0644)",
        );
    }
}

fn node(n: &Node<'_>, at: &JsonPath, known: &dyn Fn(&str) -> bool, report: &mut Report) {
    if n.filesystem.is_empty() {
        report.error(
            at.key("filesystem"),
            "no filesystem specified: set filesystem to \"root\" for the root filesystem, or to the name of one in storage.filesystems",
        );
    } else if !known(n.filesystem) {
        report.error(
            at.key("filesystem"),
            format!(
                "filesystem {:?} is not defined: use \"root\", or add a filesystem with that name to storage.filesystems",
                n.filesystem
            ),
        );
    }
    // 2.x asks only for an absolute path; translation simplifies it.
    absolute(n.path, &at.key("path"), report);
    for (key, owner) in [("user", n.user), ("group", n.group)] {
        if owner.id.is_some() && owner.name.as_deref().is_some_and(|s| !s.is_empty()) {
            report.error(
                at.key(key),
                format!("cannot set both {key}.id and {key}.name: keep one"),
            );
        }
    }
}

const SYSTEMD_TYPES: &[&str] = &[
    "service",
    "socket",
    "device",
    "mount",
    "automount",
    "swap",
    "target",
    "path",
    "timer",
    "snapshot",
    "slice",
    "scope",
];
const NETWORKD_TYPES: &[&str] = &["link", "netdev", "network"];

fn unit_name(name: &str, types: &[&str], at: &JsonPath, report: &mut Report) {
    let ok = name
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && types.contains(&ext));
    if !ok {
        report.error(
            at.clone(),
            format!(
                "invalid unit name {name:?}: it must end in one of .{}",
                types.join(", .")
            ),
        );
    }
}

fn dropin_name(name: &str, at: &JsonPath, report: &mut Report) {
    if !name.ends_with(".conf") || name.len() <= 5 {
        report.error(
            at.clone(),
            format!("invalid drop-in name {name:?}: it must end in .conf"),
        );
    }
}

fn passwd_user(version: LegacyVersion, u: &User, at: &JsonPath, report: &mut Report) {
    if u.name.is_empty() {
        report.error(at.key("name"), "user has no name: set name");
    }
    let Some(_) = &u.create else { return };
    if version >= LegacyVersion::V2_1 {
        report.warning(
            at.key("create"),
            "create is deprecated: move its fields up into the user (it is translated that way)",
        );
    }
    let set = [
        ("uid", u.uid.is_some()),
        ("gecos", !u.gecos.is_empty()),
        ("homeDir", !u.home_dir.is_empty()),
        ("noCreateHome", u.no_create_home),
        ("primaryGroup", !u.primary_group.is_empty()),
        ("groups", !u.groups.is_empty()),
        ("noUserGroup", u.no_user_group),
        ("noLogInit", u.no_log_init),
        ("shell", !u.shell.is_empty()),
        ("system", u.system),
    ];
    for (key, _) in set.iter().filter(|(_, is_set)| *is_set) {
        report.error(
            at.key(key),
            format!("cannot use create and {key} together: move {key} into create, or move create's fields up into the user"),
        );
    }
}
