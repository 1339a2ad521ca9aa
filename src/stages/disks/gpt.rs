//! Reading a disk's GUID partition table as it is on the disk (gptman). Changes go through
//! sgdisk, as Ignition's do, so that both tools lay out partitions the same way.

use std::fs::File;
use std::path::Path;

use super::DiskError;

/// One used partition entry; start and size in logical sectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub number: u32,
    pub start: u64,
    pub size: u64,
    /// Lower-case, hyphenated.
    pub type_guid: String,
    /// Lower-case, hyphenated.
    pub guid: String,
    pub label: String,
}

/// The partition table of a disk; no GPT reads as an empty table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub sector_size: u64,
    pub has_gpt: bool,
    pub partitions: Vec<Existing>,
}

impl Table {
    pub fn get(&self, number: u32) -> Option<&Existing> {
        self.partitions.iter().find(|p| p.number == number)
    }

    pub fn by_label(&self, label: &str) -> Option<&Existing> {
        self.partitions.iter().find(|p| p.label == label)
    }
}

/// Neither the primary nor the backup header is there: the disk has no GPT at all.
fn no_gpt(e: &gptman::Error) -> bool {
    match e {
        gptman::Error::InvalidSignature => true,
        gptman::Error::Io(io) => io.kind() == std::io::ErrorKind::UnexpectedEof,
        gptman::Error::ReadError(primary, backup) => no_gpt(primary) && no_gpt(backup),
        _ => false,
    }
}

/// gptman falls back to the backup table when the primary cannot be read. A primary that is
/// there (it has its signature) but fails its checksums, beside a good backup, is a table
/// whose writing stopped part way (sgdisk killed, power lost): partx and the kernel go by the
/// primary and find no partitions, so keeping "the table" would end in a device that never
/// appears. It is refused with the fix; Kindling leaves repairs to the operator.
fn check_primary(file: &mut File, dev: &Path, sector_size: u64) -> Result<(), DiskError> {
    use std::io::{Seek, SeekFrom};
    let primary = (|| {
        file.seek(SeekFrom::Start(sector_size))?;
        let header = gptman::GPTHeader::read_from(file)?;
        header.read_partitions(file, sector_size).map(drop)
    })();
    match primary {
        Ok(()) | Err(gptman::Error::InvalidSignature) => Ok(()),
        Err(e) => Err(DiskError::device(
            dev,
            format!(
                "its main partition table is damaged ({e}) while the backup table is intact, as a partitioning tool stopped while writing leaves it; set wipeTable: true to start from an empty table (its partitions go), or restore the main table from the backup (gdisk's recovery menu: load the backup table, then write), and boot again"
            ),
        )),
    }
}

/// GPT stores the first three GUID fields little-endian.
pub fn guid_string(bytes: [u8; 16]) -> String {
    uuid::Uuid::from_bytes_le(bytes).hyphenated().to_string()
}

pub fn read(dev: &Path, sector_size: u64) -> Result<Table, DiskError> {
    let mut file = File::open(dev)
        .map_err(|e| DiskError::device(dev, format!("cannot open it for reading: {e}")))?;
    let gpt = match gptman::GPT::read_from(&mut file, sector_size) {
        Ok(gpt) => gpt,
        Err(e) if no_gpt(&e) => {
            return Ok(Table {
                sector_size,
                has_gpt: false,
                partitions: Vec::new(),
            })
        }
        Err(e) => {
            return Err(DiskError::device(
                dev,
                format!(
                    "its partition table cannot be read ({e}); set wipeTable: true to start from an empty table"
                ),
            ))
        }
    };
    check_primary(&mut file, dev, sector_size)?;
    let partitions = gpt
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(number, p)| Existing {
            number,
            start: p.starting_lba,
            size: p.ending_lba + 1 - p.starting_lba,
            type_guid: guid_string(p.partition_type_guid),
            guid: guid_string(p.unique_partition_guid),
            label: p.partition_name.as_str().to_owned(),
        })
        .collect();
    Ok(Table {
        sector_size,
        has_gpt: true,
        partitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_mixed_endian() {
        // The Linux filesystem data type as stored on disk.
        let bytes = [
            0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47,
            0x7d, 0xe4,
        ];
        assert_eq!(guid_string(bytes), "0fc63daf-8483-4772-8e79-3d69d8477de4");
    }
}
