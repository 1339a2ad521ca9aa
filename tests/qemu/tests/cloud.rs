//! Cloud user data in real boots (issue 13):
//! - m1. AWS: `kindling.platform.id=aws`, QEMU user networking on 169.254.169.0/24 with a
//!   guestfwd from the production metadata address 169.254.169.254:80 to the metadata
//!   stand-in on the host. The user data is a signed message, and the initramfs's policy
//!   requires a signature: the boot provisions, over IMDSv2.
//! - m2. AWS again, with unsigned user data: the same initramfs refuses it, stops the boot and
//!   writes nothing.
//! - m3. OpenStack: a real `config-2` CD-ROM (iso9660) raced against a metadata service the
//!   restricted network never reaches; the drive wins.

#[allow(dead_code)]
#[path = "../../support/pgp.rs"]
mod pgp;
#[allow(dead_code)]
#[path = "../../support/standin.rs"]
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
