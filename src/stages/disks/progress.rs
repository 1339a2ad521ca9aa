//! The disks stage's attempt marker (`crate::attempt`), in the run directory: written before
//! any device is touched, kept up to date with the filesystems being made, removed when the
//! stage finishes. The threads that make filesystems share it.
//!
//! A filesystem whose mkfs was killed can carry its signature, label and UUID already
//! (mkfs.vfat writes its boot sector before the FATs): it looks like the filesystem the config
//! describes, but is not whole. So before mkfs runs, the device goes into the marker's
//! `making`, and out when mkfs has finished; a later attempt makes the filesystems still
//! listed again instead of keeping them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::DiskError;
use crate::attempt::Marker;

pub struct Progress {
    path: PathBuf,
    marker: Mutex<Marker>,
    /// What earlier attempts began to make and did not finish.
    half_made: Vec<String>,
}

impl Progress {
    /// Reads the marker an earlier attempt left and writes this attempt's.
    pub fn begin(run_dir: &Path) -> Result<Self, DiskError> {
        let path = crate::rundir::attempt(run_dir, "disks");
        let marker = Marker::after(std::fs::read(&path).ok().as_deref());
        marker.warn("disks", &path.display().to_string());
        let progress = Self {
            half_made: marker.making.clone(),
            marker: Mutex::new(marker),
            path,
        };
        std::fs::create_dir_all(progress.path.parent().unwrap_or(run_dir))
            .map_err(|e| progress.unwritable(&e))?;
        progress.write(&progress.lock())?;
        Ok(progress)
    }

    pub fn marker(&self) -> Marker {
        self.lock().clone()
    }

    /// Whether an earlier attempt began to make a filesystem on `device` and did not finish.
    pub fn half_made(&self, device: &str) -> bool {
        self.half_made.iter().any(|d| d == device)
    }

    /// Notes that mkfs starts (`true`) or has finished (`false`) on `device`.
    pub fn making(&self, device: &str, on: bool) -> Result<(), DiskError> {
        let mut marker = self.lock();
        marker.making.retain(|d| d != device);
        if on {
            marker.making.push(device.to_owned());
        }
        self.write(&marker)
    }

    /// The attempt stops on an error: the next one says it failed. Best effort.
    pub fn failed(&self) {
        let mut marker = self.lock();
        marker.failed = true;
        if let Err(e) = self.write(&marker) {
            log::warn!("disks: could not mark the attempt as failed: {e}");
        }
    }

    /// The attempt finished: the record for the report, then the marker goes.
    pub fn finish(&self, run_dir: &Path) {
        crate::report::record_attempt(run_dir, "disks", &self.lock().record());
        if let Err(e) = std::fs::remove_file(&self.path) {
            log::warn!(
                "disks: could not remove the attempt marker {}: {e}",
                self.path.display()
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Marker> {
        self.marker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self, marker: &Marker) -> Result<(), DiskError> {
        crate::atomic::write(&self.path, &marker.to_json(), 0o600).map_err(|e| self.unwritable(&e))
    }

    fn unwritable(&self, e: &std::io::Error) -> DiskError {
        DiskError::at(
            "disks",
            format!(
                "cannot write the attempt marker {}: {e}; is the run directory writable?",
                self.path.display()
            ),
        )
    }
}
