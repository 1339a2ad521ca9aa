//! Step 1 of the pipeline, acquire: where the config comes from. A provider returns the
//! config's bytes, "no config", or "needs the network"; it never parses them.
//!
//! A new platform is one new module and one line in [`for_platform`].

mod file;
pub mod metadata;
mod qemu;
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
    #[error(transparent)]
    Cmdline(#[from] crate::cmdline::CmdlineError),
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
            metadata_url: std::env::var("KINDLING_TEST_METADATA_URL")
                .ok()
                .filter(|u| !u.is_empty()),
        }
    }

    /// A metadata service URL, pointed at the test stand-in when one is set.
    pub fn metadata_url(&self, production: &str) -> String {
        let Some(base) = &self.metadata_url else {
            return production.to_owned();
        };
        let Ok(url) = reqwest::Url::parse(production) else {
            return production.to_owned();
        };
        let mut out = base.trim_end_matches('/').to_owned();
        out.push_str(url.path());
        if let Some(q) = url.query() {
            out.push('?');
            out.push_str(q);
        }
        out
    }
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
        Some(url) => Ok(Box::new(UrlProvider::new(url, cmdline.config_sig()?))),
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
        other => Err(ProviderError::UnknownPlatform(other.to_owned())),
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
