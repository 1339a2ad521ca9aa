//! Metal under QEMU (issue 14): no fw_cfg and no network source, only Ignition 2.27's
//! `ignition.config.device` and `ignition.config.path` on the command line, and a second disk
//! labelled KCONFIG that holds the config, as a USB stick would on a real machine.

use kindling_qemu_tests::vm::Vm;
use kindling_qemu_tests::{disk, fixture, run_dir, setup};

#[test]
fn metal_reads_its_config_from_a_labelled_device() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "metal-device");
    let root = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &root);
    let config = std::fs::read_to_string(fixture("proof.ign")).expect("proof.ign");
    let stick = disk::ext4_image(&dir, "KCONFIG", &[("provision/config.ign", &config)]);

    let boot = Vm::new(setup, "metal-device", &root)
        .arg("kindling.firstboot")
        .arg("ignition.platform.id=metal")
        .arg("ignition.config.device=KCONFIG")
        .arg("ignition.config.path=/provision/config.ign")
        .disk(&stick)
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("kindling-generator: first boot, platform metal");
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    // The device is found by its label, mounted read-only for the one file, and unmounted.
    boot.assert_contains("mounting the device labelled \"KCONFIG\"");
    boot.assert_contains("kindling-fetch.service - Kindling (fetch) was skipped");
    boot.assert_proof("message=written by Kindling");
    boot.assert_proof("\"source\": \"/provision/config.ign on the device labelled KCONFIG\"");
    boot.assert_proof("user=uid=1000(core) gid=1000(core) groups=1000(core),1500(kindlers)");
    boot.assert_proof("enabled=enabled");
    assert_eq!(
        disk::read_text(&root, "/etc/kindling-proof/message"),
        "written by Kindling\n"
    );
    // The stick is left as it was: mounted read-only, nothing written to it.
    assert_eq!(
        disk::read_text(&stick, "/provision/config.ign"),
        config,
        "the config device was changed"
    );
}
