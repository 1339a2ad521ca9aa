//! The measured config (issue 8): with a TPM 2.0 (swtpm), Kindling extends PCR 14 with the
//! SHA-256 of the root config before parsing it. The booted system reads PCR 14 and keeps it on
//! disk; the value must equal the one predicted on the host from the config's bytes alone, and
//! the result report must record the event.

use kindling_qemu_tests::vm::Vm;
use kindling_qemu_tests::{disk, fixture, run_dir, setup};
use sha2::{Digest, Sha256};

const RESULT: &str = "/etc/.kindling-result.json";

#[test]
fn the_config_digest_in_pcr_14_matches_the_host_prediction() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "j-measured");
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);

    // proof.ign plus a unit that keeps PCR 14 on disk before the proof unit powers off.
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("proof.ign")).expect("fixture"))
            .expect("JSON fixture");
    config["systemd"]["units"]
        .as_array_mut()
        .expect("units")
        .push(serde_json::json!({
            "name": "pcr-proof.service",
            "enabled": true,
            "contents": "[Unit]\nBefore=proof.service\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'cat /sys/class/tpm/tpm0/pcr-sha256/14 > /var/lib/pcr14'\n\n[Install]\nWantedBy=multi-user.target\n"
        }));
    let bytes = serde_json::to_vec(&config).expect("serialising");
    let path = dir.join("config.ign");
    std::fs::write(&path, &bytes).expect("writing the config");

    let digest = Sha256::digest(&bytes);
    let mut extend = Sha256::new();
    extend.update([0u8; 32]);
    extend.update(digest);
    let predicted = hex::encode_upper(extend.finalize());

    let boot = Vm::new(setup, "j-measured", &image)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&path)
        .tpm()
        .boot();
    boot.assert_powered_off();
    boot.assert_proof("message=written by Kindling");
    let pcr = disk::read_text(&image, "/var/lib/pcr14");
    assert_eq!(
        pcr.trim(),
        predicted,
        "PCR 14 in the guest vs the host's prediction"
    );
    let report: serde_json::Value =
        serde_json::from_str(&disk::read_text(&image, RESULT)).expect("the report is JSON");
    assert_eq!(report["measurement"]["pcr"], 14, "{report}");
    assert_eq!(report["measurement"]["bank"], "sha256", "{report}");
    assert_eq!(
        report["measurement"]["digest"],
        hex::encode(digest).as_str(),
        "{report}"
    );
}
