//! Platform `gcp`: the instance attribute `user-data` from the GCE metadata server, which
//! answers only requests that carry `Metadata-Flavor: Google`.

use super::metadata::{found, MetadataService};
use super::{Acquired, Provider, ProviderContext, ProviderError};

const URL: &str = "http://169.254.169.254/computeMetadata/v1/instance/attributes/user-data";
pub const FLAVOR: (&str, &str) = ("Metadata-Flavor", "Google");

#[derive(Debug)]
pub struct GcpProvider;

impl Provider for GcpProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, "gcp");
        let url = service.url(URL);
        if let Some(offline) = service.offline(&url) {
            return Ok(offline);
        }
        Ok(found(service.userdata(&url, &[FLAVOR], &[])?))
    }

    fn describe(&self) -> String {
        "the GCE metadata server (instance attribute user-data)".to_owned()
    }
}
