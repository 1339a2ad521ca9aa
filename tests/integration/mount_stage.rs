//! The mount and umount stages on real loop devices (root only): filesystems with a `path`
//! mounted under the root shortest path first, with their mount options, through symbolic
//! links inside the root; unmounted deepest first; and a failed mount leaves nothing mounted.

use crate::support;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::loopdev::{self, LoopDisk};
use support::stage::{assert_fails, assert_ok, Env};

/// Mount points under `root` and their options, from the mount table.
fn mounts_under(root: &Path) -> Vec<(String, String)> {
    let root = fs::canonicalize(root).expect("root");
    let text = fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let point = Path::new(f.get(4)?);
            let rel = point.strip_prefix(&root).ok()?;
            Some((format!("/{}", rel.display()), f.get(5)?.to_string()))
        })
        .collect()
}

struct Case {
    env: Env,
}

impl Case {
    fn new(config: &Value) -> Case {
        let env = Env::new("kindling.platform.id=file");
        let path = env.path("config.ign");
        fs::write(&path, serde_json::to_vec(config).expect("JSON")).expect("config");
        fs::create_dir_all(env.path("root")).expect("root");
        assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &path)]));
        Case { env }
    }

    fn root(&self) -> std::path::PathBuf {
        self.env.path("root")
    }

    fn run(&self, stage: &str) -> Output {
        let root = self.root();
        self.env
            .stage_with(stage, &[OsStr::new("--root"), root.as_os_str()], &[])
    }
}

fn ext4(label: &str) -> LoopDisk {
    let disk = LoopDisk::new(32);
    loopdev::mkfs("ext4", disk.path(), Some(label), None);
    disk
}

fn fs_entry(disk: &LoopDisk, path: &str, options: &[&str]) -> Value {
    json!({"device": disk.path_str(), "format": "ext4", "path": path, "mountOptions": options})
}

#[test]
fn nested_filesystems_mount_shortest_first_and_unmount_deepest_first() {
    let (outer, inner) = (ext4("outer"), ext4("inner"));
    // Listed deepest first: the stage must still mount /var/lib before /var/lib/data.
    let case = Case::new(
        &json!({"ignition": {"version": "3.4.0"}, "storage": {"filesystems": [
            fs_entry(&inner, "/var/lib/data", &["ro"]),
            fs_entry(&outer, "/var/lib", &["noatime"]),
            {"device": "/dev/null-swap", "format": "swap"},
        ]}}),
    );
    assert_ok(&case.run("mount"));
    let mounts = mounts_under(&case.root());
    assert_eq!(mounts.len(), 2, "{mounts:?}");
    assert_eq!(mounts[0].0, "/var/lib");
    assert!(mounts[0].1.split(',').any(|o| o == "noatime"), "{mounts:?}");
    assert_eq!(mounts[1].0, "/var/lib/data");
    assert!(mounts[1].1.split(',').any(|o| o == "ro"), "{mounts:?}");

    assert_ok(&case.run("umount"));
    assert!(mounts_under(&case.root()).is_empty());
    // A second umount has nothing left to do and is not an error.
    assert_ok(&case.run("umount"));
}

#[test]
fn symbolic_links_in_the_root_are_followed_inside_it() {
    let disk = ext4("home");
    let case = Case::new(
        &json!({"ignition": {"version": "3.4.0"}, "storage": {"filesystems": [
            fs_entry(&disk, "/home", &[]),
        ]}}),
    );
    fs::create_dir_all(case.root().join("var/home")).expect("var/home");
    std::os::unix::fs::symlink("/var/home", case.root().join("home")).expect("link");
    assert_ok(&case.run("mount"));
    assert_eq!(mounts_under(&case.root())[0].0, "/var/home");
    assert_ok(&case.run("umount"));
}

#[test]
fn a_failed_mount_unmounts_the_ones_before_it() {
    let (good, bad) = (ext4("good"), ext4("bad"));
    let case = Case::new(
        &json!({"ignition": {"version": "3.4.0"}, "storage": {"filesystems": [
            fs_entry(&good, "/srv", &[]),
            fs_entry(&bad, "/srv/deeper", &["no-such-option"]),
        ]}}),
    );
    let out = case.run("mount");
    assert_fails(&out, "mount -t ext4 -o no-such-option");
    assert!(
        mounts_under(&case.root()).is_empty(),
        "{:?}",
        mounts_under(&case.root())
    );
}

#[test]
fn a_missing_device_fails_with_its_path() {
    let case = Case::new(
        &json!({"ignition": {"version": "3.4.0"}, "storage": {"filesystems": [
            {"device": "/dev/disk/by-label/kindling-no-such", "format": "ext4", "path": "/data"},
        ]}}),
    );
    let out = case.run("mount");
    assert_fails(&out, "/dev/disk/by-label/kindling-no-such");
    assert_fails(&out, "$.storage.filesystems.0.device");
}
