//! Stages `mount` and `umount`: the config's filesystems that have a `path` are mounted under
//! the target root for the files stage, shortest path first, and unmounted in reverse order.
//! If one mount fails, the ones before it are unmounted again before the error is returned, so
//! a failed stage leaves nothing mounted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::disk_error::DiskError;
pub(crate) use super::mounts::{mounts, Mount};
use super::runtime;
use super::StageContext;
use crate::command::Cmd;
use crate::root::{Missing, Root};

/// `path` (absolute, in the target system) as a host path under `root`, with symbolic links
/// in the target system followed the way they will be after boot, by the same fd-based walk
/// as the files stage (`crate::root`): absolute targets are taken relative to `root`, and
/// nothing resolves outside it. With `create`, missing directories are made (0755) by that
/// contained walk first.
pub fn resolve_in_root(root: &Path, path: &str, create: bool) -> Result<PathBuf, String> {
    let root = Root::open(root).map_err(|e| e.to_string())?;
    if create {
        root.dir(path, Missing::Create(0o755))
            .map_err(|e| format!("cannot create the mount point: {e}"))?;
    }
    let inside = root.resolve_dir(path).map_err(|e| e.to_string())?;
    // The root's canonical path, so the result compares equal to the mount table's entries.
    Ok(root.path().join(inside.trim_start_matches('/')))
}

/// The mount points currently in the mount table.
fn mounted() -> Vec<PathBuf> {
    crate::mountinfo::mount_points().unwrap_or_default()
}

fn umount(target: &Path) -> Result<(), DiskError> {
    Cmd::new(format!("unmounting {}", target.display()), "umount")
        .arg(target)
        .run()
        .map(drop)
        .map_err(|e| DiskError::command(target, e))
}

pub fn run_mount(ctx: &StageContext, timeout: Duration) -> Result<(), DiskError> {
    let config = runtime::read_config(&ctx.run_dir)?;
    if let Some(reason) = super::plan::Stage::Mount.idle_reason(&config) {
        log::info!("mount: nothing to do: {reason}");
        return Ok(());
    }
    let list = mounts(&config.storage.filesystems);
    let mut done: Vec<PathBuf> = Vec::new();
    for m in &list {
        match mount_one(ctx, m, timeout) {
            Ok(target) => done.push(target),
            Err(e) => {
                for target in done.iter().rev() {
                    if let Err(u) = umount(target) {
                        log::error!("mount: cleaning up after the failure: {u}");
                    }
                }
                return Err(e);
            }
        }
    }
    log::info!("mount: {} filesystems mounted", done.len());
    crate::report::record(
        &ctx.run_dir,
        "mount",
        &serde_json::json!({ "mounted": done }),
    );
    Ok(())
}

fn mount_one(ctx: &StageContext, m: &Mount<'_>, timeout: Duration) -> Result<PathBuf, DiskError> {
    let dev = Path::new(&m.fs.device);
    super::disks::wait_for_device(dev, &format!("{}.device", m.at), timeout)?;
    let target = resolve_in_root(&ctx.root, m.path, true).map_err(|e| DiskError::at(&m.at, e))?;
    let mut cmd = Cmd::new(
        format!("mounting {} on {}", dev.display(), target.display()),
        "mount",
    )
    .arg("-t")
    .arg(m.format);
    if !m.fs.mount_options.is_empty() {
        cmd = cmd.arg("-o").arg(m.fs.mount_options.join(","));
    }
    log::info!(
        "mount: {} ({}) on {}",
        dev.display(),
        m.format,
        target.display()
    );
    cmd.arg(dev)
        .arg(&target)
        .run()
        .map_err(|e| DiskError::command(dev, e))?;
    Ok(target)
}

pub fn run_umount(ctx: &StageContext) -> Result<(), DiskError> {
    let config = runtime::read_config(&ctx.run_dir)?;
    let list = mounts(&config.storage.filesystems);
    let table = mounted();
    let mut first_error = None;
    for m in list.iter().rev() {
        let Ok(target) = resolve_in_root(&ctx.root, m.path, false) else {
            continue;
        };
        if !table.contains(&target) {
            continue;
        }
        log::info!("umount: {}", target.display());
        // Keep going: every filesystem that can be unmounted should be.
        if let Err(e) = umount(&target) {
            log::error!("umount: {e}");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_spec::types::Filesystem;
    use std::fs;

    fn fs(path: &str, format: &str) -> Filesystem {
        Filesystem {
            device: format!("/dev/{}", path.replace('/', "_")),
            path: Some(path.into()),
            format: Some(format.into()),
            ..Filesystem::default()
        }
    }

    #[test]
    fn shortest_paths_mount_first_and_swap_never() {
        let list = [
            fs("/var/lib/data", "ext4"),
            fs("/var", "xfs"),
            fs("/swap", "swap"),
            fs("/srv", "ext4"),
        ];
        let order: Vec<&str> = mounts(&list).iter().map(|m| m.path).collect();
        assert_eq!(order, ["/var", "/srv", "/var/lib/data"]);
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let root = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(root.path().join("var/home")).expect("mkdir");
        std::os::unix::fs::symlink("/var/home", root.path().join("home")).expect("link");
        std::os::unix::fs::symlink("../../..", root.path().join("var/escape")).expect("link");
        assert_eq!(
            resolve_in_root(root.path(), "/home/core", false).expect("resolves"),
            root.path().join("var/home/core")
        );
        assert_eq!(
            resolve_in_root(root.path(), "/var/escape/etc", false).expect("resolves"),
            root.path().join("etc")
        );
    }
}
