//! Flatcar's boot conventions under QEMU (issue 14): a spec 2.x config via fw_cfg, with the
//! first-boot and OEM-id arguments Flatcar's GRUB sets instead of Kindling's, an OEM partition
//! (a second disk labelled OEM) whose base/base.ign goes under the config, and an EFI system
//! partition (a third disk labelled EFI-SYSTEM) whose first-boot flag goes once provisioned.

use kindling_qemu_tests::vm::Vm;
use kindling_qemu_tests::{disk, fixture, run_dir, setup};

/// Flatcar's OEM base config: one file, so the disk shows that it was applied.
const OEM_BASE: &str = r#"{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/flatcar-oem-base","mode":420,"contents":{"source":"data:,from%20the%20OEM%20partition%0A"}}]}}"#;

#[test]
fn a_2x_config_provisions_with_flatcar_first_boot_and_oem_id_qemu() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "flatcar-first-boot");
    let root = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &root);

    let oem = disk::ext4_image(&dir, "OEM", &[("base/base.ign", OEM_BASE)]);
    // (ext4 rather than vfat, so that debugfs can look at it afterwards; the script mounts
    // whatever the partition holds.)
    let esp = disk::ext4_image(
        &dir,
        "EFI-SYSTEM",
        &[
            ("flatcar/first_boot", ""),
            ("flatcar/grub/grub.cfg", "# grub\n"),
        ],
    );

    let boot = Vm::new(setup, "flatcar-first-boot", &root)
        .arg("flatcar.first_boot=detected")
        .arg("flatcar.oem.id=qemu")
        .disk(&oem)
        .disk(&esp)
        .fw_cfg(&fixture("proof-v2.ign"))
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("kindling-generator: first boot, platform qemu");
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    // The OEM partition (the second disk) was mounted read-only for config.ign (absent, so
    // fw_cfg gives the config) and for base/base.ign.
    boot.assert_contains("the OEM partition has no /config.ign");
    boot.assert_contains("adding Flatcar's OEM base config oem:///base/base.ign");
    boot.assert_proof("message=written by Kindling");
    boot.assert_proof("\"source\": \"QEMU fw_cfg opt/com.coreos/config\"");
    boot.assert_proof("link=/etc/kindling-proof/message");
    boot.assert_proof("user=uid=1000(core) gid=1000(core) groups=1000(core),1500(kindlers)");
    boot.assert_proof("group=kindlers:x:1500:core");
    boot.assert_proof("dropin=yes");
    boot.assert_proof("preset=enable proof.service;");
    boot.assert_proof("enabled=enabled");
    assert_eq!(
        disk::read_text(&root, "/etc/flatcar-oem-base"),
        "from the OEM partition\n",
        "the OEM partition's base config was not applied"
    );
    assert_eq!(
        disk::read_text(&root, "/etc/kindling-proof/message"),
        "written by Kindling\n"
    );
    // GRUB's flag is gone, so the next boot is an ordinary one.
    boot.assert_contains("kindling-flatcar-quench: removed Flatcar's first-boot flag");
    assert!(
        !disk::exists(&esp, "/flatcar/first_boot"),
        "flatcar/first_boot should be gone from the EFI system partition"
    );
    assert!(disk::exists(&esp, "/flatcar/grub/grub.cfg"));
}
