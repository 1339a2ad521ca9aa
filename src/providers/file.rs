//! Platform `file`: the config is a file named by `$KINDLING_CONFIG_FILE`.

use std::path::PathBuf;

use super::{read_optional, Acquired, Environment, Provider, ProviderContext, ProviderError};

#[derive(Debug)]
pub struct FileProvider {
    path: PathBuf,
}

impl FileProvider {
    pub fn try_new(env: &Environment) -> Result<Self, ProviderError> {
        let path = env.config_file.clone().ok_or(ProviderError::NoConfigFile)?;
        Ok(Self { path })
    }
}

impl Provider for FileProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        // Absent (no fw_cfg entry, no qemu_fw_cfg module, no file): no config was given.
        read_optional(&self.path, cx.limit)
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
