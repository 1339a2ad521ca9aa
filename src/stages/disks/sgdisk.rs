//! The changes to a partition table, as one sgdisk invocation: tried first with `--pretend`
//! (which also says where sgdisk would put partitions whose start or size is left to it),
//! then committed in one go, so a table is never left half-changed.

use std::collections::BTreeMap;
use std::path::Path;

use super::DiskError;
use crate::command::Cmd;

/// A partition to create; start and size in logical sectors, `None` (or 0) for sgdisk's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPartition {
    /// 0 takes the next free number.
    pub number: u32,
    pub start: Option<u64>,
    pub size: Option<u64>,
    pub label: Option<String>,
    pub type_guid: Option<String>,
    pub guid: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub zap: bool,
    pub delete: Vec<u32>,
    pub create: Vec<NewPartition>,
    /// Partitions whose resulting start and size to report (pretend only).
    pub info: Vec<u32>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        !self.zap && self.delete.is_empty() && self.create.is_empty()
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.zap {
            args.push("--zap-all".to_owned());
        }
        for n in &self.delete {
            args.push(format!("--delete={n}"));
        }
        for p in &self.create {
            let n = p.number;
            let start = p.start.map_or_else(|| "0".to_owned(), |s| s.to_string());
            let end = match p.size {
                None | Some(0) => "0".to_owned(),
                Some(size) => format!("+{size}"),
            };
            args.push(format!("--new={n}:{start}:{end}"));
            // For number 0, sgdisk applies these to the partition the --new just made.
            if let Some(label) = &p.label {
                args.push(format!("--change-name={n}:{label}"));
            }
            if let Some(guid) = p.guid.as_deref().filter(|g| !g.is_empty()) {
                args.push(format!("--partition-guid={n}:{guid}"));
            }
            if let Some(t) = p.type_guid.as_deref().filter(|t| !t.is_empty()) {
                args.push(format!("--typecode={n}:{t}"));
            }
        }
        args
    }

    /// Runs the changes without writing, and returns where the `info` partitions would lie.
    pub fn pretend(&self, dev: &Path) -> Result<BTreeMap<u32, (u64, u64)>, DiskError> {
        let mut args = vec!["--pretend".to_owned()];
        args.extend(self.args());
        args.extend(self.info.iter().map(|n| format!("--info={n}")));
        let out = Cmd::new(
            format!("checking the partition changes for {}", dev.display()),
            "sgdisk",
        )
        .args(&args)
        .arg(dev)
        .run()
        .map_err(|e| DiskError::command(dev, e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        parse_info(&text, &self.info).ok_or_else(|| {
            DiskError::device(
                dev,
                format!("sgdisk's --pretend output could not be read:\n{text}"),
            )
        })
    }

    pub fn commit(&self, dev: &Path) -> Result<(), DiskError> {
        Cmd::new(format!("partitioning {}", dev.display()), "sgdisk")
            .args(self.args())
            .arg(dev)
            .run()
            .map(drop)
            .map_err(|e| DiskError::command(dev, e))
    }
}

/// Reads the `First sector:`/`Last sector:` pairs `--info` prints, one per number, in order.
fn parse_info(text: &str, numbers: &[u32]) -> Option<BTreeMap<u32, (u64, u64)>> {
    let sector = |line: &str, prefix: &str| -> Option<u64> {
        line.strip_prefix(prefix)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut firsts = Vec::new();
    let mut lasts = Vec::new();
    for line in text.lines() {
        if let Some(s) = sector(line, "First sector: ") {
            firsts.push(s);
        } else if let Some(s) = sector(line, "Last sector: ") {
            lasts.push(s);
        }
    }
    if firsts.len() != numbers.len() || lasts.len() != numbers.len() {
        return None;
    }
    let mut out = BTreeMap::new();
    for ((n, first), last) in numbers.iter().zip(firsts).zip(lasts) {
        if last < first {
            return None;
        }
        out.insert(*n, (first, last + 1 - first));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_in_sgdisk_order() {
        let c = Changes {
            zap: false,
            delete: vec![3],
            create: vec![NewPartition {
                number: 0,
                start: None,
                size: Some(2048),
                label: Some("data".into()),
                type_guid: Some("0fc63daf-8483-4772-8e79-3d69d8477de4".into()),
                guid: None,
            }],
            info: vec![],
        };
        assert_eq!(
            c.args(),
            [
                "--delete=3",
                "--new=0:0:+2048",
                "--change-name=0:data",
                "--typecode=0:0fc63daf-8483-4772-8e79-3d69d8477de4"
            ]
        );
    }

    #[test]
    fn info_blocks_are_read_in_order() {
        let text = "Creating new GPT entries in memory.\n\
            Partition GUID code: 0FC63DAF-8483-4772-8E79-3D69D8477DE4 (Linux filesystem)\n\
            First sector: 2048 (at 1024.0 KiB)\nLast sector: 22527 (at 11.0 MiB)\n\
            Partition name: ''\n\
            First sector: 22528 (at 11.0 MiB)\nLast sector: 131038 (at 64.0 MiB)\n";
        let got = parse_info(text, &[1, 4]).expect("parses");
        assert_eq!(got[&1], (2048, 20480));
        assert_eq!(got[&4], (22528, 108511));
        assert!(parse_info(text, &[1]).is_none());
    }
}
