//! The files stage's attempt marker, `/etc/.kindling-attempt.json` in the target root
//! (`crate::attempt`): written before anything else goes into the root, removed after the
//! result report. Because it lives in the root, the next boot finds it when a first boot
//! stopped part way, and the report of the attempt that finishes lists the interrupted ones.
//!
//! What a new attempt does about what an interrupted one left:
//! - nodes that already are as the config wants them are accepted (see `nodes`): a file the
//!   config creates without `overwrite` that holds exactly the new content, a directory, a
//!   link; users and groups that exist are changed with usermod and groupmod;
//! - appends cannot be told apart from what was there: once an attempt has begun to append
//!   (the marker says so), a later one refuses instead of appending twice.

use kindling_spec::types::Storage;
use nix::unistd::{self, UnlinkatFlags};

use super::root::{Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::FilesError;
use crate::attempt::Marker;

/// Where the marker lives in the target root.
pub const MARKER_PATH: &str = "/etc/.kindling-attempt.json";

#[derive(Debug)]
pub struct Attempt {
    pub marker: Marker,
    /// A result report was in the root and no marker: provisioning finished on this root
    /// before ("on DATE, boot ID"), and this is a first boot run again.
    pub provisioned: Option<String>,
    /// An append of this attempt is in place.
    landed: bool,
}

impl Attempt {
    /// Reads the marker an earlier attempt left, refuses when that attempt may have appended,
    /// and writes this attempt's marker, durably, before anything else is written.
    pub fn begin(root: &Root, storage: &Storage) -> Result<Self, FilesError> {
        let found = root.read(MARKER_PATH)?;
        let marker = Marker::after(found.as_deref());
        marker.warn("files", MARKER_PATH);
        if let Some(earlier) = marker.previous().filter(|p| p.appending) {
            let paths: Vec<&str> = storage
                .files
                .iter()
                .filter(|f| !f.append.is_empty())
                .map(|f| f.path.as_str())
                .collect();
            if !paths.is_empty() {
                return Err(FilesError::InterruptedAppend {
                    earlier: earlier.clone(),
                    paths: paths.join(", "),
                    marker: MARKER_PATH,
                });
            }
        }
        let provisioned = match (marker.previous(), root.read(crate::report::REPORT_PATH)?) {
            (None, Some(report)) => Some(provisioned_when(&report)),
            _ => None,
        };
        if let Some(when) = &provisioned {
            log::warn!(
                "files: provisioning already finished on this root ({when}, see {}); applying the config again",
                crate::report::REPORT_PATH
            );
        }
        let attempt = Self {
            marker,
            provisioned,
            landed: false,
        };
        attempt.write(root)?;
        Ok(attempt)
    }

    /// Called before the first append to a kept file: from now on a later attempt cannot
    /// append safely, and the marker says so before any append can land.
    pub fn before_append(&mut self, root: &Root) -> Result<(), FilesError> {
        if !self.marker.appending {
            self.marker.appending = true;
            self.write(root)?;
        }
        Ok(())
    }
}

/// "on DATE, boot ID" from a result report's bytes.
fn provisioned_when(report: &[u8]) -> String {
    let value = serde_json::from_slice::<serde_json::Value>(report).unwrap_or_default();
    let field = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_owned()
    };
    format!(
        "on {}, boot {}",
        field("provisioningDate"),
        field("provisioningBootId")
    )
}

impl Attempt {
    /// An append is in place.
    pub fn appended(&mut self) {
        self.landed = true;
    }

    /// This attempt stops on an error: the marker says so, and, since a failed write lands
    /// nothing, whether an append is in place. Best effort: the error that stops the stage
    /// matters more than this one.
    pub fn failed(&mut self, root: &Root) -> &Marker {
        self.marker.failed = true;
        self.marker.appending = self.landed;
        if let Err(e) = self.write(root) {
            log::warn!("files: could not mark the attempt as failed in {MARKER_PATH}: {e}");
        }
        &self.marker
    }

    /// Removes the marker: this attempt finished.
    pub fn finish(&self, root: &Root) -> Result<(), FilesError> {
        let leaf = root.leaf(MARKER_PATH, Missing::Fail)?;
        match unistd::unlinkat(&leaf.dir, leaf.name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(RootError::io("removing the attempt marker", MARKER_PATH, e).into()),
        }
    }

    fn write(&self, root: &Root) -> Result<(), FilesError> {
        let leaf = root.leaf(MARKER_PATH, Missing::Create(super::nodes::PARENT_MODE))?;
        let json = self.marker.to_json();
        write::atomic(
            &leaf,
            Attrs {
                owner: Some((0, 0)),
                mode: 0o600,
            },
            |out| out.write_all(&json),
        )
        .map_err(|e| match e {
            WriteError::Fill(source) => RootError::Io {
                op: "writing the attempt marker",
                path: MARKER_PATH.into(),
                source,
            },
            WriteError::Fs(e) => e,
        })?;
        // On disk before anything it guards: after a power cut, changes without a marker
        // would go unnoticed.
        root.sync();
        Ok(())
    }
}
