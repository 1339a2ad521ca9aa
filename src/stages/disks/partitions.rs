//! Partitioning one disk with Ignition's semantics.
//!
//! Each partition in the config is matched to an existing one by number (or, with number 0,
//! by label). A number 0 that matches no label takes the next free number, resolved before
//! anything is planned, as Ignition 2.27 does: the numbers on disk and those the config gives
//! are taken, except those the config deletes, so a new partition may take the number of one
//! deleted in the same config. Then, as in Ignition's operator notes:
//!
//! | exists | shouldExist | matches | wipePartitionEntry | result                      |
//! |--------|-------------|---------|--------------------|-----------------------------|
//! | no     | false       |         |                    | nothing to do               |
//! | no     | true        |         |                    | create                      |
//! | yes    | false       |         | false              | error                       |
//! | yes    | false       |         | true               | delete                      |
//! | yes    | true        | yes     |                    | keep                        |
//! | yes    | true        | no      | false              | resize if allowed, else error |
//! | yes    | true        | no      | true               | delete and re-create        |
//!
//! Start and size left as 0 are resolved to what sgdisk would choose if every partition in the
//! config were created anew (`sgdisk --pretend`), so "0" matches an existing partition that
//! fills the same free space. The whole plan is checked with `--pretend` before the one real
//! sgdisk run, so an impossible layout (overlap, too little space) changes nothing.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use kindling_spec::types::{Disk, Partition};

use super::devices;
use super::gpt::{self, Existing, Table};
use super::sgdisk::{Changes, NewPartition};
use super::DiskError;

/// A partition from the config, in sectors, with its number resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    /// Where it is in the config, for messages: `$.storage.disks.0.partitions.1`.
    at: String,
    number: u32,
    start: Option<u64>,
    size: Option<u64>,
    label: Option<String>,
    type_guid: Option<String>,
    guid: Option<String>,
    wipe_entry: bool,
    should_exist: bool,
    resize: bool,
    /// Given number 0 and resolved to a free number: a new partition, whatever the table
    /// holds at that number (a partition the config deletes).
    fresh: bool,
}

impl Wanted {
    fn from_config(p: &Partition, at: String, sectors_per_mib: u64, table: &Table) -> Self {
        let mib = |v: Option<i64>| v.map(|m| u64::try_from(m).unwrap_or(0) * sectors_per_mib);
        let mut number = u32::try_from(p.number).unwrap_or(0);
        if number == 0 {
            if let Some(existing) = p.label.as_deref().and_then(|l| table.by_label(l)) {
                number = existing.number;
            }
        }
        Wanted {
            at,
            number,
            start: mib(p.start_mib),
            size: mib(p.size_mib),
            label: p.label.clone(),
            type_guid: p.type_guid.clone().filter(|g| !g.is_empty()),
            guid: p.guid.clone().filter(|g| !g.is_empty()),
            wipe_entry: p.wipe_partition_entry == Some(true),
            should_exist: p.should_exist != Some(false),
            resize: p.resize == Some(true),
            fresh: false,
        }
    }

    fn name(&self) -> String {
        let new = if self.fresh { "new " } else { "" };
        match &self.label {
            Some(l) => format!("{new}partition {} ({l:?})", self.number),
            None => format!("{new}partition {}", self.number),
        }
    }

    fn to_new(&self) -> NewPartition {
        NewPartition {
            number: self.number,
            start: self.start,
            size: self.size,
            label: self.label.clone(),
            type_guid: self.type_guid.clone(),
            guid: self.guid.clone(),
        }
    }
}

/// The fields in which an existing partition differs from the config, size apart.
fn differences(existing: &Existing, want: &Wanted, sector_size: u64) -> (Vec<String>, bool) {
    let mut diffs = Vec::new();
    let mib = |sectors: u64| sectors as f64 * sector_size as f64 / 1048576.0;
    if let Some(start) = want.start.filter(|s| *s != existing.start) {
        diffs.push(format!(
            "start: sector {start} ({:.1} MiB) in the config, {} ({:.1} MiB) on disk",
            mib(start),
            existing.start,
            mib(existing.start)
        ));
    }
    let eq_guid = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if let Some(g) = want.guid.as_deref().filter(|g| !eq_guid(g, &existing.guid)) {
        diffs.push(format!(
            "guid: {g} in the config, {} on disk",
            existing.guid
        ));
    }
    if let Some(t) = want
        .type_guid
        .as_deref()
        .filter(|t| !eq_guid(t, &existing.type_guid))
    {
        diffs.push(format!(
            "typeGuid: {t} in the config, {} on disk",
            existing.type_guid
        ));
    }
    if let Some(l) = want.label.as_deref().filter(|l| *l != existing.label) {
        diffs.push(format!(
            "label: {l:?} in the config, {:?} on disk",
            existing.label
        ));
    }
    let size_differs = want.size.is_some_and(|s| s != existing.size);
    if let Some(size) = want.size.filter(|_| size_differs) {
        diffs.push(format!(
            "size: {size} sectors ({:.1} MiB) in the config, {} ({:.1} MiB) on disk",
            mib(size),
            existing.size,
            mib(existing.size)
        ));
    }
    (diffs, size_differs)
}

/// What partitioning did to one disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub created: u32,
    pub deleted: u32,
    pub resized: u32,
    pub kept: u32,
}

/// Partitions `dev` as `disk` (at `$.storage.disks.<index>`) asks.
pub fn apply(
    disk: &Disk,
    index: usize,
    dev: &Path,
    timeout: Duration,
) -> Result<Outcome, DiskError> {
    let sector_size = devices::sector_size(dev)?;
    if disk.wipe_table == Some(true) {
        log::info!("disks: wiping the partition table of {}", dev.display());
        Changes {
            zap: true,
            ..Changes::default()
        }
        .commit(dev)?;
        devices::sync_kernel(dev, &gpt::read(dev, sector_size)?)?;
    }
    let table = gpt::read(dev, sector_size)?;
    if !table.has_gpt && !disk.partitions.is_empty() {
        super::signatures::refuse_foreign(dev, index)?;
    }

    let sectors_per_mib = 1048576 / sector_size;
    let mut wanted: Vec<Wanted> = disk
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = format!("$.storage.disks.{index}.partitions.{i}");
            Wanted::from_config(p, at, sectors_per_mib, &table)
        })
        .collect();
    assign_free_numbers(&table, &mut wanted);
    resolve_defaults(dev, &table, &mut wanted)?;

    let (changes, outcome) = plan(&table, &wanted, sector_size)?;
    if changes.is_empty() {
        // The table may have been written by an attempt that was killed before it told the
        // kernel: without this, the partitions' devices would never appear.
        devices::sync_kernel(dev, &table)?;
        log::info!(
            "disks: the partitions of {} already match the config ({} kept)",
            dev.display(),
            outcome.kept
        );
        return Ok(outcome);
    }
    // Checked as a whole before anything is written.
    changes.pretend(dev)?;
    log::info!(
        "disks: partitioning {}: {} to create, {} to delete, {} to resize, {} kept",
        dev.display(),
        outcome.created,
        outcome.deleted,
        outcome.resized,
        outcome.kept
    );
    changes.commit(dev)?;
    let table = gpt::read(dev, sector_size)?;
    devices::sync_kernel(dev, &table)?;
    let labels: Vec<&str> = wanted
        .iter()
        .filter(|w| w.should_exist)
        .filter_map(|w| w.label.as_deref())
        .collect();
    devices::wait_for_labels(dev, &labels, timeout)?;
    Ok(outcome)
}

/// Gives each partition still numbered 0 the lowest number that is free once the config is
/// applied: not on disk, or deleted by the config, and not named by another entry. In config
/// order, as Ignition 2.27 does; sgdisk could pick the number itself, but then the plan and
/// the messages would not know it.
fn assign_free_numbers(table: &Table, wanted: &mut [Wanted]) {
    let mut taken: std::collections::BTreeSet<u32> =
        table.partitions.iter().map(|p| p.number).collect();
    for w in wanted.iter().filter(|w| w.number != 0) {
        if w.should_exist {
            taken.insert(w.number);
        } else {
            taken.remove(&w.number);
        }
    }
    let mut next = 1;
    for w in wanted.iter_mut().filter(|w| w.number == 0) {
        while taken.contains(&next) {
            next += 1;
        }
        if w.should_exist {
            w.number = next;
            w.fresh = true;
            taken.insert(next);
        }
    }
}

/// Replaces explicit zero starts and sizes by what sgdisk would choose, as Ignition does.
fn resolve_defaults(dev: &Path, table: &Table, wanted: &mut [Wanted]) -> Result<(), DiskError> {
    let mut trial = Changes::default();
    let mut probe: Vec<Wanted> = wanted.to_vec();
    for w in &mut probe {
        if let Some(existing) = table.get(w.number).filter(|_| !w.fresh) {
            trial.delete.push(w.number);
            if !w.wipe_entry {
                w.start.get_or_insert(existing.start);
                w.size.get_or_insert(existing.size);
            }
        }
        if w.should_exist {
            let mut new = w.to_new();
            new.label = None;
            trial.create.push(new);
        }
    }
    trial.info = probe
        .iter()
        .filter(|w| w.number != 0 && (w.start == Some(0) || w.size == Some(0)))
        .map(|w| w.number)
        .collect();
    if trial.info.is_empty() {
        return Ok(());
    }
    let dims = trial.pretend(dev)?;
    for w in wanted.iter_mut() {
        if let Some((start, size)) = dims.get(&w.number) {
            if w.start.is_some() {
                w.start = Some(*start);
            }
            if w.size.is_some() {
                w.size = Some(*size);
            }
        }
    }
    Ok(())
}

fn plan(
    table: &Table,
    wanted: &[Wanted],
    sector_size: u64,
) -> Result<(Changes, Outcome), DiskError> {
    let mut changes = Changes::default();
    let mut outcome = Outcome::default();
    for w in wanted {
        let existing = if w.number == 0 || w.fresh {
            None
        } else {
            table.get(w.number)
        };
        match (existing, w.should_exist) {
            (None, false) => {
                log::info!("disks: {} is absent, as the config asks", w.name());
            }
            (None, true) => {
                log::info!("disks: {} is to be created", w.name());
                changes.create.push(w.to_new());
                outcome.created += 1;
            }
            (Some(_), false) if !w.wipe_entry => {
                return Err(DiskError::at(
                    &w.at,
                    format!(
                        "{} exists but shouldExist is false; set wipePartitionEntry: true to delete it",
                        w.name()
                    ),
                ));
            }
            (Some(_), false) => {
                changes.delete.push(w.number);
                outcome.deleted += 1;
            }
            (Some(existing), true) => {
                let (diffs, size_differs) = differences(existing, w, sector_size);
                if diffs.is_empty() {
                    outcome.kept += 1;
                } else if w.wipe_entry {
                    log::info!(
                        "disks: {} does not match ({}); re-creating its entry",
                        w.name(),
                        diffs.join("; ")
                    );
                    changes.delete.push(w.number);
                    changes.create.push(w.to_new());
                    outcome.created += 1;
                } else if w.resize && size_differs && diffs.len() == 1 {
                    changes.delete.push(w.number);
                    changes.create.push(NewPartition {
                        number: existing.number,
                        start: Some(existing.start),
                        size: w.size,
                        label: Some(existing.label.clone()),
                        type_guid: Some(existing.type_guid.clone()),
                        guid: Some(existing.guid.clone()),
                    });
                    outcome.resized += 1;
                } else {
                    let mut msg = format!("{} does not match the config:", w.name());
                    for d in &diffs {
                        let _ = write!(msg, "\n  - {d}");
                    }
                    msg.push_str(if size_differs && diffs.len() == 1 {
                        "\nset resize: true to change its size (its data is kept), or wipePartitionEntry: true to re-create it"
                    } else {
                        "\nset wipePartitionEntry: true to re-create it (its data is then lost), or change the config to match the disk"
                    });
                    return Err(DiskError::at(&w.at, msg));
                }
            }
        }
    }
    Ok((changes, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            sector_size: 512,
            has_gpt: true,
            partitions: vec![Existing {
                number: 1,
                start: 2048,
                size: 20480,
                type_guid: "0fc63daf-8483-4772-8e79-3d69d8477de4".into(),
                guid: "11111111-2222-3333-4444-555555555555".into(),
                label: "data".into(),
            }],
        }
    }

    fn want(number: u32) -> Wanted {
        Wanted {
            at: "$.x".into(),
            number,
            start: None,
            size: None,
            label: None,
            type_guid: None,
            guid: None,
            wipe_entry: false,
            should_exist: true,
            resize: false,
            fresh: false,
        }
    }

    #[test]
    fn unset_fields_match_anything() {
        let (c, o) = plan(&table(), &[want(1)], 512).expect("plans");
        assert!(c.is_empty());
        assert_eq!(o.kept, 1);
    }

    #[test]
    fn guids_compare_without_case() {
        let mut w = want(1);
        w.guid = Some("11111111-2222-3333-4444-555555555555".to_uppercase());
        assert!(plan(&table(), &[w], 512).expect("plans").0.is_empty());
    }

    #[test]
    fn a_size_mismatch_names_the_field_and_the_fix() {
        let mut w = want(1);
        w.size = Some(40960);
        let err = plan(&table(), &[w], 512).expect_err("mismatch").to_string();
        assert!(err.contains("partition 1"), "{err}");
        assert!(
            err.contains("size: 40960 sectors (20.0 MiB) in the config, 20480 (10.0 MiB) on disk"),
            "{err}"
        );
        assert!(err.contains("resize: true"), "{err}");
    }

    #[test]
    fn resize_keeps_start_guid_type_and_label() {
        let mut w = want(1);
        w.size = Some(40960);
        w.resize = true;
        let (c, o) = plan(&table(), &[w], 512).expect("plans");
        assert_eq!(o.resized, 1);
        assert_eq!(c.delete, [1]);
        assert_eq!(c.create[0].start, Some(2048));
        assert_eq!(c.create[0].size, Some(40960));
        assert_eq!(c.create[0].label.as_deref(), Some("data"));
        assert_eq!(
            c.create[0].guid.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
    }

    #[test]
    fn resize_does_not_excuse_other_differences() {
        let mut w = want(1);
        w.size = Some(40960);
        w.label = Some("other".into());
        w.resize = true;
        let err = plan(&table(), &[w], 512).expect_err("mismatch").to_string();
        assert!(err.contains("label"), "{err}");
        assert!(err.contains("wipePartitionEntry"), "{err}");
    }

    #[test]
    fn deleting_needs_wipe_partition_entry() {
        let mut w = want(1);
        w.should_exist = false;
        let err = plan(&table(), &[w.clone()], 512)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("wipePartitionEntry: true"), "{err}");
        w.wipe_entry = true;
        let (c, o) = plan(&table(), &[w], 512).expect("plans");
        assert_eq!((c.delete.as_slice(), o.deleted), (&[1][..], 1));
    }

    #[test]
    fn missing_partitions_are_created_and_absent_ones_left_alone() {
        let mut gone = want(5);
        gone.should_exist = false;
        let (c, o) = plan(&table(), &[want(2), gone], 512).expect("plans");
        assert_eq!(o.created, 1);
        assert_eq!(c.create[0].number, 2);
        assert!(c.delete.is_empty());
    }

    #[test]
    fn number_zero_finds_its_label() {
        let p = Partition {
            label: Some("data".into()),
            ..Partition::default()
        };
        assert_eq!(
            Wanted::from_config(&p, "$".into(), 2048, &table()).number,
            1
        );
        let p = Partition {
            label: Some("new".into()),
            ..Partition::default()
        };
        assert_eq!(
            Wanted::from_config(&p, "$".into(), 2048, &table()).number,
            0
        );
    }

    #[test]
    fn number_zero_takes_the_lowest_number_free_after_the_config() {
        let mut table = table();
        table.partitions.push(Existing {
            number: 3,
            ..table.partitions[0].clone()
        });
        let mut delete3 = want(3);
        delete3.should_exist = false;
        let mut absent0 = want(0);
        absent0.should_exist = false;
        let mut wanted = [want(0), want(2), delete3, absent0, want(0), want(0)];
        assign_free_numbers(&table, &mut wanted);
        let got: Vec<(u32, bool)> = wanted.iter().map(|w| (w.number, w.fresh)).collect();
        // 1 is on disk, 2 is named, 3 is deleted: free are 3, 4, 5; a 0 that should not
        // exist takes nothing.
        assert_eq!(
            got,
            [
                (3, true),
                (2, false),
                (3, false),
                (0, false),
                (4, true),
                (5, true)
            ]
        );
    }

    #[test]
    fn a_fresh_partition_is_created_even_where_the_table_has_its_number() {
        let mut w = want(1);
        w.fresh = true;
        w.size = Some(4096);
        let (c, o) = plan(&table(), &[w], 512).expect("plans");
        assert_eq!(o.created, 1);
        assert_eq!(c.create[0].number, 1);
    }
}
