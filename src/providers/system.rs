//! The system config: `user.ign` that the image (or something earlier in the boot) put in a
//! system config directory. It preempts the platform's config, as in Ignition; only
//! the command line (`kindling.config.url`, `kindling.config.device`) comes before it.
//!
//! Directories are searched in priority order, as Ignition's next release does: the runtime
//! directory, then the local one, then the vendor one; at each level Kindling's name first and
//! Ignition's as an alias.

use std::path::{Path, PathBuf};

use super::{read_optional, Acquired, Provider, ProviderContext, ProviderError};

pub const CONFIG_DIRS: &[&str] = &[
    "/run/kindling",
    "/run/ignition",
    "/etc/kindling",
    "/etc/ignition",
    "/usr/lib/kindling",
    "/usr/lib/ignition",
];

const USER_CONFIG: &str = "user.ign";

#[derive(Debug)]
pub struct SystemProvider {
    path: PathBuf,
}

impl SystemProvider {
    /// The provider for the first `user.ign` in `dirs`, if there is one.
    pub fn find(dirs: &[PathBuf]) -> Option<Self> {
        dirs.iter()
            .map(|d| d.join(USER_CONFIG))
            .find(|p| p.symlink_metadata().is_ok())
            .map(|path| Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Provider for SystemProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        read_optional(&self.path, cx.limit)
    }

    fn describe(&self) -> String {
        format!("the system config {}", self.path.display())
    }
}
