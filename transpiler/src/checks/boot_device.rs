//! Checks of the fcos `boot_device` section.

use crate::report::Diag;
use crate::tree::V;
use crate::variant::Dialect;

pub const ERR_LAYOUT_LEGACY: &str = "layout must be one of: aarch64, ppc64le, x86_64";
pub const ERR_LAYOUT: &str =
    "layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64";
pub const ERR_TOO_FEW_MIRROR_DEVICES: &str = "mirroring requires at least two devices";
pub const ERR_NO_LUKS_BOOT_DEVICE: &str = "device is required for layouts: s390x-eckd, s390x-zfcp";
pub const ERR_MIRROR_NOT_SUPPORTED: &str =
    "mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt";
pub const ERR_LUKS_BOOT_DEVICE_BAD_NAME: &str =
    "device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout";
pub const ERR_CEX_ARCHITECTURE: &str = "when using cex the targeted architecture must match s390x";
pub const ERR_CEX_WITH_CLEVIS: &str = "cex cannot be used together with clevis (tang or tpm2)";
pub const ERR_NO_LUKS_METHOD: &str = "no method specified for luks";

pub fn check(v: &V, dialect: Dialect, diag: &mut Diag) {
    let luks = v.get("luks");
    let luks_str = |k: &str| luks.and_then(|l| l.str_at(k)).filter(|s| !s.is_empty());
    let mirror_devices = v.get("mirror").map_or(0, |m| m.list_at("devices").len());
    if let Some(layout) = v.get("layout") {
        let name = layout.as_str().unwrap_or_default();
        if dialect.minor < 6 {
            if !matches!(name, "aarch64" | "ppc64le" | "x86_64") {
                diag.error(layout.origin, ERR_LAYOUT_LEGACY);
            }
        } else {
            match name {
                "aarch64" | "ppc64le" | "x86_64" | "s390x-virt" => {}
                "s390x-eckd" | "s390x-zfcp" => {
                    let prefix = if name == "s390x-eckd" {
                        "/dev/dasd"
                    } else {
                        "/dev/sd"
                    };
                    match luks_str("device") {
                        None => diag.error(layout.origin, ERR_NO_LUKS_BOOT_DEVICE),
                        Some(d) if !whole_disk(d, prefix) => {
                            diag.error(layout.origin, ERR_LUKS_BOOT_DEVICE_BAD_NAME)
                        }
                        Some(_) => {}
                    }
                }
                _ => diag.error(layout.origin, ERR_LAYOUT),
            }
            if name.starts_with("s390x") && mirror_devices > 0 {
                diag.error(layout.origin, ERR_MIRROR_NOT_SUPPORTED);
            }
        }
    }
    if let Some(luks) = luks {
        let cex = luks.get("cex").is_some_and(|c| c.is_true("enabled"));
        let clevis = luks.is_true("tpm2") || !luks.list_at("tang").is_empty();
        if cex {
            match v.get("layout") {
                None => diag.error(
                    luks.get("cex").map_or(luks.origin, |c| c.origin),
                    ERR_CEX_ARCHITECTURE,
                ),
                Some(l) if !l.as_str().unwrap_or_default().starts_with("s390x") => {
                    diag.error(l.origin, ERR_CEX_ARCHITECTURE)
                }
                Some(_) => {}
            }
            if clevis {
                diag.error(luks.origin, ERR_CEX_WITH_CLEVIS);
            }
        }
        if dialect.minor >= 7 && luks_str("device").is_some() && !cex && !clevis {
            diag.error(luks.origin, ERR_NO_LUKS_METHOD);
        }
    }
    if mirror_devices == 1 {
        if let Some(devices) = v.get("mirror").and_then(|m| m.get("devices")) {
            diag.error(devices.origin, ERR_TOO_FEW_MIRROR_DEVICES);
        }
    }
}

/// Butane's `(/dev/dasd[a-z]$)` and `(/dev/sd[a-z]$)`: the name ends in the prefix and one
/// lowercase letter.
fn whole_disk(device: &str, prefix: &str) -> bool {
    let b = device.as_bytes();
    b.len() > prefix.len()
        && b[b.len() - 1].is_ascii_lowercase()
        && device[..device.len() - 1].ends_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::whole_disk;

    #[test]
    fn whole_disk_names() {
        assert!(whole_disk("/dev/dasda", "/dev/dasd"));
        assert!(whole_disk("/dev/sdb", "/dev/sd"));
        assert!(!whole_disk("/dev/sdb1", "/dev/sd"));
        assert!(!whole_disk("/dev/vda", "/dev/sd"));
    }
}
