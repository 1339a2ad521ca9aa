//! The whole chain under UEFI Secure Boot with our own keys (issue 8): OVMF (Secure Boot
//! build, our PK/KEK/db enrolled) boots a UKI signed with our db key; the UKI's signed
//! `.cmdline` pins the config's hash; Kindling in its signed initramfs refuses any other
//! config.
//! - i1. the signed UKI, whose initramfs requires an OpenPGP signature (require: signature,
//!   strictChain) and whose `.cmdline` pins the signed config's hash, boots with Secure Boot
//!   on; the signed config provisions and the proof unit runs; credentials planted unsigned on
//!   the ESP (systemd-stub copies them to /.extra) change nothing;
//! - i2. the same UKI with one byte of the signed config changed: Kindling stops the boot;
//! - i3. a UKI signed by a key that is not in db: the firmware refuses it ("Access Denied");
//! - i4. the signed UKI with its `.cmdline` changed after signing: refused by the firmware.

// The signing keys of the host tests (tests/integration/support/pgp.rs); only some of it is used here.
#[allow(dead_code)]
#[path = "../../integration/support/pgp.rs"]
mod pgp;

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
fn a_signed_uki_provisions_only_the_signed_pinned_config_and_ignores_esp_credentials() {
    let Some(setup) = setup() else { return };
    let keys = secureboot::keys(setup);
    let dir = run_dir(setup, "i1-signed-uki");

    // The initramfs trusts one OpenPGP certificate and requires signatures; the config is a
    // signed message, and the UKI's command line pins its hash as well.
    let signer = pgp::Key::new("kindling-secure-boot-test");
    let initrd = setup.initrd_requiring_signatures(
        "kindling-sb",
        &dir.join("trust"),
        &signer.public_armored(),
    );
    let config = std::fs::read(fixture("proof.ign")).expect("fixture");
    let signed = signer.message(&config, false, false);
    let signed_path = dir.join("config.gpg");
    std::fs::write(&signed_path, &signed).expect("writing the signed config");

    let uki = secureboot::uki(
        setup,
        keys,
        &dir.join("uki.efi"),
        &initrd,
        &extra(),
        Some(&signed_path),
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

    // i1. The signed, pinned config.
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "i1-signed-uki", &image)
        .uefi(secureboot::uefi(keys, &esp))
        .fw_cfg(&signed_path)
        .stop_on("No bootable option")
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("secureboot: Secure boot enabled");
    boot.assert_contains("Kernel is locked down from EFI Secure Boot");
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    boot.assert_contains("ignoring 2 files systemd-stub placed in /.extra");
    let report: serde_json::Value =
        serde_json::from_str(&disk::read_text(&image, RESULT)).expect("report JSON");
    assert_eq!(
        report["verifiedBy"],
        serde_json::json!(["hash", "signature"]),
        "{report}"
    );
    assert_eq!(report["signer"], signer.fingerprint().as_str(), "{report}");
    assert!(
        !disk::exists(&image, "/etc/planted"),
        "the planted config was applied"
    );

    // i2. One byte of the signed config changed: refused (the pin in the signed command line
    // no longer matches, and the signature would not verify either).
    let tampered = pgp::with_one_bit_flipped(&signed, b"Kindling test proof");
    let tampered_path = dir.join("tampered.gpg");
    std::fs::write(&tampered_path, &tampered).expect("writing the tampered config");
    let image = dir.join("disk2.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "i2-tampered-config", &image)
        .uefi(secureboot::uefi(keys, &esp))
        .fw_cfg(&tampered_path)
        .stop_on("No bootable option")
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("secureboot: Secure boot enabled");
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    boot.assert_contains("does not match kindling.config.hash");
    boot.assert_lacks("Reached target initrd-switch-root.target");
    assert!(!disk::exists(&image, RESULT), "nothing provisioned");
}
