//! Storage in a real boot (issue 6): the disks stage partitions a blank virtio disk, makes an
//! ext4 data partition and a swap partition, builds a RAID1 array over two more disks with an
//! ext4 filesystem on it; the mount stage mounts both filesystems under /sysroot so the files
//! stage writes into them, and stopping the mount unit unmounts them before switch-root. The
//! booted system then mounts the data partition by label and prints what it finds.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use kindling_qemu_tests::vm::Vm;
use kindling_qemu_tests::{disk, fixture, run_dir, setup};
use serde_json::json;

fn blank(path: &Path, mib: u64) {
    let f = std::fs::File::create(path).expect("creating a blank disk");
    f.set_len(mib << 20).expect("sizing the blank disk");
}

fn sgdisk(image: &Path, args: &[&str]) -> String {
    let out = Command::new("sgdisk")
        .args(args)
        .arg(image)
        .output()
        .expect("running sgdisk");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn partitions_raid_and_filesystems_are_built_mounted_and_written() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "f-storage");
    let root = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &root);
    let (data, m1, m2) = (
        dir.join("vdb.img"),
        dir.join("vdc.img"),
        dir.join("vdd.img"),
    );
    blank(&data, 64);
    blank(&m1, 48);
    blank(&m2, 48);

    let boot = Vm::new(setup, "f-storage", &root)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&fixture("storage.ign"))
        .disk(&data)
        .disk(&m1)
        .disk(&m2)
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("Finished kindling-disks.service - Kindling (disks).");
    boot.assert_contains("Finished kindling-mount.service - Kindling (mount).");
    boot.assert_contains("Reached target kindling-complete.target - Kindling Complete.");
    // The mount unit's stop ran the umount stage before switch-root.
    boot.assert_contains("Stopped kindling-mount.service - Kindling (mount).");

    boot.assert_proof("data-mount=/dev/vdb1 ext4");
    boot.assert_proof("data-file=stored on the data partition");
    boot.assert_proof("data-label=vardata");
    boot.assert_proof("swap-label=swap0");
    boot.assert_proof("md=active raid1 vdd[1] vdc[0]");
    boot.assert_proof("mirror-file=stored on the mirror");

    // The table on the image, read on the host.
    let table = sgdisk(&data, &["-p"]);
    assert!(table.contains("40.0 MiB    8300  var-data"), "{table}");
    assert!(table.contains("8200  swap"), "{table}");
    let info = sgdisk(&data, &["-i", "1"]);
    assert!(
        info.contains("Partition unique GUID: 5E1F0C4A-7D1B-4C1E-9A51-6B0D1A2C3E4F"),
        "{info}"
    );
}

#[test]
fn a_luks_volume_with_a_key_file_is_unlocked_by_the_booted_system_on_later_boots() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "g-luks");
    let root = dir.join("disk.img");
    disk::copy_image(&setup.root_image, &root);
    let data = dir.join("vdb.img");
    blank(&data, 64);

    let first = Vm::new(setup, "g-luks-first", &root)
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&fixture("luks.ign"))
        .disk(&data)
        .boot();
    first.assert_powered_off();
    first.assert_contains("Finished kindling-disks.service - Kindling (disks).");
    first.assert_proof("data-mount=/dev/mapper/data ext4");
    first.assert_proof("data-file=stored encrypted");
    first.assert_proof("key=600 root dir=700");
    first.assert_proof("boots=");
    let crypttab = disk::read_text(&root, "/etc/crypttab");
    assert!(
        crypttab.starts_with("data UUID=")
            && crypttab.ends_with(" /etc/luks/data luks,x-initrd.attach,discard\n"),
        "{crypttab}"
    );
    assert_eq!(
        disk::read(&root, "/etc/luks/data").as_deref(),
        Some(&b"kindling-qemu-test-luks-key-0123456789abcdef"[..])
    );
    // Encrypted on disk: the header is LUKS and the plaintext is nowhere in the image.
    let image = std::fs::read(&data).expect("reading the data disk");
    assert_eq!(
        &image[..6],
        b"LUKS\xba\xbe",
        "a LUKS header at the start of the disk"
    );
    assert!(
        !image.windows(16).any(|w| w == b"stored encrypted"),
        "the plaintext must not be on the disk"
    );

    // Second boot, Kindling not involved: the booted system's systemd-cryptsetup unlocks the
    // volume with /etc/luks/data. (The test root has no kernel modules of its own, so the
    // initramfs loads dm_crypt and the cipher modules for it.)
    let second = Vm::new(setup, "g-luks-second", &root)
        .arg("kindling.platform.id=qemu")
        .arg("rd.driver.pre=dm_crypt,xts,aesni_intel")
        .disk(&data)
        .boot();
    second.assert_powered_off();
    second.assert_lacks("Kindling (disks)");
    second.assert_proof("data-mount=/dev/mapper/data ext4");
    second.assert_proof("data-file=stored encrypted");
    second.assert_proof("boots=boot");
}

const ROOT_PROOF: &str = r#"#!/bin/sh
# Prints where the booted system's root lives, then powers off.
{
    echo KINDLING-PROOF-BEGIN
    echo "proof: root=$(findmnt -n -o SOURCE /) $(findmnt -n -o FSTYPE /) $(findmnt -n -o LABEL /)"
    echo "proof: partlabel=$(lsblk -n -o PARTLABEL /dev/vda1)"
    echo "proof: fstab=$(cat /etc/fstab)"
    echo KINDLING-PROOF-END
} >/dev/console 2>&1
systemctl --no-block poweroff
"#;

/// The root filesystem on a partition the disks stage creates: the boot disk holds an empty
/// GPT and, at 1 MiB, the root filesystem with no partition entry over it. The kernel is told
/// `root=/dev/disk/by-partlabel/root`, a device that exists only once Kindling has created the
/// partition, so sysroot.mount waits for the disks stage; the filesystem is the config's
/// (ext4, label root), so it is kept, not re-created.
#[test]
fn the_root_filesystem_is_found_on_a_partition_kindling_creates() {
    let Some(setup) = setup() else { return };
    let dir = run_dir(setup, "l-root-partition");
    let image = dir.join("disk.img");
    let root_len = std::fs::metadata(&setup.root_image)
        .expect("the root image")
        .len();
    blank(&image, (root_len >> 20) + 2);
    sgdisk(&image, &["-o"]);
    let status = Command::new("dd")
        .arg(format!("if={}", setup.root_image.display()))
        .arg(format!("of={}", image.display()))
        .args(["bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"])
        .status()
        .expect("dd");
    assert!(
        status.success(),
        "copying the root filesystem to 1 MiB failed"
    );
    assert!(
        !sgdisk(&image, &["-p"]).contains("8300"),
        "no partition before the boot"
    );

    let data_url = |text: &str| {
        format!(
            "data:;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    };
    let config = json!({
        "ignition": { "version": "3.4.0" },
        "storage": {
            "disks": [{ "device": "/dev/vda", "partitions": [{
                "number": 1, "label": "root", "startMiB": 1, "sizeMiB": root_len >> 20,
                "typeGuid": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
            }] }],
            "filesystems": [{ "device": "/dev/disk/by-partlabel/root", "format": "ext4", "label": "root" }],
            "files": [
                { "path": "/etc/fstab", "overwrite": true,
                  "contents": { "source": data_url("LABEL=root / ext4 rw,errors=remount-ro 0 1\n") } },
                { "path": "/usr/local/bin/root-proof", "mode": 493, "contents": { "source": data_url(ROOT_PROOF) } }
            ]
        },
        "systemd": { "units": [{ "name": "root-proof.service", "enabled": true,
            "contents": "[Unit]\nAfter=boot-report.service\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/root-proof\n\n[Install]\nWantedBy=multi-user.target\n" }] }
    });
    let config_path = dir.join("config.ign");
    std::fs::write(&config_path, serde_json::to_vec(&config).expect("JSON")).expect("config");

    let boot = Vm::new(setup, "l-root-partition", &image)
        .arg("root=/dev/disk/by-partlabel/root")
        .arg("kindling.firstboot")
        .arg("kindling.platform.id=qemu")
        .fw_cfg(&config_path)
        .boot();
    boot.assert_powered_off();
    boot.assert_contains("Finished kindling-disks.service - Kindling (disks).");
    boot.assert_proof("root=/dev/vda1 ext4 root");
    boot.assert_proof("partlabel=root");
    boot.assert_proof("fstab=LABEL=root / ext4 rw,errors=remount-ro 0 1");
    let table = sgdisk(&image, &["-p"]);
    assert!(table.contains("8300  root"), "{table}");
}
