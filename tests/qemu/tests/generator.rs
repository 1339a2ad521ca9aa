//! The first-boot gate without a VM: dracut-module/30kindling/kindling-generator run by bash
//! against a command line in a file, writing into a temporary unit directory. Needs only bash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Generated {
    dir: PathBuf,
}

impl Generated {
    fn units(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect(&self.dir.join("units"), &self.dir.join("units"), &mut found);
        found.sort();
        found
    }

    fn env(&self) -> String {
        std::fs::read_to_string(self.dir.join("kindling.env")).expect("env file")
    }

    fn file(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("units").join(rel)).ok()
    }
}

impl Drop for Generated {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            collect(base, &path, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .expect("below base")
                .display()
                .to_string();
            match std::fs::read_link(&path) {
                Ok(target) => out.push(format!("{rel} -> {}", target.display())),
                Err(_) => out.push(rel),
            }
        }
    }
}

fn generate(cmdline: &str) -> Generated {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kindling-generator-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("cmdline"), format!("{cmdline}\n")).expect("cmdline");
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../dracut-module/30kindling/kindling-generator");
    let output = Command::new("bash")
        .arg(&script)
        .arg(dir.join("units"))
        .env("KINDLING_GENERATOR_STDOUT", "1")
        .env("KINDLING_CMDLINE_FILE", dir.join("cmdline"))
        .env("KINDLING_ENV_FILE", dir.join("kindling.env"))
        .output()
        .expect("running bash");
    assert!(
        output.status.success(),
        "the generator failed for {cmdline:?}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    Generated { dir }
}

const COMPLETE: &str = "initrd.target.requires/kindling-complete.target -> /usr/lib/systemd/system/kindling-complete.target";
const FW_CFG_DROPIN: &str = "kindling-fetch-offline.service.d/10-qemu-fw-cfg.conf";
const QUENCH: &str = "kindling-complete.target.requires/kindling-flatcar-quench.service -> /usr/lib/systemd/system/kindling-flatcar-quench.service";

#[test]
fn without_a_firstboot_argument_nothing_is_added() {
    let g = generate("root=/dev/vda ro console=ttyS0");
    assert_eq!(g.units(), Vec::<String>::new());
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"metal\"\n");
}

#[test]
fn kindling_firstboot_pulls_in_the_stages_and_loads_fw_cfg_on_qemu() {
    let g = generate("root=/dev/vda kindling.firstboot kindling.platform.id=qemu");
    assert_eq!(
        g.units(),
        vec![COMPLETE.to_owned(), FW_CFG_DROPIN.to_owned()]
    );
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"qemu\"\n");
    let dropin = g.file(FW_CFG_DROPIN).expect("drop-in");
    assert!(
        dropin.contains("Wants=modprobe@qemu_fw_cfg.service"),
        "{dropin}"
    );
    assert!(
        dropin.contains("After=modprobe@qemu_fw_cfg.service"),
        "{dropin}"
    );
}

#[test]
fn ignition_aliases_work_and_kindling_names_win() {
    let g = generate("ignition.firstboot=1 ignition.platform.id=file");
    assert_eq!(g.units(), vec![COMPLETE.to_owned()]);
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"file\"\n");

    let g = generate("ignition.firstboot ignition.platform.id=metal kindling.platform.id=qemu");
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"qemu\"\n");
    // An explicit "off" under the kindling name wins over the ignition flag.
    let g = generate("kindling.firstboot=off ignition.firstboot");
    assert_eq!(g.units(), Vec::<String>::new());
}

#[test]
fn firstboot_values_zero_no_off_false_mean_no() {
    for value in ["0", "no", "off", "false"] {
        let g = generate(&format!("kindling.firstboot={value}"));
        assert_eq!(
            g.units(),
            Vec::<String>::new(),
            "kindling.firstboot={value}"
        );
    }
    let g = generate("kindling.firstboot=yes");
    assert_eq!(g.units(), vec![COMPLETE.to_owned()]);
}

#[test]
fn the_last_platform_id_counts_and_odd_ids_are_quoted_for_the_engine_to_refuse() {
    let g = generate("kindling.firstboot kindling.platform.id=metal kindling.platform.id=file");
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"file\"\n");
    let g = generate(r#"kindling.firstboot kindling.platform.id=a\b"c"#);
    assert_eq!(g.env(), concat!(r#"KINDLING_PLATFORM="a\\b\"c""#, "\n"));
}

#[test]
fn explicit_initrd_networking_turns_networkd_back_on() {
    let networkd = [
        "initrd.target.wants/systemd-networkd.service -> /usr/lib/systemd/system/systemd-networkd.service",
        "sockets.target.wants/systemd-networkd.socket -> /usr/lib/systemd/system/systemd-networkd.socket",
    ];
    for cmdline in ["ip=dhcp", "rd.neednet=1", "rd.neednet"] {
        let g = generate(cmdline);
        assert_eq!(g.units(), networkd.map(str::to_owned).to_vec(), "{cmdline}");
    }
    let g = generate("rd.neednet=0");
    assert_eq!(g.units(), Vec::<String>::new());
}

#[test]
fn flatcar_first_boot_counts_with_flatcars_values() {
    // GRUB sets "detected" when it finds the first-boot flag file; "1" and a bare flag are
    // what people type. bootengine's only "off" values are "", 0, no and off.
    for cmdline in [
        "flatcar.first_boot=1",
        "flatcar.first_boot",
        "flatcar.first_boot=false",
        "coreos.first_boot=0 flatcar.first_boot=yes",
        "flatcar.first_boot=0 flatcar.first_boot=1",
    ] {
        let g = generate(cmdline);
        assert_eq!(g.units(), vec![COMPLETE.to_owned()], "{cmdline}");
    }
    // "detected": GRUB found the flag file, which the quench unit removes after provisioning.
    for cmdline in [
        "flatcar.first_boot=detected",
        "coreos.first_boot=detected",
        "flatcar.first_boot=1 coreos.first_boot=detected",
    ] {
        let g = generate(cmdline);
        assert_eq!(
            g.units(),
            vec![COMPLETE.to_owned(), QUENCH.to_owned()],
            "{cmdline}"
        );
    }
    for cmdline in [
        "flatcar.first_boot=",
        "flatcar.first_boot=0",
        "flatcar.first_boot=no",
        "flatcar.first_boot=off",
        "coreos.first_boot=off",
        "flatcar.first_boot=1 flatcar.first_boot=0",
    ] {
        let g = generate(cmdline);
        assert_eq!(g.units(), Vec::<String>::new(), "{cmdline}");
    }
}

#[test]
fn kindling_and_ignition_firstboot_decide_over_flatcars() {
    let g = generate("flatcar.first_boot=detected kindling.firstboot=off");
    assert_eq!(g.units(), Vec::<String>::new());
    let g = generate("flatcar.first_boot=detected kindling.firstboot");
    assert_eq!(g.units(), vec![COMPLETE.to_owned(), QUENCH.to_owned()]);
    let g = generate("flatcar.first_boot=0 ignition.firstboot");
    assert_eq!(g.units(), vec![COMPLETE.to_owned()]);
}

#[test]
fn flatcar_oem_ids_name_the_platform_through_bootengines_table() {
    for (cmdline, platform) in [
        ("flatcar.oem.id=ec2", "aws"),
        ("coreos.oem.id=gce", "gcp"),
        ("flatcar.oem.id=pxe", "metal"),
        ("flatcar.oem.id=azure", "azure"),
        (
            "coreos.oem.id=ec2 flatcar.oem.id=digitalocean",
            "digitalocean",
        ),
        // "metal" under flatcar.oem.id is bootengine's default: coreos.oem.id is asked.
        ("flatcar.oem.id=metal coreos.oem.id=packet", "packet"),
        ("flatcar.oem.id", "metal"),
        // Unknown ids go through for the engine to refuse naming the argument.
        ("flatcar.oem.id=cloudsigma", "cloudsigma"),
        // kindling.platform.id and ignition.platform.id win.
        ("flatcar.oem.id=ec2 ignition.platform.id=file", "file"),
        ("kindling.platform.id=qemu coreos.oem.id=gce", "qemu"),
    ] {
        let g = generate(cmdline);
        assert_eq!(
            g.env(),
            format!("KINDLING_PLATFORM=\"{platform}\"\n"),
            "{cmdline}"
        );
    }
}

#[test]
fn a_flatcar_first_boot_on_qemu_loads_fw_cfg() {
    let g = generate("flatcar.first_boot=detected flatcar.oem.id=qemu");
    assert_eq!(
        g.units(),
        vec![
            COMPLETE.to_owned(),
            QUENCH.to_owned(),
            FW_CFG_DROPIN.to_owned()
        ]
    );
    assert_eq!(g.env(), "KINDLING_PLATFORM=\"qemu\"\n");
}
