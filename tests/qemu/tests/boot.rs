//! Real boots under QEMU (TCG): the Debian kernel, one dracut initramfs with 30kindling, and a
//! small Debian root. Each test skips with a message when the tools are missing (fails when
//! `CI` is set); see the crate docs.
//!
//! Scenarios (issue 4):
//! - a. the config via fw_cfg provisions files, a user with an SSH key, a group and units; the
//!   booted system runs the enabled unit, which prints proof and powers off;
//!   d. a second boot of that disk without the firstboot argument does not provision again.
//! - b. the config over HTTP (kindling.config.url) through user networking with restrict=on
//!   and a guestfwd to a server on 127.0.0.1.
//! - c. a file whose hash does not match: the boot stops in emergency with a summary and no
//!   secret, and the root is never switched into.
//! - d. without the firstboot argument, Kindling does not run.
//! - e. the ignition.* argument aliases.

use std::collections::HashMap;

use kindling_qemu_tests::vm::{Boot, Net, Vm};
use kindling_qemu_tests::{disk, fixture, http, note, run_dir, setup, Setup};

const RESULT: &str = "/etc/.kindling-result.json";
/// The welcome line of the booted system; the initramfs's own says "(Initramfs)".
const REAL_ROOT_WELCOME: &str = "Welcome to Debian GNU/Linux 12 (bookworm)!";

/// A fresh copy of the root image for a scenario.
fn fresh_disk(setup: &Setup, name: &str) -> std::path::PathBuf {
    let dir = run_dir(setup, name);
    let disk = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &disk);
    disk
}

/// Prints the stage timeline of a successful first boot (visible with --nocapture, and in
/// the CI log of a failing run).
fn print_timeline(boot: &Boot) {
    let t = |needle: &str| {
        boot.time_of(needle)
            .map_or("-".to_owned(), |t| format!("{t:.1} s"))
    };
    note(&format!(
        "{}: kernel start -> fetch-offline started {}, files finished {}, Kindling complete {}, switch root {}; VM wall time {:.0} s",
        boot.name,
        t("Starting kindling-fetch-offline.service"),
        t("Finished kindling-files.service"),
        t("Reached target kindling-complete.target"),
        t("Reached target initrd-switch-root.target"),
        boot.wall.as_secs_f64()
    ));
}

/// What every successful provisioning of tests/qemu/fixtures/proof.ign shows on the console.
fn assert_provisioned(boot: &Boot, source: &str) {
    boot.assert_powered_off();
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_contains(REAL_ROOT_WELCOME);
    boot.assert_proof("message=written by Kindling");
    boot.assert_proof(&format!("\"source\": \"{source}\""));
    boot.assert_proof("link=/etc/kindling-proof/message");
    boot.assert_proof("user=uid=1000(core) gid=1000(core) groups=1000(core),1500(kindlers)");
    boot.assert_proof("group=kindlers:x:1500:core");
    boot.assert_proof("dropin=yes");
    boot.assert_proof("preset=enable proof.service;");
    boot.assert_proof("enabled=enabled");
    print_timeline(boot);
}

fn assert_disk_provisioned(boot: &Boot, image: &std::path::Path, source: &str) {
    let result = disk::read_text(image, RESULT);
    if !result.contains(source) {
        boot.fail(&format!("{RESULT} should name {source:?}: {result}"));
    }
    assert_eq!(disk::mode(image, RESULT), Some(0o600), "{RESULT} mode");
    assert!(disk::read_text(image, "/etc/passwd").contains("core:x:1000:1000:"));
    assert!(disk::read_text(image, "/etc/group").contains("kindlers:x:1500:core"));
    assert_eq!(
        disk::read_text(image, "/etc/systemd/system-preset/20-kindling.preset"),
        "enable proof.service\n"
    );
    assert_eq!(
        disk::read_text(image, "/etc/kindling-proof/message"),
        "written by Kindling\n"
    );
}

#[test]
fn fw_cfg_config_provisions_the_root_and_a_second_boot_does_not_provision_again() {
    let Some(setup) = setup() else { return };
    let disk = fresh_disk(setup, "a-fw-cfg");

    // a. First boot: the config arrives through fw_cfg.
    let first = Vm::new(setup, "a-first-boot", &disk)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&fixture("proof.ign"))
        .boot();
    assert_provisioned(&first, "QEMU fw_cfg opt/com.coreos/config");
    // The config was local: the network never came up in the initramfs.
    if first.time_of("Finished kindling-fetch.service").is_some() {
        first.fail("kindling-fetch.service ran although the config came from fw_cfg");
    }
    first.assert_contains("kindling-fetch.service - Kindling (fetch) was skipped");
    // The config has no kernel arguments or storage: those stages are not even started.
    for stage in ["kargs", "disks", "mount"] {
        first.assert_contains(&format!(
            "kindling-{stage}.service - Kindling ({stage}) was skipped because of an unmet condition check (ConditionPathExists=!/run/kindling/idle/{stage})"
        ));
    }
    first.assert_proof(
        "ssh-key-file=/home/core/.ssh/authorized_keys.d/kindling 600 core qemu-test@kindling",
    );
    assert_disk_provisioned(&first, &disk, "QEMU fw_cfg");
    assert_eq!(
        disk::mode(&disk, "/home/core/.ssh/authorized_keys.d/kindling"),
        Some(0o600)
    );
    // kindling-firstboot-complete.service removed the GRUB stamp.
    assert!(
        !disk::exists(&disk, "/boot/kindling.firstboot"),
        "the first-boot stamp should be gone after a successful first boot"
    );
    let report = disk::read(&disk, RESULT).expect("result report");

    // d. Second boot of the same disk, without the firstboot argument (as GRUB does once the
    // stamp is gone): Kindling stays out, the system boots and the provisioned unit runs again.
    let second = Vm::new(setup, "d-second-boot", &disk)
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&fixture("proof.ign"))
        .boot();
    second.assert_powered_off();
    second.assert_lacks("Kindling (fetch-offline)");
    second.assert_lacks("kindling-generator: first boot");
    second.assert_proof("message=written by Kindling");
    assert_eq!(
        disk::read(&disk, RESULT).as_deref(),
        Some(report.as_slice()),
        "the result report changed: the second boot provisioned again"
    );
    assert!(!disk::exists(&disk, "/etc/.kindling-result.json.prev"));
}

#[test]
fn config_over_http_brings_the_network_up_only_for_the_fetch_stage() {
    let Some(setup) = setup() else { return };
    let disk = fresh_disk(setup, "b-http");
    let config = std::fs::read(fixture("proof.ign")).expect("fixture");
    let server = http::Server::serve(HashMap::from([("/config.ign".to_owned(), config)]));
    let url = "http://10.0.2.100/config.ign";

    let boot = Vm::new(setup, "b-http", &disk)
        .arg("kindling.firstboot")
        .arg(&format!("kindling.config.url={url}"))
        .arg("kindling.ssh.authorized_keys=plain")
        .net(Net::Restricted {
            guestfwd: vec![("10.0.2.100:80".to_owned(), server.addr().port())],
            hostfwd: vec![],
            guestcmd: vec![],
        })
        .boot();
    assert_provisioned(&boot, url);
    // fetch-offline saw an http URL and left the work to fetch, which brought networkd up.
    boot.assert_contains("Finished kindling-fetch.service - Kindling (fetch).");
    // The fetch stage, not fetch-offline, wrote the plan that skips the idle stages.
    boot.assert_contains("kindling-disks.service - Kindling (disks) was skipped");
    if !boot
        .report()
        .iter()
        .any(|l| l.contains("needs the network") || l.contains("starting systemd-networkd"))
    {
        boot.fail("the journal should show fetch-offline handing over to the network");
    }
    boot.assert_proof("ssh-key-file=/home/core/.ssh/authorized_keys 600 core qemu-test@kindling");
    assert_eq!(server.requests(), vec!["GET /config.ign -> 200".to_owned()]);
    assert_disk_provisioned(&boot, &disk, url);
}

#[test]
fn a_file_whose_hash_does_not_match_stops_the_boot_with_a_summary_and_no_secret() {
    let Some(setup) = setup() else { return };
    let disk = fresh_disk(setup, "c-bad-hash");

    let boot = Vm::new(setup, "c-bad-hash", &disk)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&fixture("bad-hash.ign"))
        .boot();
    // rd.emergency=poweroff: the emergency path powers the VM off.
    boot.assert_powered_off();
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    boot.assert_contains("Failed stage: files (kindling-files.service)");
    boot.assert_contains("Full log: journalctl -b -u kindling-files.service");
    let summary = boot
        .console
        .split("KINDLING: FIRST-BOOT PROVISIONING FAILED")
        .nth(1)
        .unwrap_or_default();
    if !summary.contains("/etc/app/secret.conf") || !summary.contains("hash") {
        boot.fail("the summary should name the file and the hash mismatch");
    }
    // No secret: neither the file contents nor the password hash from the config.
    boot.assert_lacks("TOP-SECRET-VALUE-4242");
    boot.assert_lacks("SECRET-HASH-MUST-NOT-LEAK");
    // The root was never switched into.
    boot.assert_lacks("Reached target initrd-switch-root.target");
    boot.assert_lacks(REAL_ROOT_WELCOME);
    boot.assert_lacks("Reached target kindling-complete.target");
    assert!(
        !disk::exists(&disk, RESULT),
        "no result report after a failure"
    );
    assert!(!disk::exists(&disk, "/etc/app/secret.conf"));
    assert!(
        disk::exists(&disk, "/boot/kindling.firstboot"),
        "the first-boot stamp stays, so the next boot tries again"
    );
}

#[test]
fn without_the_firstboot_argument_kindling_does_not_run() {
    let Some(setup) = setup() else { return };
    let disk = fresh_disk(setup, "d-no-firstboot");

    let boot = Vm::new(setup, "d-no-firstboot", &disk)
        .arg("kindling.platform.id=qemu")
        .arg("boot_report.poweroff")
        .fw_cfg(&fixture("proof.ign"))
        .boot();
    boot.assert_powered_off();
    boot.assert_contains(REAL_ROOT_WELCOME);
    boot.assert_contains("=== boot-report end ===");
    boot.assert_lacks("Kindling (fetch-offline)");
    boot.assert_lacks("Kindling (files)");
    boot.assert_lacks("kindling-generator: first boot");
    assert!(!disk::exists(&disk, RESULT));
    assert!(!disk::exists(&disk, "/etc/kindling-proof/message"));
    assert!(
        disk::exists(&disk, "/boot/kindling.firstboot"),
        "the stamp is removed only after a boot that provisioned"
    );
}

#[test]
fn ignition_argument_aliases_work() {
    let Some(setup) = setup() else { return };
    let disk = fresh_disk(setup, "e-ignition-aliases");

    let boot = Vm::new(setup, "e-ignition-aliases", &disk)
        .arg("ignition.firstboot")
        .arg("ignition.platform.id=qemu")
        .fw_cfg(&fixture("proof.ign"))
        .boot();
    boot.assert_contains("kindling-generator: first boot, platform qemu");
    assert_provisioned(&boot, "QEMU fw_cfg opt/com.coreos/config");
    assert_disk_provisioned(&boot, &disk, "QEMU fw_cfg");
}
