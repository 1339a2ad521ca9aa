//! Translation of the 2.x model to the 3.x one, with the semantics of Flatcar's Ignition (which
//! follows ign-converter's 2.x → 3.1 translation):
//!
//! - A file, directory or link names its filesystem. `root` is `/`. A filesystem given by
//!   `path` (one already mounted) puts its entries under that path. A filesystem given by
//!   `mount` has no place in the booted system, so it gets a mount point for provisioning:
//!   `oem` is `/usr/share/oem`, any other `/tmp/<name>-ign<n>` (n counts such filesystems in
//!   order), and is listed in 3.x with that path, so its entries land on it as they did.
//! - Files overwrite by default in 2.x; `append: true` becomes a 3.x `append` entry with
//!   `overwrite: false`.
//! - `networkd.units` and their drop-ins become files under `/etc/systemd/network`, mode 0644.
//! - `enable: true` becomes `enabled: true`; an explicit `enabled` wins.
//! - A user's deprecated `create` object supplies the account fields.
//! - `mount.create` becomes `wipeFilesystem` (its `force`) plus its mkfs options; an `oem`
//!   filesystem that is not wiped is declared btrfs, as Flatcar's OEM partition is.
//! - Partition sizes in sectors become MiB when they are whole MiB.
//! - A file with no `contents.source` is an empty file in 2.x; in 3.x its source is `data:,`.
//!
//! (A missing mode in spec 1, 2.0.0 and 2.1.0 is mode 0; see `zero_modes` in the parent.)

use std::collections::{HashMap, HashSet};

use super::types as v2;
use super::url::data_url;
use crate::jp;
use crate::path::{JsonPath, Segment};
use crate::report::Report;
use crate::types as v3;
use crate::validate::paths::clean;

/// Where Flatcar's OEM partition is mounted.
pub const OEM_PATH: &str = "/usr/share/oem";

/// The source of an empty file.
const EMPTY: &str = "data:,";

/// 512-byte sectors in a MiB.
const SECTORS_PER_MIB: i64 = 2048;

/// Where each part of the 3.x config came from in the source, so that findings about the
/// translated config point at what the user wrote.
#[derive(Debug, Default)]
pub(crate) struct Origins {
    /// The source path of each 2.x file, in order (spec 1 files sit inside filesystems).
    pub files: Vec<JsonPath>,
    /// The source path of each 2.x filesystem, in order.
    pub filesystems: Vec<JsonPath>,
}

impl Origins {
    pub fn of_v2(c: &v2::Config) -> Self {
        Origins {
            files: (0..c.storage.files.len())
                .map(|i| jp!("storage", "files", i))
                .collect(),
            filesystems: (0..c.storage.filesystems.len())
                .map(|i| jp!("storage", "filesystems", i))
                .collect(),
        }
    }
}

/// Maps paths in the translated config back to the source.
#[derive(Debug, Default)]
pub(crate) struct PathMap {
    /// For each 3.x file: its source path, and whether it was an `append: true` file.
    files: Vec<(JsonPath, bool)>,
    /// For each 3.x filesystem: its source path.
    filesystems: Vec<JsonPath>,
}

impl PathMap {
    pub fn to_source(&self, path: &JsonPath) -> JsonPath {
        let segs = path.segments();
        let key = |i: usize| match segs.get(i) {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let index = |i: usize| match segs.get(i) {
            Some(Segment::Index(n)) => Some(*n),
            _ => None,
        };
        let rest = |from: usize| segs.get(from..).unwrap_or_default().to_vec();
        match (key(0), key(1), index(2)) {
            (Some("storage"), Some("files"), Some(n)) => match self.files.get(n) {
                Some((origin, append))
                    if origin.segments().first() == Some(&Segment::from("networkd")) =>
                {
                    let _ = append;
                    origin.clone()
                }
                Some((origin, append)) => {
                    let mut tail = rest(3);
                    // `append.0` holds what the source had in `contents`.
                    if *append && tail.first() == Some(&Segment::from("append")) {
                        tail.splice(0..2.min(tail.len()), [Segment::from("contents")]);
                    }
                    join(origin, tail)
                }
                None => path.clone(),
            },
            (Some("storage"), Some("filesystems"), Some(n)) => match self.filesystems.get(n) {
                Some(origin) => {
                    let tail = rest(3);
                    match tail.first() {
                        Some(Segment::Key(k)) if k == "path" => origin.clone(),
                        Some(Segment::Key(_)) => join(&origin.key("mount"), tail),
                        _ => origin.clone(),
                    }
                }
                None => path.clone(),
            },
            (Some("ignition"), Some("config"), _) if key(2) == Some("merge") => {
                join(&jp!("ignition", "config", "append"), rest(3))
            }
            _ => path.clone(),
        }
    }
}

fn join(base: &JsonPath, tail: Vec<Segment>) -> JsonPath {
    let mut out = base.clone();
    for seg in tail {
        out.push(seg);
    }
    out
}

fn some_str(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn some_true(b: bool) -> Option<bool> {
    b.then_some(true)
}

pub(crate) fn translate(
    c: v2::Config,
    origins: &Origins,
    report: &mut Report,
) -> (v3::Config, PathMap) {
    let mut map = PathMap::default();
    let mut out = v3::Config::default();

    let ign = c.ignition;
    out.ignition.config.merge = ign.config.append.into_iter().map(reference).collect();
    if let Some(r) = ign.config.replace {
        out.ignition.config.replace = reference(r);
    }
    out.ignition.security.tls.certificate_authorities = ign
        .security
        .tls
        .certificate_authorities
        .into_iter()
        .map(reference)
        .collect();
    out.ignition.timeouts.http_response_headers = ign.timeouts.http_response_headers;
    out.ignition.timeouts.http_total = ign.timeouts.http_total;

    out.passwd.users = c.passwd.users.into_iter().map(user).collect();
    out.passwd.groups = c
        .passwd
        .groups
        .into_iter()
        .map(|g| v3::PasswdGroup {
            name: g.name,
            gid: g.gid,
            password_hash: some_str(g.password_hash),
            system: some_true(g.system),
            should_exist: None,
        })
        .collect();
    out.systemd.units = c.systemd.units.into_iter().map(unit).collect();

    for (i, disk) in c.storage.disks.into_iter().enumerate() {
        let mut partitions = Vec::new();
        for (j, p) in disk.partitions.into_iter().enumerate() {
            let at = jp!("storage", "disks", i, "partitions", j);
            partitions.push(partition(p, &at, report));
        }
        out.storage.disks.push(v3::Disk {
            device: disk.device,
            wipe_table: some_true(disk.wipe_table),
            partitions,
        });
    }
    out.storage.raid = c
        .storage
        .raid
        .into_iter()
        .map(|r| v3::Raid {
            name: r.name,
            level: some_str(r.level),
            devices: r.devices,
            spares: (r.spares != 0).then_some(r.spares),
            options: r.options,
        })
        .collect();

    // Where each filesystem name puts its entries.
    let used: HashSet<&str> = c
        .storage
        .files
        .iter()
        .map(|f| f.filesystem.as_str())
        .chain(c.storage.directories.iter().map(|d| d.filesystem.as_str()))
        .chain(c.storage.links.iter().map(|l| l.filesystem.as_str()))
        .collect();
    let mut places: HashMap<String, String> = HashMap::from([("root".to_owned(), "/".to_owned())]);
    let mut generated = 0;
    for (fs, origin) in c.storage.filesystems.iter().zip(&origins.filesystems) {
        if fs.name.is_empty() || places.contains_key(&fs.name) {
            continue;
        }
        if let Some(path) = &fs.path {
            places.insert(fs.name.clone(), path.clone());
            continue;
        }
        // Numbered as Flatcar numbers them: every filesystem without a path counts.
        generated += 1;
        if fs.name == "oem" {
            places.insert(fs.name.clone(), OEM_PATH.to_owned());
        } else if used.contains(fs.name.as_str()) {
            let place = format!("/tmp/{}-ign{generated}", fs.name);
            report.warning(
                origin.key("name"),
                format!(
                    "filesystem {:?} has no path: as Flatcar's Ignition does, it is mounted at {place} while provisioning and the entries that name it are written there; to mount it elsewhere, translate the config to 3.x (kindling translate) and set the filesystem's path",
                    fs.name
                ),
            );
            places.insert(fs.name.clone(), place);
        }
    }

    for (fs, origin) in c.storage.filesystems.into_iter().zip(&origins.filesystems) {
        // root is implied in 3.x, and a filesystem given by path is already mounted.
        let Some(mount) = fs.mount.filter(|_| fs.name != "root") else {
            continue;
        };
        let mut wipe = mount.wipe_filesystem;
        let mut options = mount.options;
        if let Some(create) = mount.create {
            wipe = create.force;
            options.extend(create.options);
        }
        let format = if fs.name == "oem" && !wipe {
            "btrfs".to_owned()
        } else {
            mount.format
        };
        out.storage.filesystems.push(v3::Filesystem {
            device: mount.device,
            format: some_str(format),
            wipe_filesystem: some_true(wipe),
            label: mount.label,
            uuid: mount.uuid,
            options,
            path: places
                .get(&fs.name)
                .filter(|_| !fs.name.is_empty())
                .cloned(),
            mount_options: Vec::new(),
        });
        map.filesystems.push(origin.clone());
    }

    let place = |fs: &str, path: &str| {
        let base = places.get(fs).map_or("/", String::as_str);
        clean(&format!("{base}/{path}"))
    };
    for (f, origin) in c.storage.files.into_iter().zip(&origins.files) {
        // A 2.x file without a source is an empty file, written like any other; 3.x needs a
        // source for that (without one it only creates a file that is missing).
        let source = if f.contents.source.is_empty() {
            EMPTY.to_owned()
        } else {
            f.contents.source
        };
        let resource = v3::Resource {
            source: Some(source),
            compression: some_str(f.contents.compression),
            http_headers: Vec::new(),
            verification: v3::Verification {
                hash: f.contents.verification.hash,
            },
        };
        let mut file = v3::File {
            path: place(&f.filesystem, &f.path),
            // 2.x files replace what is there unless told otherwise.
            overwrite: Some(f.overwrite.unwrap_or(true)),
            user: owner(f.user),
            group: group(f.group),
            mode: f.mode,
            ..v3::File::default()
        };
        if f.append {
            // 3.x refuses overwrite together with append.
            file.overwrite = Some(false);
            file.append = vec![resource];
        } else {
            file.contents = resource;
        }
        out.storage.files.push(file);
        map.files.push((origin.clone(), f.append));
    }
    for d in c.storage.directories {
        out.storage.directories.push(v3::Directory {
            path: place(&d.filesystem, &d.path),
            overwrite: d.overwrite,
            user: owner(d.user),
            group: group(d.group),
            mode: d.mode,
        });
    }
    for l in c.storage.links {
        out.storage.links.push(v3::Link {
            path: place(&l.filesystem, &l.path),
            overwrite: l.overwrite,
            user: owner(l.user),
            group: group(l.group),
            target: Some(l.target),
            hard: some_true(l.hard),
        });
    }

    // networkd units are files in 3.x, written where 2.x's networkd stage wrote them.
    for (i, u) in c.networkd.units.into_iter().enumerate() {
        let at = jp!("networkd", "units", i);
        if !u.contents.is_empty() {
            out.storage.files.push(networkd_file(
                format!("/etc/systemd/network/{}", u.name),
                &u.contents,
            ));
            map.files.push((at.clone(), false));
        }
        for (j, d) in u.dropins.into_iter().enumerate() {
            out.storage.files.push(networkd_file(
                format!("/etc/systemd/network/{}.d/{}", u.name, d.name),
                &d.contents,
            ));
            map.files.push((at.key("dropins").index(j), false));
        }
    }
    (out, map)
}

fn networkd_file(path: String, contents: &str) -> v3::File {
    v3::File {
        path: clean(&path),
        overwrite: Some(true),
        mode: Some(0o644),
        contents: v3::Resource {
            source: Some(data_url(contents.as_bytes())),
            ..v3::Resource::default()
        },
        ..v3::File::default()
    }
}

fn reference(r: v2::Reference) -> v3::Resource {
    v3::Resource {
        source: Some(r.source),
        verification: v3::Verification {
            hash: r.verification.hash,
        },
        ..v3::Resource::default()
    }
}

fn owner(u: v2::NodeUser) -> v3::NodeUser {
    v3::NodeUser {
        id: u.id,
        name: u.name.and_then(some_str),
    }
}

fn group(g: v2::NodeGroup) -> v3::NodeGroup {
    v3::NodeGroup {
        id: g.id,
        name: g.name.and_then(some_str),
    }
}

fn user(u: v2::User) -> v3::PasswdUser {
    let mut out = v3::PasswdUser {
        name: u.name,
        password_hash: u.password_hash,
        ssh_authorized_keys: u.ssh_authorized_keys,
        ..v3::PasswdUser::default()
    };
    // The deprecated `create` object, when present, is where the account fields are (2.x
    // refuses them in both places).
    let (uid, gecos, home, no_home, primary, groups, no_group, no_log, shell, system) =
        match u.create {
            Some(c) => (
                c.uid,
                c.gecos,
                c.home_dir,
                c.no_create_home,
                c.primary_group,
                c.groups,
                c.no_user_group,
                c.no_log_init,
                c.shell,
                c.system,
            ),
            None => (
                u.uid,
                u.gecos,
                u.home_dir,
                u.no_create_home,
                u.primary_group,
                u.groups,
                u.no_user_group,
                u.no_log_init,
                u.shell,
                u.system,
            ),
        };
    out.uid = uid;
    out.gecos = some_str(gecos);
    out.home_dir = some_str(home);
    out.no_create_home = some_true(no_home);
    out.primary_group = some_str(primary);
    out.groups = groups;
    out.no_user_group = some_true(no_group);
    out.no_log_init = some_true(no_log);
    out.shell = some_str(shell);
    out.system = some_true(system);
    out
}

fn unit(u: v2::Unit) -> v3::Unit {
    // An explicit `enabled` wins over the deprecated `enable`.
    let enabled = match u.enabled {
        Some(e) => Some(e),
        None => some_true(u.enable),
    };
    v3::Unit {
        name: u.name,
        enabled,
        mask: some_true(u.mask),
        contents: some_str(u.contents),
        dropins: u
            .dropins
            .into_iter()
            .map(|d| v3::Dropin {
                name: d.name,
                contents: some_str(d.contents),
            })
            .collect(),
    }
}

fn partition(p: v2::Partition, at: &JsonPath, report: &mut Report) -> v3::Partition {
    let mut mib = |sectors: Option<i64>, key: &str, instead: &str| {
        let s = sectors?;
        if s % SECTORS_PER_MIB == 0 {
            Some(s / SECTORS_PER_MIB)
        } else {
            report.error(
                at.key(key),
                format!(
                    "{key} of {s} sectors is not a whole number of MiB, and spec 3.x gives partitions in MiB: use {instead} (spec 2.3.0) with a whole number, or a multiple of 2048 sectors"
                ),
            );
            None
        }
    };
    let size = p.size_mib.or_else(|| mib(p.size, "size", "sizeMiB"));
    let start = p.start_mib.or_else(|| mib(p.start, "start", "startMiB"));
    v3::Partition {
        label: p.label,
        number: p.number,
        size_mib: size,
        start_mib: start,
        type_guid: some_str(p.type_guid),
        guid: some_str(p.guid),
        wipe_partition_entry: some_true(p.wipe_partition_entry),
        should_exist: p.should_exist,
        resize: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads, validates and translates a 2.x config given as JSON; panics on errors.
    fn tr(json: &str) -> (v3::Config, Report) {
        let doc: serde_json::Value = serde_json::from_str(json).expect("JSON");
        let config: v2::Config = serde_json::from_value(doc).expect("2.x model");
        let mut report = Report::new();
        let origins = Origins::of_v2(&config);
        let (out, _) = translate(config, &origins, &mut report);
        assert!(!report.is_fatal(), "{report}");
        (out, report)
    }

    #[test]
    fn enabled_wins_over_the_deprecated_enable() {
        let (c, _) = tr(r#"{"systemd": {"units": [
            {"name": "a.service", "enable": true},
            {"name": "b.service", "enable": true, "enabled": false},
            {"name": "c.service", "enabled": true},
            {"name": "d.service"}]}}"#);
        let enabled: Vec<Option<bool>> = c.systemd.units.iter().map(|u| u.enabled).collect();
        assert_eq!(enabled, [Some(true), Some(false), Some(true), None]);
    }

    #[test]
    fn create_supplies_the_account_fields() {
        let (c, _) = tr(r#"{"passwd": {"users": [{"name": "u", "passwordHash": "x",
            "create": {"uid": 1001, "gecos": "G", "homeDir": "/h", "noCreateHome": true,
                       "primaryGroup": "p", "groups": ["a"], "noUserGroup": true,
                       "noLogInit": true, "shell": "/bin/sh", "system": true}}]}}"#);
        let u = &c.passwd.users[0];
        assert_eq!(u.uid, Some(1001));
        assert_eq!(u.gecos.as_deref(), Some("G"));
        assert_eq!(u.home_dir.as_deref(), Some("/h"));
        assert_eq!(u.no_create_home, Some(true));
        assert_eq!(u.primary_group.as_deref(), Some("p"));
        assert_eq!(u.groups, ["a"]);
        assert_eq!(u.no_user_group, Some(true));
        assert_eq!(u.no_log_init, Some(true));
        assert_eq!(u.shell.as_deref(), Some("/bin/sh"));
        assert_eq!(u.system, Some(true));
        assert_eq!(u.password_hash.as_deref(), Some("x"));
    }

    #[test]
    fn files_overwrite_unless_told_and_append_never_does() {
        let (c, _) = tr(r#"{"storage": {"files": [
            {"filesystem": "root", "path": "/a", "contents": {"source": "data:,a"}},
            {"filesystem": "root", "path": "/b", "overwrite": false},
            {"filesystem": "root", "path": "/c", "append": true, "contents": {"source": "data:,c", "compression": "gzip"}}]}}"#);
        let f = &c.storage.files;
        assert_eq!(f[0].overwrite, Some(true));
        assert_eq!(f[1].overwrite, Some(false));
        assert_eq!(f[1].contents.source.as_deref(), Some(EMPTY));
        assert_eq!(f[2].overwrite, Some(false));
        assert_eq!(f[2].contents, v3::Resource::default());
        assert_eq!(f[2].append[0].source.as_deref(), Some("data:,c"));
        assert_eq!(f[2].append[0].compression.as_deref(), Some("gzip"));
    }

    #[test]
    fn filesystem_names_become_paths() {
        let (c, report) = tr(r#"{"storage": {
            "filesystems": [
              {"name": "unused", "mount": {"device": "/dev/vdd", "format": "ext4"}},
              {"name": "oem", "mount": {"device": "/dev/vdb", "format": "ext4"}},
              {"name": "var", "path": "/var/"},
              {"name": "data", "mount": {"device": "/dev/vdc", "format": "xfs", "wipeFilesystem": true}},
              {"name": "root", "path": "/"}],
            "files": [
              {"filesystem": "var", "path": "/lib//x"},
              {"filesystem": "data", "path": "/y"},
              {"filesystem": "oem", "path": "/z"},
              {"filesystem": "root", "path": "/w"}]}}"#);
        let paths: Vec<&str> = c.storage.files.iter().map(|f| f.path.as_str()).collect();
        // Every filesystem without a path counts, as in Flatcar: data is the third.
        assert_eq!(
            paths,
            ["/var/lib/x", "/tmp/data-ign3/y", "/usr/share/oem/z", "/w"]
        );
        let fss: Vec<(&str, Option<&str>, Option<&str>)> = c
            .storage
            .filesystems
            .iter()
            .map(|f| (f.device.as_str(), f.format.as_deref(), f.path.as_deref()))
            .collect();
        assert_eq!(
            fss,
            [
                // Nothing is written to it, so it needs no mount point.
                ("/dev/vdd", Some("ext4"), None),
                // Flatcar's OEM partition is btrfs unless the config wipes it.
                ("/dev/vdb", Some("btrfs"), Some(OEM_PATH)),
                ("/dev/vdc", Some("xfs"), Some("/tmp/data-ign3")),
            ]
        );
        let warned: Vec<String> = report.entries.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(warned, ["$.storage.filesystems.3.name"]);
    }

    #[test]
    fn mount_create_becomes_wipe_and_mkfs_options() {
        let (c, _) = tr(r#"{"storage": {"filesystems": [
            {"name": "oem", "mount": {"device": "/dev/vdb", "format": "ext4", "create": {"force": true, "options": ["-L", "OEM"]}}}]}}"#);
        let fs = &c.storage.filesystems[0];
        assert_eq!(fs.wipe_filesystem, Some(true));
        assert_eq!(fs.options, ["-L", "OEM"]);
        assert_eq!(
            fs.format.as_deref(),
            Some("ext4"),
            "a wiped OEM keeps its format"
        );
    }

    #[test]
    fn networkd_units_and_dropins_become_files() {
        let (c, _) = tr(r#"{"networkd": {"units": [
            {"name": "a.network", "contents": "x=1", "dropins": [{"name": "d.conf", "contents": "y"}]},
            {"name": "b.netdev", "dropins": [{"name": "e.conf", "contents": ""}]}]}}"#);
        let files: Vec<(&str, Option<&str>, Option<i64>)> = c
            .storage
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.contents.source.as_deref(), f.mode))
            .collect();
        assert_eq!(
            files,
            [
                (
                    "/etc/systemd/network/a.network",
                    Some("data:,x%3D1"),
                    Some(0o644)
                ),
                (
                    "/etc/systemd/network/a.network.d/d.conf",
                    Some("data:,y"),
                    Some(0o644)
                ),
                (
                    "/etc/systemd/network/b.netdev.d/e.conf",
                    Some("data:,"),
                    Some(0o644)
                ),
            ]
        );
    }

    #[test]
    fn sectors_become_mib_when_whole() {
        let doc = r#"{"storage": {"disks": [{"device": "/dev/vdb", "partitions": [
            {"number": 1, "start": 4096, "size": 0},
            {"number": 2, "size": 4095}]}]}}"#;
        let config: v2::Config = serde_json::from_str(doc).expect("model");
        let mut report = Report::new();
        let (c, _) = translate(config.clone(), &Origins::of_v2(&config), &mut report);
        let p = &c.storage.disks[0].partitions;
        assert_eq!((p[0].start_mib, p[0].size_mib), (Some(2), Some(0)));
        assert_eq!(p[1].size_mib, None);
        assert_eq!(report.entries.len(), 1);
        assert_eq!(
            report.entries[0].path.to_string(),
            "$.storage.disks.0.partitions.1.size"
        );
    }

    #[test]
    fn translated_paths_map_back_to_the_source() {
        let doc = r#"{"storage": {
            "filesystems": [{"name": "root", "path": "/"}, {"name": "d", "mount": {"device": "/dev/vdb", "format": "ext4"}}],
            "files": [{"filesystem": "root", "path": "/a", "append": true, "contents": {"source": "data:,"}}]},
            "networkd": {"units": [{"name": "n.network", "contents": "x", "dropins": [{"name": "a.conf"}]}]}}"#;
        let config: v2::Config = serde_json::from_str(doc).expect("model");
        let (_, map) = translate(config.clone(), &Origins::of_v2(&config), &mut Report::new());
        for (translated, source) in [
            (
                "$.storage.files.0.append.0.source",
                "$.storage.files.0.contents.source",
            ),
            ("$.storage.files.0.path", "$.storage.files.0.path"),
            ("$.storage.files.1.contents.source", "$.networkd.units.0"),
            ("$.storage.files.2", "$.networkd.units.0.dropins.0"),
            (
                "$.storage.filesystems.0.device",
                "$.storage.filesystems.1.mount.device",
            ),
            ("$.storage.filesystems.0.path", "$.storage.filesystems.1"),
            (
                "$.ignition.config.merge.2.source",
                "$.ignition.config.append.2.source",
            ),
            ("$.systemd.units.3.name", "$.systemd.units.3.name"),
        ] {
            assert_eq!(
                map.to_source(&JsonPath::parse(translated)).to_string(),
                source,
                "{translated}"
            );
        }
    }
}
