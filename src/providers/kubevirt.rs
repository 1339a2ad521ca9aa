//! Platform `kubevirt`: a NoCloud drive (`cidata`, file `user-data`) or an OpenStack-style
//! one (`config-2`), whichever KubeVirt attached; both are looked for at once and the first
//! to answer without an error wins, as in Ignition. Read in fetch-offline.
//!
//! Ignition waits for a drive forever; Kindling waits for the config budget.

use super::openstack::DRIVE_FILE;
use super::race;
use super::{Acquired, Provider, ProviderContext, ProviderError};

#[derive(Debug)]
pub struct KubevirtProvider;

impl Provider for KubevirtProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        race::first_success(
            "kubevirt",
            vec![
                race::drive_contender(cx, "cidata", "user-data"),
                race::drive_contender(cx, "config-2", DRIVE_FILE),
            ],
        )
    }

    fn describe(&self) -> String {
        "the KubeVirt config drive (cidata or config-2)".to_owned()
    }
}
