//! Kindling's disks stage must leave the same partition tables and filesystems as Ignition's.
//!
//! Each config in `tests/fixtures/disks/` (spec 3.3.0, which Debian's Ignition 2.14 runs)
//! names its disks `@DISK@` and `@DISK2@`. For each tool the test attaches fresh loop
//! devices (sparse images), prepares them the same way (existing partitions, filesystems
//! and data, see [`setups`]), puts their paths into the config and runs the tool: Ignition
//! (`/usr/lib/dracut/modules.d/30ignition/ignition`, `-stage fetch-offline` then
//! `-stage disks`) and Kindling (`fetch-offline` then `disks`). Then it compares:
//! - whether each succeeded (configs named `*-fail-*` must fail for both, and leave the
//!   disks as they were; configs named `*-twice` are applied twice, and the second run
//!   must succeed too);
//! - each disk's table as `sgdisk -p` and `sgdisk --info=N` show it, with the device name
//!   and the disk GUID left out, and partition GUIDs that the config does not fix masked;
//! - `blkid -p` of each disk and of each of its partitions: TYPE, LABEL and UUID (a UUID
//!   that the config does not fix is masked);
//! - for setups that leave data behind (a marker at a byte offset of a partition, a file in
//!   an ext4 filesystem), that both tools kept it.
//!
//! Two adaptations let Ignition's disks stage run on a test machine:
//! - Ignition waits for each device the config names by starting its `.device` unit through
//!   systemd's D-Bus socket `/run/systemd/private`. There is no systemd here, so the test
//!   serves a minimal stand-in on a socket of its own (`support::fake_systemd`) and runs
//!   Ignition in a private mount namespace (`unshare -m`) where that socket's directory is
//!   bind-mounted over `/run/systemd` (and a tmpfs over `/run/ignition`, where Ignition puts
//!   its device aliases), so nothing outside the namespace sees either.
//! - The test kernel has no GPT parser (and the loop devices are attached without `-P`), so
//!   the partition devices Ignition waits for after partitioning would never appear. While a
//!   device is awaited, the stand-in makes the kernel's partitions of the case's disks match
//!   their tables with `partx` (what the kernel would do itself after sgdisk re-read the
//!   table on a real disk), then answers `done` once the kernel knows the device.
//!   Kindling syncs the kernel's view itself, so its side runs as it would in the initramfs.
//!
//! One difference is deliberate and has no config here: Ignition matches an existing
//! partition only by its number, so a partition with number 0 is created on every run, even
//! when the disk has one with the same label (coreos/ignition#1219; Ignition 2.14 on
//! `{"number":0,"label":"x"}` over a disk with partition `x` makes a second `x`, and
//! applying such a config twice makes two). Kindling keeps the existing partition with that
//! label (`tests/integration/disks_stage.rs` checks it). It is listed, with every other intended
//! difference from Ignition 2.14, in `tests/differential/allowed.txt`; this test allows no
//! difference at all.
//!
//! Without the Ignition binary the test fails when CI is set and skips otherwise. It needs
//! root (loop devices, partx, mount namespaces).

use crate::common;
use crate::support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{Failures, Outcome};
use support::fake_systemd::FakeSystemd;
use support::loopdev::{self, LoopDisk, Probe};
use support::stage::Env;

const IGNITION: &str = "/usr/lib/dracut/modules.d/30ignition/ignition";

/// Every disk is this big: xfs wants more than 300 MiB; the images are sparse.
const DISK_MIB: u64 = 512;

/// A marker written inside a partition by some setups, and where (bytes from the partition
/// start).
const MARKER: &[u8] = b"kindling-differential-marker";
const MARKER_OFFSET: u64 = 1024 * 1024 + 17;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ignition,
    Kindling,
}

/// Prepares a case's disks before a tool runs, the same way for both tools.
type Setup = fn(&[LoopDisk]);

fn no_setup(_: &[LoopDisk]) {}

/// What a setup left that must survive, checked after the tool ran.
#[derive(Debug, Clone, Copy)]
enum Keeps {
    Nothing,
    /// [`MARKER`] at [`MARKER_OFFSET`] of partition N of the first disk.
    PartitionMarker(u32),
    /// The file `marker` with [`MARKER`] in it, in an ext4 filesystem on the first disk.
    Ext4File,
    /// [`OEM_NAME`] in the boot sector of a FAT filesystem on the first disk, where
    /// mkfs.fat writes its own name: gone when the filesystem is made again.
    FatOemName,
}

/// Written over the OEM name of a FAT boot sector (bytes 3 to 10).
const OEM_NAME: &[u8] = b"KINDLING";

/// GUIDs and UUIDs that the setups fix: like the config's own, they are compared as they
/// are rather than masked.
const SETUP_IDS: &[&str] = &[
    "3B4A0B3C-7D5E-4F60-8A71-92B3C4D5E601",
    "0DDC0FFE-E0DD-4C0F-8FEE-0DDC0FFEE001",
    "11111111-2222-4333-8444-555555555501",
    "22222222-3333-4444-8555-666666666601",
    "33333333-4444-4555-8666-777777777777",
    "44444444-5555-4666-8777-888888888801",
    "55555555-6666-4777-8888-999999999903",
    "ABCD-1234",
];

fn setups() -> BTreeMap<&'static str, (Setup, Keeps)> {
    let mut m: BTreeMap<&'static str, (Setup, Keeps)> = BTreeMap::new();
    m.insert(
        "01-new-table",
        (
            |d| {
                // Something for wipeTable to remove.
                d[0].sgdisk(&["-n", "1:0:+30M", "-c", "1:old", "-n", "2:0:+30M"]);
            },
            Keeps::Nothing,
        ),
    );
    m.insert(
        "02-keep-and-add",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "1:0:+10M",
                    "-c",
                    "1:kept",
                    "-u",
                    "1:3B4A0B3C-7D5E-4F60-8A71-92B3C4D5E601",
                ]);
                loopdev::write_at(&d[0].part(1), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(1),
        ),
    );
    m.insert(
        "03-number-zero",
        (
            |d| d[0].sgdisk(&["-n", "1:0:+4M", "-c", "1:first"]),
            Keeps::Nothing,
        ),
    );
    m.insert(
        "04-resize",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "1:0:+10M",
                    "-c",
                    "1:grow",
                    "-u",
                    "1:0DDC0FFE-E0DD-4C0F-8FEE-0DDC0FFEE001",
                ]);
                loopdev::write_at(&d[0].part(1), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(1),
        ),
    );
    m.insert(
        "05-delete",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "1:0:+8M",
                    "-c",
                    "1:one",
                    "-n",
                    "2:0:+8M",
                    "-c",
                    "2:two",
                    "-u",
                    "1:11111111-2222-4333-8444-555555555501",
                ]);
                loopdev::write_at(&d[0].part(1), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(1),
        ),
    );
    m.insert(
        "06-wipe-partition-entry",
        (
            |d| d[0].sgdisk(&["-n", "1:0:+10M", "-c", "1:redone"]),
            Keeps::Nothing,
        ),
    );
    m.insert(
        "15-fail-overlaps-existing",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "3:100M:+8M",
                    "-c",
                    "3:bystander",
                    "-u",
                    "3:55555555-6666-4777-8888-999999999903",
                ]);
                loopdev::write_at(&d[0].part(3), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(3),
        ),
    );
    m.insert(
        "16-fail-too-small",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "3:100M:+8M",
                    "-c",
                    "3:bystander",
                    "-u",
                    "3:55555555-6666-4777-8888-999999999903",
                ]);
                loopdev::write_at(&d[0].part(3), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(3),
        ),
    );
    m.insert(
        "17-fail-delete-without-wipe",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "1:0:+8M",
                    "-n",
                    "2:0:+8M",
                    "-c",
                    "2:doomed",
                    "-u",
                    "2:44444444-5555-4666-8777-888888888801",
                ]);
                loopdev::write_at(&d[0].part(2), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(2),
        ),
    );
    m.insert(
        "18-reuse-vfat-uuid-forms",
        (
            |d| {
                loopdev::mkfs("vfat", d[0].path(), Some("BOOT"), Some("ABCD-1234"));
                loopdev::write_at(d[0].path(), 3, OEM_NAME);
            },
            Keeps::FatOemName,
        ),
    );
    m.insert(
        "20-wipe-table-only",
        (
            |d| d[0].sgdisk(&["-n", "1:0:+8M", "-n", "2:0:+8M", "-n", "3:0:+8M"]),
            Keeps::Nothing,
        ),
    );
    m.insert(
        "10-reuse-ext4",
        (
            |d| {
                loopdev::mkfs(
                    "ext4",
                    d[0].path(),
                    Some("keepme"),
                    Some("c0ffee00-1234-4abc-8def-0123456789ab"),
                );
                loopdev::ext4_write_file(d[0].path(), "marker", MARKER);
            },
            Keeps::Ext4File,
        ),
    );
    m.insert(
        "11-wipe-to-none",
        (
            |d| loopdev::mkfs("ext4", d[0].path(), Some("gone"), None),
            Keeps::Nothing,
        ),
    );
    m.insert(
        "12-fail-size-mismatch",
        (
            |d| {
                d[0].sgdisk(&[
                    "-n",
                    "1:0:+10M",
                    "-c",
                    "1:fixed",
                    "-u",
                    "1:22222222-3333-4444-8555-666666666601",
                ]);
                loopdev::write_at(&d[0].part(1), MARKER_OFFSET, MARKER);
            },
            Keeps::PartitionMarker(1),
        ),
    );
    m.insert(
        "13-fail-clobber-xfs",
        (
            |d| {
                loopdev::mkfs(
                    "xfs",
                    d[0].path(),
                    Some("oldxfs"),
                    Some("33333333-4444-4555-8666-777777777777"),
                );
            },
            Keeps::Nothing,
        ),
    );
    m.insert(
        "14-wipe-xfs-for-ext4",
        (
            |d| loopdev::mkfs("xfs", d[0].path(), Some("oldxfs"), None),
            Keeps::Nothing,
        ),
    );
    m
}

/// How many disks a config names (`@DISK@`, `@DISK2@`).
fn disk_count(template: &str) -> usize {
    if template.contains("@DISK2@") {
        2
    } else {
        1
    }
}

fn render(template: &str, disks: &[LoopDisk]) -> String {
    let mut text = template.to_owned();
    if let Some(d) = disks.get(1) {
        text = text.replace("@DISK2@", d.path_str());
    }
    text.replace("@DISK@", disks[0].path_str())
}

/// Runs Ignition's fetch-offline and disks stages on `config` in a private mount namespace
/// with the fake systemd's socket directory over `/run/systemd`.
fn run_ignition(config: &Path, work: &Path, disks: &[LoopDisk]) -> (Outcome, Vec<String>) {
    let devices: Vec<&Path> = disks.iter().map(LoopDisk::path).collect();
    let systemd = FakeSystemd::start(&devices);
    let root = work.join("root");
    fs::create_dir_all(&root).expect("root");
    let mut log = String::new();
    let mut last = None;
    for stage in ["fetch-offline", "disks"] {
        // `timeout`: a stand-in that never answers must not hang the test.
        let mut cmd = Command::new("timeout");
        cmd.args([
            "120",
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
        ])
        .arg(
            "mkdir -p /run/systemd /run/ignition \
                 && mount --bind \"$1\" /run/systemd \
                 && mount -t tmpfs tmpfs /run/ignition \
                 && shift && exec \"$@\"",
        )
        .arg("sh")
        .arg(systemd.dir())
        .arg(IGNITION)
        .args(["-platform", "file", "-stage", stage, "-log-to-stdout"])
        .arg("-root")
        .arg(&root)
        .arg("-config-cache")
        .arg(work.join("cache.json"))
        .arg("-state-file")
        .arg(work.join("state"))
        .arg("-neednet")
        .arg(work.join("neednet"))
        .env("IGNITION_CONFIG_FILE", config)
        .env_remove("KINDLING_CONFIG_FILE");
        let out = Outcome::run(cmd, Path::new(IGNITION));
        // Without journald every log line also gets a complaint about the journal socket.
        for line in out.stdout.lines() {
            if !line.contains("failed to log systemd journal entry") {
                log.push_str(line);
                log.push('\n');
            }
        }
        let ok = out.succeeded();
        last = Some(out);
        if !ok {
            break;
        }
    }
    let mut out = last.expect("ran");
    out.stdout = log;
    (out, systemd.started())
}

fn run_kindling(config: &Path) -> Outcome {
    let env = Env::new("kindling.platform.id=file");
    let fetch = env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", config)]);
    let to_outcome = |o: std::process::Output| Outcome {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    if !fetch.status.success() {
        return to_outcome(fetch);
    }
    to_outcome(env.stage("disks", &[]))
}

/// What a tool left on the disks, normalised so that two tools' results compare equal when
/// they did the same thing.
#[derive(Debug, Default, PartialEq, Eq)]
struct State {
    tables: Vec<String>,
    probes: BTreeMap<String, Probe>,
    kept: Option<bool>,
}

impl State {
    fn describe(&self) -> String {
        let mut s = String::new();
        for (i, t) in self.tables.iter().enumerate() {
            s.push_str(&format!("      disk {}:\n", i + 1));
            for line in t.lines() {
                s.push_str(&format!("        {line}\n"));
            }
        }
        for (dev, p) in &self.probes {
            s.push_str(&format!(
                "      {dev}: TYPE={} LABEL={} UUID={}\n",
                p.fstype, p.label, p.uuid
            ));
        }
        if let Some(kept) = self.kept {
            s.push_str(&format!("      setup's data kept: {kept}\n"));
        }
        s
    }
}

/// The GUIDs and UUIDs a config fixes: every quoted value of a `guid` or `uuid` key.
fn fixed_ids(config: &str) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(config).expect("fixture is JSON");
    let mut out = Vec::new();
    collect_ids(&doc, &mut out);
    out
}

fn collect_ids(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("guid" | "uuid", Some(id)) => out.push(id.to_owned()),
                    _ => collect_ids(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

fn state_of(disks: &[LoopDisk], ids: &[String], keeps: Keeps) -> State {
    let mut state = State::default();
    for (i, disk) in disks.iter().enumerate() {
        let name = if i == 0 { "@DISK@" } else { "@DISK2@" };
        disk.sync();
        let table = disk.table();
        state.tables.push(loopdev::mask_guids_except(&table, ids));
        let mut devices = vec![(name.to_owned(), disk.path().to_path_buf())];
        for (n, _, _) in loopdev::table_partitions(disk.path()) {
            devices.push((format!("{name}p{n}"), disk.part(n)));
        }
        for (label, dev) in devices {
            let mut probe = loopdev::blkid_probe(&dev);
            if !probe.uuid.is_empty() && !ids.iter().any(|id| id.eq_ignore_ascii_case(&probe.uuid))
            {
                probe.uuid = "<random>".into();
            }
            state.probes.insert(label, probe);
        }
    }
    state.kept = match keeps {
        Keeps::Nothing => None,
        Keeps::PartitionMarker(n) => {
            let part: PathBuf = disks[0].part(n);
            Some(part.exists() && loopdev::read_at(&part, MARKER_OFFSET, MARKER.len()) == MARKER)
        }
        Keeps::Ext4File => {
            Some(loopdev::ext4_read_file(disks[0].path(), "marker").as_deref() == Some(MARKER))
        }
        Keeps::FatOemName => Some(loopdev::read_at(disks[0].path(), 3, OEM_NAME.len()) == OEM_NAME),
    };
    state
}

fn fixtures() -> Vec<PathBuf> {
    common::json_files(&common::manifest_dir().join("tests/fixtures/disks"))
}

/// Applies one config with both tools and returns what went wrong, if anything.
fn check_case(config: &Path, setups: &BTreeMap<&'static str, (Setup, Keeps)>) -> Vec<String> {
    let mut failures = Vec::new();
    let name = config
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    let template = fs::read_to_string(config).expect("fixture");
    let mut ids = fixed_ids(&template);
    ids.extend(SETUP_IDS.iter().map(|id| (*id).to_owned()));
    let (setup, keeps) = setups
        .get(name.as_str())
        .copied()
        .unwrap_or((no_setup, Keeps::Nothing));
    let must_fail = name.contains("-fail-");
    let mut results = Vec::new();
    for tool in [Tool::Ignition, Tool::Kindling] {
        let work = tempfile::tempdir().expect("tempdir");
        let disks: Vec<LoopDisk> = (0..disk_count(&template))
            .map(|_| LoopDisk::new(DISK_MIB))
            .collect();
        setup(&disks);
        let before = state_of(&disks, &ids, keeps);
        let path = work.path().join("config.ign");
        fs::write(&path, render(&template, &disks)).expect("config");
        // `*-twice` configs are applied twice: the second run must succeed too.
        let runs = if name.contains("-twice") { 2 } else { 1 };
        let mut outcome = None;
        for run in 0..runs {
            let work = work.path().join(format!("run{run}"));
            fs::create_dir_all(&work).expect("work dir");
            // The snapshot above opened the disks read-write (sgdisk does, even to print),
            // which makes udev probe them again: let it finish first.
            loopdev::settle();
            let (out, units) = match tool {
                Tool::Ignition => run_ignition(&path, &work, &disks),
                Tool::Kindling => (run_kindling(&path), Vec::new()),
            };
            let ok = out.succeeded();
            outcome = Some((out, units));
            if !ok {
                break;
            }
        }
        let (out, units) = outcome.expect("ran");
        let after = state_of(&disks, &ids, keeps);
        results.push((out, units, before, after));
    }
    let (ign, ign_units, ign_before, ign_after) = &results[0];
    let (kin, _, kin_before, kin_after) = &results[1];
    if ign_before != kin_before {
        failures.push(format!(
            "{name}: the setup prepared the two tools' disks differently\n    Ignition's:\n{}    Kindling's:\n{}",
            ign_before.describe(),
            kin_before.describe()
        ));
        return failures;
    }
    let ign_log = format!("    Ignition (units started: {ign_units:?}):\n{ign}");
    if std::env::var_os("DISKS_VERBOSE").is_some() {
        eprintln!(
            "== {name}\n{ign_log}    Ignition left:\n{}    Kindling:\n{kin}    Kindling left:\n{}",
            ign_after.describe(),
            kin_after.describe()
        );
    }
    if must_fail {
        if ign.succeeded() || kin.succeeded() {
            failures.push(format!(
                "{name}: both must fail\n{ign_log}    Kindling:\n{kin}"
            ));
            return failures;
        }
        for (tool, before, after) in [
            ("Ignition", ign_before, ign_after),
            ("Kindling", kin_before, kin_after),
        ] {
            if before != after {
                failures.push(format!(
                    "{name}: {tool} failed but changed the disks\n    before:\n{}    after:\n{}",
                    before.describe(),
                    after.describe()
                ));
            }
        }
        return failures;
    }
    if !ign.succeeded() || !kin.succeeded() {
        failures.push(format!(
            "{name}: both must succeed\n{ign_log}    Kindling:\n{kin}"
        ));
        return failures;
    }
    if ign_after.kept == Some(false) {
        failures.push(format!(
            "{name}: Ignition lost the setup's data; the case is wrong\n{ign_log}"
        ));
    }
    if ign_after != kin_after {
        failures.push(format!(
            "{name}: the disks differ\n    Ignition left:\n{}    Kindling left:\n{}    Kindling's log:\n{kin}",
            ign_after.describe(),
            kin_after.describe()
        ));
    }
    failures
}

#[test]
fn kindling_and_ignition_leave_the_same_disks() {
    let test = "kindling_and_ignition_leave_the_same_disks";
    if !Path::new(IGNITION).is_file() {
        if std::env::var_os("CI").is_some() {
            panic!("{IGNITION} is missing, and CI is set, so the differential test cannot be skipped: install it with `apt-get install ignition`");
        }
        common::skip(
            test,
            &format!("{IGNITION} is missing (apt-get install ignition)"),
        );
        return;
    }
    loopdev::require_root();
    loopdev::ensure_udevd();
    let configs = fixtures();
    assert!(
        configs.len() >= 8,
        "expected at least 8 configs, found {}",
        configs.len()
    );
    let only = std::env::var("DISKS_CASE").ok();
    let setups = setups();
    for name in setups.keys() {
        assert!(
            configs
                .iter()
                .any(|c| c.file_stem().is_some_and(|s| s == *name)),
            "setup {name} has no config in tests/fixtures/disks"
        );
    }
    let selected: Vec<&PathBuf> = configs
        .iter()
        .filter(|c| {
            only.as_deref().is_none_or(|o| {
                c.file_stem()
                    .is_some_and(|stem| stem.to_string_lossy().contains(o))
            })
        })
        .collect();
    // Cases are independent (their own loop devices, stand-ins and run directories): a few
    // run side by side.
    let jobs = std::env::var("DISKS_JOBS")
        .ok()
        .and_then(|j| j.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(config) = selected.get(i) else { break };
                let found = check_case(config, &setups);
                results.lock().expect("lock").push((i, found));
            });
        }
    });
    let mut results = results.into_inner().expect("lock");
    results.sort_by_key(|(i, _)| *i);
    let mut failures = Failures::new();
    for (_, found) in results {
        for f in found {
            failures.push(f);
        }
    }
    let checked = selected.len();
    failures.finish(checked, "configs applied by Ignition and Kindling");
}
