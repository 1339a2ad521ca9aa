//! The disks stage on real loop devices (root only): partition tables made, kept, extended,
//! resized, re-created and refused with Ignition's semantics, and filesystems created,
//! reused, refused and wiped. Each test attaches its own sparse images, prepares them with
//! sgdisk and mkfs, runs `kindling fetch-offline` then `kindling disks` the way the dracut
//! units do, and checks the tables (`sgdisk`), the signatures (`blkid -p`) and data that must
//! survive (markers at byte offsets, files inside filesystems).
//!
//! Where Kindling deliberately differs from Ignition 2.14 the test says so.
//! `tests/integration/differential_disks.rs` runs many of the same situations through Ignition itself.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::loopdev::{self, LoopDisk, PartInfo, Probe};
use support::stage::{assert_fails, assert_ok, stderr, Env};

const LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const SWAP: &str = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";

/// 512-byte sectors per MiB.
const MIB: u64 = 2048;

const MARKER: &[u8] = b"this data must survive the disks stage";
/// Bytes from the start of a partition where tests put [`MARKER`]: past the first MiB.
const MARKER_OFFSET: u64 = 1024 * 1024 + 4242;

/// A spec 3.4.0 config with this `storage` section.
fn config(storage: Value) -> Value {
    json!({ "ignition": { "version": "3.4.0" }, "storage": storage })
}

/// Writes `config`, runs `kindling fetch-offline` with it and then `kindling disks`, in a
/// fresh run directory; returns what the last stage that ran did (fetch-offline's output
/// when it fails, since disks then does not run).
fn run_disks(config: &Value) -> Output {
    run_disks_with(config, &[])
}

/// [`run_disks`], with `vars` in the disks stage's environment.
fn run_disks_with(config: &Value, vars: &[(&str, &Path)]) -> Output {
    let env = Env::new("kindling.platform.id=file");
    let path = env.path("config.ign");
    fs::write(&path, serde_json::to_vec_pretty(config).expect("JSON")).expect("config");
    let fetch = env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &path)]);
    if !fetch.status.success() {
        return fetch;
    }
    if env.run_dir().join("neednet").exists() {
        let fetch = env.stage("fetch", &[("KINDLING_CONFIG_FILE", &path)]);
        if !fetch.status.success() {
            return fetch;
        }
    }
    // sgdisk opens disks read-write even to print them, and udev re-probes a disk and its
    // partitions when it sees it closed: let that finish, so the stage starts on a quiet
    // system as it would at boot.
    loopdev::settle();
    env.stage("disks", vars)
}

fn part(number: u32, first: u64, last: u64, type_guid: &str, guid: &str, name: &str) -> PartInfo {
    PartInfo {
        number,
        first,
        last,
        type_guid: type_guid.to_owned(),
        guid: guid.to_owned(),
        name: name.to_owned(),
    }
}

/// The kernel must know the partitions that the table has, as the engine leaves them.
#[track_caller]
fn assert_kernel_in_sync(disk: &LoopDisk) {
    assert_eq!(
        loopdev::kernel_partitions(disk.path()),
        loopdev::table_partitions(disk.path()),
        "the kernel's partitions of {} differ from its table after the stage",
        disk.path().display()
    );
}

#[track_caller]
fn assert_marker(dev: &Path) {
    assert_eq!(
        loopdev::read_at(dev, MARKER_OFFSET, MARKER.len()),
        MARKER,
        "the data in {} is gone",
        dev.display()
    );
}

#[track_caller]
fn assert_mentions(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in stderr:\n{err}");
    }
}

// ---- Partitions ----

#[test]
fn new_gpt_on_a_blank_disk_with_two_labelled_partitions() {
    let disk = LoopDisk::new(64);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D501";
    let g2 = "A1B2C3D4-0002-4000-8000-00000000D502";
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 1, "label": "t01-boot", "sizeMiB": 10, "typeGuid": ESP, "guid": g1 },
            { "number": 2, "label": "t01-data", "sizeMiB": 20, "typeGuid": LINUX, "guid": g2 }
        ]
    }] })));
    assert_ok(&out);
    // No startMiB: sgdisk's default, the first 2048-sector boundary, then right after.
    assert_eq!(
        loopdev::partitions(disk.path()),
        vec![
            part(1, 2048, 2048 + 10 * MIB - 1, ESP, g1, "t01-boot"),
            part(
                2,
                2048 + 10 * MIB,
                2048 + 30 * MIB - 1,
                LINUX,
                g2,
                "t01-data"
            ),
        ]
    );
    let table = disk.table();
    assert!(
        table.contains("Partition table holds up to 128 entries"),
        "{table}"
    );
    assert_kernel_in_sync(&disk);
    // udev saw the partitions the engine announced.
    let by_uuid = Path::new("/dev/disk/by-partuuid").join(g2.to_lowercase());
    assert_eq!(
        fs::canonicalize(&by_uuid).ok().as_deref(),
        Some(disk.part(2).as_path()),
        "{} should point at {}",
        by_uuid.display(),
        disk.part(2).display()
    );
}

#[test]
fn an_existing_matching_partition_is_kept_and_a_new_one_added() {
    let disk = LoopDisk::new(64);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D511";
    disk.sgdisk(&[
        "-n",
        "1:0:+10M",
        "-c",
        "1:t02-keep",
        "-u",
        &format!("1:{g1}"),
    ]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 1, "label": "t02-keep", "sizeMiB": 10 },
            { "number": 2, "label": "t02-new", "sizeMiB": 8, "typeGuid": SWAP }
        ]
    }] })));
    assert_ok(&out);
    let parts = loopdev::partitions(disk.path());
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(
        parts[0],
        part(1, 2048, 2048 + 10 * MIB - 1, LINUX, g1, "t02-keep")
    );
    assert_eq!(
        (parts[1].number, parts[1].first, parts[1].last),
        (2, 2048 + 10 * MIB, 2048 + 18 * MIB - 1)
    );
    assert_eq!(
        (parts[1].type_guid.as_str(), parts[1].name.as_str()),
        (SWAP, "t02-new")
    );
    assert_kernel_in_sync(&disk);
    assert_marker(&disk.part(1));
}

#[test]
fn number_zero_takes_the_next_free_number_and_a_second_run_changes_nothing() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+4M", "-c", "1:t03-first"]);
    let cfg = config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 0, "label": "t03-next", "sizeMiB": 8 } ]
    }] }));
    assert_ok(&run_disks(&cfg));
    let parts = loopdev::partitions(disk.path());
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(
        (
            parts[1].number,
            parts[1].first,
            parts[1].last,
            parts[1].name.as_str()
        ),
        (2, 2048 + 4 * MIB, 2048 + 12 * MIB - 1, "t03-next")
    );
    let first = disk.table();
    // Kindling finds the partition by its label the second time. (Ignition 2.14 matches
    // only by number and would add a second "t03-next": coreos/ignition#1219.)
    let again = run_disks(&cfg);
    assert_ok(&again);
    assert_eq!(disk.table(), first, "the second run changed the table");
    assert_kernel_in_sync(&disk);
}

#[test]
fn number_zero_keeps_the_existing_partition_with_that_label() {
    // A deliberate difference from Ignition 2.14, which matches existing partitions only by
    // number and would create a second partition labelled "t04-named"
    // (coreos/ignition#1219).
    let disk = LoopDisk::new(64);
    let g2 = "A1B2C3D4-0002-4000-8000-00000000D542";
    disk.sgdisk(&[
        "-n",
        "1:0:+4M",
        "-c",
        "1:t04-first",
        "-n",
        "2:0:+8M",
        "-c",
        "2:t04-named",
        "-u",
        &format!("2:{g2}"),
    ]);
    loopdev::write_at(&disk.part(2), MARKER_OFFSET, MARKER);
    let before = loopdev::partitions(disk.path());
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 0, "label": "t04-named", "sizeMiB": 8 },
            { "number": 0, "label": "t04-other", "sizeMiB": 4 }
        ]
    }] })));
    assert_ok(&out);
    let parts = loopdev::partitions(disk.path());
    assert_eq!(parts.len(), 3, "one new partition only: {parts:?}");
    assert_eq!(parts[..2], before[..], "the existing partitions changed");
    assert_eq!((parts[2].number, parts[2].name.as_str()), (3, "t04-other"));
    assert_eq!(
        parts.iter().filter(|p| p.name == "t04-named").count(),
        1,
        "{parts:?}"
    );
    assert_marker(&disk.part(2));
}

#[test]
fn should_exist_false_with_wipe_partition_entry_deletes_it() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&[
        "-n",
        "1:0:+8M",
        "-c",
        "1:t05-stay",
        "-n",
        "2:0:+8M",
        "-c",
        "2:t05-go",
    ]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let stay = loopdev::partition_info(disk.path(), 1);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 2, "shouldExist": false, "wipePartitionEntry": true },
            { "number": 3, "shouldExist": false }
        ]
    }] })));
    assert_ok(&out);
    assert_eq!(loopdev::partitions(disk.path()), vec![stay]);
    assert_kernel_in_sync(&disk);
    assert!(
        !Path::new("/sys/class/block")
            .join(disk.part(2).file_name().expect("name"))
            .exists(),
        "the kernel still has partition 2"
    );
    assert_marker(&disk.part(1));
}

#[test]
fn number_zero_takes_the_slot_of_a_partition_deleted_in_the_same_config() {
    // Ignition 2.27 (coreos/ignition 76f869a4): up to 2.26 the config was refused.
    let disk = LoopDisk::new(64);
    disk.sgdisk(&[
        "-n",
        "1:0:+8M",
        "-c",
        "1:t26-stay",
        "-n",
        "2:0:+8M",
        "-c",
        "2:t26-go",
        "-n",
        "3:0:+8M",
        "-c",
        "3:t26-third",
    ]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let stay = loopdev::partition_info(disk.path(), 1);
    let third = loopdev::partition_info(disk.path(), 3);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 2, "shouldExist": false, "wipePartitionEntry": true },
            { "label": "t26-new", "sizeMiB": 4 }
        ]
    }] })));
    assert_ok(&out);
    assert_mentions(&out, &["new partition 2 (\"t26-new\") is to be created"]);
    let parts = loopdev::partitions(disk.path());
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!((parts[0].clone(), parts[2].clone()), (stay, third));
    assert_eq!(
        (parts[1].number, parts[1].first, parts[1].name.as_str()),
        (2, 2048 + 24 * MIB, "t26-new"),
        "the new partition takes the deleted one's number, and sgdisk's default start: the largest free block"
    );
    assert_kernel_in_sync(&disk);
    assert_marker(&disk.part(1));
}

#[test]
fn number_zero_skips_the_numbers_later_entries_name_and_keeps_config_order() {
    let disk = LoopDisk::new(64);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "label": "t27-zero", "sizeMiB": 4 },
            { "number": 1, "label": "t27-one", "sizeMiB": 4 },
            { "number": 0, "label": "t27-zero-too", "sizeMiB": 4 }
        ]
    }] })));
    assert_ok(&out);
    let parts: Vec<(u32, u64, String)> = loopdev::partitions(disk.path())
        .into_iter()
        .map(|p| (p.number, p.first, p.name))
        .collect();
    assert_eq!(
        parts,
        [
            (1, 2048 + 4 * MIB, "t27-one".to_owned()),
            (2, 2048, "t27-zero".to_owned()),
            (3, 2048 + 8 * MIB, "t27-zero-too".to_owned()),
        ]
    );
    assert_kernel_in_sync(&disk);
}

/// A disk whose partition 1 holds a mounted ext4, so the kernel cannot re-read the whole
/// table (sgdisk's BLKRRPART fails) and the engine must tell it about a new partition with
/// partx; and a directory holding a `partx` that runs `script` (`$REAL` is the real one).
fn busy_disk_and_partx(script: &str) -> (LoopDisk, tempfile::TempDir, tempfile::TempDir) {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+16M", "-c", "1:t28-busy"]);
    loopdev::settle();
    loopdev::run_ok("mkfs.ext4", &["-q", disk.part(1).to_str().expect("utf-8")]);
    let mnt = tempfile::tempdir().expect("mnt");
    loopdev::run_ok(
        "mount",
        &[
            disk.part(1).to_str().expect("utf-8"),
            mnt.path().to_str().expect("utf-8"),
        ],
    );
    let bin = tempfile::tempdir().expect("bin");
    let real = loopdev::run_ok("sh", &["-c", "command -v partx"]);
    let wrapper = bin.path().join("partx");
    fs::write(
        &wrapper,
        format!("#!/bin/sh\nREAL={}\n{script}\n", real.trim()),
    )
    .expect("partx stand-in");
    fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    (disk, mnt, bin)
}

fn path_with(bin: &Path) -> std::ffi::OsString {
    let mut path = bin.as_os_str().to_owned();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

#[test]
fn partx_failing_because_udev_was_first_is_not_an_error() {
    // Ignition 2.27 (coreos/ignition d51c6d6a): `partx --add` fails when the kernel already
    // knows the partition, as when udev got there first. This partx adds it, then tries
    // again and fails as partx then does.
    let (disk, mnt, bin) = busy_disk_and_partx("\"$REAL\" \"$@\"; exec \"$REAL\" \"$@\"");
    let cfg = config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 2, "label": "t28-new", "sizeMiB": 8 } ]
    }] }));
    let path = path_with(bin.path());
    let out = run_disks_with(&cfg, &[("PATH", Path::new(&path))]);
    loopdev::run_ok("umount", &[mnt.path().to_str().expect("utf-8")]);
    assert_ok(&out);
    assert_mentions(
        &out,
        &[
            "telling the kernel about a partition",
            "the kernel's view is checked once udev has settled",
        ],
    );
    assert_kernel_in_sync(&disk);
}

#[test]
fn a_kernel_that_never_learns_the_new_partition_fails_naming_it() {
    let (disk, mnt, bin) =
        busy_disk_and_partx("echo \"partx: the test's partx refuses\" >&2; exit 1");
    let cfg = config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 2, "label": "t29-new", "sizeMiB": 8 } ]
    }] }));
    let path = path_with(bin.path());
    let out = run_disks_with(&cfg, &[("PATH", Path::new(&path))]);
    loopdev::run_ok("umount", &[mnt.path().to_str().expect("utf-8")]);
    assert_fails(&out, disk.path_str());
    assert_mentions(
        &out,
        &[
            "not known to the kernel as in the table: 2 (start 34816, 16384 sectors",
            "Is a partition of this disk in use",
            "last partx failure",
            "the test's partx refuses",
        ],
    );
}

#[test]
fn should_exist_false_without_wipe_partition_entry_fails_and_keeps_it() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+8M", "-n", "2:0:+8M", "-c", "2:t06-doomed"]);
    let before = disk.table();
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 2, "shouldExist": false } ]
    }] })));
    assert_fails(&out, "partition 2");
    assert_mentions(&out, &["wipePartitionEntry"]);
    assert_eq!(disk.table(), before);
}

#[test]
fn resize_grows_a_partition_in_place_and_keeps_its_data() {
    let disk = LoopDisk::new(64);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D571";
    disk.sgdisk(&[
        "-n",
        "1:0:+10M",
        "-c",
        "1:t07-grow",
        "-t",
        &format!("1:{ESP}"),
        "-u",
        &format!("1:{g1}"),
    ]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 1, "label": "t07-grow", "sizeMiB": 20, "resize": true } ]
    }] })));
    assert_ok(&out);
    // Same start, GUID, type and label; 20 MiB now.
    assert_eq!(
        loopdev::partitions(disk.path()),
        vec![part(1, 2048, 2048 + 20 * MIB - 1, ESP, g1, "t07-grow")]
    );
    assert_kernel_in_sync(&disk);
    assert_marker(&disk.part(1));
}

#[test]
fn a_size_mismatch_without_resize_or_wipe_fails_and_changes_nothing() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+10M", "-c", "1:t08-fixed"]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let before = disk.table();
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 1, "label": "t08-fixed", "sizeMiB": 20 },
            { "number": 2, "label": "t08-never", "sizeMiB": 4 }
        ]
    }] })));
    assert_fails(&out, "partition 1");
    assert_mentions(&out, &["size"]);
    assert_eq!(
        disk.table(),
        before,
        "a failed stage must not touch the table"
    );
    assert_marker(&disk.part(1));
}

#[test]
fn wipe_partition_entry_recreates_a_mismatched_partition() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+10M", "-c", "1:t09-old"]);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D591";
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ {
            "number": 1, "label": "t09-new", "sizeMiB": 16,
            "wipePartitionEntry": true, "guid": g1
        } ]
    }] })));
    assert_ok(&out);
    assert_eq!(
        loopdev::partitions(disk.path()),
        vec![part(1, 2048, 2048 + 16 * MIB - 1, LINUX, g1, "t09-new")]
    );
    assert_kernel_in_sync(&disk);
}

#[test]
fn wipe_table_clears_the_existing_partitions() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+8M", "-n", "2:0:+8M", "-n", "3:0:+8M"]);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D5A1";
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "wipeTable": true,
        "partitions": [ { "number": 2, "label": "t10-only", "sizeMiB": 4, "guid": g1 } ]
    }] })));
    assert_ok(&out);
    // Partition 2 at the start: nothing of the old table is left.
    assert_eq!(
        loopdev::partitions(disk.path()),
        vec![part(2, 2048, 2048 + 4 * MIB - 1, LINUX, g1, "t10-only")]
    );
    assert_kernel_in_sync(&disk);
}

#[test]
fn wipe_table_alone_leaves_no_partition_table() {
    // Ignition 2.14 runs `sgdisk --zap-all` and writes nothing else: no GPT at all.
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:0:+8M", "-n", "2:0:+8M", "-n", "3:0:+8M"]);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "wipeTable": true
    }] })));
    assert_ok(&out);
    assert_eq!(disk.table(), "no GPT");
    assert_kernel_in_sync(&disk);
}

#[test]
fn overlapping_partitions_in_the_config_are_refused_before_the_disk_is_touched() {
    // Ignition 2.14 rejects these when it validates the config (`partitions overlap`), so
    // the disks stage never runs; Kindling does the same in fetch-offline.
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "3:40M:+8M", "-c", "3:t12-bystander"]);
    let before = disk.table();
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [
            { "number": 1, "label": "t12-low", "startMiB": 1, "sizeMiB": 20 },
            { "number": 2, "label": "t12-high", "startMiB": 10, "sizeMiB": 20 }
        ]
    }] })));
    assert_fails(&out, "overlap");
    assert_eq!(disk.table(), before);
}

#[test]
fn a_partition_overlapping_an_existing_one_fails_and_changes_nothing() {
    let disk = LoopDisk::new(64);
    disk.sgdisk(&["-n", "1:1M:+20M", "-c", "1:t13-there"]);
    loopdev::write_at(&disk.part(1), MARKER_OFFSET, MARKER);
    let before = disk.table();
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 2, "label": "t13-intruder", "startMiB": 10, "sizeMiB": 20 } ]
    }] })));
    assert_fails(&out, "partition 2");
    assert_mentions(&out, &[disk.path_str()]);
    assert_eq!(disk.table(), before);
    assert_marker(&disk.part(1));
}

#[test]
fn a_disk_too_small_for_the_partitions_fails_naming_the_disk() {
    let disk = LoopDisk::new(64);
    let out = run_disks(&config(json!({ "disks": [{
        "device": disk.path_str(),
        "partitions": [ { "number": 1, "label": "t14-huge", "sizeMiB": 128 } ]
    }] })));
    assert_fails(&out, disk.path_str());
    assert_mentions(&out, &["partition 1"]);
    assert_eq!(
        disk.table(),
        "no GPT",
        "a failed stage must not write a table"
    );
}

#[test]
fn a_device_that_does_not_exist_fails_with_its_path_after_the_device_timeout() {
    let started = Instant::now();
    let out = run_disks(&config(json!({ "disks": [{
        "device": "/dev/does-not-exist",
        "partitions": [ { "number": 1, "label": "t15-nowhere", "sizeMiB": 8 } ]
    }] })));
    let took = started.elapsed();
    assert_fails(&out, "/dev/does-not-exist");
    // The harness passes --device-timeout 3.
    assert!(
        took < Duration::from_secs(15),
        "waiting for a missing device took {took:?}"
    );
}

#[test]
fn a_by_partlabel_link_that_never_comes_says_when_no_udev_answers() {
    loopdev::require_root();
    loopdev::ensure_udevd();
    let config = config(json!({ "filesystems": [
        { "device": "/dev/disk/by-partlabel/t15b-never-made", "format": "ext4" }
    ] }));
    let with_udev = run_disks(&config);
    assert_fails(&with_udev, "/dev/disk/by-partlabel/t15b-never-made");
    assert!(
        !stderr(&with_udev).contains("no udev daemon answers"),
        "udev runs here: {}",
        stderr(&with_udev)
    );

    // Everything but the ping goes to the real udevadm, so only the daemon looks gone.
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("udevadm"))
        .find(|p| p.is_file())
        .expect("udevadm on PATH");
    let bin = tempfile::tempdir().expect("tempdir");
    let fake = bin.path().join("udevadm");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\n[ \"$1 $2\" = \"control --ping\" ] && {{ echo 'Failed to send a ping message: Connection refused' >&2; exit 1; }}\nexec {} \"$@\"\n",
            real.display()
        ),
    )
    .expect("fake udevadm");
    fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = Env::new("kindling.platform.id=file");
    let file = env.path("config.ign");
    fs::write(&file, serde_json::to_vec(&config).expect("JSON")).expect("config");
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &file)]));
    let out = env.stage("disks", &[("PATH", Path::new(&path))]);
    assert_fails(&out, "no udev daemon answers");
    assert_fails(&out, "start systemd-udevd");
}

// ---- Filesystems ----

#[test]
fn ext4_with_label_and_uuid_on_a_whole_disk() {
    let disk = LoopDisk::new(128);
    let uuid = "5d1c9a3e-1111-4a2b-9c3d-00000000e401";
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "ext4", "label": "t16-root", "uuid": uuid }
    ] })));
    assert_ok(&out);
    assert_eq!(disk.probe(), Probe::new("ext4", "t16-root", uuid));
}

#[test]
fn xfs_btrfs_vfat_and_swap_with_labels_and_uuids() {
    let xfs = LoopDisk::new(512);
    let btrfs = LoopDisk::new(256);
    let vfat = LoopDisk::new(64);
    let swap = LoopDisk::new(64);
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": xfs.path_str(), "format": "xfs", "label": "t17-xfs",
          "uuid": "5d1c9a3e-2222-4a2b-9c3d-00000000e402" },
        { "device": btrfs.path_str(), "format": "btrfs", "label": "t17-btrfs",
          "uuid": "5d1c9a3e-3333-4a2b-9c3d-00000000e403" },
        // FAT has a 32-bit volume ID; Ignition's docs write it as blkid shows it.
        { "device": vfat.path_str(), "format": "vfat", "label": "T17-EFI", "uuid": "1234-ABCD" },
        { "device": swap.path_str(), "format": "swap", "label": "t17-swap",
          "uuid": "5d1c9a3e-4444-4a2b-9c3d-00000000e404" }
    ] })));
    assert_ok(&out);
    assert_eq!(
        xfs.probe(),
        Probe::new("xfs", "t17-xfs", "5d1c9a3e-2222-4a2b-9c3d-00000000e402")
    );
    assert_eq!(
        btrfs.probe(),
        Probe::new("btrfs", "t17-btrfs", "5d1c9a3e-3333-4a2b-9c3d-00000000e403")
    );
    assert_eq!(vfat.probe(), Probe::new("vfat", "T17-EFI", "1234-ABCD"));
    assert_eq!(
        swap.probe(),
        Probe::new("swap", "t17-swap", "5d1c9a3e-4444-4a2b-9c3d-00000000e404")
    );
}

#[test]
fn a_filesystem_on_a_partition_made_in_the_same_run_by_partuuid() {
    let disk = LoopDisk::new(128);
    let g1 = "A1B2C3D4-0001-4000-8000-00000000D5B1";
    let uuid = "5d1c9a3e-5555-4a2b-9c3d-00000000e405";
    let out = run_disks(&config(json!({
        "disks": [{
            "device": disk.path_str(),
            "wipeTable": true,
            "partitions": [ { "number": 1, "label": "t18-data", "sizeMiB": 64, "guid": g1 } ]
        }],
        "filesystems": [{
            "device": format!("/dev/disk/by-partuuid/{}", g1.to_lowercase()),
            "format": "ext4", "label": "t18-data", "uuid": uuid
        }]
    })));
    assert_ok(&out);
    assert_eq!(
        loopdev::blkid_probe(&disk.part(1)),
        Probe::new("ext4", "t18-data", uuid)
    );
    assert_eq!(
        disk.probe().fstype,
        "",
        "the whole disk is a GPT, not a filesystem"
    );
}

#[test]
fn an_existing_ext4_that_matches_is_reused_with_its_data() {
    let disk = LoopDisk::new(128);
    let uuid = "5d1c9a3e-6666-4a2b-9c3d-00000000e406";
    loopdev::mkfs("ext4", disk.path(), Some("t19-keep"), Some(uuid));
    loopdev::ext4_write_file(disk.path(), "marker", MARKER);
    let created = loopdev::ext4_header(disk.path(), "Filesystem created");
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "ext4", "label": "t19-keep", "uuid": uuid,
          "wipeFilesystem": false }
    ] })));
    assert_ok(&out);
    assert_eq!(disk.probe(), Probe::new("ext4", "t19-keep", uuid));
    assert_eq!(
        loopdev::ext4_header(disk.path(), "Filesystem created"),
        created,
        "the filesystem was made again"
    );
    assert_eq!(
        loopdev::ext4_read_file(disk.path(), "marker").as_deref(),
        Some(MARKER),
        "the file in the filesystem is gone"
    );
}

#[test]
fn an_existing_xfs_is_not_clobbered_by_an_ext4_without_wipe_filesystem() {
    let disk = LoopDisk::new(512);
    let uuid = "5d1c9a3e-7777-4a2b-9c3d-00000000e407";
    loopdev::mkfs("xfs", disk.path(), Some("t20-old"), Some(uuid));
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "ext4", "label": "t20-new" }
    ] })));
    assert_fails(&out, disk.path_str());
    assert_mentions(&out, &["xfs"]);
    assert_eq!(
        disk.probe(),
        Probe::new("xfs", "t20-old", uuid),
        "the xfs was touched"
    );
}

#[test]
fn an_ext4_with_another_uuid_is_not_reused_without_wipe_filesystem() {
    let disk = LoopDisk::new(128);
    let uuid = "5d1c9a3e-8888-4a2b-9c3d-00000000e408";
    loopdev::mkfs("ext4", disk.path(), Some("t21-same"), Some(uuid));
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "ext4", "label": "t21-same",
          "uuid": "5d1c9a3e-9999-4a2b-9c3d-00000000e409" }
    ] })));
    assert_fails(&out, disk.path_str());
    assert_eq!(disk.probe(), Probe::new("ext4", "t21-same", uuid));
}

#[test]
fn wipe_filesystem_replaces_an_existing_filesystem() {
    let disk = LoopDisk::new(512);
    loopdev::mkfs("xfs", disk.path(), Some("t22-old"), None);
    let uuid = "5d1c9a3e-aaaa-4a2b-9c3d-00000000e40a";
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "ext4", "label": "t22-new", "uuid": uuid,
          "wipeFilesystem": true }
    ] })));
    assert_ok(&out);
    assert_eq!(disk.probe(), Probe::new("ext4", "t22-new", uuid));
    // wipefs ran first: no xfs signature is left behind the new filesystem.
    let all = loopdev::run_ok(
        "wipefs",
        &["--noheadings", "--output", "TYPE", disk.path_str()],
    );
    assert_eq!(all.trim(), "ext4", "signatures left: {all}");
}

#[test]
fn format_none_with_wipe_filesystem_erases_the_signatures() {
    let disk = LoopDisk::new(128);
    loopdev::mkfs("ext4", disk.path(), Some("t23-gone"), None);
    let out = run_disks(&config(json!({ "filesystems": [
        { "device": disk.path_str(), "format": "none", "wipeFilesystem": true }
    ] })));
    assert_ok(&out);
    assert_eq!(
        disk.probe(),
        Probe::default(),
        "blkid still finds something"
    );
}

#[test]
fn a_disk_holding_a_filesystem_but_no_gpt_is_not_partitioned_without_wipe_table() {
    // Deliberate difference: Ignition's sgdisk would write a GPT over the filesystem.
    let disk = LoopDisk::new(64);
    let uuid = "5d1c9a3e-aaaa-4a2b-9c3d-00000000e4f1";
    loopdev::mkfs("ext4", disk.path(), Some("whole-disk"), Some(uuid));
    let out = run_disks(&config(json!({ "disks": [
        { "device": disk.path_str(), "partitions": [{ "label": "new", "sizeMiB": 8 }] }
    ] })));
    assert_fails(&out, "$.storage.disks.0");
    assert_mentions(&out, &["holds ext4", "not a GPT", "wipeTable: true"]);
    assert_eq!(disk.probe(), Probe::new("ext4", "whole-disk", uuid));
}

#[test]
fn luks_refuses_cex_keys_it_cannot_honour() {
    let disk = LoopDisk::new(32);
    let mut cfg = config(json!({ "luks": [
        { "name": "sealed", "device": disk.path_str(), "cex": { "enabled": true } }
    ] }));
    cfg["ignition"]["version"] = json!("3.5.0"); // cex is new in 3.5.0
    let out = run_disks(&cfg);
    assert_fails(&out, "$.storage.luks.0");
    assert_mentions(&out, &["CEX", "not supported"]);
    assert_eq!(disk.probe(), Probe::new("", "", ""), "the disk was touched");
}

#[test]
fn a_volume_with_a_clevis_binding_is_never_reused() {
    // Like Ignition: what clevis keeps in the header cannot be compared with the config.
    let disk = LoopDisk::new(32);
    loopdev::luks_format(disk.path(), b"old-key");
    let before = disk.probe();
    assert_eq!(before.fstype, "crypto_LUKS");
    let out = run_disks(&config(json!({ "luks": [
        { "name": "sealed", "device": disk.path_str(), "clevis": { "tpm2": true } }
    ] })));
    assert_fails(&out, "$.storage.luks.0");
    assert_mentions(&out, &["never reused", "wipeVolume: true"]);
    assert_eq!(disk.probe(), before, "the volume was touched");
}

#[test]
fn an_unreachable_tang_server_stops_before_the_disk_is_touched() {
    let disk = LoopDisk::new(32);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let mut cfg = config(json!({ "luks": [{
        "name": "sealed",
        "device": disk.path_str(),
        "clevis": { "tang": [{ "url": url, "thumbprint": "r4Xo0YVtNV6rmCpLzvh4DZV0F1SshhdVVYvPSK8TKnI" }] }
    }] }));
    cfg["ignition"]["timeouts"] = json!({ "httpTotal": 3 });
    let out = run_disks(&cfg);
    assert_fails(&out, "$.storage.luks.0.clevis.tang.0.url");
    assert_mentions(&out, &["Tang server did not answer", &url]);
    assert_eq!(disk.probe(), Probe::new("", "", ""), "the disk was touched");
}

#[test]
fn a_luks_key_file_whose_hash_does_not_match_stops_before_the_disk_is_touched() {
    let disk = LoopDisk::new(32);
    let out = run_disks(&config(json!({ "luks": [{
        "name": "data",
        "device": disk.path_str(),
        "keyFile": {
            "source": "data:,not-the-key",
            "verification": { "hash": format!("sha512-{}", "0".repeat(128)) }
        }
    }] })));
    assert_fails(&out, "$.storage.luks.0.keyFile");
    assert_mentions(&out, &["hash"]);
    assert_eq!(disk.probe(), Probe::new("", "", ""), "the disk was touched");
}

#[test]
fn luks_refuses_to_encrypt_over_an_existing_filesystem_without_wipe_volume() {
    let disk = LoopDisk::new(64);
    let uuid = "5d1c9a3e-bbbb-4a2b-9c3d-00000000e4f2";
    loopdev::mkfs("ext4", disk.path(), Some("keep-me"), Some(uuid));
    let out = run_disks(&config(json!({ "luks": [
        { "name": "data", "device": disk.path_str(), "keyFile": { "source": "data:,k3y" } }
    ] })));
    assert_fails(&out, "$.storage.luks.0");
    assert_mentions(&out, &["holds ext4", "wipeVolume: true"]);
    assert_eq!(disk.probe(), Probe::new("ext4", "keep-me", uuid));
}
