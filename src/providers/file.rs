//! Platform `file`: the config is a file named by `$KINDLING_CONFIG_FILE`.

use std::path::PathBuf;

use super::{Environment, Provider, ProviderError};

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
    fn fetch_config(&self) -> Result<Option<Vec<u8>>, ProviderError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ProviderError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
