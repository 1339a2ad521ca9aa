//! Platform `qemu`: the config arrives through fw_cfg as `opt/com.coreos/config`
//! (`-fw_cfg name=opt/com.coreos/config,file=config.ign`).

use std::path::PathBuf;

use super::{read_optional, Acquired, Environment, Provider, ProviderContext, ProviderError};

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
    fn acquire(&self, _: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        // Absent (no fw_cfg entry, no qemu_fw_cfg module, no file): no config was given.
        read_optional(&self.raw)
    }

    fn describe(&self) -> String {
        "QEMU fw_cfg opt/com.coreos/config".to_owned()
    }
}
