//! Block devices: waiting for them to appear, their sector size, and keeping the kernel's view
//! of a partition table in step with what is on the disk.
//!
//! After sgdisk writes a table it asks the kernel to re-read it (BLKRRPART). That fails while
//! any partition of the disk is in use (the boot disk, say), and some kernels have no GPT
//! parser at all, so the kernel's view is checked against the table through sysfs and each
//! difference is fixed with `partx` (which parses the table itself and tells the kernel one
//! partition at a time).

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::gpt::Table;
use super::DiskError;
use crate::command::Cmd;

/// Waits until `path` exists and is a block device. `what` names the config field.
pub fn wait_for(path: &Path, what: &str, timeout: Duration) -> Result<(), DiskError> {
    let start = Instant::now();
    let mut announced = false;
    loop {
        match fs::metadata(path) {
            Ok(meta) if is_block(&meta) => return Ok(()),
            Ok(_) => {
                return Err(DiskError::at(
                    what,
                    format!("{} exists but is not a block device", path.display()),
                ))
            }
            Err(_) if start.elapsed() >= timeout => {
                return Err(DiskError::at(
                    what,
                    format!(
                        "device {} did not appear within {} s; {}",
                        path.display(),
                        timeout.as_secs(),
                        missing_device_hint(path)
                    ),
                ))
            }
            Err(_) => {
                if !announced && start.elapsed() >= Duration::from_secs(2) {
                    log::info!("disks: waiting for {} ({what})", path.display());
                    announced = true;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// What to check when a device never appeared. The `/dev/disk/by-*` links are made by udev
/// alone, so when no udev daemon answers, waiting longer cannot help: say that instead.
fn missing_device_hint(path: &Path) -> &'static str {
    if path.starts_with("/dev/disk") && !udevd_answers() {
        "no udev daemon answers (`udevadm control --ping` failed), and the /dev/disk/by-* links are made by udev: start systemd-udevd (kindling-disks.service requires it at boot)"
    } else {
        "check the path (ls -l /dev/disk/by-*) or raise --device-timeout"
    }
}

fn udevd_answers() -> bool {
    Cmd::new("asking udev whether it runs", "udevadm")
        .args(["control", "--ping", "--timeout=2"])
        .run()
        .is_ok()
}

fn is_block(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_block_device()
}

/// Lets udev finish with the events our changes caused, so /dev/disk/by-* links are current.
/// Without a running udev (some test hosts) this returns at once.
pub fn settle() {
    if let Err(e) = Cmd::new("waiting for udev", "udevadm")
        .args(["settle", "--timeout=60"])
        .run()
    {
        log::warn!("disks: {e}");
    }
}

/// The kernel's name of a device (`vdb` for /dev/disk/by-id/virtio-data → ../../vdb).
pub fn kernel_name(dev: &Path) -> Result<String, DiskError> {
    let real = fs::canonicalize(dev)
        .map_err(|e| DiskError::device(dev, format!("cannot resolve the device path: {e}")))?;
    real.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| DiskError::device(dev, "not a device path".to_owned()))
}

fn sysfs_block(name: &str) -> PathBuf {
    Path::new("/sys/class/block").join(name)
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The logical sector size the partition table is laid out in.
pub fn sector_size(dev: &Path) -> Result<u64, DiskError> {
    let name = kernel_name(dev)?;
    let path = sysfs_block(&name).join("queue/logical_block_size");
    read_u64(&path).ok_or_else(|| {
        DiskError::device(
            dev,
            format!(
                "cannot read {}: is this a whole disk, not a partition?",
                path.display()
            ),
        )
    })
}

/// A partition as the kernel sees it: number, start and size in 512-byte units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KernelPartition {
    number: u32,
    start: u64,
    size: u64,
}

fn kernel_partitions(disk: &str) -> Vec<KernelPartition> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(sysfs_block(disk)) else {
        return out;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let (Some(number), Some(start), Some(size)) = (
            read_u64(&dir.join("partition")),
            read_u64(&dir.join("start")),
            read_u64(&dir.join("size")),
        ) else {
            continue;
        };
        if let Ok(number) = u32::try_from(number) {
            out.push(KernelPartition {
                number,
                start,
                size,
            });
        }
    }
    out
}

/// Makes the kernel's partitions of `dev` those of `table`, then waits for udev.
///
/// udev re-reads a disk and its partitions after sgdisk closes it: it may add a partition to
/// the kernel before partx does, and then `partx --add` fails although all is well; and it
/// holds partitions open for a moment, when the kernel refuses to drop them. So, as Ignition
/// 2.27 does, a failed partx is not an error by itself: what counts is the kernel's view once
/// udev has settled. A partition that is still missing, stale or of the wrong extent after a
/// few rounds is the error, with the last partx failure as its cause.
pub fn sync_kernel(dev: &Path, table: &Table) -> Result<(), DiskError> {
    let name = kernel_name(dev)?;
    let per_sector = table.sector_size / 512;
    let wanted: Vec<KernelPartition> = table
        .partitions
        .iter()
        .map(|p| KernelPartition {
            number: p.number,
            start: p.start * per_sector,
            size: p.size * per_sector,
        })
        .collect();
    let mut last_failure = None;
    for round in 1..=SYNC_ROUNDS {
        settle();
        let present = kernel_partitions(&name);
        let (stale, missing) = differences(&present, &wanted);
        if stale.is_empty() && missing.is_empty() {
            return Ok(());
        }
        if round > 1 {
            thread::sleep(Duration::from_millis(200 * u64::from(round)));
        }
        for old in &stale {
            if let Err(e) = partx(
                dev,
                "-d",
                old.number,
                "removing a stale partition from the kernel's view",
            ) {
                log::info!("disks: {e} (the kernel's view is checked once udev has settled)");
                last_failure = Some(e);
            }
        }
        let present = kernel_partitions(&name);
        for new in wanted.iter().filter(|w| !present.contains(w)) {
            if let Err(e) = partx(
                dev,
                "-a",
                new.number,
                "telling the kernel about a partition",
            ) {
                log::info!("disks: {e} (the kernel's view is checked once udev has settled)");
                last_failure = Some(e);
            }
        }
    }
    settle();
    let (stale, missing) = differences(&kernel_partitions(&name), &wanted);
    if stale.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let show = |parts: &[KernelPartition]| {
        parts
            .iter()
            .map(|p| {
                format!(
                    "{} (start {}, {} sectors of 512 bytes)",
                    p.number, p.start, p.size
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut problem =
        String::from("the kernel's view of the partitions does not match the new table");
    if !missing.is_empty() {
        problem.push_str(&format!(
            "; not known to the kernel as in the table: {}",
            show(&missing)
        ));
    }
    if !stale.is_empty() {
        problem.push_str(&format!(
            "; known to the kernel but not in the table: {}",
            show(&stale)
        ));
    }
    problem.push_str(". Is a partition of this disk in use (mounted, an LVM or RAID member)? Free it, or reboot so the kernel reads the table afresh");
    if let Some(e) = last_failure {
        problem.push_str(&format!("\n  last partx failure: {e}"));
    }
    Err(DiskError::device(dev, problem))
}

/// How many rounds of partx, each after udev settles, before the kernel's view counts as
/// wrong.
const SYNC_ROUNDS: u32 = 5;

/// The kernel's partitions that the table lacks (or has elsewhere), and the table's
/// partitions the kernel lacks (or has elsewhere).
fn differences(
    present: &[KernelPartition],
    wanted: &[KernelPartition],
) -> (Vec<KernelPartition>, Vec<KernelPartition>) {
    let stale = present
        .iter()
        .filter(|p| !wanted.contains(p))
        .copied()
        .collect();
    let missing = wanted
        .iter()
        .filter(|w| !present.contains(w))
        .copied()
        .collect();
    (stale, missing)
}

fn partx(
    dev: &Path,
    op: &str,
    number: u32,
    what: &str,
) -> Result<(), crate::command::CommandError> {
    Cmd::new(
        format!("{what} ({} partition {number})", dev.display()),
        "partx",
    )
    .arg(op)
    .arg(format!("--nr={number}"))
    .arg(dev)
    .run()
    .map(drop)
}

/// Waits for udev's /dev/disk/by-partlabel link of each label.
pub fn wait_for_labels(dev: &Path, labels: &[&str], timeout: Duration) -> Result<(), DiskError> {
    for label in labels {
        // udev escapes other characters in link names; those partitions are still usable
        // through their number, so only plainly named links are waited for.
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            continue;
        }
        let link = Path::new("/dev/disk/by-partlabel").join(label);
        wait_for(
            &link,
            &format!("the partition labelled {label:?} on {}", dev.display()),
            timeout,
        )?;
    }
    Ok(())
}
