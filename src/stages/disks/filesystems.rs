//! Filesystems: reused when the device already holds the one the config describes, created
//! when the device is empty or `wipeFilesystem` allows it, and never written over otherwise.

use std::path::Path;
use std::time::{Duration, Instant};

use kindling_spec::types::Filesystem;

use super::progress::Progress;
use super::signatures::{self, Found};
use super::DiskError;
use crate::command::Cmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Reused,
    Created,
    /// `format: none`, or no format: nothing created.
    Skipped,
}

/// FAT has a 32-bit volume id, shown as `A1B2-C3D4`; mkfs.fat wants it without the dash.
fn canonical_uuid(format: &str, uuid: &str) -> String {
    let lower = uuid.to_ascii_lowercase();
    if format == "vfat" && lower.len() >= 5 && lower.as_bytes()[4] == b'-' {
        format!("{}{}", &lower[..4], &lower[5..])
    } else {
        lower
    }
}

fn matches(fs: &Filesystem, format: &str, found: &Found) -> bool {
    let want_type = if format == "none" { "" } else { format };
    found.pttype.is_empty()
        && found.fstype == want_type
        && fs.label.as_deref().is_none_or(|l| l == found.label)
        && fs
            .uuid
            .as_deref()
            .is_none_or(|u| canonical_uuid(format, u) == canonical_uuid(format, &found.uuid))
}

/// The mkfs command for `format`, with Ignition's arguments: the config's options first,
/// then force, uuid and label, then the device.
fn mkfs(fs: &Filesystem, format: &str, dev: &Path) -> Option<Cmd> {
    let (program, force, uuid_flag, label_flag) = match format {
        "ext4" => ("mkfs.ext4", Some("-F"), "-U", "-L"),
        "btrfs" => ("mkfs.btrfs", Some("--force"), "-U", "-L"),
        "xfs" => ("mkfs.xfs", Some("-f"), "-m", "-L"),
        "swap" => ("mkswap", Some("-f"), "-U", "-L"),
        // mkfs.fat has no force flag: it always writes.
        "vfat" => ("mkfs.vfat", None, "-i", "-n"),
        _ => return None,
    };
    let mut cmd =
        Cmd::new(format!("creating {format} on {}", dev.display()), program).args(&fs.options);
    if let Some(f) = force {
        cmd = cmd.arg(f);
    }
    if let Some(uuid) = &fs.uuid {
        let uuid = canonical_uuid(format, uuid);
        cmd = cmd.arg(uuid_flag).arg(if format == "xfs" {
            format!("uuid={uuid}")
        } else {
            uuid
        });
    }
    if let Some(label) = &fs.label {
        cmd = cmd.arg(label_flag).arg(label);
    }
    Some(cmd.arg(dev))
}

/// Runs `cmd`, saying every 10 s that it is still running (mkfs on a large disk, wipefs).
fn run_with_progress(cmd: Cmd, what: &str, dev: &Path) -> Result<(), DiskError> {
    let start = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_secs(10))
            {
                log::info!(
                    "disks: still {what} on {} ({} s)",
                    dev.display(),
                    start.elapsed().as_secs()
                );
            }
        });
        let result = cmd.run();
        drop(done_tx);
        result.map(drop).map_err(|e| DiskError::command(dev, e))
    })
}

/// Makes the filesystem at `$.storage.filesystems.<index>` exist.
pub fn apply(
    fs: &Filesystem,
    index: usize,
    dev: &Path,
    progress: &Progress,
) -> Result<Outcome, DiskError> {
    let at = format!("$.storage.filesystems.{index}");
    let Some(format) = fs.format.as_deref().filter(|f| !f.is_empty()) else {
        return Ok(Outcome::Skipped);
    };
    // An earlier attempt began to make it: what is there now, signature or not, is its
    // unfinished work, and may look like the filesystem the config describes.
    let half_made = progress.half_made(&fs.device);
    if half_made {
        log::warn!(
            "disks: an earlier attempt began to make the {format} filesystem on {} and did not finish; making it again",
            dev.display()
        );
    }
    let wipe = fs.wipe_filesystem == Some(true) || half_made;
    if !wipe {
        let found = signatures::probe(dev)?;
        if matches(fs, format, &found) {
            if format != "none" {
                log::info!(
                    "disks: {} already holds the {format} filesystem the config describes; keeping it",
                    dev.display()
                );
                return Ok(Outcome::Reused);
            }
            return Ok(Outcome::Skipped);
        }
        if !found.is_empty() {
            return Err(DiskError::at(
                &at,
                format!(
                    "{} holds {}, not the {format} filesystem{} the config describes; set wipeFilesystem: true to replace it (its data is lost), or change format, label and uuid to match",
                    dev.display(),
                    found.describe(),
                    describe_wanted(fs)
                ),
            ));
        }
    } else {
        log::info!("disks: erasing the signatures on {}", dev.display());
        run_with_progress(
            Cmd::new(
                format!("erasing the signatures on {}", dev.display()),
                "wipefs",
            )
            .arg("-a")
            .arg(dev),
            "erasing signatures",
            dev,
        )?;
    }
    if format == "none" {
        return Ok(Outcome::Skipped);
    }
    let cmd = mkfs(fs, format, dev)
        .ok_or_else(|| DiskError::at(&at, format!("format {format:?} is not supported")))?;
    log::info!("disks: creating {format} on {}", dev.display());
    progress.making(&fs.device, true)?;
    run_with_progress(cmd, &format!("creating {format}"), dev)?;
    progress.making(&fs.device, false)?;
    Ok(Outcome::Created)
}

fn describe_wanted(fs: &Filesystem) -> String {
    let mut s = String::new();
    if let Some(l) = &fs.label {
        s.push_str(&format!(" labelled {l:?}"));
    }
    if let Some(u) = &fs.uuid {
        s.push_str(&format!(" with uuid {u}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(label: Option<&str>, uuid: Option<&str>) -> Filesystem {
        Filesystem {
            label: label.map(str::to_owned),
            uuid: uuid.map(str::to_owned),
            ..Filesystem::default()
        }
    }

    fn found(t: &str, label: &str, uuid: &str) -> Found {
        Found {
            fstype: t.into(),
            label: label.into(),
            uuid: uuid.into(),
            pttype: String::new(),
        }
    }

    #[test]
    fn reuse_needs_type_label_and_uuid_to_match() {
        let f = found("ext4", "data", "8a1c2e3f-0000-4000-8000-000000000001");
        assert!(matches(&fs(None, None), "ext4", &f));
        assert!(matches(
            &fs(Some("data"), Some("8A1C2E3F-0000-4000-8000-000000000001")),
            "ext4",
            &f
        ));
        assert!(!matches(&fs(Some("other"), None), "ext4", &f));
        assert!(!matches(&fs(None, None), "xfs", &f));
    }

    #[test]
    fn fat_volume_ids_match_with_or_without_the_dash() {
        let f = found("vfat", "EFI", "1A2B-3C4D");
        assert!(matches(&fs(None, Some("1a2b3c4d")), "vfat", &f));
        assert!(matches(&fs(None, Some("1A2B-3C4D")), "vfat", &f));
    }

    #[test]
    fn none_matches_only_an_empty_device() {
        assert!(matches(&fs(None, None), "none", &Found::default()));
        assert!(!matches(&fs(None, None), "none", &found("ext4", "", "")));
    }

    #[test]
    fn mkfs_arguments_follow_ignition() {
        let mut f = fs(Some("root"), Some("1A2B-3C4D"));
        f.options = vec!["-b".into(), "4096".into()];
        let cmd = |format| {
            mkfs(&f, format, Path::new("/dev/vdb1"))
                .expect("supported")
                .cmdline()
        };
        assert_eq!(
            cmd("ext4"),
            "mkfs.ext4 -b 4096 -F -U 1a2b-3c4d -L root /dev/vdb1"
        );
        assert_eq!(
            cmd("vfat"),
            "mkfs.vfat -b 4096 -i 1a2b3c4d -n root /dev/vdb1"
        );
        assert_eq!(
            cmd("xfs"),
            "mkfs.xfs -b 4096 -f -m uuid=1a2b-3c4d -L root /dev/vdb1"
        );
        assert!(mkfs(&f, "zfs", Path::new("/dev/x")).is_none());
    }
}
