//! What can go wrong with storage: a config entry, a device, a command; shared by the disks,
//! mount and kargs stages.

use std::path::Path;

use super::runtime::RuntimeError;
use crate::command::CommandError;
use crate::pipeline::render::ChainError;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A problem with the config entry at a JSON path.
    #[error("{at}: {problem}")]
    At { at: String, problem: String },
    #[error("{device}: {problem}")]
    Device { device: String, problem: String },
    /// The command's description names the device; the error carries its command line and stderr.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A failure after an earlier attempt of the stage was interrupted: what that attempt
    /// left on the disks may be what stops this one.
    #[error("attempt {attempt} of the {stage} stage failed; before it, {earlier}, and what that attempt left behind (a partition table, a half-made filesystem or array) may be what is refused: check the devices named below, then let the config wipe them (wipeTable, wipePartitionEntry, wipeFilesystem) or restore the disks, and boot again")]
    AfterUnfinished {
        stage: &'static str,
        attempt: u32,
        earlier: crate::attempt::Interrupted,
        #[source]
        source: Box<DiskError>,
    },
}

impl DiskError {
    pub fn at(at: &str, problem: String) -> Self {
        DiskError::At {
            at: at.to_owned(),
            problem,
        }
    }

    pub fn device(dev: &Path, problem: String) -> Self {
        DiskError::Device {
            device: dev.display().to_string(),
            problem,
        }
    }

    pub fn command(_dev: &Path, source: CommandError) -> Self {
        DiskError::Command(source)
    }
}
