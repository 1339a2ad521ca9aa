//! Step 1 of the pipeline, acquire: where the config comes from. A provider returns the
//! config's bytes, "no config", or "needs the network"; it never parses them.
//!
//! A new platform is one new module and one line in [`for_platform`].

mod akamai;
mod applehv;
mod aws;
mod azure;
mod cloudstack;
mod device;
pub(crate) mod drive;
mod file;
mod gcp;
mod host;
mod hyperv;
mod ibmcloud;
mod kubevirt;
pub mod metadata;
mod nutanix;
mod nvidiabluefield;
mod openstack;
mod proxmoxve;
mod qemu;
mod race;
mod raw_http;
mod scaleway;
mod simple;
pub mod system;
mod url;
mod virtualbox;
mod vmware;
mod zvm;

use std::path::PathBuf;
use std::time::Duration;

pub use device::DeviceProvider;
pub use file::FileProvider;
pub use qemu::QemuProvider;
pub use url::UrlProvider;

use crate::cmdline::Cmdline;
use crate::fetch::FetchError;
use crate::pipeline::render::Network;
use crate::verify::policy::Policy;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("platform {0:?} is unknown: kindling.platform.id takes one of the ids Ignition 2.26 knows: {known} (or set kindling.config.url)", known = PLATFORMS.join(", "))]
    UnknownPlatform(String),
    #[error("reading the config from {path} failed: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("platform file needs $KINDLING_CONFIG_FILE (or $IGNITION_CONFIG_FILE) to name the config file")]
    NoConfigFile,
    /// A fetch from a URL (the karg URL, a metadata service) failed; `what` says which.
    #[error("fetching {what} failed: {source}")]
    Fetch { what: String, source: FetchError },
    #[error(transparent)]
    Drive(Box<drive::DriveError>),
    /// Every source of a platform that asks several at once failed.
    #[error("no source of the {platform} config answered:\n{failures}")]
    NoSource { platform: String, failures: String },
    #[error("the config from {source_name} is {}larger than the limit of {limit} bytes (raise maxConfigBytes in the trust policy if it is meant to be this big)", size.map(|s| format!("{s} bytes, ")).unwrap_or_default())]
    TooLarge {
        source_name: String,
        /// Unknown for a device or a FIFO, which is not read past the limit.
        size: Option<u64>,
        limit: u64,
    },
    /// A guest interface (a hypervisor tool, a device) could not give the config.
    #[error("platform {platform}: {reason}")]
    Host {
        platform: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Cmdline(#[from] crate::cmdline::CmdlineError),
    #[error(transparent)]
    DeviceArg(#[from] device::DeviceArgError),
}

/// Every `ignition.platform.id` Ignition 2.26 knows, which Kindling takes under the same names.
pub const PLATFORMS: &[&str] = &[
    "akamai",
    "aliyun",
    "applehv",
    "aws",
    "azure",
    "azurestack",
    "brightbox",
    "cloudstack",
    "digitalocean",
    "exoscale",
    "file",
    "gcp",
    "hetzner",
    "hyperv",
    "ibmcloud",
    "kubevirt",
    "metal",
    "nutanix",
    "nvidiabluefield",
    "openstack",
    "oraclecloud",
    "packet",
    "powervs",
    "proxmoxve",
    "qemu",
    "scaleway",
    "upcloud",
    "virtualbox",
    "vmware",
    "vultr",
    "zvm",
];

/// What a provider found.
#[derive(Debug, PartialEq, Eq)]
pub enum Acquired {
    /// The config as delivered, and a detached signature when the source has one.
    Config {
        bytes: Vec<u8>,
        detached_signature: Option<Vec<u8>>,
    },
    /// The platform supplies no user config; base configs alone are applied.
    NoConfig,
    /// Only reachable over the network: fetch-offline hands over to the fetch stage.
    NeedsNetwork { what: String },
}

/// What a provider needs from its surroundings; tests point these at temporary directories
/// and stand-in servers.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Root of sysfs, normally `/sys` (fw_cfg lives below it).
    pub sysfs: PathBuf,
    /// `$KINDLING_CONFIG_FILE` or `$IGNITION_CONFIG_FILE`.
    pub config_file: Option<PathBuf>,
    /// Tests only (`$KINDLING_TEST_METADATA_URL`): where the metadata stand-in listens; it
    /// replaces the scheme, host and port of every metadata service URL.
    pub metadata_url: Option<String>,
    /// Where filesystems are linked by label, normally `/dev/disk/by-label`; tests set
    /// `$KINDLING_TEST_DISK_BY_LABEL` so that they never meet the host's real labels.
    pub by_label_dir: PathBuf,
    /// systemd-networkd's DHCP leases, normally `/run/systemd/netif/leases`; tests set
    /// `$KINDLING_TEST_NETIF_LEASES`.
    pub leases_dir: PathBuf,
    /// Tests only (`$KINDLING_TEST_HV_KVP`): a stand-in for the Hyper-V KVP device
    /// `/dev/vmbus/hv_kvp`.
    pub hv_kvp: Option<PathBuf>,
    /// Tests only (`$KINDLING_TEST_HV_POOL_DIR`): where the KVP pool files go with a stand-in
    /// device (none: not kept).
    pub hv_pool_dir: Option<PathBuf>,
    /// Tests only (`$KINDLING_TEST_APPLEHV_ADDR`): a Unix socket path or `host:port` that
    /// replaces the vsock connection to the Apple Virtualization host.
    pub applehv_addr: Option<String>,
    /// Tests only (`$KINDLING_TEST_S3_ENDPOINT`): the S3 stand-in, addressed path-style.
    pub s3_endpoint: Option<String>,
    /// Tests only (`$KINDLING_TEST_GCS_ENDPOINT`): the GCS stand-in.
    pub gcs_endpoint: Option<String>,
}

impl Environment {
    pub fn from_process() -> Self {
        let config_file = std::env::var_os("KINDLING_CONFIG_FILE")
            .or_else(|| std::env::var_os("IGNITION_CONFIG_FILE"))
            .map(PathBuf::from);
        Self {
            sysfs: std::env::var_os("KINDLING_SYSFS")
                .map_or_else(|| PathBuf::from("/sys"), PathBuf::from),
            config_file,
            metadata_url: test_seam("KINDLING_TEST_METADATA_URL"),
            s3_endpoint: test_seam("KINDLING_TEST_S3_ENDPOINT"),
            gcs_endpoint: test_seam("KINDLING_TEST_GCS_ENDPOINT"),
            by_label_dir: std::env::var_os("KINDLING_TEST_DISK_BY_LABEL")
                .map_or_else(|| PathBuf::from(drive::BY_LABEL_DIR), PathBuf::from),
            leases_dir: std::env::var_os("KINDLING_TEST_NETIF_LEASES")
                .map_or_else(|| PathBuf::from(cloudstack::LEASES_DIR), PathBuf::from),
            hv_kvp: std::env::var_os("KINDLING_TEST_HV_KVP")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            hv_pool_dir: std::env::var_os("KINDLING_TEST_HV_POOL_DIR")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            applehv_addr: test_seam("KINDLING_TEST_APPLEHV_ADDR"),
        }
    }

    /// [`Environment::by_label_dir`], the real one when unset.
    pub fn by_label_dir(&self) -> PathBuf {
        or_default(&self.by_label_dir, drive::BY_LABEL_DIR)
    }

    /// [`Environment::leases_dir`], the real one when unset.
    pub fn leases_dir(&self) -> PathBuf {
        or_default(&self.leases_dir, cloudstack::LEASES_DIR)
    }

    /// [`Environment::sysfs`], the real one when unset.
    pub fn sysfs(&self) -> PathBuf {
        or_default(&self.sysfs, "/sys")
    }

    /// Whether sysfs is the real one (not a test's stand-in).
    pub fn real_sysfs(&self) -> bool {
        host::is_real_sysfs(&self.sysfs())
    }

    /// A metadata service URL, pointed at the test stand-in when one is set.
    pub fn metadata_url(&self, production: &str) -> String {
        crate::fetch::cloud::standin_url(self.metadata_url.as_deref(), production)
    }
}

fn or_default(path: &std::path::Path, default: &str) -> PathBuf {
    if path.as_os_str().is_empty() {
        PathBuf::from(default)
    } else {
        path.to_owned()
    }
}

/// A stand-in's address that only tests set; empty is unset.
fn test_seam(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|u| !u.is_empty())
}

/// What every provider may consult while acquiring.
#[derive(Debug)]
pub struct ProviderContext<'a> {
    /// Offline in fetch-offline: a provider that needs the network says so instead of trying.
    pub network: Network,
    pub env: &'a Environment,
    pub cmdline: &'a Cmdline,
    pub policy: &'a Policy,
    /// The most config bytes to accept.
    pub limit: u64,
    /// The overall budget for getting the config, retries included.
    pub timeout: Duration,
    /// For a config at an s3:// or gs:// URL: where credentials come from on this platform.
    pub cloud: crate::fetch::cloud::Cloud,
}

/// A source of the user config on one platform.
pub trait Provider: std::fmt::Debug {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError>;

    /// Where the config came from, for the report (never with credentials in it).
    fn describe(&self) -> String;
}

/// The provider for this boot, in Ignition's order: the command line (a config URL, or else a
/// labelled device and a path on it), then a system `user.ign`, then (on a Flatcar boot) the
/// OEM partition's `config.ign`, then the platform's own source.
pub fn for_boot(
    platform: &str,
    cmdline: &Cmdline,
    env: &Environment,
    config_dirs: &[PathBuf],
) -> Result<Box<dyn Provider>, ProviderError> {
    if let Some(url) = cmdline.value("config.url").filter(|u| !u.is_empty()) {
        if DeviceProvider::named(cmdline) {
            log::warn!("kindling.config.url takes precedence: kindling.config.device and kindling.config.path are ignored");
        }
        return Ok(Box::new(UrlProvider::new(url, cmdline.config_sig()?)));
    }
    if let Some(device) = DeviceProvider::from_cmdline(cmdline)? {
        return Ok(Box::new(device));
    }
    if let Some(system) = system::SystemProvider::find(config_dirs) {
        log::info!(
            "{} preempts the {platform} platform's config",
            system.path().display()
        );
        return Ok(Box::new(system));
    }
    let platform_provider = for_platform(platform, env)?;
    if crate::flatcar::is_flatcar_boot(cmdline) {
        // Flatcar's initramfs copies the OEM partition's config.ign to its system user.ign.
        return Ok(Box::new(crate::flatcar::OemUserConfig::new(
            platform_provider,
        )));
    }
    Ok(platform_provider)
}

/// The provider for a `kindling.platform.id` value.
pub fn for_platform(id: &str, env: &Environment) -> Result<Box<dyn Provider>, ProviderError> {
    match id {
        "file" => Ok(Box::new(FileProvider::try_new(env)?)),
        "qemu" => Ok(Box::new(QemuProvider::new(env))),
        // metal: the config only ever comes from the command line (a URL or a labelled device).
        "metal" => Ok(Box::new(NoConfig("metal"))),
        "aws" => Ok(Box::new(aws::AwsProvider)),
        "gcp" => Ok(Box::new(gcp::GcpProvider)),
        "akamai" => Ok(Box::new(akamai::AkamaiProvider)),
        "scaleway" => Ok(Box::new(scaleway::ScalewayProvider)),
        "openstack" | "brightbox" => Ok(Box::new(openstack::OpenstackProvider::new(id))),
        "cloudstack" => Ok(Box::new(cloudstack::CloudstackProvider)),
        "nutanix" | "powervs" => Ok(Box::new(nutanix::ConfigTwoProvider::new(id))),
        "kubevirt" => Ok(Box::new(kubevirt::KubevirtProvider)),
        "ibmcloud" => Ok(Box::new(ibmcloud::IbmcloudProvider)),
        "proxmoxve" => Ok(Box::new(proxmoxve::ProxmoxveProvider)),
        "azure" => Ok(Box::new(azure::AzureProvider::azure())),
        "azurestack" => Ok(Box::new(azure::AzureProvider::azurestack())),
        "vmware" => Ok(Box::new(vmware::VmwareProvider)),
        "virtualbox" => Ok(Box::new(virtualbox::VirtualBoxProvider)),
        "hyperv" => Ok(Box::new(hyperv::HypervProvider::new(env))),
        "applehv" => Ok(Box::new(applehv::AppleHvProvider::new(env))),
        "zvm" => Ok(Box::new(zvm::ZvmProvider)),
        "nvidiabluefield" => Ok(Box::new(nvidiabluefield::BlueFieldProvider::new(env))),
        other => match simple::service(other) {
            Some(service) => Ok(Box::new(service)),
            None => Err(ProviderError::UnknownPlatform(other.to_owned())),
        },
    }
}

/// Platforms whose only config source is the kernel command line.
#[derive(Debug)]
struct NoConfig(&'static str);

impl Provider for NoConfig {
    fn acquire(&self, _: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        Ok(Acquired::NoConfig)
    }

    fn describe(&self) -> String {
        format!("platform {} (no provider config)", self.0)
    }
}

/// Reads a local file that may be absent: absent is "no config". At most `limit` bytes are
/// taken in: a larger file is refused without reading it all into memory.
fn read_optional(path: &std::path::Path, limit: u64) -> Result<Acquired, ProviderError> {
    match read_limited(path, limit) {
        Ok(bytes) => Ok(Acquired::Config {
            bytes,
            detached_signature: None,
        }),
        Err(ProviderError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Acquired::NoConfig)
        }
        Err(e) => Err(e),
    }
}

/// The bytes of a local config source, at most `limit`: a larger one is refused without
/// being read whole.
fn read_limited(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, ProviderError> {
    match crate::bounded::read(path, limit) {
        Ok(crate::bounded::Bounded::Whole(bytes)) => Ok(bytes),
        Ok(crate::bounded::Bounded::Cut { .. }) => Err(ProviderError::TooLarge {
            source_name: path.display().to_string(),
            size: std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            limit,
        }),
        Err(source) => Err(ProviderError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_ignition_knows_has_a_provider_and_no_other_does() {
        let env = Environment {
            config_file: Some(PathBuf::from("/nonexistent/config.ign")),
            ..Environment::default()
        };
        for id in PLATFORMS {
            assert!(for_platform(id, &env).is_ok(), "{id} has no provider");
        }
        let err = for_platform("equinix", &env).expect_err("not an Ignition id");
        assert!(err.to_string().contains("\"equinix\" is unknown"), "{err}");
    }
}
