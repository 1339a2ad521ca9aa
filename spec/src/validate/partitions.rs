//! Disks and their GPT partitions.

use std::collections::HashMap;

use super::paths::path_problem;
use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::types::{Disk, Partition};

pub(crate) fn validate(ctx: &mut Ctx<'_>, disks: &[Disk]) {
    for (d, disk) in disks.iter().enumerate() {
        let at = jp!("storage", "disks", d);
        check_disk(ctx, disk, &at);
        for (p, part) in disk.partitions.iter().enumerate() {
            check_partition(ctx, part, &at.key("partitions").index(p));
        }
    }
}

fn check_disk(ctx: &mut Ctx<'_>, disk: &Disk, at: &JsonPath) {
    if disk.device.is_empty() {
        ctx.error(
            at.key("device"),
            "disk device is required: set device to a path such as /dev/vdb",
        );
        return;
    }
    if let Some(msg) = path_problem(&disk.device) {
        ctx.error(at.key("device"), msg);
    }
    let parts = &disk.partitions;
    let mut seen = HashMap::new();
    for (i, p) in parts.iter().enumerate().filter(|(_, p)| p.number != 0) {
        if let Some(first) = seen.insert(p.number, i) {
            ctx.error(
                at.key("partitions").index(i),
                format!("partition numbers collide: partition {} is also defined at index {first}; give each partition its own number", p.number),
            );
            break;
        }
    }
    if let Some(i) = first_overlap(parts) {
        ctx.error(
            at.key("partitions").index(i),
            "partitions overlap: adjust startMiB and sizeMiB so the ranges do not intersect",
        );
    }
    // Ignition up to 2.26 refused a partition with number 0 beside one to delete, since it
    // could not tell which number the new one would take; 2.27 resolves the numbers first
    // (coreos/ignition 76f869a4) and allows it, and so does the disks stage here.
    let mut labels = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        if let Some(label) = p.label.as_deref() {
            if labels.insert(label, i).is_some() {
                ctx.error(
                    at.key("partitions").index(i),
                    format!("cannot use the same partition label twice: {label:?} is already used; pick another label"),
                );
                break;
            }
        }
    }
}

/// Index of the first partition another one overlaps, counting only partitions with an
/// explicit start and size (start 0 means "anywhere", so it cannot be checked here).
fn first_overlap(parts: &[Partition]) -> Option<usize> {
    let ranges: Vec<Option<(i64, i64)>> = parts
        .iter()
        .map(|p| match (p.start_mib, p.size_mib) {
            (Some(start), Some(size)) if start != 0 => {
                Some((start, if size == 0 { start } else { start + size - 1 }))
            }
            _ => None,
        })
        .collect();
    for (pi, p) in ranges.iter().enumerate() {
        let Some((ps, pe)) = p else { continue };
        for (oi, o) in ranges.iter().enumerate() {
            let Some((os, oe)) = o else { continue };
            if oi == pi {
                continue;
            }
            let inside = |x: &i64| (os..=oe).contains(&x);
            if inside(ps) || inside(pe) || (ps < os && pe > oe) {
                return Some(oi);
            }
        }
    }
    None
}

fn check_partition(ctx: &mut Ctx<'_>, p: &Partition, at: &JsonPath) {
    let nonempty = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty());
    if p.should_exist == Some(false)
        && (p.label.is_some()
            || nonempty(&p.type_guid)
            || nonempty(&p.guid)
            || p.start_mib.is_some()
            || p.size_mib.is_some())
    {
        ctx.error(
            at.clone(),
            "shouldExist specified false with other options also specified: a partition to delete takes only number (and wipePartitionEntry)",
        );
    }
    if p.number == 0 && p.label.is_none() {
        ctx.error(
            at.clone(),
            "a partition number >= 1 or a label must be specified",
        );
    }
    if let Some(label) = p.label.as_deref() {
        if label.len() > 36 {
            ctx.error(
                at.key("label"),
                format!(
                    "partition labels may not exceed 36 characters: this one has {} bytes",
                    label.len()
                ),
            );
        } else if label.contains(':') {
            ctx.error(
                at.key("label"),
                "partition label will be truncated to text before the colon: remove the ':'",
            );
        }
    }
    for (field, value) in [("guid", &p.guid), ("typeGuid", &p.type_guid)] {
        if let Some(v) = value.as_deref() {
            if !v.is_empty() && !is_guid(v) {
                ctx.error(
                    at.key(field),
                    "doesn't match the form \"01234567-89AB-CDEF-EDCB-A98765432101\": write the GUID as 8-4-4-4-12 hex digits",
                );
            }
        }
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn disk(parts: &str) -> String {
        format!(
            r#"{{"ignition":{{"version":"3.2.0"}},"storage":{{"disks":[{{"device":"/dev/vdb","partitions":{parts}}}]}}}}"#
        )
    }

    #[test]
    fn disks_need_a_device() {
        assert_error(
            r#"{"ignition":{"version":"3.0.0"},"storage":{"disks":[{}]}}"#,
            "$.storage.disks.0.device",
            "disk device is required",
        );
        assert_error(
            r#"{"ignition":{"version":"3.0.0"},"storage":{"disks":[{"device":"vdb"}]}}"#,
            "$.storage.disks.0.device",
            "path not absolute",
        );
    }

    #[test]
    fn partition_labels_and_guids() {
        assert_error(
            &disk(&format!(r#"[{{"label":"{}"}}]"#, "x".repeat(37))),
            "$.storage.disks.0.partitions.0.label",
            "partition labels may not exceed 36",
        );
        assert_error(
            &disk(r#"[{"label":"a:b"}]"#),
            "$.storage.disks.0.partitions.0.label",
            "partition label will be truncated",
        );
        assert_error(
            &disk(r#"[{"number":1,"typeGuid":"nope"}]"#),
            "$.storage.disks.0.partitions.0.typeGuid",
            "doesn't match the form",
        );
        assert_clean(&disk(
            r#"[{"number":1,"guid":"0FC63DAF-8483-4772-8E79-3D69D8477DE4"}]"#,
        ));
        assert_error(
            &disk(r#"[{"sizeMiB":10}]"#),
            "$.storage.disks.0.partitions.0",
            "a partition number >= 1 or a label",
        );
    }

    #[test]
    fn numbers_labels_and_ranges_do_not_collide() {
        assert_error(
            &disk(r#"[{"number":1},{"number":1}]"#),
            "$.storage.disks.0.partitions.1",
            "partition numbers collide",
        );
        assert_error(
            &disk(r#"[{"label":"a"},{"label":"a"}]"#),
            "$.storage.disks.0.partitions.1",
            "cannot use the same partition label twice",
        );
        assert_error(
            &disk(
                r#"[{"number":1,"startMiB":1,"sizeMiB":10},{"number":2,"startMiB":5,"sizeMiB":10}]"#,
            ),
            "$.storage.disks.0.partitions.1",
            "partitions overlap",
        );
        assert_clean(&disk(
            r#"[{"number":1,"startMiB":1,"sizeMiB":10},{"number":2,"startMiB":11,"sizeMiB":10}]"#,
        ));
    }

    #[test]
    fn deleting_partitions_takes_no_other_fields() {
        assert_error(
            &disk(r#"[{"number":1,"shouldExist":false,"sizeMiB":0}]"#),
            "$.storage.disks.0.partitions.0",
            "shouldExist specified false",
        );
    }

    #[test]
    fn a_new_partition_may_take_the_number_of_one_deleted_beside_it() {
        assert_clean(&disk(
            r#"[{"number":1,"shouldExist":false,"wipePartitionEntry":true},{"label":"x"}]"#,
        ));
    }
}
