//! LUKS volumes bound with clevis in a real boot (issue 6): one volume bound to the TPM alone
//! (swtpm), one bound to the TPM *and* a Tang server with threshold 2 (both must answer). The
//! Tang server is Debian's tangd on the host, listening on 127.0.0.1, reached from the guest
//! through a QEMU guestfwd.
//!
//! First boot: Kindling formats both volumes with generated keys, binds them, closes and
//! reopens each through its binding, removes the generated keys, and writes crypttab lines
//! without key files. Second boot, same TPM, Kindling not involved: the booted system's
//! systemd-cryptsetup asks for a password and clevis-luks-askpass answers it from the TPM and
//! the Tang server, so both volumes are mounted again.

use std::io::Read;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use kindling_qemu_tests::vm::{Net, Vm};
use kindling_qemu_tests::{disk, run_dir, setup};
use serde_json::{json, Value};

const TANGD: &str = "/usr/libexec/tangd";
const TANG_GUEST: &str = "10.0.2.100:80";

fn blank(path: &Path, mib: u64) {
    let f = std::fs::File::create(path).expect("creating a blank disk");
    f.set_len(mib << 20).expect("sizing the blank disk");
}

/// tangd answering on 127.0.0.1, one process per connection (as systemd's tangd.socket runs
/// it). Returns the port and the number of connections served.
fn tang_server(db: &Path) -> (u16, Arc<AtomicUsize>) {
    let status = Command::new("/usr/libexec/tangd-keygen")
        .arg(db)
        .status()
        .expect("tangd-keygen (apt-get install tang)");
    assert!(status.success(), "tangd-keygen failed");
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding the Tang port");
    let port = listener.local_addr().expect("addr").port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let db = db.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Ok(read_half) = stream.try_clone() else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let child = Command::new(TANGD)
                .arg(&db)
                .stdin(Stdio::from(OwnedFd::from(read_half)))
                .stdout(Stdio::from(OwnedFd::from(stream)))
                .stderr(Stdio::null())
                .spawn();
            if let Ok(mut child) = child {
                std::thread::spawn(move || child.wait());
            }
        }
    });
    (port, served)
}

/// The thumbprint of the server's signing key: tangd-keygen names each key file by its own.
fn signing_thumbprint(db: &Path) -> String {
    for entry in std::fs::read_dir(db).expect("reading the Tang keys") {
        let path = entry.expect("entry").path();
        let mut text = String::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("reading a Tang key");
        let key: Value = serde_json::from_str(&text).expect("a JWK");
        if key["alg"] == "ES512" {
            return path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
        }
    }
    panic!("tangd-keygen made no signing key in {}", db.display());
}

fn data_url(text: &str) -> String {
    format!(
        "data:;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

const PROOF: &str = r#"#!/bin/sh
# Prints how the booted system sees the clevis-bound volumes, then powers off.
{
    echo KINDLING-PROOF-BEGIN
    echo "proof: sealed-mount=$(findmnt -n -o SOURCE,FSTYPE /var/sealed)"
    echo "proof: sealed-file=$(cat /var/sealed/hello)"
    echo "proof: shared-mount=$(findmnt -n -o SOURCE,FSTYPE /var/shared)"
    echo "proof: shared-file=$(cat /var/shared/hello)"
    echo "proof: luks-dir=$(ls -A /etc/luks 2>/dev/null | wc -l)"
    echo "proof: boots=$(cat /var/sealed/boots 2>/dev/null)"
    echo "boot" >> /var/sealed/boots
    echo KINDLING-PROOF-END
} >/dev/console 2>&1
sync
systemctl --no-block poweroff
"#;

fn config(thumbprint: &str) -> Value {
    let unit =
        |name: &str, contents: &str| json!({ "name": name, "enabled": true, "contents": contents });
    json!({
        "ignition": { "version": "3.4.0" },
        "storage": {
            "luks": [
                { "name": "sealed", "device": "/dev/vdb", "label": "sealed",
                  "clevis": { "tpm2": true } },
                { "name": "shared", "device": "/dev/vdc",
                  "clevis": { "tpm2": true, "threshold": 2,
                              "tang": [{ "url": format!("http://{TANG_GUEST}"), "thumbprint": thumbprint }] } }
            ],
            "filesystems": [
                { "device": "/dev/mapper/sealed", "format": "ext4", "path": "/var/sealed" },
                { "device": "/dev/mapper/shared", "format": "ext4", "path": "/var/shared" }
            ],
            "files": [
                { "path": "/var/sealed/hello", "contents": { "source": data_url("sealed by the TPM\n") } },
                { "path": "/var/shared/hello", "contents": { "source": data_url("shared by the TPM and Tang\n") } },
                { "path": "/etc/systemd/network/20-wired.network",
                  "contents": { "source": data_url("[Match]\nType=ether\n\n[Network]\nDHCP=ipv4\n") } },
                { "path": "/usr/local/bin/clevis-proof", "mode": 493, "contents": { "source": data_url(PROOF) } }
            ]
        },
        "systemd": { "units": [
            { "name": "systemd-networkd.service", "enabled": true },
            { "name": "systemd-networkd-wait-online.service", "enabled": true },
            unit("var-sealed.mount", "[Unit]\nBefore=local-fs.target\n\n[Mount]\nWhat=/dev/mapper/sealed\nWhere=/var/sealed\nType=ext4\n\n[Install]\nWantedBy=local-fs.target\n"),
            unit("var-shared.mount", "[Unit]\nAfter=network-online.target\nWants=network-online.target\n\n[Mount]\nWhat=/dev/mapper/shared\nWhere=/var/shared\nType=ext4\nOptions=_netdev\n\n[Install]\nWantedBy=remote-fs.target\n"),
            unit("clevis-proof.service", "[Unit]\nAfter=boot-report.service var-sealed.mount var-shared.mount\nRequires=var-sealed.mount var-shared.mount\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/clevis-proof\n\n[Install]\nWantedBy=multi-user.target\n")
        ] }
    })
}

fn luks_dump(image: &Path) -> String {
    let out = Command::new("cryptsetup")
        .args(["luksDump", "--dump-json-metadata"])
        .arg(image)
        .output()
        .expect("cryptsetup luksDump");
    assert!(
        out.status.success(),
        "luksDump {}: {:?}",
        image.display(),
        out
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn net(tang_port: u16) -> Net {
    Net::Restricted {
        guestfwd: vec![],
        hostfwd: vec![],
        guestcmd: vec![(
            TANG_GUEST.to_owned(),
            format!("socat - TCP:127.0.0.1:{tang_port}"),
        )],
    }
}

#[test]
fn volumes_bound_to_the_tpm_and_tang_unlock_at_provisioning_and_on_later_boots() {
    let Some(setup) = setup() else { return };
    for tool in [TANGD, "/usr/bin/socat", "/usr/bin/clevis-luks-bind"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install tang socat clevis clevis-luks clevis-tpm2 (.ci/run does)"
        );
    }
    let dir = run_dir(setup, "k-clevis");
    let root = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &root);
    let (sealed, shared): (PathBuf, PathBuf) = (dir.join("vdb.img"), dir.join("vdc.img"));
    blank(&sealed, 48);
    blank(&shared, 48);
    let db = dir.join("tang-db");
    let _ = std::fs::remove_dir_all(&db);
    std::fs::create_dir_all(&db).expect("tang db");
    let (port, served) = tang_server(&db);
    let config_path = dir.join("config.ign");
    std::fs::write(
        &config_path,
        serde_json::to_vec_pretty(&config(&signing_thumbprint(&db))).expect("JSON"),
    )
    .expect("writing the config");
    let tpm = dir.join("tpm-state");
    let _ = std::fs::remove_dir_all(&tpm);

    let first = Vm::new(setup, "k-clevis-first", &root)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&config_path)
        .disk(&sealed)
        .disk(&shared)
        .net(net(port))
        .tpm_in(&tpm)
        .boot();
    first.assert_powered_off();
    first.assert_contains("Finished kindling-disks.service - Kindling (disks).");
    first.assert_contains("reopening sealed through its clevis binding");
    first.assert_contains("reopening shared through its clevis binding");
    first.assert_proof("sealed-file=sealed by the TPM");
    first.assert_proof("shared-file=shared by the TPM and Tang");
    first.assert_proof("luks-dir=0");
    assert!(
        served.load(Ordering::SeqCst) >= 2,
        "Tang was asked for its advertisement and for recovery"
    );

    let crypttab = disk::read_text(&root, "/etc/crypttab");
    let lines: Vec<&str> = crypttab.lines().collect();
    assert_eq!(lines.len(), 2, "{crypttab}");
    assert!(
        lines[0].starts_with("sealed UUID=") && lines[0].ends_with(" none luks,x-initrd.attach"),
        "{crypttab}"
    );
    assert!(
        lines[1].starts_with("shared UUID=")
            && lines[1].ends_with(" none luks,_netdev,x-initrd.attach"),
        "{crypttab}"
    );
    // The generated keys are gone: each volume has one keyslot, the binding's, and its token.
    for image in [&sealed, &shared] {
        let dump: Value = serde_json::from_str(&luks_dump(image)).expect("LUKS2 JSON metadata");
        let slots = dump["keyslots"].as_object().expect("keyslots");
        assert_eq!(slots.len(), 1, "{}: {dump}", image.display());
        let tokens = dump["tokens"].as_object().expect("tokens");
        assert_eq!(tokens.len(), 1, "{}: {dump}", image.display());
        assert!(
            tokens.values().all(|t| t["type"] == "clevis"),
            "{}: {dump}",
            image.display()
        );
    }

    // Same machine (TPM state), Kindling not involved: the booted system unlocks both.
    let before = served.load(Ordering::SeqCst);
    let second = Vm::new(setup, "k-clevis-second", &root)
        .arg("kindling.platform.id=qemu")
        .arg("rd.driver.pre=dm_crypt,xts,aesni_intel")
        .disk(&sealed)
        .disk(&shared)
        .net(net(port))
        .tpm_in(&tpm)
        .boot();
    second.assert_powered_off();
    second.assert_lacks("Kindling (disks)");
    second.assert_proof("sealed-mount=/dev/mapper/sealed ext4");
    second.assert_proof("shared-mount=/dev/mapper/shared ext4");
    second.assert_proof("shared-file=shared by the TPM and Tang");
    second.assert_proof("boots=boot");
    assert!(
        served.load(Ordering::SeqCst) > before,
        "the booted system asked Tang"
    );
}
