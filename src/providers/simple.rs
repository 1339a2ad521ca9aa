//! The platforms whose metadata service hands out user data with one GET: the URL, the
//! headers it insists on, the statuses worth retrying, what a 404 means and how the body is
//! encoded, one table row each, as Ignition 2.26 reads them.

use super::metadata::{found, MetadataService};
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::FetchError;

/// One platform's user-data endpoint.
#[derive(Debug)]
pub struct Service {
    pub platform: &'static str,
    pub url: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    /// Statuses retried besides 5xx.
    pub retry: &'static [u16],
    /// Whether a 404 is an error (the platform always has a user-data endpoint) rather than
    /// "no config".
    pub missing_is_error: bool,
    pub base64: bool,
    pub describe: &'static str,
}

pub const SERVICES: &[Service] = &[
    Service {
        platform: "aliyun",
        url: "http://100.100.100.200/latest/user-data",
        headers: &[],
        retry: &[],
        missing_is_error: false,
        base64: false,
        describe: "the Alibaba Cloud metadata service (user data)",
    },
    Service {
        platform: "digitalocean",
        url: "http://169.254.169.254/metadata/v1/user-data",
        headers: &[],
        retry: &[],
        missing_is_error: true,
        base64: false,
        describe: "the DigitalOcean metadata service (user data)",
    },
    Service {
        platform: "exoscale",
        url: "http://169.254.169.254/1.0/user-data",
        headers: &[],
        retry: &[],
        missing_is_error: false,
        base64: false,
        describe: "the Exoscale metadata service (user data)",
    },
    Service {
        platform: "hetzner",
        url: "http://169.254.169.254/hetzner/v1/userdata",
        headers: &[],
        retry: &[],
        missing_is_error: false,
        base64: false,
        describe: "the Hetzner Cloud metadata service (user data)",
    },
    Service {
        platform: "upcloud",
        url: "http://169.254.169.254/metadata/v1/user_data",
        headers: &[],
        retry: &[],
        missing_is_error: false,
        base64: false,
        describe: "the UpCloud metadata service (user data)",
    },
    Service {
        platform: "vultr",
        url: "http://169.254.169.254/user-data/user-data",
        headers: &[],
        retry: &[],
        missing_is_error: false,
        base64: false,
        describe: "the Vultr metadata service (user data)",
    },
    Service {
        platform: "oraclecloud",
        url: "http://169.254.169.254/opc/v2/instance/metadata/user_data",
        headers: &[("Authorization", "Bearer Oracle")],
        retry: &[429],
        missing_is_error: false,
        base64: true,
        describe: "the Oracle Cloud instance metadata service (user_data)",
    },
    Service {
        platform: "packet",
        url: "https://metadata.packet.net/userdata",
        // The service answers 406 to Ignition's own Accept header.
        headers: &[("Accept", "*/*")],
        retry: &[],
        missing_is_error: true,
        base64: false,
        describe: "the Equinix Metal metadata service (userdata)",
    },
];

/// The table row for a platform id.
pub fn service(platform: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.platform == platform)
}

impl Provider for &'static Service {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, self.platform);
        let url = service.url(self.url);
        if let Some(offline) = service.offline(&url) {
            return Ok(offline);
        }
        let body = service.userdata(&url, self.headers, self.retry)?;
        if body.is_none() && self.missing_is_error {
            return Err(service.status_error(&url, 404));
        }
        let body = match body {
            Some(b) if self.base64 => Some(decode_base64(&b).map_err(|reason| {
                service.error(
                    &url,
                    FetchError::Transport {
                        url: redact(&url),
                        reason,
                    },
                )
            })?),
            other => other,
        };
        Ok(found(body))
    }

    fn describe(&self) -> String {
        self.describe.to_owned()
    }
}

/// Standard base64; line breaks, which some services wrap their answer in, are ignored.
pub fn decode_base64(text: &[u8]) -> Result<Vec<u8>, String> {
    data_url::forgiving_base64::decode_to_vec(text).map_err(|_| {
        "the user data is not valid base64; the platform encodes it, so the value set for the instance is damaged".to_owned()
    })
}
