//! Where LUKS keys wait between the disks and files stages: the run directory's luks-keys/
//! (0700), shared by plain LUKS volumes and clevis bindings.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::DiskError;

/// The run dir's key directory (0700), created when missing.
pub fn key_dir(run_dir: &Path) -> Result<PathBuf, DiskError> {
    let dir = crate::rundir::luks_keys(run_dir);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .and_then(|()| fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)))
        .map_err(|e| DiskError::device(&dir, format!("cannot create it: {e}")))?;
    Ok(dir)
}
