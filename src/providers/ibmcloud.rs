//! Platform `ibmcloud`: a NoCloud drive labelled `cidata`, file `user-data`, read in
//! fetch-offline. As in Ignition, a drive that has not appeared within 30 s means the
//! instance has no config.

use super::drive::Cidata;
use super::{Acquired, Provider, ProviderContext, ProviderError};

#[derive(Debug)]
pub struct IbmcloudProvider;

impl Provider for IbmcloudProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        Cidata {
            platform: "ibmcloud",
            files: &["user-data"],
            accept: |_| true,
            skip_unreadable: false,
        }
        .read(cx)
    }

    fn describe(&self) -> String {
        "the IBM Cloud config drive (cidata)".to_owned()
    }
}
