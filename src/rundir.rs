//! Every path under the run directory (`/run/kindling`), one home: what one stage leaves for
//! the next. The dracut units test some of them by name (`neednet`, `config.json`,
//! `idle/<stage>`), so these names are a contract (DESIGN.md §5).

use std::path::{Path, PathBuf};

/// The validated, merged config the fetch stages hand on (0600).
pub fn config(run_dir: &Path) -> PathBuf {
    run_dir.join("config.json")
}

/// Where the config came from and how it was verified (0600).
pub fn state(run_dir: &Path) -> PathBuf {
    run_dir.join("state.json")
}

/// fetch-offline found that the network is needed; kindling-fetch.service runs on it.
pub fn neednet(run_dir: &Path) -> PathBuf {
    run_dir.join("neednet")
}

/// `idle/<stage>`: the stage has nothing to do (the file says why); its unit is skipped.
pub fn idle_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("idle")
}

/// The root config's TPM measurement, so that it is extended once per boot.
pub fn measured(run_dir: &Path) -> PathBuf {
    run_dir.join("measured.json")
}

/// The LUKS volumes the disks stage made, for the files stage's crypttab.
pub fn luks_handoff(run_dir: &Path) -> PathBuf {
    run_dir.join("luks.json")
}

/// Key files of LUKS volumes that the installed system keeps (0700).
pub fn luks_keys(run_dir: &Path) -> PathBuf {
    run_dir.join("luks-keys")
}

/// `summary/<stage>.json`: what a stage did, for the result report.
pub fn summary(run_dir: &Path, stage: &str) -> PathBuf {
    run_dir.join("summary").join(format!("{stage}.json"))
}

/// `attempt/<stage>.json`: the marker of a stage attempt that has started and not finished
/// (`crate::attempt`); the disks stage keeps its marker here.
pub fn attempt(run_dir: &Path, stage: &str) -> PathBuf {
    run_dir.join("attempt").join(format!("{stage}.json"))
}

/// `summary/<stage>.attempt.json`: which attempt of the stage finished, for the report.
pub fn attempt_record(run_dir: &Path, stage: &str) -> PathBuf {
    run_dir
        .join("summary")
        .join(format!("{stage}.attempt.json"))
}

/// The kargs stage changed the boot entries: kindling-kargs-reboot.service reboots.
pub fn kargs_reboot_stamp(run_dir: &Path) -> PathBuf {
    run_dir.join("kargs-reboot")
}

/// Where the kargs stage mounts the boot partition.
pub fn kargs_boot_mount(run_dir: &Path) -> PathBuf {
    run_dir.join("boot")
}
