//! Platform `proxmoxve`: the NoCloud drive Proxmox VE makes (`cidata`), read in
//! fetch-offline. As in Ignition: `user-data`, else `vendor-data`, skipping a file that is
//! empty or starts with `#cloud-config` and a newline (cloud-init's, not ours); no drive
//! within 30 s, or no file that qualifies, means no config.

use super::drive::Cidata;
use super::{Acquired, Provider, ProviderContext, ProviderError};

const CLOUD_CONFIG: &[u8] = b"#cloud-config\n";

#[derive(Debug)]
pub struct ProxmoxveProvider;

impl Provider for ProxmoxveProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        Cidata {
            platform: "proxmoxve",
            files: &["user-data", "vendor-data"],
            accept: |bytes| !bytes.is_empty() && !bytes.starts_with(CLOUD_CONFIG),
            skip_unreadable: true,
        }
        .read(cx)
    }

    fn describe(&self) -> String {
        "the Proxmox VE config drive (cidata)".to_owned()
    }
}
