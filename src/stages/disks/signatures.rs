//! What a device holds, as libblkid sees it: a filesystem (type, label, UUID), a partition
//! table, a RAID member or a LUKS header.

use std::path::Path;

use libblkid_rs::{BlkidProbe, BlkidSafeprobeRet, BlkidSublks, BlkidSublksFlags};

use super::DiskError;

/// The signature found on a device; all empty when there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Filesystem or other superblock type (`ext4`, `swap`, `crypto_LUKS`, `linux_raid_member`).
    pub fstype: String,
    pub label: String,
    pub uuid: String,
    /// Partition table type (`gpt`, `dos`) on a whole disk.
    pub pttype: String,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.fstype.is_empty() && self.pttype.is_empty()
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.fstype.is_empty() {
            parts.push(self.fstype.clone());
        }
        if !self.pttype.is_empty() {
            parts.push(format!("a {} partition table", self.pttype));
        }
        let mut s = parts.join(" and ");
        if !self.label.is_empty() {
            s.push_str(&format!(", label {:?}", self.label));
        }
        if !self.uuid.is_empty() {
            s.push_str(&format!(", uuid {}", self.uuid));
        }
        s
    }
}

pub fn probe(dev: &Path) -> Result<Found, DiskError> {
    let fail = |e: libblkid_rs::BlkidErr| {
        DiskError::device(dev, format!("probing it for existing data failed: {e}"))
    };
    let mut probe = BlkidProbe::new_from_filename(dev).map_err(fail)?;
    probe.enable_superblocks(true).map_err(fail)?;
    probe
        .set_superblock_flags(BlkidSublksFlags::new(vec![
            BlkidSublks::Type,
            BlkidSublks::Label,
            BlkidSublks::Uuid,
        ]))
        .map_err(fail)?;
    probe.enable_partitions(true).map_err(fail)?;
    match probe.do_safeprobe().map_err(fail)? {
        BlkidSafeprobeRet::None => return Ok(Found::default()),
        BlkidSafeprobeRet::Ambiguous => {
            return Err(DiskError::device(
                dev,
                "it carries several conflicting signatures (see `wipefs --no-act`); set wipeFilesystem: true to erase them".to_owned(),
            ))
        }
        BlkidSafeprobeRet::Success => {}
    }
    let value = |name: &str| probe.lookup_value(name).unwrap_or_default();
    Ok(Found {
        fstype: value("TYPE"),
        label: value("LABEL"),
        uuid: value("UUID"),
        pttype: value("PTTYPE"),
    })
}

/// Before writing a new GPT on a disk without one: refuses if the disk holds something else.
pub fn refuse_foreign(dev: &Path, index: usize) -> Result<(), DiskError> {
    let found = probe(dev)?;
    if found.is_empty() {
        return Ok(());
    }
    Err(DiskError::at(
        &format!("$.storage.disks.{index}"),
        format!(
            "{} holds {}, not a GPT; set wipeTable: true to replace it (everything on the disk is lost)",
            dev.display(),
            found.describe()
        ),
    ))
}
