//! The config-drive platforms (openstack, brightbox, cloudstack, nutanix, powervs, kubevirt,
//! ibmcloud, proxmoxve) and azure/azurestack, run as the dracut units run the fetch stages:
//! real filesystem images (vfat made with mtools, iso9660 with xorriso, a UDF bridge disc
//! with genisoimage, ext4) on loop devices, found through a by-label directory of the test's
//! own (`KINDLING_TEST_DISK_BY_LABEL`), and the metadata stand-in on 127.0.0.1.
//!
//! Which filesystems a kernel can mount is the kernel's business: where it lacks vfat,
//! iso9660 or udf (the test machines' kernels have none of the three built in and no modules
//! to load), the tests that use them assert the error the engine then gives (naming device,
//! label and the kernel's refusal) instead of the config, and the mount-and-read path is
//! proven on ext4, which every kernel here mounts. Needs root (loop devices, mount).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::loopdev::{run_ok, LoopDisk};
use support::pgp::Key;
use support::stage::{stderr, Env};

const CONFIG: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/drive","contents":{"source":"data:,from-the-drive"}}]}}"#;
const META_CONFIG: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/meta","contents":{"source":"data:,from-metadata"}}]}}"#;

// ---------------------------------------------------------------------------------------
// Filesystem images

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fs {
    Vfat,
    Iso9660,
    /// A UDF bridge disc (UDF and iso9660 structures), as Azure's provisioning CD-ROM is.
    Udf,
    Ext4,
}

impl Fs {
    /// The name the kernel registers in /proc/filesystems.
    fn kernel_name(self) -> &'static str {
        match self {
            Fs::Vfat => "vfat",
            Fs::Iso9660 => "iso9660",
            Fs::Udf => "udf",
            Fs::Ext4 => "ext4",
        }
    }

    fn kernel_mounts(self) -> bool {
        let known = std::fs::read_to_string("/proc/filesystems").expect("/proc/filesystems");
        known
            .lines()
            .any(|l| l.split_whitespace().last() == Some(self.kernel_name()))
    }
}

/// The filesystem real config drives use that this kernel mounts (vfat, then iso9660), else
/// ext4: the engine mounts with `-t auto` and does not care which.
fn mountable_drive_fs() -> Fs {
    for fs in [Fs::Vfat, Fs::Iso9660] {
        if fs.kernel_mounts() {
            return fs;
        }
    }
    eprintln!("this kernel mounts neither vfat nor iso9660: the drive is ext4");
    Fs::Ext4
}

/// An image with `label` holding `files` (paths relative to its root; a path ending in `/`
/// is a directory), copied onto a fresh loop device.
fn drive(fs: Fs, label: &str, files: &[(&str, &[u8])]) -> LoopDisk {
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    for (path, data) in files {
        let p = src.join(path.trim_end_matches('/'));
        if path.ends_with('/') {
            std::fs::create_dir_all(&p).expect("dir");
        } else {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
            std::fs::write(&p, data).expect("file");
        }
    }
    let img = work.path().join("drive.img");
    let (img_s, src_s) = (img.to_str().expect("utf-8"), src.to_str().expect("utf-8"));
    match fs {
        Fs::Vfat => {
            run_ok("mkfs.vfat", &["-C", "-n", label, img_s, "4096"]);
            let mut args = vec!["-i", img_s, "-s", "-p"];
            let entries: Vec<String> = std::fs::read_dir(&src)
                .expect("src")
                .map(|e| e.expect("entry").path().display().to_string())
                .collect();
            args.extend(entries.iter().map(String::as_str));
            args.push("::/");
            if !entries.is_empty() {
                run_ok("mcopy", &args);
            }
        }
        Fs::Iso9660 => {
            run_ok(
                "xorriso",
                &[
                    "-as", "mkisofs", "-quiet", "-V", label, "-J", "-R", "-o", img_s, src_s,
                ],
            );
        }
        Fs::Udf => {
            run_ok(
                "genisoimage",
                &[
                    "-quiet", "-udf", "-J", "-R", "-V", label, "-o", img_s, src_s,
                ],
            );
        }
        Fs::Ext4 => {
            run_ok("mkfs.ext4", &["-q", "-L", label, "-d", src_s, img_s, "4M"]);
        }
    }
    let disk = LoopDisk::new(8);
    copy_onto(&img, disk.path());
    let probe = disk.probe();
    assert_eq!(probe.label, label, "{fs:?} image on {}", disk.path_str());
    disk
}

fn copy_onto(img: &Path, dev: &Path) {
    let mut from = std::fs::File::open(img).expect("image");
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .open(dev)
        .expect("device");
    std::io::copy(&mut from, &mut to).expect("copying the image");
    to.sync_all().expect("sync");
}

/// Damages an ext4 drive the way a bad write would: the superblock (and so the label and
/// type blkid reports) survives, the group descriptors after it do not.
fn corrupt_ext4(disk: &LoopDisk) {
    support::loopdev::write_at(disk.path(), 2048, &vec![0u8; 1024 * 1024]);
}

// ---------------------------------------------------------------------------------------
// Running the stage

/// A stage run: the test's own by-label directory and run directory.
struct Run {
    env: Env,
    platform: &'static str,
    timeout: u64,
    vars: Vec<(String, String)>,
}

impl Run {
    fn new(platform: &'static str) -> Run {
        Run::with_cmdline(platform, "kindling.firstboot")
    }

    fn with_cmdline(platform: &'static str, cmdline: &str) -> Run {
        let env = Env::new(cmdline);
        std::fs::create_dir_all(env.path("by-label")).expect("by-label");
        std::fs::create_dir_all(env.path("sys/class/block")).expect("sys");
        Run {
            env,
            platform,
            timeout: 20,
            vars: Vec::new(),
        }
    }

    /// `<by-label>/<label> -> /dev/loopN`, as udev links it.
    fn label(&self, label: &str, disk: &LoopDisk) -> &Self {
        std::os::unix::fs::symlink(disk.path(), self.env.path("by-label").join(label))
            .expect("label link");
        self
    }

    /// Makes `disk` one of the block devices the engine lists (`<sysfs>/class/block`).
    fn block_device(&self, disk: &LoopDisk) -> &Self {
        let name = disk.path().file_name().expect("name");
        std::os::unix::fs::symlink(
            Path::new("/sys/class/block").join(name),
            self.env.path("sys/class/block").join(name),
        )
        .expect("sysfs link");
        self
    }

    fn var(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.vars.push((key.to_owned(), value.into()));
        self
    }

    fn stage(&self, stage: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
        cmd.arg(stage)
            .args(["--platform", self.platform])
            .arg("--run-dir")
            .arg(self.env.run_dir())
            .arg("--cmdline-file")
            .arg(self.env.path("cmdline"))
            .arg("--trust-dir")
            .arg(self.env.path("trust"))
            .arg("--base-dir")
            .arg(self.env.path("base.d"))
            .arg("--config-timeout")
            .arg(self.timeout.to_string())
            .env_remove("KINDLING_CONFIG_FILE")
            .env_remove("IGNITION_CONFIG_FILE")
            .env_remove("KINDLING_TEST_METADATA_URL")
            .env("RUST_LOG", "info")
            .env("KINDLING_SYSFS", self.env.path("sys"))
            .env("KINDLING_TEST_DISK_BY_LABEL", self.env.path("by-label"))
            .env("KINDLING_TEST_NETIF_LEASES", self.env.path("leases"));
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.output().expect("kindling runs")
    }

    fn config(&self) -> serde_json::Value {
        self.env.config()
    }

    fn neednet(&self) -> bool {
        self.env.run_dir().join("neednet").exists()
    }
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

#[track_caller]
fn assert_fails(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    for n in needles {
        assert!(stderr(o).contains(n), "expected {n:?} in:\n{}", stderr(o));
    }
}

/// The path of the file the config put in place, if any.
fn files(config: &serde_json::Value) -> Vec<String> {
    config["storage"]["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["path"].as_str().expect("path").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// No config: what an empty user config leaves (the version alone).
#[track_caller]
fn assert_no_config(run: &Run) {
    let cfg = run.config();
    assert_eq!(cfg["ignition"]["version"], "3.6.0");
    assert!(files(&cfg).is_empty(), "{cfg}");
}

/// The private mount points the run logged, each gone, and no mount of `disk` left behind.
#[track_caller]
fn assert_unmounted(o: &Output, disk: &LoopDisk, expect_mounts: usize) {
    let text = stderr(o);
    let dirs: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            l.split_once("read-only on ")
                .map(|(_, d)| PathBuf::from(d.trim()))
        })
        .collect();
    assert_eq!(dirs.len(), expect_mounts, "mounts logged:\n{text}");
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    for dir in &dirs {
        assert!(
            dir.to_string_lossy().starts_with("/run/kindling-drive-"),
            "{}",
            dir.display()
        );
        assert!(!dir.exists(), "{} was not removed", dir.display());
        assert!(
            !info.contains(&format!(" {} ", dir.display())),
            "{} is still mounted",
            dir.display()
        );
    }
    assert!(
        !info.lines().any(|l| l
            .split(" - ")
            .nth(1)
            .is_some_and(|t| t.split(' ').nth(1) == Some(disk.path_str()))),
        "{} is still mounted:\n{info}",
        disk.path_str()
    );
}

// ---------------------------------------------------------------------------------------
// The metadata stand-in (tests/standins/metadata.py, tests/integration/support/standin.rs)

use support::standin::Standin;

/// A stand-in whose user data never comes: every answer is a 503.
fn failing_metadata(platform: &str) -> Standin {
    Standin::start(platform, Some(META_CONFIG.as_bytes()), &["status=503"])
}

// ---------------------------------------------------------------------------------------
// openstack / brightbox

#[test]
fn openstack_reads_the_config_drive_while_the_metadata_service_fails() {
    let disk = drive(
        mountable_drive_fs(),
        "config-2",
        &[("openstack/latest/user_data", CONFIG.as_bytes())],
    );
    let meta = failing_metadata("openstack");
    let mut run = Run::new("openstack");
    run.label("config-2", &disk);
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert!(stderr(&out).contains("the config comes from the config drive labelled \"config-2\""));
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn brightbox_reads_an_upper_case_config_2_drive() {
    let disk = drive(
        Fs::Ext4,
        "CONFIG-2",
        &[("openstack/latest/user_data", CONFIG.as_bytes())],
    );
    let meta = failing_metadata("openstack");
    let mut run = Run::new("brightbox");
    run.label("CONFIG-2", &disk);
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn openstack_drive_without_user_data_is_no_config() {
    let disk = drive(
        mountable_drive_fs(),
        "config-2",
        &[("openstack/latest/meta_data.json", b"{}")],
    );
    let meta = failing_metadata("openstack");
    let mut run = Run::new("openstack");
    run.label("config-2", &disk);
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_no_config(&run);
    assert!(
        stderr(&out).contains("has no /openstack/latest/user_data"),
        "{}",
        stderr(&out)
    );
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn openstack_metadata_404_without_a_drive_is_no_config_at_once() {
    let meta = Standin::start("openstack", None, &[]);
    let mut run = Run::new("openstack");
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let started = Instant::now();
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_no_config(&run);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the drive waits end when the metadata service answers: {:?}",
        started.elapsed()
    );
    assert_eq!(
        meta.requests()
            .iter()
            .map(|r| r.path.as_str())
            .collect::<Vec<_>>(),
        ["/openstack/latest/user_data"]
    );
}

#[test]
fn openstack_metadata_service_config_without_a_drive() {
    let meta = Standin::start("openstack", Some(META_CONFIG.as_bytes()), &[]);
    let mut run = Run::new("openstack");
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/meta"]);
}

#[test]
fn openstack_fails_naming_every_source_when_none_answers() {
    let meta = failing_metadata("openstack");
    let mut run = Run::new("openstack");
    run.timeout = 4;
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_fails(
        &out,
        &[
            "no source of the openstack config answered",
            "config drive labelled \"config-2\" did not appear",
            "config drive labelled \"CONFIG-2\" did not appear",
            "HTTP 503",
            "/openstack/latest/user_data",
        ],
    );
    assert!(!run.env.run_dir().join("config.json").exists());
}

#[test]
fn openstack_cloudstack_and_azure_need_the_network_in_fetch_offline() {
    // A drive with a config is there, but as in Ignition fetch-offline does not read it: the
    // fetch stage races drive and metadata service once the network is up.
    let disk = drive(
        Fs::Ext4,
        "config-2",
        &[
            ("openstack/latest/user_data", CONFIG.as_bytes()),
            ("cloudstack/userdata/user_data.txt", CONFIG.as_bytes()),
        ],
    );
    for (platform, standin) in [
        ("openstack", "openstack"),
        ("cloudstack", "cloudstack"),
        ("azure", "azure"),
    ] {
        let meta = Standin::start(standin, Some(META_CONFIG.as_bytes()), &[]);
        let mut run = Run::new(platform);
        run.label("config-2", &disk);
        run.var("KINDLING_TEST_METADATA_URL", meta.url());
        let out = run.stage("fetch-offline");
        assert_ok(&out);
        assert!(run.neednet(), "{platform}: neednet\n{}", stderr(&out));
        assert!(
            !run.env.run_dir().join("config.json").exists(),
            "{platform}"
        );
        assert!(
            meta.requests().is_empty(),
            "{platform}: offline means no request"
        );
        assert_unmounted(&out, &disk, 0);
    }
}

// ---------------------------------------------------------------------------------------
// Drives read in fetch-offline: nutanix, powervs, kubevirt, ibmcloud, proxmoxve

#[test]
fn drive_platforms_read_their_drive_in_fetch_offline() {
    let fs = mountable_drive_fs();
    let cases: [(&str, &str, &str); 6] = [
        ("nutanix", "config-2", "openstack/latest/user_data"),
        ("powervs", "config-2", "openstack/latest/user_data"),
        ("kubevirt", "cidata", "user-data"),
        ("kubevirt", "config-2", "openstack/latest/user_data"),
        ("ibmcloud", "cidata", "user-data"),
        ("proxmoxve", "cidata", "user-data"),
    ];
    for (platform, label, file) in cases {
        let disk = drive(fs, label, &[(file, CONFIG.as_bytes())]);
        let run = Run::new(platform);
        run.label(label, &disk);
        let out = run.stage("fetch-offline");
        assert_ok(&out);
        assert!(!run.neednet(), "{platform}");
        assert_eq!(files(&run.config()), ["/etc/drive"], "{platform} {label}");
        assert_unmounted(&out, &disk, 1);
    }
}

#[test]
fn real_vfat_and_iso9660_drives_are_read_where_the_kernel_mounts_them() {
    for fs in [Fs::Vfat, Fs::Iso9660] {
        let disk = drive(
            fs,
            "config-2",
            &[("openstack/latest/user_data", CONFIG.as_bytes())],
        );
        let run = Run::new("nutanix");
        run.label("config-2", &disk);
        let out = run.stage("fetch-offline");
        if fs.kernel_mounts() {
            assert_ok(&out);
            assert_eq!(files(&run.config()), ["/etc/drive"], "{fs:?}");
        } else {
            assert_fails(
                &out,
                &[
                    "mounting the config drive labelled \"config-2\"",
                    disk.path_str(),
                    &format!("unknown filesystem type '{}'", fs.kernel_name()),
                ],
            );
        }
        assert_unmounted(&out, &disk, 1);
    }
}

#[test]
fn a_drive_with_a_damaged_filesystem_fails_naming_device_and_label() {
    let disk = drive(
        Fs::Ext4,
        "config-2",
        &[("openstack/latest/user_data", CONFIG.as_bytes())],
    );
    corrupt_ext4(&disk);
    let run = Run::new("nutanix");
    run.label("config-2", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            &format!(
                "mounting the config drive labelled \"config-2\" ({})",
                disk.path_str()
            ),
            "its filesystem is damaged",
            "mount -o ro -t auto",
        ],
    );
    assert!(!run.env.run_dir().join("config.json").exists());
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn the_drive_is_unmounted_when_reading_fails() {
    // user_data is a directory: the open succeeds, the read does not.
    let disk = drive(
        Fs::Ext4,
        "config-2",
        &[("openstack/latest/user_data/", b"")],
    );
    let run = Run::new("powervs");
    run.label("config-2", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            &format!(
                "reading /openstack/latest/user_data on the config drive labelled \"config-2\" ({}) failed",
                disk.path_str()
            ),
            "Is a directory",
        ],
    );
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn a_drive_config_over_the_policy_limit_is_refused_and_the_drive_unmounted() {
    let disk = drive(Fs::Ext4, "cidata", &[("user-data", CONFIG.as_bytes())]);
    let run = Run::new("ibmcloud");
    run.env.trust(Some(r#"{"maxConfigBytes": 16}"#), &[]);
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            "/user-data on the config drive labelled \"cidata\"",
            "larger than the limit of 16 bytes",
        ],
    );
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn nutanix_without_its_drive_fails_after_the_budget() {
    let mut run = Run::new("nutanix");
    run.timeout = 3;
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            "the config drive labelled \"config-2\" did not appear at",
            "within 2 s",
        ],
    );
}

#[test]
fn ibmcloud_without_its_drive_is_no_config() {
    let mut run = Run::new("ibmcloud");
    run.timeout = 3;
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_no_config(&run);
    assert!(stderr(&out).contains("did not appear within 2 s; continuing without a config"));
}

#[test]
fn kubevirt_fails_when_its_only_drive_is_damaged() {
    let disk = drive(Fs::Ext4, "cidata", &[("user-data", CONFIG.as_bytes())]);
    corrupt_ext4(&disk);
    let mut run = Run::new("kubevirt");
    run.timeout = 4;
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            "no source of the kubevirt config answered",
            &format!(
                "mounting the config drive labelled \"cidata\" ({})",
                disk.path_str()
            ),
            "the config drive labelled \"config-2\" did not appear",
        ],
    );
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn proxmoxve_skips_cloud_config_and_empty_files() {
    let fs = mountable_drive_fs();
    // user-data is cloud-init's: vendor-data is the config.
    let disk = drive(
        fs,
        "cidata",
        &[
            ("user-data", b"#cloud-config\nusers: []\n"),
            ("vendor-data", CONFIG.as_bytes()),
        ],
    );
    let run = Run::new("proxmoxve");
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert_unmounted(&out, &disk, 1);
    drop(disk);

    // Neither qualifies: no config.
    let disk = drive(
        fs,
        "cidata",
        &[("user-data", b""), ("vendor-data", b"#cloud-config\n{}\n")],
    );
    let run = Run::new("proxmoxve");
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_no_config(&run);
    assert_unmounted(&out, &disk, 1);
    drop(disk);

    // Only the exact prefix "#cloud-config\n" is skipped (as in Ignition): a CRLF one is
    // handed on, and fails as the config it is not.
    let disk = drive(fs, "cidata", &[("user-data", b"#cloud-config\r\n{}\r\n")]);
    let run = Run::new("proxmoxve");
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_unmounted(&out, &disk, 1);
}

// ---------------------------------------------------------------------------------------
// cloudstack

#[test]
fn cloudstack_asks_the_dhcp_server_named_in_the_networkd_lease() {
    // The lease names a loopback address of this test's own; the stand-in listens there on
    // port 80, as the virtual router does, so the URL is the production one.
    let server = "127.77.0.1";
    let meta = Standin::start_on("cloudstack", Some(META_CONFIG.as_bytes()), &[], server, 80);
    let run = Run::new("cloudstack");
    std::fs::create_dir_all(run.env.path("leases")).expect("leases");
    std::fs::write(
        run.env.path("leases/1"),
        "# This is private data. Do not parse.\nADDRESS=10.1.1.23\n",
    )
    .expect("lease without a server");
    // Not a lease: far larger than one, so it is skipped unread, whatever it ends with.
    let mut huge = "#".repeat(100 << 10);
    huge.push_str("\nSERVER_ADDRESS=127.0.0.9\n");
    std::fs::write(run.env.path("leases/0"), huge).expect("huge lease");
    std::fs::write(
        run.env.path("leases/2"),
        format!("# This is private data. Do not parse.\nADDRESS=10.1.1.23\nNETMASK=255.255.255.0\nROUTER=10.1.1.1\nSERVER_ADDRESS={server}\nT1=1800\n"),
    )
    .expect("lease");
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/meta"]);
    assert!(stderr(&out).contains(&format!("the metadata server is the DHCP server, {server}")));
    assert!(
        stderr(&out).contains("leases/0: larger than 65536 bytes, not a networkd lease"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        meta.requests()
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
            .collect::<Vec<_>>(),
        [("GET", "/latest/user-data")]
    );
}

#[test]
fn cloudstack_reads_its_file_on_the_config_drive() {
    let disk = drive(
        mountable_drive_fs(),
        "config-2",
        &[("cloudstack/userdata/user_data.txt", CONFIG.as_bytes())],
    );
    let run = Run::new("cloudstack");
    run.label("config-2", &disk);
    // No lease: the metadata server is never found, the drive decides.
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert_unmounted(&out, &disk, 1);
}

// ---------------------------------------------------------------------------------------
// azure / azurestack

#[test]
fn azure_retries_404_410_and_429_then_reads_base64_user_data() {
    let meta = Standin::start(
        "azure",
        Some(CONFIG.as_bytes()),
        &["404x2", "410x1", "429x1"],
    );
    let mut run = Run::new("azure");
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    let requests = meta.requests();
    assert_eq!(requests.len(), 5, "{requests:?}");
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.path,
            "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"
        );
        assert_eq!(r.headers.get("metadata").map(String::as_str), Some("true"));
    }
}

#[test]
fn azure_fails_on_a_status_it_does_not_retry() {
    let meta = Standin::start("azure", Some(CONFIG.as_bytes()), &["status=403"]);
    let mut run = Run::new("azure");
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    assert_fails(&out, &["the azure user data from", "HTTP 403"]);
}

#[test]
fn azure_with_empty_user_data_reads_custom_data_from_the_ovf_cdrom() {
    let cdrom = drive(
        Fs::Udf,
        "rd_rdfe_stable",
        &[
            ("ovf-env.xml", b"<Environment/>\n"),
            ("CustomData.bin", CONFIG.as_bytes()),
        ],
    );
    assert_eq!(cdrom.probe().fstype, "udf");
    // Another udf disc without ovf-env.xml is passed over.
    let other = drive(Fs::Udf, "OTHER", &[("README", b"not the OVF disc\n")]);
    let meta = Standin::start("azure", Some(b""), &[]);
    let mut run = Run::new("azure");
    run.timeout = 6;
    run.block_device(&cdrom).block_device(&other);
    run.var("KINDLING_TEST_METADATA_URL", meta.url());
    let out = run.stage("fetch");
    if Fs::Udf.kernel_mounts() {
        assert_ok(&out);
        assert_eq!(files(&run.config()), ["/etc/drive"]);
    } else {
        assert_fails(
            &out,
            &[
                "no azure OVF CD-ROM (a udf filesystem with ovf-env.xml) appeared",
                &format!("{} (udf): mounting the azure OVF CD-ROM", cdrom.path_str()),
                "unknown filesystem type 'udf'",
            ],
        );
    }
    // Every udf disc is mounted once where the kernel can (the one without ovf-env.xml only
    // when it comes first), and both are tried where it cannot.
    let mounts = if Fs::Udf.kernel_mounts() && cdrom.path() < other.path() {
        1
    } else {
        2
    };
    assert_unmounted(&out, &cdrom, mounts);
    assert_unmounted(&out, &other, mounts);
}

#[test]
fn azurestack_reads_an_iso9660_cdrom_in_fetch_offline() {
    let cdrom = drive(
        Fs::Iso9660,
        "OVF",
        &[
            ("ovf-env.xml", b"<Environment/>\n"),
            ("CustomData.bin", CONFIG.as_bytes()),
        ],
    );
    let mut run = Run::new("azurestack");
    run.timeout = 4;
    run.block_device(&cdrom);
    let out = run.stage("fetch-offline");
    if Fs::Iso9660.kernel_mounts() {
        assert_ok(&out);
        assert!(!run.neednet());
        assert_eq!(files(&run.config()), ["/etc/drive"]);
    } else {
        assert_fails(
            &out,
            &[
                "no azurestack OVF CD-ROM (a udf or iso9660 filesystem with ovf-env.xml) appeared",
                &format!(
                    "{} (iso9660): mounting the azurestack OVF CD-ROM",
                    cdrom.path_str()
                ),
                "unknown filesystem type 'iso9660'",
            ],
        );
    }
    assert_unmounted(&out, &cdrom, 1);
}

#[test]
fn azurestack_without_a_cdrom_fails_after_the_budget() {
    let mut run = Run::new("azurestack");
    run.timeout = 3;
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &["no azurestack OVF CD-ROM (a udf or iso9660 filesystem with ovf-env.xml) appeared within"],
    );
}

// ---------------------------------------------------------------------------------------
// Signed user data: the initramfs policy decides, whatever the drive

#[test]
fn signed_user_data_on_a_drive_is_verified_and_unsigned_refused() {
    let fs = mountable_drive_fs();
    let key = Key::new("ops");
    let policy = Some(r#"{"require":"signature"}"#);
    let signed = key.message(CONFIG.as_bytes(), true, false);
    let disk = drive(fs, "cidata", &[("user-data", &signed)]);
    let run = Run::new("kubevirt");
    run.env.trust(policy, &[("ops.asc", &key.public_armored())]);
    run.label("cidata", &disk);
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(run.env.run_dir().join("state.json")).expect("state.json"),
    )
    .expect("json");
    assert_eq!(state["signer"], key.fingerprint());
    assert_unmounted(&out, &disk, 1);
    drop(disk);

    let disk = drive(
        fs,
        "config-2",
        &[("openstack/latest/user_data", CONFIG.as_bytes())],
    );
    let run = Run::new("nutanix");
    run.env.trust(policy, &[("ops.asc", &key.public_armored())]);
    run.label("config-2", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(&out, &["it is not signed"]);
    assert!(!run.env.run_dir().join("config.json").exists());
    assert_unmounted(&out, &disk, 1);
}

// ---------------------------------------------------------------------------------------
// kindling.config.device + kindling.config.path (Ignition 2.27's ignition.config.*)

const DEVICE_ARGS: &str =
    "kindling.firstboot ignition.config.device=KCONFIG ignition.config.path=/ign/../provision/config.ign";

#[test]
fn the_config_is_read_from_the_labelled_device_on_metal_in_fetch_offline() {
    let disk = drive(
        Fs::Ext4,
        "KCONFIG",
        &[("provision/config.ign", CONFIG.as_bytes())],
    );
    let run = Run::with_cmdline("metal", DEVICE_ARGS);
    run.label("KCONFIG", &disk);
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert!(!run.neednet());
    assert_unmounted(&out, &disk, 1);
    assert_eq!(
        state(&run)["source"],
        "/provision/config.ign on the device labelled KCONFIG"
    );
}

fn state(run: &Run) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(run.env.run_dir().join("state.json")).expect("state.json"),
    )
    .expect("json")
}

#[test]
fn the_device_config_is_verified_like_any_other() {
    let key = Key::new("ops");
    let policy = Some(r#"{"require":"signature"}"#);
    let signed = key.message(CONFIG.as_bytes(), true, false);
    for (bytes, signed) in [(&signed[..], true), (CONFIG.as_bytes(), false)] {
        let disk = drive(Fs::Ext4, "KCONFIG", &[("provision/config.ign", bytes)]);
        let run = Run::with_cmdline("metal", DEVICE_ARGS);
        run.env.trust(policy, &[("ops.asc", &key.public_armored())]);
        run.label("KCONFIG", &disk);
        let out = run.stage("fetch-offline");
        if signed {
            assert_ok(&out);
            assert_eq!(files(&run.config()), ["/etc/drive"]);
            assert_eq!(state(&run)["signer"], key.fingerprint());
        } else {
            assert_fails(&out, &["it is not signed"]);
            assert!(!run.env.run_dir().join("config.json").exists());
        }
        assert_unmounted(&out, &disk, 1);
    }
}

#[test]
fn a_link_on_the_device_cannot_lead_out_of_it() {
    // The file on the device is a link to a file of the machine running the engine: it is
    // resolved inside the device, where there is no such file.
    let outside = tempfile::NamedTempFile::new().expect("outside");
    std::fs::write(outside.path(), CONFIG).expect("outside config");
    let disk = drive(Fs::Ext4, "KCONFIG", &[("provision/", b"")]);
    let mnt = tempfile::tempdir().expect("mnt");
    run_ok(
        "mount",
        &[disk.path_str(), mnt.path().to_str().expect("utf-8")],
    );
    std::os::unix::fs::symlink(outside.path(), mnt.path().join("provision/config.ign"))
        .expect("link");
    run_ok("umount", &[mnt.path().to_str().expect("utf-8")]);
    let run = Run::with_cmdline("metal", DEVICE_ARGS);
    run.label("KCONFIG", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &["/provision/config.ign is not on the device labelled \"KCONFIG\""],
    );
    assert!(!run.env.run_dir().join("config.json").exists());
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn a_missing_file_on_the_device_is_an_error_naming_it() {
    let disk = drive(Fs::Ext4, "KCONFIG", &[("other.ign", CONFIG.as_bytes())]);
    let run = Run::with_cmdline("metal", DEVICE_ARGS);
    run.label("KCONFIG", &disk);
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            "/provision/config.ign is not on the device labelled \"KCONFIG\"",
            disk.path_str(),
            "correct kindling.config.path",
        ],
    );
    assert_unmounted(&out, &disk, 1);
}

#[test]
fn a_device_that_never_appears_fails_within_the_budget() {
    let mut run = Run::with_cmdline("metal", DEVICE_ARGS);
    run.timeout = 3;
    let started = Instant::now();
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &[
            "the device labelled \"KCONFIG\" did not appear at",
            "within 2 s",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn half_a_device_argument_is_refused_and_a_url_wins_over_both() {
    let run = Run::with_cmdline("metal", "kindling.firstboot ignition.config.path=/c.ign");
    let out = run.stage("fetch-offline");
    assert_fails(
        &out,
        &["kindling.config.path is on the kernel command line without kindling.config.device"],
    );
    let run = Run::with_cmdline(
        "metal",
        "kindling.firstboot kindling.config.device=../sda kindling.config.path=/c.ign",
    );
    assert_fails(
        &run.stage("fetch-offline"),
        &["\"../sda\" is not a filesystem label"],
    );

    // The URL is used, and the device is not even waited for.
    use base64::Engine as _;
    let url = format!(
        "data:;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(CONFIG)
    );
    let run = Run::with_cmdline("metal", &format!("{DEVICE_ARGS} ignition.config.url={url}"));
    let out = run.stage("fetch-offline");
    assert_ok(&out);
    assert_eq!(files(&run.config()), ["/etc/drive"]);
    assert!(
        stderr(&out).contains("kindling.config.url takes precedence"),
        "{}",
        stderr(&out)
    );
}
