//! `kindling.config.device=LABEL` with `kindling.config.path=PATH` (aliases
//! `ignition.config.device` and `ignition.config.path`, new in Ignition 2.27): the config is
//! the file PATH on the filesystem labelled LABEL, for machines without a network config
//! source (metal installs from a USB stick, a second disk in a lab).
//!
//! As in Ignition 2.27: both arguments are needed, `config.url` wins over them with a
//! warning, the label is one path component, the device has 30 s to appear, it is mounted
//! read-only with the type found by mount(8), and a missing file is an error (the operator
//! asked for that file). Unlike Ignition, the path and any link on the device are resolved
//! inside the device's filesystem, so a link there cannot make the engine read a file of the
//! initramfs, and the wait also ends with the config budget.

use std::time::Duration;

use super::drive::{self, DriveError, Mounted};
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::cmdline::Cmdline;

/// How long the device may take to appear, as in Ignition 2.27.
pub const DEVICE_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, PartialEq, Eq)]
pub struct DeviceProvider {
    label: String,
    path: String,
}

/// A `config.device`/`config.path` pair that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceArgError {
    #[error("{given} is on the kernel command line without {missing}: the config on a labelled device needs both; add {missing}={example}, or remove {given}")]
    Incomplete {
        given: &'static str,
        missing: &'static str,
        example: &'static str,
    },
    #[error("kindling.config.device={label:?} is not a filesystem label: it must be one name, without '/', and not '.' or '..' (the label as `blkid -s LABEL` shows it)")]
    BadLabel { label: String },
}

impl DeviceProvider {
    /// The provider the command line asks for, `Ok(None)` when it names no device. Empty
    /// values count as absent, as Ignition skips them.
    pub fn from_cmdline(cmdline: &Cmdline) -> Result<Option<Self>, DeviceArgError> {
        let value = |name| cmdline.value(name).filter(|v| !v.is_empty());
        match (value("config.device"), value("config.path")) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(DeviceArgError::Incomplete {
                given: "kindling.config.device",
                missing: "kindling.config.path",
                example: "/config.ign",
            }),
            (None, Some(_)) => Err(DeviceArgError::Incomplete {
                given: "kindling.config.path",
                missing: "kindling.config.device",
                example: "LABEL",
            }),
            (Some(label), Some(path)) => {
                if label.contains('/') || label == "." || label == ".." {
                    return Err(DeviceArgError::BadLabel {
                        label: label.to_owned(),
                    });
                }
                Ok(Some(Self {
                    label: label.to_owned(),
                    path: crate::root::clean(&format!("/{path}")),
                }))
            }
        }
    }

    /// Whether the command line names a device at all (to warn when `config.url` wins).
    pub fn named(cmdline: &Cmdline) -> bool {
        ["config.device", "config.path"]
            .iter()
            .any(|n| cmdline.value(n).is_some_and(|v| !v.is_empty()))
    }
}

impl Provider for DeviceProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let by_label = cx.env.by_label_dir();
        let wait = drive::wait_limit(Some(DEVICE_WAIT), cx.timeout);
        let what = format!("device labelled {:?}", self.label);
        let device = drive::await_label(&by_label, &self.label, wait, &what)?;
        let mounted = Mounted::mount(&device, &what, None)?;
        match mounted.read(&self.path, cx.limit)? {
            Some(bytes) => Ok(Acquired::Config {
                bytes,
                detached_signature: None,
            }),
            None => Err(DriveError::Missing {
                drive: what,
                device,
                file: self.path.clone(),
            }
            .into()),
        }
    }

    fn describe(&self) -> String {
        format!("{} on the device labelled {}", self.path, self.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Option<DeviceProvider>, DeviceArgError> {
        DeviceProvider::from_cmdline(&Cmdline::parse(args))
    }

    #[test]
    fn both_names_and_both_prefixes_are_read() {
        let want = DeviceProvider {
            label: "CONFIG".into(),
            path: "/ign/config.ign".into(),
        };
        for args in [
            "kindling.config.device=CONFIG kindling.config.path=ign/config.ign",
            "ignition.config.device=CONFIG ignition.config.path=/ign/config.ign",
            "ignition.config.device=OTHER kindling.config.device=CONFIG ignition.config.path=/ign/x/../config.ign",
        ] {
            assert_eq!(parse(args).unwrap().as_ref(), Some(&want), "{args}");
        }
    }

    #[test]
    fn the_path_never_climbs_out_of_the_device() {
        let p = parse("kindling.config.device=C kindling.config.path=../../etc/shadow")
            .unwrap()
            .unwrap();
        assert_eq!(p.path, "/etc/shadow");
    }

    #[test]
    fn nothing_named_is_no_provider_and_empty_values_count_as_absent() {
        assert_eq!(parse("root=/dev/vda"), Ok(None));
        assert_eq!(
            parse("kindling.config.device= kindling.config.path="),
            Ok(None)
        );
        assert!(!DeviceProvider::named(&Cmdline::parse(
            "kindling.config.device="
        )));
        assert!(DeviceProvider::named(&Cmdline::parse(
            "ignition.config.path=/x"
        )));
    }

    #[test]
    fn one_without_the_other_is_refused_naming_both() {
        let e = parse("ignition.config.device=CONFIG").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(
                "kindling.config.device is on the kernel command line without kindling.config.path"
            ),
            "{text}"
        );
        let e = parse("kindling.config.path=/c.ign").unwrap_err();
        assert!(
            e.to_string().contains("without kindling.config.device"),
            "{e}"
        );
    }

    #[test]
    fn a_label_must_be_one_name() {
        for label in ["../sda", "a/b", ".", ".."] {
            let e = parse(&format!(
                "kindling.config.device={label} kindling.config.path=/c.ign"
            ))
            .unwrap_err();
            assert_eq!(
                e,
                DeviceArgError::BadLabel {
                    label: label.into()
                }
            );
        }
    }
}
