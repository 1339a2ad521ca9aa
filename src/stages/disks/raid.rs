//! Software RAID with mdadm, as Ignition builds it: `/dev/md/<name>`, any homehost, started at
//! once. An array that is already assembled under that name is kept if its level and device
//! count match the config, and refused otherwise.

use std::path::Path;

use kindling_spec::types::Raid;

use super::DiskError;
use crate::command::Cmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Kept,
}

/// mdadm reports `raid1` where the config may say `1` or `mirror`.
fn canonical_level(level: &str) -> &str {
    match level {
        "0" | "stripe" => "raid0",
        "1" | "mirror" => "raid1",
        "4" => "raid4",
        "5" => "raid5",
        "6" => "raid6",
        "10" => "raid10",
        other => other,
    }
}

pub fn apply(md: &Raid, index: usize) -> Result<Outcome, DiskError> {
    let at = format!("$.storage.raid.{index}");
    let dev = Path::new("/dev/md").join(&md.name);
    let level = md.level.as_deref().unwrap_or_default();
    let spares = usize::try_from(md.spares.unwrap_or(0)).unwrap_or(0);
    let active = md.devices.len().saturating_sub(spares);
    if dev.exists() {
        let out = Cmd::new(format!("inspecting {}", dev.display()), "mdadm")
            .args(["--detail", "--export"])
            .arg(&dev)
            .run()
            .map_err(|e| DiskError::command(&dev, e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or_default()
                .to_owned()
        };
        let (have_level, have_devices) = (value("MD_LEVEL"), value("MD_DEVICES"));
        if have_level == canonical_level(level) && have_devices == md.devices.len().to_string() {
            log::info!(
                "disks: RAID array {} exists and matches; keeping it",
                dev.display()
            );
            return Ok(Outcome::Kept);
        }
        return Err(DiskError::at(
            &at,
            format!(
                "{} already exists as {have_level} over {have_devices} devices, not {level} over {}; stop and zero it (mdadm --stop, mdadm --zero-superblock) to let it be re-created",
                dev.display(),
                md.devices.len()
            ),
        ));
    }
    let mut cmd = Cmd::new(format!("creating RAID array {}", dev.display()), "mdadm")
        .arg("--create")
        .arg(&dev)
        .args(["--force", "--run", "--homehost=any"])
        .arg(format!("--level={level}"))
        .arg(format!("--raid-devices={active}"));
    if spares > 0 {
        cmd = cmd.arg(format!("--spare-devices={spares}"));
    }
    log::info!(
        "disks: creating {level} array {} over {}",
        dev.display(),
        md.devices.join(", ")
    );
    cmd.args(&md.options)
        .args(&md.devices)
        .run()
        .map_err(|e| DiskError::command(&dev, e))?;
    Ok(Outcome::Created)
}
