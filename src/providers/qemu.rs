//! Platform `qemu`: the config arrives through fw_cfg as `opt/com.coreos/config`
//! (`-fw_cfg name=opt/com.coreos/config,file=config.ign`).

use std::path::PathBuf;

use super::{Environment, Provider, ProviderError};

#[derive(Debug)]
pub struct QemuProvider {
    raw: PathBuf,
}

impl QemuProvider {
    pub fn new(env: &Environment) -> Self {
        Self {
            raw: env
                .sysfs
                .join("firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw"),
        }
    }
}

impl Provider for QemuProvider {
    fn fetch_config(&self) -> Result<Option<Vec<u8>>, ProviderError> {
        match std::fs::read(&self.raw) {
            Ok(bytes) => Ok(Some(bytes)),
            // No fw_cfg entry (or no qemu_fw_cfg module): the VM was given no config.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ProviderError::Read {
                path: self.raw.clone(),
                source,
            }),
        }
    }

    fn describe(&self) -> String {
        "QEMU fw_cfg opt/com.coreos/config".to_owned()
    }
}
