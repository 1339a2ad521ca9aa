//! Where the config comes from. A provider returns the config's bytes (or nothing when the
//! platform has no user config) and never parses them.
//!
//! A new platform is one new module and one line in [`for_platform`].

mod file;
mod qemu;

use std::path::PathBuf;

pub use file::FileProvider;
pub use qemu::QemuProvider;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "platform {0:?} is not supported: use metal, qemu or file (or set kindling.config.url)"
    )]
    UnknownPlatform(String),
    #[error("reading the config from {path} failed: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("platform file needs $KINDLING_CONFIG_FILE (or $IGNITION_CONFIG_FILE) to name the config file")]
    NoConfigFile,
}

/// What a provider needs from its surroundings; tests point these at temporary directories.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Root of sysfs, normally `/sys` (fw_cfg lives below it).
    pub sysfs: PathBuf,
    /// `$KINDLING_CONFIG_FILE` or `$IGNITION_CONFIG_FILE`.
    pub config_file: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Self {
        let config_file = std::env::var_os("KINDLING_CONFIG_FILE")
            .or_else(|| std::env::var_os("IGNITION_CONFIG_FILE"))
            .map(PathBuf::from);
        Self {
            sysfs: std::env::var_os("KINDLING_SYSFS")
                .map_or_else(|| PathBuf::from("/sys"), PathBuf::from),
            config_file,
        }
    }
}

/// A source of the user config on one platform.
pub trait Provider: std::fmt::Debug {
    /// The config bytes, or `None` when the platform supplies no config. Only local sources:
    /// this runs before the network is up.
    fn fetch_config(&self) -> Result<Option<Vec<u8>>, ProviderError>;

    /// Where the config came from, for the report.
    fn describe(&self) -> String;
}

/// The provider for a `kindling.platform.id` value.
pub fn for_platform(id: &str, env: &Environment) -> Result<Box<dyn Provider>, ProviderError> {
    match id {
        "file" => Ok(Box::new(FileProvider::try_new(env)?)),
        "qemu" => Ok(Box::new(QemuProvider::new(env))),
        // metal: the config only ever comes from kindling.config.url.
        "metal" => Ok(Box::new(NoConfig("metal"))),
        other => Err(ProviderError::UnknownPlatform(other.to_owned())),
    }
}

/// Platforms whose only config source is the kernel command line.
#[derive(Debug)]
struct NoConfig(&'static str);

impl Provider for NoConfig {
    fn fetch_config(&self) -> Result<Option<Vec<u8>>, ProviderError> {
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("platform {} (no provider config)", self.0)
    }
}
