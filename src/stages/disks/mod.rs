//! Stage `disks`: partitions, RAID arrays and filesystems, in Ignition's order, after waiting
//! for every device the config names.
//!
//! This is the stage that can destroy data, so it matches what exists before it changes
//! anything: a partition or filesystem that differs from the config is an error unless the
//! config explicitly allows wiping it, and each disk's table changes are checked as a whole
//! (`sgdisk --pretend`) before one sgdisk run writes them.

mod clevis;
mod devices;
mod filesystems;
mod gpt;
mod keys;
pub mod luks;
mod partitions;
mod progress;
mod raid;
mod sgdisk;
mod signatures;

use std::path::Path;
use std::time::Duration;

use super::runtime;
use super::StageContext;
use crate::pipeline::render::{self as chain, Network};

pub use super::disk_error::DiskError;

/// Waits for a block device the config names (`what` is its JSON path).
pub fn wait_for_device(dev: &Path, what: &str, timeout: Duration) -> Result<(), DiskError> {
    devices::wait_for(dev, what, timeout)
}

/// Counts for the log line at the end.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    partitions: partitions::Outcome,
    arrays_created: u32,
    arrays_kept: u32,
    volumes_created: u32,
    volumes_reused: u32,
    filesystems_created: u32,
    filesystems_reused: u32,
}

pub fn run(ctx: &StageContext, timeout: Duration) -> Result<(), DiskError> {
    let config = runtime::read_config(&ctx.run_dir)?;
    if let Some(reason) = super::plan::Stage::Disks.idle_reason(&config) {
        log::info!("disks: nothing to do: {reason}");
        return Ok(());
    }
    // Before any device is touched: a marker left by an attempt that never finished.
    let progress = progress::Progress::begin(&ctx.run_dir)?;
    let result = apply(ctx, &config, timeout, &progress);
    if result.is_err() {
        progress.failed();
    }
    let marker = progress.marker();
    match (result, marker.previous()) {
        (Ok(()), _) => {
            // Last: a marker still there means this attempt did not finish.
            progress.finish(&ctx.run_dir);
            Ok(())
        }
        (Err(e), Some(earlier)) => Err(DiskError::AfterUnfinished {
            stage: "disks",
            attempt: marker.attempt,
            earlier: earlier.clone(),
            source: Box::new(e),
        }),
        (Err(e), None) => Err(e),
    }
}

fn apply(
    ctx: &StageContext,
    config: &kindling_spec::types::Config,
    timeout: Duration,
    progress: &progress::Progress,
) -> Result<(), DiskError> {
    let storage = &config.storage;
    let mut summary = Summary::default();

    for (i, disk) in storage.disks.iter().enumerate() {
        let dev = Path::new(&disk.device);
        devices::wait_for(dev, &format!("$.storage.disks.{i}.device"), timeout)?;
    }
    for (i, disk) in storage.disks.iter().enumerate() {
        let o = partitions::apply(disk, i, Path::new(&disk.device), timeout)?;
        summary.partitions.created += o.created;
        summary.partitions.deleted += o.deleted;
        summary.partitions.resized += o.resized;
        summary.partitions.kept += o.kept;
    }

    for (i, md) in storage.raid.iter().enumerate() {
        for (j, member) in md.devices.iter().enumerate() {
            devices::wait_for(
                Path::new(member),
                &format!("$.storage.raid.{i}.devices.{j}"),
                timeout,
            )?;
        }
        match raid::apply(md, i)? {
            raid::Outcome::Created => summary.arrays_created += 1,
            raid::Outcome::Kept => summary.arrays_kept += 1,
        }
    }
    if !storage.raid.is_empty() {
        devices::settle();
    }

    if !storage.luks.is_empty() {
        let mut fetched = Vec::new();
        let fetcher = chain::fetcher_for(
            &config.ignition,
            &[],
            Network::Online,
            &ctx.fetch_settings(),
            &mut fetched,
        )?;
        let mut volumes = Vec::new();
        for (i, l) in storage.luks.iter().enumerate() {
            let (outcome, volume) = luks::apply(l, i, &fetcher, &ctx.run_dir, timeout)?;
            match outcome {
                luks::Outcome::Created => summary.volumes_created += 1,
                luks::Outcome::Reused => summary.volumes_reused += 1,
            }
            volumes.push(volume);
        }
        luks::write_handoff(&ctx.run_dir, &volumes)?;
        devices::settle();
    }

    for (i, fs) in storage.filesystems.iter().enumerate() {
        devices::wait_for(
            Path::new(&fs.device),
            &format!("$.storage.filesystems.{i}.device"),
            timeout,
        )?;
    }
    // Independent devices: created side by side, as Ignition does; the first error (in
    // config order) is reported.
    let results: Vec<Result<filesystems::Outcome, DiskError>> = std::thread::scope(|s| {
        let handles: Vec<_> = storage
            .filesystems
            .iter()
            .enumerate()
            .map(|(i, fs)| {
                s.spawn(move || filesystems::apply(fs, i, Path::new(&fs.device), progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DiskError::at(
                        "$.storage.filesystems",
                        "creating a filesystem crashed".to_owned(),
                    ))
                })
            })
            .collect()
    });
    for r in results {
        match r? {
            filesystems::Outcome::Created => summary.filesystems_created += 1,
            filesystems::Outcome::Reused => summary.filesystems_reused += 1,
            filesystems::Outcome::Skipped => {}
        }
    }
    devices::settle();
    let p = &summary.partitions;
    log::info!(
        "disks: partitions {} created, {} deleted, {} resized, {} kept; RAID arrays {} created, {} kept; LUKS volumes {} created, {} reused; filesystems {} created, {} reused",
        p.created,
        p.deleted,
        p.resized,
        p.kept,
        summary.arrays_created,
        summary.arrays_kept,
        summary.volumes_created,
        summary.volumes_reused,
        summary.filesystems_created,
        summary.filesystems_reused
    );
    crate::report::record(&ctx.run_dir, "disks", &summary);
    Ok(())
}
