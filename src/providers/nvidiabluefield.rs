//! Platform `nvidiabluefield`: on an NVIDIA BlueField DPU the config is written into the
//! boot FIFO that the `mlxbf_bootctl` driver exposes in sysfs.

use std::path::PathBuf;

use super::host;
use super::{Acquired, Environment, Provider, ProviderContext, ProviderError};

const PLATFORM: &str = "nvidiabluefield";
const BOOTFIFO: &str = "bus/platform/devices/MLNXBF04:00/bootfifo";

#[derive(Debug)]
pub struct BlueFieldProvider {
    env: Environment,
    bootfifo: PathBuf,
}

impl BlueFieldProvider {
    pub fn new(env: &Environment) -> Self {
        Self {
            env: env.clone(),
            bootfifo: env.sysfs().join(BOOTFIFO),
        }
    }
}

impl Provider for BlueFieldProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        host::load_module(PLATFORM, &self.env, "mlxbf_bootctl", None)?;
        // A FIFO that is missing, unreadable or empty holds no config; the rest is padded
        // with NUL bytes.
        let bytes = match host::read_padded(&self.bootfifo, cx.limit) {
            Ok(bytes) => bytes,
            Err(e @ ProviderError::TooLarge { .. }) => return Err(e),
            Err(e) => {
                log::info!("no config in {}: {e}", self.bootfifo.display());
                Vec::new()
            }
        };
        if bytes.is_empty() {
            return Ok(Acquired::NoConfig);
        }
        Ok(Acquired::Config {
            bytes,
            detached_signature: None,
        })
    }

    fn describe(&self) -> String {
        format!("the BlueField boot FIFO {}", self.bootfifo.display())
    }
}
