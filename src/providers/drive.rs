//! Config drives: a small filesystem the cloud attaches to the instance, found by its label
//! under `/dev/disk/by-label` (OpenStack's `config-2`, NoCloud's `cidata`) or, on Azure, by
//! its filesystem type. The drive is mounted read-only on a private directory, one file is
//! read, and the drive is always unmounted again, also when reading fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::command::{Cmd, CommandError};
use crate::root::{Root, RootError};

/// How often a missing drive is looked for again, as Ignition does.
pub const POLL: Duration = Duration::from_secs(1);

/// Where udev links filesystems by label.
pub const BY_LABEL_DIR: &str = "/dev/disk/by-label";

/// Where the private mount points go: /run is a tmpfs in the initramfs and on the booted
/// system, so nothing is left on a disk if the engine dies with a drive mounted.
const MOUNT_BASE: &str = "/run";

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("the {drive} did not appear at {} within {secs} s; attach it to the machine, or check that udev created the link", link.display())]
    Absent {
        drive: String,
        link: PathBuf,
        secs: u64,
    },
    #[error("mounting the {drive} ({}) read-only failed: its filesystem is damaged or of a type this kernel cannot mount (look at it with `blkid -p {}`)", device.display(), device.display())]
    Mount {
        drive: String,
        device: PathBuf,
        source: Box<CommandError>,
    },
    #[error("creating a private mount point under {} for the {drive} failed: {source}", base.display())]
    MountPoint {
        drive: String,
        base: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {file} on the {drive} ({}) failed: {source}", device.display())]
    Read {
        drive: String,
        device: PathBuf,
        file: String,
        source: std::io::Error,
    },
    #[error("{file} on the {drive} ({}) is larger than the limit of {limit} bytes (raise maxConfigBytes in the trust policy if it is meant to be this big)", device.display())]
    TooLarge {
        drive: String,
        device: PathBuf,
        file: String,
        limit: u64,
    },
    #[error("{file} is not on the {drive} ({}): put the config there, or correct kindling.config.path", device.display())]
    Missing {
        drive: String,
        device: PathBuf,
        file: String,
    },
    #[error("no {what} appeared within {secs} s{}", tried_suffix(.tried))]
    NoDevice {
        what: String,
        secs: u64,
        tried: Vec<String>,
    },
}

impl From<DriveError> for super::ProviderError {
    fn from(e: DriveError) -> Self {
        super::ProviderError::Drive(Box::new(e))
    }
}

/// An error and its causes on one line each, a cause left out when the text above already
/// shows it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let shown = s.to_string();
        if !text.contains(&shown) {
            text.push_str("\n  caused by: ");
            text.push_str(&shown);
        }
        source = s.source();
    }
    text
}

fn tried_suffix(tried: &[String]) -> String {
    if tried.is_empty() {
        String::new()
    } else {
        format!("; devices tried:\n{}", tried.join("\n"))
    }
}

/// How a wait for a drive ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    /// The label link exists; the device it names (the link itself if it cannot be resolved).
    Appeared(PathBuf),
    TimedOut,
    /// Another source won a race.
    Cancelled,
}

/// Waits until `<by_label>/<label>` exists, looking every [`POLL`], until `until` or until
/// `cancel` is set.
pub fn wait_for_label(
    by_label: &Path,
    label: &str,
    until: Instant,
    cancel: Option<&AtomicBool>,
) -> Wait {
    let link = by_label.join(label);
    let mut said = false;
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Wait::Cancelled;
        }
        if link.exists() {
            return Wait::Appeared(std::fs::canonicalize(&link).unwrap_or(link));
        }
        let now = Instant::now();
        if now >= until {
            return Wait::TimedOut;
        }
        if !said {
            log::info!("waiting for the config drive {}", link.display());
            said = true;
        }
        // Looks every POLL; a race that is won unparks this thread, so the cancellation is
        // heard at once (the race waits for a drive contender before the process may end).
        std::thread::park_timeout(POLL.min(until - now));
    }
}

/// The device `<by_label>/<label>` names, once it appears within `wait`; `drive` says what it
/// is in the error (see [`labelled`]).
pub fn await_label(
    by_label: &Path,
    label: &str,
    wait: Duration,
    drive: &str,
) -> Result<PathBuf, DriveError> {
    match wait_for_label(by_label, label, Instant::now() + wait, None) {
        Wait::Appeared(device) => Ok(device),
        Wait::TimedOut | Wait::Cancelled => Err(DriveError::Absent {
            drive: drive.to_owned(),
            link: by_label.join(label),
            secs: wait.as_secs(),
        }),
    }
}

/// A drive mounted read-only on a private directory; unmounted, and the directory removed,
/// when dropped.
#[derive(Debug)]
pub struct Mounted {
    dir: PathBuf,
    device: PathBuf,
    /// What the drive is, for logs and errors: `config drive labelled "config-2"`.
    drive: String,
}

impl Mounted {
    /// Mounts `device` read-only; `fstype` `None` lets mount(8) find the type, as Ignition's
    /// `-t auto` does. `drive` says what it is in errors and logs (see [`labelled`]).
    pub fn mount(device: &Path, drive: &str, fstype: Option<&str>) -> Result<Mounted, DriveError> {
        let dir = private_dir().map_err(|(base, source)| DriveError::MountPoint {
            drive: drive.to_owned(),
            base,
            source,
        })?;
        log::info!(
            "mounting the {drive} ({}) read-only on {}",
            device.display(),
            dir.display()
        );
        let mounted = Cmd::new(format!("mounting the {drive}"), "mount")
            .args(["-o", "ro", "-t", fstype.unwrap_or("auto")])
            .arg(device)
            .arg(&dir)
            .run();
        if let Err(source) = mounted {
            // Nothing is mounted: only the directory goes.
            if let Err(e) = std::fs::remove_dir(&dir) {
                log::warn!("removing the mount point {} failed: {e}", dir.display());
            }
            return Err(DriveError::Mount {
                drive: drive.to_owned(),
                device: device.to_owned(),
                source: Box::new(source),
            });
        }
        Ok(Mounted {
            dir,
            device: device.to_owned(),
            drive: drive.to_owned(),
        })
    }

    /// Where the drive is mounted (until this is dropped).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether `file` (relative to the drive's root) exists.
    pub fn has(&self, file: &str) -> bool {
        self.dir.join(file.trim_start_matches('/')).exists()
    }

    /// The bytes of `file` on the drive, `None` when it does not exist; more than `limit`
    /// bytes is an error. The path and the links on the drive are resolved inside the
    /// drive's filesystem: nothing on a drive leads the engine to a file elsewhere.
    pub fn read(&self, file: &str, limit: u64) -> Result<Option<Vec<u8>>, DriveError> {
        let shown = format!("/{}", file.trim_start_matches('/'));
        let read_err = |source| DriveError::Read {
            drive: self.drive.clone(),
            device: self.device.clone(),
            file: shown.clone(),
            source,
        };
        let opened = Root::open(&self.dir).and_then(|root| root.open_file(&shown));
        let f = match opened {
            Ok(Some((f, _))) => f,
            Ok(None) => {
                log::info!("the {} has no {shown}", self.drive);
                return Ok(None);
            }
            Err(RootError::Io { source, .. }) => return Err(read_err(source)),
            Err(e) => return Err(read_err(std::io::Error::other(e))),
        };
        let mut bytes = Vec::new();
        f.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > limit {
            return Err(DriveError::TooLarge {
                drive: self.drive.clone(),
                device: self.device.clone(),
                file: shown,
                limit,
            });
        }
        Ok(Some(bytes))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // As Ignition's UmountPath: three tries a second apart; a directory that is no longer
        // a mount point counts as unmounted (someone else got there first).
        let mut last = None;
        for attempt in 1..=3 {
            match Cmd::new(format!("unmounting the {}", self.drive), "umount")
                .arg(&self.dir)
                .run()
            {
                Ok(_) => {
                    last = None;
                    break;
                }
                Err(e) => {
                    last = Some(e);
                    if attempt < 3 {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    if !is_mount_point(&self.dir) {
                        last = None;
                        break;
                    }
                }
            }
        }
        if let Some(e) = last {
            // Removing the directory now would fail (busy) at best; leave both for the
            // operator, whom the error tells where.
            log::error!("{e}; {} is still mounted", self.dir.display());
            return;
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            log::warn!(
                "removing the mount point {} failed: {e}",
                self.dir.display()
            );
        }
    }
}

/// How a config drive found by its label is named in logs and errors.
pub fn labelled(label: &str) -> String {
    format!("config drive labelled {label:?}")
}

/// A fresh directory only root can enter, `<base>/kindling-drive-<pid>-<n>`.
fn private_dir() -> Result<PathBuf, (PathBuf, std::io::Error)> {
    use std::os::unix::fs::DirBuilderExt;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = if Path::new(MOUNT_BASE).is_dir() {
        PathBuf::from(MOUNT_BASE)
    } else {
        std::env::temp_dir()
    };
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = base.join(format!("kindling-drive-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            // A leftover of an earlier process with the same pid.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err((base, e)),
        }
    }
}

/// Whether `dir` is a mount point in this process's mount namespace.
fn is_mount_point(dir: &Path) -> bool {
    // Cannot tell: assume the worst, so the directory is not removed under a mount.
    crate::mountinfo::is_mount_point(dir).unwrap_or(true)
}

/// The longest a drive is waited for: Ignition's own limit where it has one, but never longer
/// than the config budget less a second (Ignition waits forever where it has none; the second
/// leaves the stage time to say what happened before its own limit strikes).
pub fn wait_limit(ignition: Option<Duration>, budget: Duration) -> Duration {
    let bounded = budget.saturating_sub(Duration::from_secs(1));
    ignition.map_or(bounded, |d| d.min(bounded))
}

/// The block devices the kernel has, as `/dev/<name>`, from `<sysfs>/class/block`, less
/// those of size 0: a CD-ROM drive without a disc, an unattached loop or nbd device. (That
/// stands in for Ignition's CD-ROM drive-status ioctl, which would need unsafe code, and
/// spares probing devices that only log I/O errors when opened.)
pub fn block_devices(sysfs: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(sysfs.join("class/block")) else {
        return Vec::new();
    };
    let empty =
        |dir: &Path| std::fs::read_to_string(dir.join("size")).is_ok_and(|s| s.trim() == "0");
    let mut devices: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| !empty(&e.path()))
        .map(|e| Path::new("/dev").join(e.file_name()))
        .collect();
    devices.sort();
    devices
}

/// The filesystem type libblkid finds on `device` (`udf`, `iso9660`, …); `None` when there is
/// none or the device cannot be read (an empty CD-ROM drive has no medium to open).
pub fn fstype(device: &Path) -> Option<String> {
    use libblkid_rs::{BlkidProbe, BlkidSafeprobeRet, BlkidSublks, BlkidSublksFlags};
    let mut probe = BlkidProbe::new_from_filename(device).ok()?;
    probe.enable_superblocks(true).ok()?;
    probe
        .set_superblock_flags(BlkidSublksFlags::new(vec![BlkidSublks::Type]))
        .ok()?;
    match probe.do_safeprobe().ok()? {
        BlkidSafeprobeRet::Success => probe.lookup_value("TYPE").ok(),
        _ => None,
    }
}

/// The label of NoCloud drives.
pub const CIDATA: &str = "cidata";

/// How long Ignition waits for a `cidata` drive on ibmcloud and proxmoxve.
pub const CIDATA_WAIT: Duration = Duration::from_secs(30);

/// What a NoCloud (`cidata`) drive platform does with the files it looks at.
#[derive(Debug)]
pub struct Cidata<'a> {
    pub platform: &'static str,
    /// Looked at in this order; the first one accepted is the config.
    pub files: &'a [&'a str],
    /// Whether a file's contents are a config for us (proxmoxve skips cloud-init's own).
    pub accept: fn(&[u8]) -> bool,
    /// Whether a file that cannot be read is skipped (proxmoxve) rather than an error.
    pub skip_unreadable: bool,
}

impl Cidata<'_> {
    /// Waits up to 30 s (Ignition's limit; no more than the config budget) for the drive;
    /// none is no config, as in Ignition. Unlike Ignition, which waits out its 30 s and then
    /// continues without a config, a drive that cannot be mounted is an error.
    pub fn read(
        &self,
        cx: &super::ProviderContext<'_>,
    ) -> Result<super::Acquired, super::ProviderError> {
        let by_label = cx.env.by_label_dir();
        let wait = wait_limit(Some(CIDATA_WAIT), cx.timeout);
        let device = match wait_for_label(&by_label, CIDATA, Instant::now() + wait, None) {
            Wait::Appeared(device) => device,
            Wait::TimedOut | Wait::Cancelled => {
                log::info!(
                    "{}: the cidata drive ({}) did not appear within {} s; continuing without a config",
                    self.platform,
                    by_label.join(CIDATA).display(),
                    wait.as_secs()
                );
                return Ok(super::Acquired::NoConfig);
            }
        };
        let mounted = Mounted::mount(&device, &labelled(CIDATA), None)?;
        for file in self.files {
            match mounted.read(file, cx.limit) {
                Ok(Some(bytes)) if (self.accept)(&bytes) => {
                    return Ok(super::Acquired::Config {
                        bytes,
                        detached_signature: None,
                    })
                }
                Ok(Some(_)) => log::info!(
                    "{}: skipping /{file} on the cidata drive: it is empty or cloud-init's #cloud-config",
                    self.platform
                ),
                Ok(None) => {}
                Err(e @ DriveError::Read { .. }) if self.skip_unreadable => {
                    log::warn!("{}: skipping it: {e}", self.platform);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(super::Acquired::NoConfig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_by_the_budget() {
        let budget = Duration::from_secs(20);
        assert_eq!(wait_limit(None, budget), Duration::from_secs(19));
        assert_eq!(
            wait_limit(Some(Duration::from_secs(30)), budget),
            Duration::from_secs(19)
        );
        assert_eq!(
            wait_limit(Some(Duration::from_secs(30)), Duration::from_secs(120)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn devices_without_media_are_not_listed() {
        let sys = std::env::temp_dir().join(format!("kindling-sysfs-test-{}", std::process::id()));
        for (name, size) in [("sr0", Some("0\n")), ("sr1", Some("1400\n")), ("vdb", None)] {
            let dir = sys.join("class/block").join(name);
            std::fs::create_dir_all(&dir).expect("dir");
            if let Some(size) = size {
                std::fs::write(dir.join("size"), size).expect("size");
            }
        }
        assert_eq!(
            block_devices(&sys),
            [PathBuf::from("/dev/sr1"), PathBuf::from("/dev/vdb")]
        );
        std::fs::remove_dir_all(&sys).expect("cleanup");
        assert!(block_devices(&sys).is_empty());
    }

    #[test]
    fn a_label_that_exists_is_found_at_once_and_resolved() {
        let dir = std::env::temp_dir().join(format!("kindling-drive-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let target = dir.join("device");
        std::fs::write(&target, b"").expect("device");
        let _ = std::fs::remove_file(dir.join("config-2"));
        std::os::unix::fs::symlink(&target, dir.join("config-2")).expect("link");
        let until = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            wait_for_label(&dir, "config-2", until, None),
            Wait::Appeared(std::fs::canonicalize(&target).expect("canonical"))
        );
        let started = Instant::now();
        assert_eq!(
            wait_for_label(
                &dir,
                "cidata",
                Instant::now() + Duration::from_millis(300),
                None
            ),
            Wait::TimedOut
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        let cancel = AtomicBool::new(true);
        assert_eq!(
            wait_for_label(&dir, "cidata", until, Some(&cancel)),
            Wait::Cancelled
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
