//! The whole chain under UEFI Secure Boot with our own keys (issue 8): OVMF (Secure Boot
//! build, our PK/KEK/db enrolled) boots a UKI signed with our db key; the UKI's signed
//! `.cmdline` pins the config's hash; Kindling in its signed initramfs refuses any other
//! config.
//! - i1. the signed UKI boots, Secure Boot is on, the pinned config provisions, and a
//!   credential planted unsigned on the ESP (systemd-stub copies it to /.extra) changes
//!   nothing;
//! - i2. the same UKI with one byte of the config changed: Kindling stops the boot;
//! - i3. a UKI signed by a key that is not in db: the firmware refuses it ("Access Denied");
//! - i4. the signed UKI with its `.cmdline` changed after signing: refused by the firmware.

use kindling_qemu_tests::secureboot::{self, Signer};
use kindling_qemu_tests::vm::{Boot, Vm};
use kindling_qemu_tests::{disk, fixture, run_dir, setup, Setup};

const RESULT: &str = "/etc/.kindling-result.json";
const REFUSED: &str = "Access Denied";
/// A config an attacker with write access to the ESP would like to see applied.
const PLANTED: &[u8] = br#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/planted","contents":{"source":"data:,owned"}}]}}"#;

fn extra() -> [&'static str; 2] {
    ["kindling.firstboot", "kindling.platform.id=qemu"]
}

fn firmware_boot(setup: &Setup, name: &str, signer: Signer, cmdline_tamper: bool) -> Boot {
    let keys = secureboot::keys(setup);
    let dir = run_dir(setup, name);
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let uki = secureboot::uki(
        setup,
        keys,
        &dir.join("uki.efi"),
        &setup.initrd,
        &extra(),
        Some(&fixture("proof.ign")),
        signer,
    );
    if cmdline_tamper {
        secureboot::tamper(
            &uki,
            "kindling.platform.id=qemu",
            "kindling.platform.id=file",
        );
    }
    let esp = secureboot::esp(&dir, &uki, &[]);
    let boot = Vm::new(setup, name, &image)
        .uefi(secureboot::uefi(keys, &esp))
        .fw_cfg(&fixture("proof.ign"))
        .stop_on("No bootable option")
        .boot();
    assert!(
        !disk::exists(&image, RESULT),
        "{name}: nothing may be provisioned"
    );
    boot
}

#[test]
fn the_firmware_refuses_a_uki_signed_by_another_key_or_changed_after_signing() {
    let Some(setup) = setup() else { return };
    for (name, signer, tamper) in [
        ("i3-other-key", Signer::Other, false),
        ("i4-cmdline-changed", Signer::Db, true),
    ] {
        let boot = firmware_boot(setup, name, signer, tamper);
        boot.assert_contains(REFUSED);
        boot.assert_lacks("Linux version");
        boot.assert_lacks("Kindling");
    }
}

#[test]
fn a_signed_uki_provisions_only_the_pinned_config_and_ignores_esp_credentials() {
    let Some(setup) = setup() else { return };
    let keys = secureboot::keys(setup);
    let dir = run_dir(setup, "i1-signed-uki");
    let uki = secureboot::uki(
        setup,
        keys,
        &dir.join("uki.efi"),
        &setup.initrd,
        &extra(),
        Some(&fixture("proof.ign")),
        Signer::Db,
    );
    // Credentials systemd-stub picks up from the ESP, unsigned: Kindling must not care.
    let esp = secureboot::esp(
        &dir,
        &uki,
        &[
            ("EFI/BOOT/BOOTX64.EFI.extra.d/kindling-config.cred", PLANTED),
            ("loader/credentials/kindling-config.cred", PLANTED),
        ],
    );

    // i1. The pinned config.
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "i1-signed-uki", &image)
        .uefi(secureboot::uefi(keys, &esp))
        .fw_cfg(&fixture("proof.ign"))
        .stop_on("No bootable option")
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("secureboot: Secure boot enabled");
    boot.assert_contains("Kernel is locked down from EFI Secure Boot");
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    boot.assert_contains("ignoring 2 files systemd-stub placed in /.extra");
    let report = disk::read_text(&image, RESULT);
    assert!(report.contains("\"hash\""), "verified by the pin: {report}");
    assert!(
        !disk::exists(&image, "/etc/planted"),
        "the planted config was applied"
    );

    // i2. One byte of the config changed: the pin in the signed command line refuses it.
    let mut config = std::fs::read(fixture("proof.ign")).expect("fixture");
    let at = config
        .windows(8)
        .position(|w| w == b"Kindling")
        .expect("a byte to change");
    config[at] = b'k';
    let tampered = dir.join("tampered.ign");
    std::fs::write(&tampered, &config).expect("writing the tampered config");
    let image = dir.join("disk2.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "i2-tampered-config", &image)
        .uefi(secureboot::uefi(keys, &esp))
        .fw_cfg(&tampered)
        .stop_on("No bootable option")
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("secureboot: Secure boot enabled");
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    boot.assert_contains("does not match kindling.config.hash");
    boot.assert_lacks("Reached target initrd-switch-root.target");
    assert!(!disk::exists(&image, RESULT), "nothing provisioned");
}
