//! Platforms `openstack` and `brightbox` (Brightbox runs OpenStack's interfaces): the config
//! drive, labelled `config-2` or `CONFIG-2`, and the metadata service, asked at once; the
//! first to answer without an error wins, as in Ignition.
//!
//! As in Ignition, fetch-offline does not look at the drive either: the fetch stage asks all
//! three sources once the network is up.

use super::metadata::{found, MetadataService};
use super::race::{self, Contender, OwnedContext};
use super::{Acquired, Provider, ProviderContext, ProviderError};

pub const USERDATA_URL: &str = "http://169.254.169.254/openstack/latest/user_data";
/// The user data on an OpenStack config drive.
pub const DRIVE_FILE: &str = "openstack/latest/user_data";

#[derive(Debug)]
pub struct OpenstackProvider {
    platform: &'static str,
}

impl OpenstackProvider {
    pub fn new(id: &str) -> Self {
        Self {
            platform: if id == "brightbox" {
                "brightbox"
            } else {
                "openstack"
            },
        }
    }
}

impl Provider for OpenstackProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, self.platform);
        if let Some(offline) = service.offline(USERDATA_URL) {
            return Ok(offline);
        }
        let owned = OwnedContext::new(cx);
        let platform = self.platform;
        let metadata = Contender {
            name: format!("the metadata service ({USERDATA_URL})"),
            must_finish: false,
            source: Box::new(move |_| {
                let cx = owned.context();
                let service = MetadataService::new(&cx, platform);
                let url = service.url(USERDATA_URL);
                Ok(found(service.userdata(&url, &[], &[])?))
            }),
        };
        race::first_success(
            self.platform,
            vec![
                race::drive_contender(cx, "config-2", DRIVE_FILE),
                race::drive_contender(cx, "CONFIG-2", DRIVE_FILE),
                metadata,
            ],
        )
    }

    fn describe(&self) -> String {
        format!(
            "the {} config drive (config-2) or metadata service",
            self.platform
        )
    }
}
