//! What 30kindling puts into an initramfs, read from the images without booting them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kindling_qemu_tests::{find_tool, setup};

/// The kernel modules in an image, by file name without `.ko` and compression suffix.
fn modules(image: &Path) -> BTreeSet<String> {
    let output = Command::new("sh")
        .arg("-c")
        .arg("zstd -dc \"$1\" | cpio -t --quiet")
        .arg("sh")
        .arg(image)
        .output()
        .expect("running zstd and cpio");
    assert!(
        output.status.success(),
        "listing {}: {}",
        image.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|path| {
            let name = path.rsplit('/').next()?;
            name.split_once(".ko").map(|(stem, _)| stem.to_owned())
        })
        .collect()
}

fn assert_has(modules: &BTreeSet<String>, wanted: &[&str], image: &str) {
    let missing: Vec<&&str> = wanted.iter().filter(|m| !modules.contains(**m)).collect();
    assert!(missing.is_empty(), "{image} lacks {missing:?}");
}

fn assert_lacks(modules: &BTreeSet<String>, unwanted: &[&str], image: &str) {
    let present: Vec<&&str> = unwanted.iter().filter(|m| modules.contains(**m)).collect();
    assert!(present.is_empty(), "{image} carries {present:?}");
}

const RAID: &[&str] = &["md-mod", "raid0", "raid1", "raid10", "raid456", "linear"];
const LUKS: &[&str] = &["dm-mod", "dm-crypt", "xts", "essiv", "algif_skcipher"];
/// What every image needs whatever the host has: fw_cfg, the config drives' filesystems and
/// CD-ROM, the Hyper-V KVP and vsock interfaces, the TPM's driver core.
const ALWAYS: &[&str] = &[
    "qemu_fw_cfg",
    "isofs",
    "udf",
    "vfat",
    "sr_mod",
    "hv_utils",
    "vsock",
    "vmw_vsock_virtio_transport",
    "tpm_tis_spi",
];

#[test]
fn storage_drivers_come_with_the_tools_that_use_them() {
    let Some(setup) = setup() else { return };
    for tool in ["mdadm", "cryptsetup"] {
        assert!(
            find_tool(tool).is_some(),
            "{tool} is missing on this host: run tools/install-deps.sh"
        );
    }
    let full = modules(&setup.initrd);
    assert_has(&full, RAID, "the image built with mdadm");
    assert_has(&full, LUKS, "the image built with cryptsetup");
    assert_has(&full, ALWAYS, "the image built with every tool");

    let bare = modules(&setup.initrd_without_tools("no-storage-tools", &["mdadm", "cryptsetup"]));
    assert_lacks(&bare, RAID, "the image built without mdadm");
    assert_lacks(&bare, LUKS, "the image built without cryptsetup");
    assert_has(&bare, ALWAYS, "the image built without the storage tools");
}
