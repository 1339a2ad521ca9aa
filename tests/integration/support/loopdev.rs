//! Real block devices for the storage tests: sparse image files attached as loop devices,
//! and the tools to set them up and to look at what a stage left on them (`sgdisk`, `blkid`,
//! `mkfs.*`, raw reads and writes at byte offsets).
//!
//! Everything here needs root; the helpers panic with a clear message otherwise (CI runs the
//! storage tests as root).
//!
//! The kernel of the test machines may have no GPT partition parser (`CONFIG_EFI_PARTITION`
//! unset), and the loop devices are attached without `-P` anyway, so the kernel never reads
//! a partition table by itself: whoever changes a table must tell the kernel with `partx`.
//! [`sync_partitions`] does that for the tests (the stages under test do it themselves).

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, Once};
use std::thread::sleep;
use std::time::Duration;

/// Panics unless the test runs as root.
#[track_caller]
pub fn require_root() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(str::to_owned));
    assert_eq!(
        euid.as_deref(),
        Some("0"),
        "the storage tests attach loop devices and partition them: run them as root"
    );
}

/// Starts udevd once per test process when none answers: the tests and the stages need the
/// `/dev/disk/by-*` links it makes.
///
/// A socket file at `/run/udev/control` proves nothing: a udevd that was killed (a session's
/// processes end before CI runs on the same machine) leaves it behind, and trusting it made
/// every by-partlabel wait in two CI runs time out. So ask the daemon itself.
pub fn ensure_udevd() {
    static START: Once = Once::new();
    START.call_once(|| {
        if udevd_answers() {
            return;
        }
        let out = Command::new("/lib/systemd/systemd-udevd")
            .arg("--daemon")
            .output()
            .expect("starting /lib/systemd/systemd-udevd --daemon");
        assert!(
            out.status.success(),
            "systemd-udevd --daemon failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answered = (0..50).any(|_| {
            udevd_answers() || {
                sleep(Duration::from_millis(100));
                false
            }
        });
        assert!(
            answered,
            "systemd-udevd --daemon started but `udevadm control --ping` gets no answer"
        );
        // Let it see the devices that exist already.
        let _ = Command::new("udevadm")
            .args(["trigger", "--subsystem-match=block", "--action=add"])
            .status();
        settle();
    });
}

fn udevd_answers() -> bool {
    Command::new("udevadm")
        .args(["control", "--ping", "--timeout=2"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `udevadm settle`, errors ignored (the links are checked by whoever needs them).
pub fn settle() {
    let _ = Command::new("udevadm")
        .args(["settle", "--timeout=10"])
        .status();
}

/// Runs a program and returns what it did, panicking only when it cannot start.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a program that must succeed, and returns its stdout.
#[track_caller]
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {} failed ({:?}):\n{}{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sparse image file attached to a free loop device; detached (partitions first) on drop.
#[derive(Debug)]
pub struct LoopDisk {
    dev: PathBuf,
    image: PathBuf,
    _dir: tempfile::TempDir,
}

impl LoopDisk {
    /// A blank disk of `mib` MiB.
    pub fn new(mib: u64) -> LoopDisk {
        require_root();
        ensure_udevd();
        let dir = tempfile::tempdir().expect("tempdir for a disk image");
        let image = dir.path().join("disk.img");
        let file = fs::File::create(&image).expect("creating the image");
        file.set_len(mib * 1024 * 1024).expect("sizing the image");
        drop(file);
        let image_s = image.to_str().expect("utf-8 image path");
        // Parallel tests race for the same free device; losetup reports the loser as busy.
        let mut last = String::new();
        for _ in 0..20 {
            let out = run("losetup", &["--find", "--show", image_s]);
            if out.status.success() {
                let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                let disk = LoopDisk {
                    dev,
                    image,
                    _dir: dir,
                };
                // A previous user of this loop device may have left partitions in the
                // kernel's view: they would shadow the ones this disk gets.
                disk.forget_partitions();
                return disk;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            sleep(Duration::from_millis(100));
        }
        panic!("losetup --find --show {image_s} kept failing: {last}");
    }

    /// `/dev/loopN`.
    pub fn path(&self) -> &Path {
        &self.dev
    }

    pub fn path_str(&self) -> &str {
        self.dev.to_str().expect("utf-8 device path")
    }

    /// The image file behind the device.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// `/dev/loopNpK`.
    pub fn part(&self, number: u32) -> PathBuf {
        PathBuf::from(format!("{}p{number}", self.dev.display()))
    }

    /// Makes the kernel's view of the partitions match the table on the disk.
    pub fn sync(&self) {
        sync_partitions(&self.dev);
    }

    /// Runs sgdisk with `args` on this disk (it must succeed), then syncs the kernel's view.
    #[track_caller]
    pub fn sgdisk(&self, args: &[&str]) {
        sgdisk(&self.dev, args);
    }

    /// [`sgdisk_table`] of this disk.
    pub fn table(&self) -> String {
        sgdisk_table(&self.dev)
    }

    /// [`blkid_probe`] of this disk.
    pub fn probe(&self) -> Probe {
        blkid_probe(&self.dev)
    }

    fn forget_partitions(&self) {
        let dev = self.path_str();
        for attempt in 0..10 {
            if kernel_partitions(&self.dev).is_empty() {
                return;
            }
            if attempt > 0 {
                settle();
                sleep(Duration::from_millis(100));
            }
            let _ = run("partx", &["-d", dev]);
        }
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        settle();
        self.forget_partitions();
        let dev = self.path_str().to_owned();
        for _ in 0..10 {
            if run("losetup", &["-d", &dev]).status.success() {
                break;
            }
            settle();
            sleep(Duration::from_millis(100));
        }
    }
}

/// The partitions the kernel knows on `dev`: (number, start sector, size in sectors).
pub fn kernel_partitions(dev: &Path) -> Vec<(u32, u64, u64)> {
    let name = dev
        .file_name()
        .expect("device name")
        .to_string_lossy()
        .into_owned();
    let sys = Path::new("/sys/class/block").join(&name);
    let mut parts = Vec::new();
    let Ok(entries) = fs::read_dir(&sys) else {
        return parts;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let read =
            |f: &str| -> Option<u64> { fs::read_to_string(p.join(f)).ok()?.trim().parse().ok() };
        if let (Some(nr), Some(start), Some(size)) =
            (read("partition"), read("start"), read("size"))
        {
            parts.push((u32::try_from(nr).expect("partition number"), start, size));
        }
    }
    parts.sort_unstable();
    parts
}

/// The partitions of the table on the disk itself: (number, start sector, size in sectors).
pub fn table_partitions(dev: &Path) -> Vec<(u32, u64, u64)> {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let out = run(
        "partx",
        &["--show", "--noheadings", "-o", "NR,START,SECTORS", dev_s],
    );
    let mut parts: Vec<(u32, u64, u64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(str::parse::<u64>);
            match (f.next(), f.next(), f.next()) {
                (Some(Ok(nr)), Some(Ok(start)), Some(Ok(size))) => {
                    Some((u32::try_from(nr).ok()?, start, size))
                }
                _ => None,
            }
        })
        .collect();
    parts.sort_unstable();
    parts
}

/// Makes the kernel's partitions of `dev` those of its table: when they differ, all are
/// dropped and the table's are added (`partx -d`, `partx -a`); a no-op when they agree.
/// Updating in place (`partx -u`) is not enough: the kernel refuses a partition that
/// overlaps one it still has, so a table whose partitions moved would half-apply.
/// Then waits for udev, so that `/dev/disk/by-partlabel` and friends are there.
#[track_caller]
pub fn sync_partitions(dev: &Path) {
    if let Err(e) = try_sync_partitions(dev) {
        panic!("{e}");
    }
}

/// [`sync_partitions`] that reports a kernel that will not follow instead of panicking.
pub fn try_sync_partitions(dev: &Path) -> Result<(), String> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dev_s = dev.to_str().expect("utf-8 device path");
    for _ in 0..10 {
        let want = table_partitions(dev);
        if kernel_partitions(dev) == want {
            settle();
            return Ok(());
        }
        // A partition udev is still probing cannot be deleted (EBUSY): settle, then retry.
        settle();
        if !kernel_partitions(dev).is_empty() {
            let _ = run("partx", &["-d", dev_s]);
        }
        if !want.is_empty() && kernel_partitions(dev).is_empty() {
            let _ = run("partx", &["-a", dev_s]);
        }
        settle();
        if kernel_partitions(dev) != want {
            sleep(Duration::from_millis(100));
        }
    }
    Err(format!(
        "the kernel's partitions of {dev_s} do not follow its table: kernel {:?}, table {:?}",
        kernel_partitions(dev),
        table_partitions(dev)
    ))
}

/// Runs sgdisk with `args` on `dev` (it must succeed), then syncs the kernel's view.
#[track_caller]
pub fn sgdisk(dev: &Path, args: &[&str]) {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let mut all: Vec<&str> = args.to_vec();
    all.push(dev_s);
    run_ok("sgdisk", &all);
    sync_partitions(dev);
}

/// The partition table of `dev` as `sgdisk -p` and `sgdisk --info=N` for each partition
/// show it, with what differs between two identical tables on two devices left out: the
/// device's name becomes `DISK`, and the disk GUID (random unless someone set it) is
/// dropped. Partition GUIDs stay; see [`mask_guids_except`] for random ones.
/// A device without a GPT gives `no GPT`.
pub fn sgdisk_table(dev: &Path) -> String {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let out = run("sgdisk", &["-p", dev_s]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success()
        || !text.contains("Number  Start (sector)")
        || text.contains("Creating new GPT entries")
    {
        return "no GPT".to_owned();
    }
    let mut table = String::new();
    let mut numbers = Vec::new();
    let mut in_list = false;
    for line in text.lines() {
        if line.starts_with("Disk identifier (GUID)") || line.trim().is_empty() {
            continue;
        }
        if in_list {
            if let Some(n) = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u32>().ok())
            {
                numbers.push(n);
            }
        }
        if line.starts_with("Number  Start (sector)") {
            in_list = true;
        }
        table.push_str(&line.replace(dev_s, "DISK"));
        table.push('\n');
    }
    for n in numbers {
        let info = run_ok("sgdisk", &[&format!("--info={n}"), dev_s]);
        table.push_str(&format!("partition {n}:\n"));
        for line in info.lines().filter(|l| !l.trim().is_empty()) {
            table.push_str("  ");
            table.push_str(line);
            table.push('\n');
        }
    }
    table
}

/// `table` with every `Partition unique GUID` that is not in `keep` (compared without case)
/// replaced by `<random>`: for comparing tables whose partitions got GUIDs nobody chose.
pub fn mask_guids_except(table: &str, keep: &[String]) -> String {
    const KEY: &str = "Partition unique GUID: ";
    table
        .lines()
        .map(|line| match line.split_once(KEY) {
            Some((indent, guid)) if !keep.iter().any(|k| k.eq_ignore_ascii_case(guid.trim())) => {
                format!("{indent}{KEY}<random>\n")
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// The unique GUID of partition `n` of `dev`, upper case, as sgdisk prints it.
pub fn partition_guid(dev: &Path, n: u32) -> String {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let info = run_ok("sgdisk", &[&format!("--info={n}"), dev_s]);
    info.lines()
        .find_map(|l| l.strip_prefix("Partition unique GUID: "))
        .map(|g| g.trim().to_owned())
        .unwrap_or_else(|| panic!("no partition {n} on {dev_s}:\n{info}"))
}

/// What `blkid -p` finds on a device; empty strings for what is not there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    pub fstype: String,
    pub label: String,
    pub uuid: String,
}

impl Probe {
    pub fn new(fstype: &str, label: &str, uuid: &str) -> Probe {
        Probe {
            fstype: fstype.to_owned(),
            label: label.to_owned(),
            uuid: uuid.to_owned(),
        }
    }
}

/// `blkid -p -o export DEV`: the signature's TYPE, LABEL and UUID, read from the device
/// itself (not from the cache). Nothing found gives three empty strings.
pub fn blkid_probe(dev: &Path) -> Probe {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let out = run("blkid", &["-p", "-o", "export", dev_s]);
    let mut probe = Probe::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once('=') {
            match k {
                "TYPE" => probe.fstype = v.to_owned(),
                "LABEL" => probe.label = v.to_owned(),
                "UUID" => probe.uuid = v.to_owned(),
                _ => {}
            }
        }
    }
    probe
}

/// Makes a filesystem (or swap) the way a previous installation could have: `kind` is
/// `ext4`, `xfs`, `btrfs`, `vfat` or `swap`; label and UUID are optional.
#[track_caller]
pub fn mkfs(kind: &str, dev: &Path, label: Option<&str>, uuid: Option<&str>) {
    let dev_s = dev.to_str().expect("utf-8 device path");
    // (program, flags that force it, label flag, UUID flag)
    let (program, force, label_flag, uuid_flag): (&str, &[&str], &str, &str) = match kind {
        "ext4" => ("mkfs.ext4", &["-F", "-q"], "-L", "-U"),
        "xfs" => ("mkfs.xfs", &["-f", "-q"], "-L", "-m"),
        "btrfs" => ("mkfs.btrfs", &["-f", "-q"], "-L", "-U"),
        "vfat" => ("mkfs.vfat", &[], "-n", "-i"),
        "swap" => ("mkswap", &["-f"], "-L", "-U"),
        other => panic!("mkfs: unknown filesystem {other}"),
    };
    let mut args: Vec<String> = force.iter().map(|a| (*a).to_owned()).collect();
    if let Some(l) = label {
        args.extend([label_flag.to_owned(), l.to_owned()]);
    }
    if let Some(u) = uuid {
        let value = match kind {
            "xfs" => format!("uuid={u}"),
            // mkfs.fat takes the volume ID as 8 hex digits, without blkid's dash.
            "vfat" => u.replace('-', ""),
            _ => u.to_owned(),
        };
        args.extend([uuid_flag.to_owned(), value]);
    }
    args.push(dev_s.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(program, &args);
}

/// Writes `data` at byte `offset` of a device (or file), synced.
pub fn write_at(dev: &Path, offset: u64, data: &[u8]) {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(dev)
        .unwrap_or_else(|e| panic!("opening {} to write: {e}", dev.display()));
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(data).expect("write");
    f.sync_all().expect("sync");
}

/// Reads `len` bytes at byte `offset` of a device (or file).
pub fn read_at(dev: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut f =
        fs::File::open(dev).unwrap_or_else(|e| panic!("opening {} to read: {e}", dev.display()));
    f.seek(SeekFrom::Start(offset)).expect("seek");
    let mut buf = vec![0; len];
    f.read_exact(&mut buf).expect("read");
    buf
}

/// Writes a file into an ext2/3/4 filesystem without mounting it (`debugfs -w`).
#[track_caller]
pub fn ext4_write_file(dev: &Path, name: &str, contents: &[u8]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    fs::write(&src, contents).expect("writing the source file");
    let dev_s = dev.to_str().expect("utf-8 device path");
    let cmd = format!("write {} {name}", src.display());
    let out = run("debugfs", &["-w", "-R", &cmd, dev_s]);
    assert!(out.status.success(), "debugfs -w failed");
    assert_eq!(
        ext4_read_file(dev, name).as_deref(),
        Some(contents),
        "debugfs did not write /{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads a file of an ext2/3/4 filesystem without mounting it (`debugfs -R cat`); `None`
/// when the file or the filesystem is not there.
pub fn ext4_read_file(dev: &Path, name: &str) -> Option<Vec<u8>> {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("dst");
    let cmd = format!("dump /{name} {}", dst.display());
    let out = run("debugfs", &["-R", &cmd, dev_s]);
    if !out.status.success() {
        return None;
    }
    fs::read(&dst).ok()
}

/// A value of `dumpe2fs -h` (such as `Filesystem created`), trimmed.
pub fn ext4_header(dev: &Path, key: &str) -> String {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let text = run_ok("dumpe2fs", &["-h", dev_s]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no {key:?} in dumpe2fs -h {dev_s}"))
}

/// One partition as `sgdisk --info=N` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    pub number: u32,
    pub first: u64,
    pub last: u64,
    /// Upper case, without sgdisk's description.
    pub type_guid: String,
    /// Upper case.
    pub guid: String,
    pub name: String,
}

/// `sgdisk --info=N` of partition `n` of `dev`.
#[track_caller]
pub fn partition_info(dev: &Path, n: u32) -> PartInfo {
    let dev_s = dev.to_str().expect("utf-8 device path");
    let info = run_ok("sgdisk", &[&format!("--info={n}"), dev_s]);
    let field = |key: &str| -> String {
        info.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {key:?} for partition {n} of {dev_s}:\n{info}"))
    };
    let first_word = |v: String| v.split_whitespace().next().unwrap_or_default().to_owned();
    let sector = |key: &str| -> u64 {
        first_word(field(key))
            .parse()
            .unwrap_or_else(|_| panic!("bad {key:?} for partition {n} of {dev_s}:\n{info}"))
    };
    let name = field("Partition name:");
    PartInfo {
        number: n,
        first: sector("First sector:"),
        last: sector("Last sector:"),
        type_guid: first_word(field("Partition GUID code:")),
        guid: field("Partition unique GUID:"),
        name: name.trim_matches('\'').to_owned(),
    }
}

/// Every partition of the table on `dev`, by number.
pub fn partitions(dev: &Path) -> Vec<PartInfo> {
    table_partitions(dev)
        .into_iter()
        .map(|(n, _, _)| partition_info(dev, n))
        .collect()
}

/// Formats `dev` as LUKS2 with `key` (cheap key derivation: these volumes guard nothing).
/// Needs no device-mapper: the header is written, nothing is opened.
#[allow(dead_code)]
pub fn luks_format(dev: &Path, key: &[u8]) {
    use std::process::{Command, Stdio};
    let mut child = Command::new("cryptsetup")
        .args([
            "luksFormat",
            "--type",
            "luks2",
            "--batch-mode",
            "--key-file=-",
        ])
        .args(["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"])
        .arg(dev)
        .stdin(Stdio::piped())
        .spawn()
        .expect("cryptsetup (apt-get install cryptsetup-bin)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(key)
        .expect("key");
    assert!(child.wait().expect("wait").success(), "luksFormat failed");
}
