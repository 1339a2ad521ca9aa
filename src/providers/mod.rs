//! Step 1 of the pipeline, acquire: where the config comes from. A provider returns the
//! config's bytes, "no config", or "needs the network"; it never parses them.
//!
//! A new platform is one new module and one line in [`for_platform`].

mod akamai;
mod aws;
mod file;
mod gcp;
pub mod metadata;
mod qemu;
mod scaleway;
mod simple;
mod url;

use std::path::PathBuf;
use std::time::Duration;

pub use file::FileProvider;
pub use qemu::QemuProvider;
pub use url::UrlProvider;

use crate::cmdline::Cmdline;
use crate::fetch::FetchError;
use crate::pipeline::render::Network;
use crate::verify::policy::Policy;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "platform {0:?} is not supported: use metal, qemu or file (or set kindling.config.url)"
    )]
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
    #[error("the config from {source_name} is {size} bytes, larger than the limit of {limit} bytes (raise maxConfigBytes in the trust policy if it is meant to be this big)")]
    TooLarge {
        source_name: String,
        size: u64,
        limit: u64,
    },
}

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
        }
    }

    /// A metadata service URL, pointed at the test stand-in when one is set.
    pub fn metadata_url(&self, production: &str) -> String {
        crate::fetch::cloud::standin_url(self.metadata_url.as_deref(), production)
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

/// The provider for this boot: a config URL on the command line wins over the platform's own
/// source, as it always has for Kindling (Ignition reads it on metal only).
pub fn for_boot(
    platform: &str,
    cmdline: &Cmdline,
    env: &Environment,
) -> Result<Box<dyn Provider>, ProviderError> {
    match cmdline.value("config.url").filter(|u| !u.is_empty()) {
        Some(url) => Ok(Box::new(UrlProvider::new(url, cmdline.value("config.sig")))),
        None => for_platform(platform, env),
    }
}

/// The provider for a `kindling.platform.id` value.
pub fn for_platform(id: &str, env: &Environment) -> Result<Box<dyn Provider>, ProviderError> {
    match id {
        "file" => Ok(Box::new(FileProvider::try_new(env)?)),
        "qemu" => Ok(Box::new(QemuProvider::new(env))),
        // metal: the config only ever comes from kindling.config.url.
        "metal" => Ok(Box::new(NoConfig("metal"))),
        "aws" => Ok(Box::new(aws::AwsProvider)),
        "gcp" => Ok(Box::new(gcp::GcpProvider)),
        "akamai" => Ok(Box::new(akamai::AkamaiProvider)),
        "scaleway" => Ok(Box::new(scaleway::ScalewayProvider)),
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

/// Reads a local file that may be absent: absent is "no config".
fn read_optional(path: &std::path::Path) -> Result<Acquired, ProviderError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Acquired::Config {
            bytes,
            detached_signature: None,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Acquired::NoConfig),
        Err(source) => Err(ProviderError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}
