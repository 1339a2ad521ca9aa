//! Platforms `azure` and `azurestack`.
//!
//! azure: the instance's user data from IMDS (base64), retrying 404, 410 and 429 as well as
//! 5xx within the config budget, as Ignition does; an empty answer sends it on to the OVF
//! provisioning CD-ROM. azurestack: the CD-ROM only, which works in fetch-offline.
//!
//! The CD-ROM is found by its filesystem type (`udf` on Azure; `udf` or `iso9660` on Azure
//! Stack) and must carry `ovf-env.xml`; the config is its `CustomData.bin`, raw. A CD-ROM
//! without that file is no config.
//!
//! Differences from Ignition: devices are listed from sysfs and probed with libblkid rather
//! than asked for by blkid tag, and there is no CD-ROM drive-status ioctl (that needs unsafe
//! code): a drive without a disc has size 0 in sysfs and is not probed, so it is passed over
//! just the same. Ignition looks for the CD-ROM forever; Kindling looks until the config budget is
//! spent, then fails naming the devices it tried.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use reqwest::Method;

use super::drive::{self, DriveError, Mounted};
use super::metadata::MetadataService;
use super::simple::decode_base64;
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::FetchError;

pub const IMDS_URL: &str =
    "http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text";
/// Statuses IMDS answers while the instance's data is not ready yet.
const RETRY: &[u16] = &[404, 410, 429];
const MARKER: &str = "ovf-env.xml";
const CUSTOM_DATA: &str = "CustomData.bin";

#[derive(Debug)]
pub struct AzureProvider {
    platform: &'static str,
    /// Whether IMDS is asked first (azure) or only the CD-ROM is read (azurestack).
    imds: bool,
    fstypes: &'static [&'static str],
}

impl AzureProvider {
    pub fn azure() -> Self {
        Self {
            platform: "azure",
            imds: true,
            fstypes: &["udf"],
        }
    }

    pub fn azurestack() -> Self {
        Self {
            platform: "azurestack",
            imds: false,
            fstypes: &["udf", "iso9660"],
        }
    }
}

impl Provider for AzureProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let started = Instant::now();
        if self.imds {
            let imds = MetadataService::new(cx, "azure");
            if let Some(offline) = imds.offline(IMDS_URL) {
                return Ok(offline);
            }
            let url = imds.url(IMDS_URL);
            let answer = imds.send(Method::GET, &url, &[("Metadata", "true")], None, RETRY)?;
            if !answer.is_success() {
                return Err(imds.status_error(&url, answer.status));
            }
            if !answer.body.is_empty() {
                let bytes = decode_base64(&answer.body).map_err(|reason| {
                    imds.error(
                        &url,
                        FetchError::Transport {
                            url: redact(&url),
                            reason,
                        },
                    )
                })?;
                return Ok(Acquired::Config {
                    bytes,
                    detached_signature: None,
                });
            }
            log::info!("azure: IMDS has no user data; looking for the OVF CD-ROM's CustomData");
        }
        let until = started + drive::wait_limit(None, cx.timeout);
        self.search_ovf_device(cx, until)
    }

    fn describe(&self) -> String {
        if self.imds {
            "the Azure instance metadata service (userData) or the OVF CD-ROM (CustomData)"
                .to_owned()
        } else {
            "the Azure Stack OVF CD-ROM (CustomData)".to_owned()
        }
    }
}

impl AzureProvider {
    /// Looks every second, until `until`, for a device with one of the filesystem types that
    /// carries `ovf-env.xml`; each device is tried once.
    fn search_ovf_device(
        &self,
        cx: &ProviderContext<'_>,
        until: Instant,
    ) -> Result<Acquired, ProviderError> {
        let sysfs = cx.env.sysfs();
        let drive = format!("{} OVF CD-ROM", self.platform);
        let mut checked: HashSet<PathBuf> = HashSet::new();
        let mut tried = Vec::new();
        let started = Instant::now();
        loop {
            for fstype in self.fstypes {
                for device in drive::block_devices(&sysfs) {
                    if checked.contains(&device)
                        || drive::fstype(&device).as_deref() != Some(*fstype)
                    {
                        continue;
                    }
                    checked.insert(device.clone());
                    let mounted = match Mounted::mount(&device, &drive, Some(fstype)) {
                        Ok(m) => m,
                        Err(e) => {
                            let e = drive::chain(&e);
                            log::warn!("{}: {e}", self.platform);
                            tried.push(format!("{} ({fstype}): {e}", device.display()));
                            continue;
                        }
                    };
                    if !mounted.has(MARKER) {
                        log::info!(
                            "{}: {} ({fstype}) has no {MARKER}: not the OVF CD-ROM",
                            self.platform,
                            device.display()
                        );
                        tried.push(format!("{} ({fstype}): no {MARKER}", device.display()));
                        continue;
                    }
                    return Ok(super::metadata::found(mounted.read(CUSTOM_DATA, cx.limit)?));
                }
            }
            let now = Instant::now();
            if now >= until {
                return Err(DriveError::NoDevice {
                    what: format!(
                        "{} OVF CD-ROM (a {} filesystem with {MARKER})",
                        self.platform,
                        self.fstypes.join(" or ")
                    ),
                    secs: started.elapsed().as_secs(),
                    tried,
                }
                .into());
            }
            std::thread::sleep(drive::POLL.min(until - now));
        }
    }
}
