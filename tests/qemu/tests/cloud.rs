//! Cloud user data in real boots (issue 13):
//! - m1. AWS: `kindling.platform.id=aws`, QEMU user networking on 169.254.169.0/24 with a
//!   guestfwd from the production metadata address 169.254.169.254:80 to the metadata
//!   stand-in on the host. The user data is a signed message, and the initramfs's policy
//!   requires a signature: the boot provisions, over IMDSv2.
//! - m2. AWS again, with unsigned user data: the same initramfs refuses it, stops the boot and
//!   writes nothing.
//! - m3. OpenStack: a real `config-2` CD-ROM (iso9660) raced against a metadata service the
//!   restricted network never reaches; the drive wins.
//! - m4. AWS with an S3 remote file: the files stage reads `s3://kindling-private/…` with the
//!   instance role's credentials from IMDS (the production address), signed with SigV4, from
//!   moto's S3 on the host. S3 itself is reached through a guestfwd at 169.254.169.253: the
//!   test initramfs carries a unit drop-in that names it (`KINDLING_TEST_S3_ENDPOINT`), since
//!   the guest can reach no real S3 host name.

#[allow(dead_code)]
#[path = "../../integration/support/objstore.rs"]
mod objstore;
#[allow(dead_code)]
#[path = "../../integration/support/pgp.rs"]
mod pgp;
#[allow(dead_code)]
#[path = "../../integration/support/standin.rs"]
mod standin;

use std::path::Path;
use std::process::Command;

use kindling_qemu_tests::vm::{Net, Vm};
use kindling_qemu_tests::{disk, find_tool, fixture, run_dir, setup, Setup};
use standin::Standin;

const RESULT: &str = "/etc/.kindling-result.json";

fn aws_boot(
    setup: &Setup,
    initrd: &Path,
    name: &str,
    standin: &Standin,
) -> (kindling_qemu_tests::vm::Boot, std::path::PathBuf) {
    let image = run_dir(setup, name).join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, name, &image)
        .initrd(initrd)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=aws")
        .net_prefix("169.254.169.0/24")
        // A command per connection: a plain guestfwd serves one connection, and IMDSv2 makes
        // two (the token PUT, then the GET).
        .net(Net::Restricted {
            guestfwd: vec![],
            hostfwd: vec![],
            guestcmd: vec![(
                "169.254.169.254:80".to_owned(),
                format!("socat - TCP:127.0.0.1:{}", standin.port),
            )],
        })
        .boot();
    (boot, image)
}

#[test]
fn aws_user_data_signed_boots_and_unsigned_stops_the_boot() {
    let Some(setup) = setup() else { return };
    let key = pgp::Key::new("kindling-cloud-test");
    let initrd = setup.initrd_requiring_signatures(
        "kindling-cloud-trust",
        &run_dir(setup, "m-trust"),
        &key.public_armored(),
    );
    let config = std::fs::read(fixture("proof.ign")).expect("fixture");

    // m1. Signed user data over IMDSv2, from the production address.
    let signed = Standin::start("aws", Some(&key.message(&config, true, false)), &[]);
    let (boot, image) = aws_boot(setup, &initrd, "m1-aws-signed", &signed);
    boot.assert_powered_off();
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    let report = disk::read_text(&image, RESULT);
    assert!(report.contains(&key.fingerprint()), "{report}");
    assert!(report.contains("AWS instance metadata service"), "{report}");
    let requests = signed.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "PUT" && r.path == "/latest/api/token"),
        "IMDSv2 token first: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.path == "/2019-10-01/user-data"
            && r.headers.contains_key("x-aws-ec2-metadata-token")),
        "{requests:?}"
    );

    // m2. The same user data unsigned: refused before parsing, nothing written.
    let unsigned = Standin::start("aws", Some(&config), &[]);
    let (boot, image) = aws_boot(setup, &initrd, "m2-aws-unsigned", &unsigned);
    boot.assert_powered_off();
    boot.assert_contains("KINDLING: FIRST-BOOT PROVISIONING FAILED");
    boot.assert_contains("Failed stage: fetch (kindling-fetch.service)");
    boot.assert_contains("it is not signed");
    boot.assert_lacks("Reached target initrd-switch-root.target");
    assert!(!disk::exists(&image, RESULT));
    assert!(!disk::exists(&image, "/etc/kindling-proof/message"));
}

#[test]
fn openstack_config_drive_on_a_cdrom_provisions() {
    let Some(setup) = setup() else { return };
    let xorriso = find_tool("xorriso").expect("xorriso (tools/install-deps.sh installs it)");
    let dir = run_dir(setup, "m3-openstack");
    let tree = dir.join("drive");
    std::fs::create_dir_all(tree.join("openstack/latest")).expect("drive tree");
    std::fs::copy(
        fixture("proof.ign"),
        tree.join("openstack/latest/user_data"),
    )
    .expect("user_data");
    let iso = dir.join("config-2.iso");
    let _ = std::fs::remove_file(&iso);
    let out = Command::new(xorriso)
        .args(["-as", "mkisofs", "-quiet", "-R", "-V", "config-2", "-o"])
        .arg(&iso)
        .arg(&tree)
        .output()
        .expect("xorriso runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "m3-openstack", &image)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=openstack")
        .cdrom(&iso)
        // A NIC, as every OpenStack instance has, but no metadata service behind it.
        .net(Net::Restricted {
            guestfwd: vec![],
            hostfwd: vec![],
            guestcmd: vec![],
        })
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    let report = disk::read_text(&image, RESULT);
    assert!(report.contains("config-2"), "{report}");
}

#[test]
fn aws_files_from_s3_are_read_with_the_instance_role() {
    let Some(setup) = setup() else { return };
    let s3 = objstore::s3();
    let dir = run_dir(setup, "m4-aws-s3");
    // The role's credentials, as IMDS serves them: moto's STS session of kindling-node.
    let credentials = serde_json::json!({
        "Code": "Success",
        "LastUpdated": "2026-12-05T00:00:00Z",
        "Type": "AWS-HMAC",
        "AccessKeyId": s3.get("/access_key_id"),
        "SecretAccessKey": s3.get("/secret_access_key"),
        "Token": s3.get("/token"),
        "Expiration": s3.get("/expiration"),
    });
    std::fs::write(dir.join("credentials.json"), credentials.to_string()).expect("credentials");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("proof.ign")).expect("fixture"))
            .expect("JSON fixture");
    config["storage"]["files"]
        .as_array_mut()
        .expect("files")
        .push(serde_json::json!({
            "path": "/etc/kindling-proof/from-s3",
            "mode": 420,
            "contents": {"source": "s3://kindling-private/config.ign"}
        }));
    std::fs::write(dir.join("user-data"), config.to_string()).expect("user data");
    let imds = Standin::start_args(
        "aws",
        &[
            "--userdata",
            dir.join("user-data").to_str().expect("utf-8"),
            "--aws-role",
            "kindling-node",
            "--aws-credentials",
            dir.join("credentials.json").to_str().expect("utf-8"),
        ],
    );
    let endpoint = s3.get("/endpoint");
    let s3_port: u16 = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("the emulator's port");
    // The drop-in that points the fetch and files stages at the S3 stand-in.
    let dropin = dir.join("50-s3-standin.conf");
    std::fs::write(
        &dropin,
        "[Service]\nEnvironment=KINDLING_TEST_S3_ENDPOINT=http://169.254.169.253\n",
    )
    .expect("drop-in");
    let files: Vec<(std::path::PathBuf, String)> = ["kindling-fetch", "kindling-files"]
        .iter()
        .map(|unit| {
            (
                dropin.clone(),
                format!("/etc/systemd/system/{unit}.service.d/50-s3-standin.conf"),
            )
        })
        .collect();
    let initrd = setup.initrd_with_files("kindling-s3-standin", &files);
    let image = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &image);
    let boot = Vm::new(setup, "m4-aws-s3", &image)
        .initrd(&initrd)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=aws")
        .net_prefix("169.254.169.0/24")
        .net(Net::Restricted {
            guestfwd: vec![],
            hostfwd: vec![],
            guestcmd: vec![
                (
                    "169.254.169.254:80".to_owned(),
                    format!("socat - TCP:127.0.0.1:{}", imds.port),
                ),
                (
                    "169.254.169.253:80".to_owned(),
                    format!("socat - TCP:127.0.0.1:{s3_port}"),
                ),
            ],
        })
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    boot.assert_proof("message=written by Kindling");
    assert_eq!(
        disk::read_text(&image, "/etc/kindling-proof/from-s3"),
        "private v2\n",
        "the private object, read with the role's credentials"
    );
    let requests = imds.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/latest/meta-data/iam/security-credentials/kindling-node"),
        "the role's credentials came from IMDS: {requests:?}"
    );
}
