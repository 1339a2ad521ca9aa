//! The provisioning stages, run one per process in the order the dracut units give them:
//! fetch-offline, fetch, kargs, disks, mount, files, umount.

pub mod disk_error;
pub mod disks;
pub mod fetch;
pub mod files;
pub mod kargs;
pub mod mount;
mod mounts;
pub mod plan;
pub mod runtime;

use std::path::PathBuf;

use crate::cmdline::Cmdline;
use crate::providers::Environment;

/// Everything a stage needs to know about where it runs.
#[derive(Debug, Clone)]
pub struct StageContext {
    /// The target root (normally /sysroot).
    pub root: PathBuf,
    /// Where config.json, state.json and neednet live (normally /run/kindling).
    pub run_dir: PathBuf,
    /// Policy and certificates (normally /etc/kindling).
    pub trust_dir: PathBuf,
    /// When set, the only directory of base configs (`--base-dir`); otherwise base.d/ and
    /// base.platform.d/<platform>/ in `config_dirs`.
    pub base_dir: Option<PathBuf>,
    /// System config directories, highest priority first (`/run`, `/etc`, `/usr/lib`, each
    /// under Kindling's name and then Ignition's).
    pub config_dirs: Vec<PathBuf>,
    pub cmdline: Cmdline,
    /// The platform id: the flag, else `kindling.platform.id`, else Flatcar's OEM id, else
    /// `metal` (see `crate::flatcar::resolve_platform`).
    pub platform: String,
    pub env: Environment,
    /// Overall limit on getting the root config and its references.
    pub config_timeout: std::time::Duration,
    /// The trust policy from `<trust-dir>/policy.json`.
    pub policy: crate::verify::policy::Policy,
}

impl StageContext {
    /// What the trust policy demands of every fetched resource.
    pub fn fetch_policy(&self) -> crate::fetch::FetchPolicy {
        crate::fetch::FetchPolicy::from_policy(&self.policy)
    }

    /// The base of every fetch in this stage: the trust policy, and where object store
    /// credentials come from on this platform.
    pub fn fetch_settings(&self) -> crate::fetch::FetchSettings {
        crate::fetch::FetchSettings {
            policy: self.fetch_policy(),
            cloud: crate::fetch::cloud::Cloud::for_platform(&self.platform, &self.env),
            ..crate::fetch::FetchSettings::default()
        }
    }
}
