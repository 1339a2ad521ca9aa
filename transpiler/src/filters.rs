//! Variant restrictions on the output: Flatcar has no Clevis; RHEL for Edge and Fedora IoT
//! leave disks, filesystems, LUKS, RAID and kernel arguments to the image.

use kindling_spec::path::JsonPath;

use crate::tree::V;
use crate::variant::Variant;

/// Paths in the output that the variant forbids, with Butane's message for each.
pub fn forbidden(variant: Variant, out: &V) -> Vec<(JsonPath, &'static str)> {
    let mut found = Vec::new();
    let storage = out.get("storage");
    match variant {
        Variant::Flatcar => {
            for (i, luks) in storage
                .map_or(&[][..], |s| s.list_at("luks"))
                .iter()
                .enumerate()
            {
                if luks.get("clevis").is_some_and(|c| !c.is_empty_container()) {
                    found.push((
                        JsonPath::parse(&format!("$.storage.luks.{i}.clevis")),
                        "clevis is not supported in this spec version",
                    ));
                }
            }
        }
        Variant::R4e | Variant::Fiot => {
            if out
                .get("kernelArguments")
                .is_some_and(|k| !k.is_empty_container())
            {
                found.push((
                    JsonPath::parse("$.kernelArguments"),
                    "kernel argument customization is not supported in this spec version",
                ));
            }
            for (list, message) in [
                (
                    "disks",
                    "disk customization is not supported in this spec version",
                ),
                (
                    "filesystems",
                    "filesystem customization is not supported in this spec version",
                ),
                ("luks", "luks is not supported in this spec version"),
                ("raid", "raid is not supported in this spec version"),
            ] {
                if storage.is_some_and(|s| !s.list_at(list).is_empty()) {
                    found.push((JsonPath::root().key("storage").key(list), message));
                }
            }
        }
        Variant::Fcos => {}
    }
    found
}
