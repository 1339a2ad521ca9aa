//! The booted system's side of `storage.luks`: each volume's key as /etc/luks/<name> (0600, in
//! a 0700 directory) and an /etc/crypttab line naming it, so systemd-cryptsetup unlocks the
//! volume on every later boot. The keys come from the disks stage through the run dir and are
//! removed from there once written, so no copy outlives the initramfs in /run.

use std::path::Path;

use super::root::{Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::FilesError;
use crate::stages::disks::luks::Volume;

const CRYPTTAB: &str = "/etc/crypttab";

fn write_file(
    root: &Root,
    path: &str,
    bytes: &[u8],
    mode: u32,
    dir_mode: u32,
) -> Result<(), FilesError> {
    let leaf = root.leaf(path, Missing::Create(dir_mode))?;
    write::atomic(
        &leaf,
        Attrs {
            owner: Some((0, 0)),
            mode,
        },
        |out| out.write_all(bytes),
    )
    .map_err(|e| match e {
        WriteError::Fill(source) => RootError::Io {
            op: "writing",
            path: path.to_owned(),
            source,
        }
        .into(),
        WriteError::Fs(e) => e.into(),
    })
}

/// The crypttab line for one volume. A volume without a key file is unlocked by its clevis
/// binding (clevis-luks-askpass answers systemd-cryptsetup's question), after the network
/// when the binding needs it.
pub fn line(v: &Volume) -> String {
    let mut options = vec!["luks".to_owned()];
    if v.netdev {
        options.push("_netdev".to_owned());
    }
    // Ignition's next release: without it, systemd-cryptsetup-generator makes the volume
    // conflict with umount.target, and a soft-reboot tears it down under the running system.
    options.push("x-initrd.attach".to_owned());
    if v.discard {
        options.push("discard".to_owned());
    }
    let key = if v.key_file {
        format!("/etc/luks/{}", v.name)
    } else {
        "none".to_owned()
    };
    format!("{} UUID={} {key} {}", v.name, v.uuid, options.join(","))
}

/// `existing` crypttab text with the volumes' lines added, replacing older lines for the
/// same names.
pub fn merged(existing: &str, volumes: &[Volume]) -> String {
    let mut out = String::new();
    for l in existing.lines() {
        let name = l.split_whitespace().next().unwrap_or_default();
        if !l.trim_start().starts_with('#') && volumes.iter().any(|v| v.name == name) {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    for v in volumes {
        out.push_str(&line(v));
        out.push('\n');
    }
    out
}

pub fn apply(root: &Root, run_dir: &Path, luks_in_config: usize) -> Result<usize, FilesError> {
    if luks_in_config == 0 {
        return Ok(0);
    }
    let handoff = crate::rundir::luks_handoff(run_dir);
    let setting = |problem: String| FilesError::Setting {
        name: handoff.display().to_string(),
        problem,
    };
    let bytes = std::fs::read(&handoff)
        .map_err(|e| setting(format!("cannot read it ({e}); did the disks stage run?")))?;
    let volumes: Vec<Volume> =
        serde_json::from_slice(&bytes).map_err(|e| setting(format!("it is damaged: {e}")))?;
    for v in volumes.iter().filter(|v| v.key_file) {
        let key_path = crate::rundir::luks_keys(run_dir).join(&v.name);
        let key = std::fs::read(&key_path).map_err(|e| FilesError::Setting {
            name: key_path.display().to_string(),
            problem: format!("cannot read the key of LUKS volume {}: {e}", v.name),
        })?;
        write_file(root, &format!("/etc/luks/{}", v.name), &key, 0o600, 0o700)?;
        log::info!(
            "files: wrote the key of LUKS volume {} to /etc/luks/{}",
            v.name,
            v.name
        );
    }
    let existing = root.read(CRYPTTAB)?.unwrap_or_default();
    let text = merged(&String::from_utf8_lossy(&existing), &volumes);
    write_file(root, CRYPTTAB, text.as_bytes(), 0o644, 0o755)?;
    log::info!("files: {} /etc/crypttab entries written", volumes.len());
    Ok(volumes.len())
}

/// After the report: the run dir's copies of the keys are no longer needed.
pub fn forget_keys(run_dir: &Path) {
    let dir = crate::rundir::luks_keys(run_dir);
    if dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            log::warn!("files: removing {} failed: {e}", dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str, discard: bool) -> Volume {
        Volume {
            name: name.into(),
            uuid: "3f6a3bd8-6b2b-4f39-9a43-5a3b4c5d6e7f".into(),
            discard,
            open_options: vec![],
            key_file: true,
            netdev: false,
        }
    }

    #[test]
    fn clevis_volumes_have_no_key_file_and_tang_waits_for_the_network() {
        let v = Volume {
            key_file: false,
            netdev: true,
            ..vol("tang", true)
        };
        assert_eq!(
            line(&v),
            "tang UUID=3f6a3bd8-6b2b-4f39-9a43-5a3b4c5d6e7f none luks,_netdev,x-initrd.attach,discard"
        );
    }

    #[test]
    fn lines_name_the_key_file_and_discard() {
        assert_eq!(
            line(&vol("data", true)),
            "data UUID=3f6a3bd8-6b2b-4f39-9a43-5a3b4c5d6e7f /etc/luks/data luks,x-initrd.attach,discard"
        );
    }

    #[test]
    fn older_lines_for_the_same_name_are_replaced() {
        let existing = "# comment data\nswap /dev/vdc /dev/urandom swap\ndata /dev/vdb none\n";
        let got = merged(existing, &[vol("data", false)]);
        assert_eq!(
            got,
            "# comment data\nswap /dev/vdc /dev/urandom swap\ndata UUID=3f6a3bd8-6b2b-4f39-9a43-5a3b4c5d6e7f /etc/luks/data luks,x-initrd.attach\n"
        );
    }
}
