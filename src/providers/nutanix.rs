//! Platforms `nutanix` and `powervs`: an OpenStack-style config drive labelled `config-2`
//! (lower case only), read in fetch-offline as in Ignition.
//!
//! Ignition waits for the drive forever; Kindling waits for the config budget
//! (`--config-timeout`) and then fails, naming the label it waited for.

use super::drive::{self, Mounted};
use super::metadata::found;
use super::openstack::DRIVE_FILE;
use super::{Acquired, Provider, ProviderContext, ProviderError};

const LABEL: &str = "config-2";

#[derive(Debug)]
pub struct ConfigTwoProvider {
    platform: &'static str,
}

impl ConfigTwoProvider {
    pub fn new(id: &str) -> Self {
        Self {
            platform: if id == "powervs" {
                "powervs"
            } else {
                "nutanix"
            },
        }
    }
}

impl Provider for ConfigTwoProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let by_label = cx.env.by_label_dir();
        let wait = drive::wait_limit(None, cx.timeout);
        let device = drive::await_label(&by_label, LABEL, wait, &drive::labelled(LABEL))?;
        let mounted = Mounted::mount(&device, &drive::labelled(LABEL), None)?;
        Ok(found(mounted.read(DRIVE_FILE, cx.limit)?))
    }

    fn describe(&self) -> String {
        format!("the {} config drive (config-2)", self.platform)
    }
}
