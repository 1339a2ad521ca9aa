//! Stage `kargs`: makes the installed system's kernel command line carry
//! `kernelArguments.shouldExist` and lack `kernelArguments.shouldNotExist`.
//!
//! Distributions with their own boot loader tooling install an executable at
//! [`HELPER_PATH`]; it is called with Ignition's helper arguments (`--should-exist ARG`,
//! `--should-not-exist ARG`, …), so an existing `ignition-kargs-helper` works unchanged. It
//! must exit 0, and create `crate::rundir::kargs_reboot_stamp` when it changed something.
//!
//! Without a helper, Kindling edits Boot Loader Specification entries
//! (`loader/entries/*.conf`) on the partition labelled `boot`, which it mounts for the purpose.
//! Edits are idempotent: an argument already present is not added twice, and a second run
//! changes nothing. When anything changed, the stamp asks for a reboot (the dracut unit
//! `kindling-kargs-reboot.service`), so the system provisions under the new arguments.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kindling_spec::types::KernelArguments;

use super::disk_error::DiskError;
use super::disks;
use super::runtime;
use super::StageContext;
use crate::atomic;
use crate::command::Cmd;

/// The distribution's hook for boot loaders other than BLS.
pub const HELPER_PATH: &str = "/usr/lib/kindling/kargs-helper";
/// The boot partition's filesystem label.
pub const BOOT_LABEL_LINK: &str = "/dev/disk/by-label/boot";
/// Test and custom-layout override: an already-mounted directory holding `loader/entries`.
pub const BOOT_DIR_ENV: &str = "KINDLING_BOOT_DIR";
/// Test override for the helper path.
pub const HELPER_ENV: &str = "KINDLING_KARGS_HELPER";

/// Applies the arguments to one entry's `options` line; returns the new text if it changed.
pub fn edit_entry(text: &str, kargs: &KernelArguments) -> Option<String> {
    let mut found_options = false;
    let mut changed = false;
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed
            .strip_prefix("options")
            .filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        else {
            lines.push(line.to_owned());
            continue;
        };
        found_options = true;
        let mut args: Vec<&str> = rest.split_whitespace().collect();
        let before = args.len();
        args.retain(|a| !kargs.should_not_exist.iter().any(|n| n == a));
        changed |= args.len() != before;
        for want in &kargs.should_exist {
            if !args.contains(&want.as_str()) {
                args.push(want);
                changed = true;
            }
        }
        lines.push(format!("options {}", args.join(" ")).trim_end().to_owned());
    }
    if !found_options && !kargs.should_exist.is_empty() {
        lines.push(format!("options {}", kargs.should_exist.join(" ")));
        changed = true;
    }
    if !changed {
        return None;
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Some(out)
}

/// Edits every entry under `<boot>/loader/entries`; returns how many changed.
fn edit_entries(boot: &Path, kargs: &KernelArguments) -> Result<usize, DiskError> {
    let dir = boot.join("loader/entries");
    let entries = fs::read_dir(&dir).map_err(|e| {
        DiskError::device(
            &dir,
            format!(
                "cannot list the boot loader entries: {e}; a distribution without Boot Loader Specification entries needs a kargs helper at {HELPER_PATH}"
            ),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(DiskError::device(
            &dir,
            "holds no *.conf entries to put the kernel arguments in".to_owned(),
        ));
    }
    let mut changed = 0;
    for path in paths {
        let text = fs::read_to_string(&path)
            .map_err(|e| DiskError::device(&path, format!("cannot read it: {e}")))?;
        if let Some(new) = edit_entry(&text, kargs) {
            atomic::write(&path, new.as_bytes(), 0o644)
                .map_err(|e| DiskError::device(&path, format!("cannot write it: {e}")))?;
            log::info!("kargs: updated {}", path.display());
            changed += 1;
        }
    }
    Ok(changed)
}

fn run_helper(helper: &Path, kargs: &KernelArguments) -> Result<(), DiskError> {
    let mut cmd = Cmd::new(
        "applying kernel arguments with the distribution's helper",
        helper,
    );
    for a in &kargs.should_exist {
        cmd = cmd.arg("--should-exist").arg(a);
    }
    for a in &kargs.should_not_exist {
        cmd = cmd.arg("--should-not-exist").arg(a);
    }
    cmd.run()
        .map(drop)
        .map_err(|e| DiskError::command(helper, e))
}

pub fn run(ctx: &StageContext, timeout: Duration) -> Result<(), DiskError> {
    let config = runtime::read_config(&ctx.run_dir)?;
    let kargs = &config.kernel_arguments;
    if let Some(reason) = super::plan::Stage::Kargs.idle_reason(&config) {
        log::info!("kargs: nothing to do: {reason}");
        return Ok(());
    }
    let stamp = crate::rundir::kargs_reboot_stamp(&ctx.run_dir);
    let helper = std::env::var_os(HELPER_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(HELPER_PATH));
    if helper.exists() {
        log::info!("kargs: using {}", helper.display());
        return run_helper(&helper, kargs);
    }
    let changed = if let Some(dir) = std::env::var_os(BOOT_DIR_ENV) {
        edit_entries(Path::new(&dir), kargs)?
    } else {
        let dev = Path::new(BOOT_LABEL_LINK);
        disks::wait_for_device(dev, "the boot partition (label \"boot\")", timeout)?;
        let mnt = crate::rundir::kargs_boot_mount(&ctx.run_dir);
        fs::create_dir_all(&mnt)
            .map_err(|e| DiskError::device(&mnt, format!("cannot create it: {e}")))?;
        Cmd::new("mounting the boot partition", "mount")
            .arg(dev)
            .arg(&mnt)
            .run()
            .map_err(|e| DiskError::command(dev, e))?;
        let result = edit_entries(&mnt, kargs);
        let unmounted = Cmd::new("unmounting the boot partition", "umount")
            .arg(&mnt)
            .run()
            .map_err(|e| DiskError::command(dev, e));
        let changed = result?;
        unmounted?;
        changed
    };
    if changed > 0 {
        fs::write(&stamp, b"")
            .map_err(|e| DiskError::device(&stamp, format!("cannot create it: {e}")))?;
        log::info!("kargs: {changed} boot entries changed; a reboot is requested");
    } else {
        log::info!("kargs: the boot entries already have the requested arguments");
    }
    crate::report::record(
        &ctx.run_dir,
        "kargs",
        &serde_json::json!({ "entriesChanged": changed, "rebootRequested": changed > 0 }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kargs(add: &[&str], remove: &[&str]) -> KernelArguments {
        KernelArguments {
            should_exist: add.iter().map(|s| s.to_string()).collect(),
            should_not_exist: remove.iter().map(|s| s.to_string()).collect(),
        }
    }

    const ENTRY: &str = "title Debian\nversion 6.1\nlinux /vmlinuz\noptions root=UUID=1 ro quiet\n";

    #[test]
    fn adds_and_removes_once() {
        let k = kargs(&["console=ttyS0", "quiet"], &["ro"]);
        let new = edit_entry(ENTRY, &k).expect("changed");
        assert!(
            new.ends_with("options root=UUID=1 quiet console=ttyS0\n"),
            "{new}"
        );
        assert_eq!(edit_entry(&new, &k), None, "a second run changes nothing");
    }

    #[test]
    fn arguments_match_whole() {
        let k = kargs(&["quiet=1"], &["root"]);
        let new = edit_entry(ENTRY, &k).expect("changed");
        assert!(
            new.contains("options root=UUID=1 ro quiet quiet=1\n"),
            "{new}"
        );
    }

    #[test]
    fn an_entry_without_options_gets_a_line() {
        let new = edit_entry("title x\nlinux /v\n", &kargs(&["a=b"], &[])).expect("changed");
        assert_eq!(new, "title x\nlinux /v\noptions a=b\n");
        assert_eq!(edit_entry("title x\n", &kargs(&[], &["a"])), None);
    }
}
