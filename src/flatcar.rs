//! Flatcar's boot conventions: the kernel arguments its bootloader and initramfs set, read
//! the way Flatcar's bootengine reads them, so that a Flatcar boot entry works unchanged.
//!
//! - `flatcar.oem.id` / `coreos.oem.id` name the platform (the "OEM"). bootengine renames
//!   three of them for Ignition (`ec2` → `aws`, `gce` → `gcp`, `pxe` → `metal`) and passes
//!   every other one through as the platform id.
//! - `flatcar.first_boot` / `coreos.first_boot` (GRUB sets `detected` when it finds the
//!   first-boot flag file) are read by the dracut generator, not here; here they only mark a
//!   Flatcar boot, on which the OEM partition's `config.ign` and `base/base.ign` are read.
//! - `flatcar.config.url` / `coreos.config.url` are aliases in `crate::cmdline`.

use std::time::Duration;

use crate::cmdline::Cmdline;
use crate::fetch::oem::{self, OemSource};
use crate::providers::{Acquired, Provider, ProviderContext, ProviderError, PLATFORMS};

pub const FLATCAR_OEM_ID: &str = "flatcar.oem.id";
pub const COREOS_OEM_ID: &str = "coreos.oem.id";

/// The OEM ids that bootengine renames on their way to Ignition's platform id.
pub const RENAMED_OEM_IDS: &[(&str, &str)] = &[("ec2", "aws"), ("gce", "gcp"), ("pxe", "metal")];

/// The platform bootengine assumes when no OEM id is given (it picks `qemu` under KVM, which
/// Kindling does not guess: it stays with `metal`).
const DEFAULT_OEM_ID: &str = "metal";

#[derive(Debug, thiserror::Error)]
#[error("{arg}={id:?} names no platform Kindling knows: Flatcar's OEM ids ec2, gce and pxe stand for aws, gcp and metal, and any other OEM id must be one of the platform ids {known} (or set kindling.platform.id, which wins over the OEM id)", known = PLATFORMS.join(", "))]
pub struct UnknownOemId {
    pub arg: &'static str,
    pub id: String,
}

/// The OEM id on the command line and the argument that gave it, as bootengine picks it:
/// the last `flatcar.oem.id`, unless that is absent or the default (`metal`); then the last
/// `coreos.oem.id`, if any. A bare argument (no `=`) gives no id.
pub fn oem_id(cmdline: &Cmdline) -> Option<(&'static str, &str)> {
    let flatcar = cmdline.raw(FLATCAR_OEM_ID).flatten();
    if let Some(id) = flatcar.filter(|id| *id != DEFAULT_OEM_ID) {
        return Some((FLATCAR_OEM_ID, id));
    }
    match cmdline.raw(COREOS_OEM_ID).flatten() {
        Some(id) => Some((COREOS_OEM_ID, id)),
        None => flatcar.map(|id| (FLATCAR_OEM_ID, id)),
    }
}

/// The platform id an OEM id stands for.
pub fn platform_for_oem(arg: &'static str, id: &str) -> Result<String, UnknownOemId> {
    let platform = RENAMED_OEM_IDS
        .iter()
        .find(|(oem, _)| *oem == id)
        .map_or(id, |(_, platform)| platform);
    if PLATFORMS.contains(&platform) {
        Ok(platform.to_owned())
    } else {
        Err(UnknownOemId {
            arg,
            id: id.to_owned(),
        })
    }
}

/// This boot's platform id: `--platform`, else `kindling.platform.id` (or
/// `ignition.platform.id`), else the Flatcar OEM id, else `metal`.
///
/// The dracut generator passes an OEM id it cannot rename through as `--platform`, so that
/// this refuses it naming the argument it came from rather than as a plain unknown platform.
pub fn resolve_platform(flag: Option<&str>, cmdline: &Cmdline) -> Result<String, UnknownOemId> {
    let explicit = cmdline.value("platform.id");
    let oem = oem_id(cmdline);
    match (flag, explicit, oem) {
        (Some(flag), None, Some((arg, id))) if flag == id => platform_for_oem(arg, id),
        (Some(flag), _, _) => Ok(flag.to_owned()),
        (None, Some(explicit), _) => Ok(explicit.to_owned()),
        (None, None, Some((arg, id))) => platform_for_oem(arg, id),
        (None, None, None) => Ok(DEFAULT_OEM_ID.to_owned()),
    }
}

/// Flatcar's first-boot arguments.
pub const FIRST_BOOT_ARGS: &[&str] = &["flatcar.first_boot", "coreos.first_boot"];

/// Whether this is a Flatcar boot entry: it carries one of Flatcar's own arguments. Only then
/// are the OEM partition's configs looked for, as Flatcar's initramfs does on every boot.
pub fn is_flatcar_boot(cmdline: &Cmdline) -> bool {
    FIRST_BOOT_ARGS
        .iter()
        .chain(&[FLATCAR_OEM_ID, COREOS_OEM_ID])
        .any(|arg| cmdline.raw(arg).is_some())
}

/// The base config Flatcar's initramfs copies off the OEM partition into its base configs.
pub const OEM_BASE_CONFIG: &str = "base/base.ign";
/// The user config Flatcar's initramfs copies off the OEM partition as its system `user.ign`.
pub const OEM_USER_CONFIG: &str = "config.ign";

/// How long to wait for the OEM partition when looking for its configs: half the budget at
/// most, so that an image without one still gets its config from the platform in time.
pub fn oem_wait(budget: Duration) -> Duration {
    (budget / 2).min(oem::WAIT)
}

/// On a Flatcar boot: the OEM partition's `config.ign` when it has one, else the platform's
/// own source. It ranks as Flatcar ranks it, as the system `user.ign`: below a config URL on
/// the command line and a `user.ign` in the system config directories.
#[derive(Debug)]
pub struct OemUserConfig {
    pub platform: Box<dyn Provider>,
    /// Set when the config came from the OEM partition (for [`Provider::describe`]).
    pub used: std::sync::atomic::AtomicBool,
}

impl OemUserConfig {
    pub fn new(platform: Box<dyn Provider>) -> Self {
        Self {
            platform,
            used: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Provider for OemUserConfig {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let source = OemSource::from_process();
        let found = oem::read_optional(&source, OEM_USER_CONFIG, oem_wait(cx.timeout), cx.limit)
            .map_err(|source| ProviderError::Fetch {
                what: format!("Flatcar's OEM config oem:///{OEM_USER_CONFIG}"),
                source,
            })?;
        match found {
            Some(bytes) => {
                self.used.store(true, std::sync::atomic::Ordering::SeqCst);
                log::info!(
                    "the config comes from Flatcar's OEM partition (oem:///{OEM_USER_CONFIG})"
                );
                Ok(Acquired::Config {
                    bytes,
                    detached_signature: None,
                })
            }
            None => self.platform.acquire(cx),
        }
    }

    fn describe(&self) -> String {
        if self.used.load(std::sync::atomic::Ordering::SeqCst) {
            format!("oem:///{OEM_USER_CONFIG} (Flatcar's OEM partition)")
        } else {
            self.platform.describe()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(cmdline: &str) -> Result<String, UnknownOemId> {
        resolve_platform(None, &Cmdline::parse(cmdline))
    }

    #[test]
    fn oem_ids_map_to_platforms_as_bootengine_renames_them() {
        for (cmdline, want) in [
            ("flatcar.oem.id=ec2", "aws"),
            ("coreos.oem.id=gce", "gcp"),
            ("flatcar.oem.id=pxe", "metal"),
            ("flatcar.oem.id=qemu", "qemu"),
            ("flatcar.oem.id=azure", "azure"),
            ("flatcar.oem.id=digitalocean", "digitalocean"),
            ("flatcar.oem.id=packet", "packet"),
            ("flatcar.oem.id=vmware", "vmware"),
            ("", "metal"),
        ] {
            assert_eq!(platform(cmdline).expect(cmdline), want, "{cmdline}");
        }
    }

    #[test]
    fn flatcar_oem_id_wins_unless_it_is_the_default() {
        assert_eq!(
            platform("coreos.oem.id=ec2 flatcar.oem.id=gce").expect("ok"),
            "gcp"
        );
        // bootengine consults coreos.oem.id when flatcar.oem.id gives only the default.
        assert_eq!(
            platform("flatcar.oem.id=metal coreos.oem.id=ec2").expect("ok"),
            "aws"
        );
        assert_eq!(
            platform("flatcar.oem.id=ec2 flatcar.oem.id=qemu").expect("ok"),
            "qemu"
        );
        // A bare argument names nothing.
        assert_eq!(platform("flatcar.oem.id").expect("ok"), "metal");
    }

    #[test]
    fn kindling_and_ignition_platform_ids_win_over_oem_ids() {
        assert_eq!(
            platform("flatcar.oem.id=ec2 ignition.platform.id=qemu").expect("ok"),
            "qemu"
        );
        assert_eq!(
            platform("kindling.platform.id=file coreos.oem.id=gce").expect("ok"),
            "file"
        );
        let c = Cmdline::parse("flatcar.oem.id=ec2");
        assert_eq!(resolve_platform(Some("aws"), &c).expect("ok"), "aws");
        assert_eq!(resolve_platform(Some("file"), &c).expect("ok"), "file");
    }

    #[test]
    fn unknown_oem_ids_are_refused_with_the_argument_and_the_list() {
        for cmdline in [
            "flatcar.oem.id=cloudsigma",
            "coreos.oem.id=vmware_raw",
            "flatcar.oem.id=",
        ] {
            let err = platform(cmdline).expect_err(cmdline);
            let msg = err.to_string();
            let arg = cmdline.split('=').next().expect("arg");
            assert!(msg.starts_with(&format!("{arg}=")), "{msg}");
            assert!(msg.contains("ec2, gce and pxe"), "{msg}");
            assert!(msg.contains("akamai, aliyun"), "{msg}");
        }
        // Passed through by the generator as --platform: still refused under its own name.
        let c = Cmdline::parse("flatcar.oem.id=cloudsigma");
        let err = resolve_platform(Some("cloudsigma"), &c).expect_err("unknown");
        assert!(
            err.to_string().contains("flatcar.oem.id=\"cloudsigma\""),
            "{err}"
        );
    }
}
