//! Verified configs in a real boot (issue 5): an initramfs with a trust policy
//! (`require: signature`, `strictChain`) and one trusted certificate baked in by the dracut
//! module (KINDLING_TRUST_DIR), then:
//! - h1. the config signed by the trusted key boots and provisions;
//! - h2. the same signed config with one byte of the config changed stops the boot;
//! - h3. a signed config that merges a remote config without a hash stops the boot under
//!   strictChain, before anything is fetched.

// The signing keys of the host tests (tests/integration/support/pgp.rs); only some of it is used here.
#[allow(dead_code)]
#[path = "../../integration/support/pgp.rs"]
mod pgp;

use std::collections::HashMap;
use std::path::Path;

use kindling_qemu_tests::vm::{Boot, Net, Vm};
use kindling_qemu_tests::{disk, fixture, http, run_dir, setup, Setup};

const RESULT: &str = "/etc/.kindling-result.json";

fn assert_stopped(boot: &Boot, stage: &str, why: &[&str]) {
    boot.assert_powered_off();
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    boot.assert_contains(&format!("Failed stage: {stage} (kindling-{stage}.service)"));
    let summary = boot
        .console
        .split("KINDLING: FIRST-BOOT PROVISIONING FAILED")
        .nth(1)
        .unwrap_or_default();
    for needle in why {
        if !summary.contains(needle) {
            boot.fail(&format!("the failure summary should say {needle:?}"));
        }
    }
    boot.assert_lacks("Reached target initrd-switch-root.target");
    boot.assert_lacks("Reached target kindling-complete.target");
}

fn boot_signed(
    setup: &Setup,
    initrd: &Path,
    name: &str,
    config: &[u8],
) -> (Boot, std::path::PathBuf) {
    let dir = run_dir(setup, name);
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let config_path = dir.join("config.asc");
    std::fs::write(&config_path, config).expect("writing the signed config");
    let boot = Vm::new(setup, name, &image)
        .initrd(initrd)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&config_path)
        .boot();
    (boot, image)
}

#[test]
fn signed_configs_boot_and_tampered_or_unpinned_ones_stop_the_boot() {
    let Some(setup) = setup() else { return };
    let key = pgp::Key::new("kindling-qemu-test");
    let initrd = setup.initrd_requiring_signatures(
        "kindling-trust",
        &run_dir(setup, "h-trust"),
        &key.public_armored(),
    );

    // h1. Signed by the trusted key: provisions, and the report names the signer.
    let config = std::fs::read(fixture("proof.ign")).expect("fixture");
    let signed = key.message(&config, false, false);
    let (boot, image) = boot_signed(setup, &initrd, "h1-signed", &signed);
    boot.assert_powered_off();
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    let report = disk::read_text(&image, RESULT);
    assert!(report.contains(&key.fingerprint()), "{report}");

    // h2. One byte of the config inside the signed message changed.
    let tampered = pgp::with_one_bit_flipped(&signed, b"Kindling test proof");
    let (boot, image) = boot_signed(setup, &initrd, "h2-tampered", &tampered);
    assert_stopped(&boot, "fetch-offline", &["signature"]);
    assert!(!disk::exists(&image, RESULT), "nothing provisioned");
    assert!(!disk::exists(&image, "/etc/kindling-proof/message"));

    // h3. Signed, but it merges a remote config without verification.hash: refused before
    // any request reaches the server.
    let server = http::Server::serve(HashMap::from([(
        "/extra.ign".to_owned(),
        br#"{"ignition":{"version":"3.4.0"}}"#.to_vec(),
    )]));
    let mut with_merge: serde_json::Value = serde_json::from_slice(&config).expect("JSON fixture");
    with_merge["ignition"]["config"] =
        serde_json::json!({"merge": [{"source": "http://10.0.2.100/extra.ign"}]});
    let with_merge = serde_json::to_vec(&with_merge).expect("serialising");
    let signed = key.message(&with_merge, false, false);
    let dir = run_dir(setup, "h3-unpinned");
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let config_path = dir.join("config.asc");
    std::fs::write(&config_path, &signed).expect("writing the signed config");
    let boot = Vm::new(setup, "h3-unpinned", &image)
        .initrd(&initrd)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&config_path)
        .net(Net::Restricted {
            guestfwd: vec![("10.0.2.100:80".to_owned(), server.addr().port())],
            hostfwd: vec![],
            guestcmd: vec![],
        })
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    let summary = boot
        .console
        .split("KINDLING: FIRST-BOOT PROVISIONING FAILED")
        .nth(1)
        .unwrap_or_default();
    if !summary.contains("strictChain") || !summary.contains("http://10.0.2.100/extra.ign") {
        boot.fail("the summary should name strictChain and the unpinned URL");
    }
    boot.assert_lacks("Reached target initrd-switch-root.target");
    assert!(
        server.requests().is_empty(),
        "nothing may be fetched: {:?}",
        server.requests()
    );
    assert!(!disk::exists(&image, RESULT));
}
