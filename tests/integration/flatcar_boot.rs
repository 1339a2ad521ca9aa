//! Flatcar's boot conventions, run through the real binary: the OEM id names the platform,
//! Flatcar's config URL arguments name the config, and `oem://` reads the OEM partition.

use crate::support;

use std::path::{Path, PathBuf};

use support::loopdev::{require_root, run_ok, LoopDisk};
use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::{ok, Server};

/// A spec 2.x config, as a Flatcar machine would be given it.
const V2_CFG: &str = r#"{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/flatcar-motd","contents":{"source":"data:,hello"},"mode":420}]}}"#;

fn with_fw_cfg(cmdline: &str, config: &str) -> Env {
    let env = Env::new(cmdline);
    let fw = env.path("sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config");
    std::fs::create_dir_all(&fw).expect("fw_cfg dir");
    std::fs::write(fw.join("raw"), config).expect("raw");
    env
}

#[test]
fn flatcar_oem_id_qemu_reads_the_config_from_fw_cfg() {
    for cmdline in [
        "flatcar.first_boot=detected flatcar.oem.id=qemu",
        "coreos.first_boot=1 coreos.oem.id=qemu",
    ] {
        let env = with_fw_cfg(cmdline, V2_CFG);
        let vars = oem_vars(&env);
        assert_ok(&run(&env, "fetch-offline", &vars, &[]));
        assert_eq!(
            env.config()["storage"]["files"][0]["path"],
            "/etc/flatcar-motd",
            "{cmdline}"
        );
    }
}

#[test]
fn an_explicit_platform_id_wins_over_the_oem_id() {
    // ec2 would be aws, whose metadata service is not there: qemu must be used.
    let env = with_fw_cfg("flatcar.oem.id=ec2 kindling.platform.id=qemu", V2_CFG);
    let vars = oem_vars(&env);
    assert_ok(&run(&env, "fetch-offline", &vars, &[]));
    assert_eq!(
        env.config()["storage"]["files"][0]["path"],
        "/etc/flatcar-motd"
    );
}

#[test]
fn an_unknown_oem_id_is_refused_with_the_argument_and_the_list() {
    let env = Env::new("flatcar.first_boot=detected coreos.oem.id=cloudsigma");
    let vars = oem_vars(&env);
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(&out, "coreos.oem.id=\"cloudsigma\" names no platform");
    assert_fails(&out, "ec2, gce and pxe stand for aws, gcp and metal");
    assert_fails(&out, "akamai, aliyun, applehv");
    // As the generator passes it through to the units.
    let out = run(&env, "fetch-offline", &vars, &["--platform", "cloudsigma"]);
    assert_fails(&out, "coreos.oem.id=\"cloudsigma\" names no platform");
}

#[test]
fn flatcar_config_url_names_the_config_and_the_last_alias_wins() {
    let server = Server::start("127.0.0.1", |req, _| {
        if req.path == "/right.ign" {
            ok(V2_CFG.as_bytes())
        } else {
            ok(br#"{"ignition":{"version":"3.0.0"}}"#)
        }
    });
    for cmdline in [
        format!("flatcar.config.url={}", server.url("/right.ign")),
        format!(
            "flatcar.config.url={} coreos.config.url={}",
            server.url("/wrong.ign"),
            server.url("/right.ign")
        ),
        format!(
            "coreos.config.url={} ignition.config.url={} flatcar.config.url={}",
            server.url("/wrong.ign"),
            server.url("/wrong.ign"),
            server.url("/right.ign")
        ),
    ] {
        let env = Env::new(&cmdline);
        let vars = oem_vars(&env);
        assert_ok(&run(&env, "fetch-offline", &vars, &[]));
        assert!(env.run_dir().join("neednet").exists(), "{cmdline}");
        assert_ok(&run(&env, "fetch", &vars, &[]));
        assert_eq!(
            env.config()["storage"]["files"][0]["path"],
            "/etc/flatcar-motd",
            "{cmdline}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// oem:///

/// The OEM lookaside directory (created: with it there, as on a Flatcar PXE boot, OEM
/// configs are not looked for on a partition) and a by-label directory of the test's own.
fn oem_vars(env: &Env) -> Vec<(&'static str, PathBuf)> {
    std::fs::create_dir_all(env.path("oem")).expect("oem dir");
    std::fs::create_dir_all(env.path("by-label")).expect("by-label dir");
    vec![
        ("KINDLING_TEST_OEM_DIR", env.path("oem")),
        ("KINDLING_TEST_DISK_BY_LABEL", env.path("by-label")),
    ]
}

fn run(
    env: &Env,
    stage: &str,
    vars: &[(&'static str, PathBuf)],
    extra: &[&str],
) -> std::process::Output {
    let vars: Vec<(&str, &Path)> = vars.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let extra: Vec<&std::ffi::OsStr> = extra.iter().map(|a| a.as_ref()).collect();
    env.stage_with(stage, &extra, &vars)
}

fn put(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

const MERGING_V2: &str = r#"{"ignition":{"version":"2.3.0","config":{"append":[{"source":"oem:///extra.ign"}]}},"storage":{"files":[{"filesystem":"root","path":"/etc/from-oem","contents":{"source":"oem:///files/motd"},"mode":420}]}}"#;
const EXTRA_V2: &str = r#"{"ignition":{"version":"2.1.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/extra","contents":{"source":"data:,extra"},"mode":420}]}}"#;

#[test]
fn an_oem_config_url_merges_and_file_contents_come_from_the_lookaside_dir_offline() {
    let env = Env::new(
        "flatcar.first_boot=detected flatcar.oem.id=qemu flatcar.config.url=oem:///config.ign",
    );
    let vars = oem_vars(&env);
    put(&env.path("oem/config.ign"), MERGING_V2);
    put(&env.path("oem/extra.ign"), EXTRA_V2);
    put(
        &env.path("oem/files/motd"),
        "hello from the OEM partition\n",
    );
    assert_ok(&run(&env, "fetch-offline", &vars, &[]));
    assert!(
        !env.run_dir().join("neednet").exists(),
        "oem:// needs no network"
    );
    let cfg = env.config();
    let paths: Vec<&str> = cfg["storage"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["/etc/from-oem", "/etc/extra"]);

    let root = env.path("root");
    std::fs::create_dir_all(root.join("etc")).expect("root");
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\n").expect("group");
    let out = run(
        &env,
        "files",
        &vars,
        &["--root", root.to_str().expect("utf-8")],
    );
    assert_ok(&out);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/from-oem")).expect("written"),
        "hello from the OEM partition\n"
    );
}

#[test]
fn a_3x_config_cannot_use_oem_urls() {
    let env = Env::new("flatcar.config.url=oem:///config.ign");
    let vars = oem_vars(&env);
    put(
        &env.path("oem/config.ign"),
        r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/x","contents":{"source":"oem:///x"}}]}}"#,
    );
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(&out, "$.storage.files.0.contents.source");
    assert_fails(
        &out,
        "oem:// (Flatcar's OEM partition) is read only in spec 1 and 2.x configs",
    );
}

#[test]
fn strict_chain_covers_oem_resources() {
    let env = Env::new("flatcar.config.url=oem:///config.ign");
    env.trust(Some(r#"{"require":"none","strictChain":true}"#), &[]);
    let vars = oem_vars(&env);
    put(
        &env.path("oem/config.ign"),
        r#"{"ignition":{"version":"2.2.0","config":{"append":[{"source":"oem:///extra.ign"}]}}}"#,
    );
    put(&env.path("oem/extra.ign"), EXTRA_V2);
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(&out, "refused oem:///extra.ign before fetching it");
    assert_fails(&out, "strictChain");
}

#[test]
fn a_missing_oem_file_names_both_places() {
    let mut env = Env::new("flatcar.config.url=oem:///config.ign");
    env.config_timeout = 2;
    let vars = oem_vars(&env);
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(
        &out,
        "reading oem:///config.ign (Flatcar's OEM partition) failed",
    );
    assert_fails(&out, "no partition labelled \"OEM\" appeared");
    assert_fails(&out, &env.path("oem/config.ign").display().to_string());
}

/// An 8 MiB loop device with an ext4 filesystem labelled OEM holding `files`.
fn oem_partition(files: &[(&str, &str)]) -> LoopDisk {
    require_root();
    let src = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        put(&src.path().join(name), text);
    }
    let disk = LoopDisk::new(8);
    run_ok(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-L",
            "OEM",
            "-d",
            src.path().to_str().expect("utf-8"),
            disk.path_str(),
        ],
    );
    disk
}

fn mounted_anywhere(disk: &LoopDisk) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    info.lines().any(|l| {
        l.split(" - ")
            .nth(1)
            .is_some_and(|t| t.split(' ').nth(1) == Some(disk.path_str()))
    })
}

#[test]
fn oem_files_come_from_the_oem_partition_mounted_read_only_and_unmounted_after() {
    let disk = oem_partition(&[("config.ign", MERGING_V2), ("extra.ign", EXTRA_V2)]);
    let env = Env::new("flatcar.first_boot=detected flatcar.config.url=oem:///config.ign");
    let vars = oem_vars(&env);
    std::fs::remove_dir(env.path("oem")).expect("no lookaside dir: a disk boot");
    std::os::unix::fs::symlink(disk.path(), env.path("by-label/OEM")).expect("label link");
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_ok(&out);
    let text = stderr(&out);
    let mounts: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            l.split_once("read-only on ")
                .map(|(_, d)| PathBuf::from(d.trim()))
        })
        .collect();
    // config.ign, extra.ign, and the look for base/base.ign (a Flatcar boot).
    assert_eq!(mounts.len(), 3, "one mount per read:\n{text}");
    for dir in &mounts {
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
    assert!(
        !mounted_anywhere(&disk),
        "the OEM partition is still mounted"
    );
    assert_eq!(env.config()["storage"]["files"][1]["path"], "/etc/extra");
}

#[test]
fn a_file_missing_on_the_oem_partition_is_named_and_the_partition_unmounted() {
    let disk = oem_partition(&[("other", "x")]);
    let env = Env::new("flatcar.config.url=oem:///config.ign");
    let vars = oem_vars(&env);
    std::fs::remove_dir(env.path("oem")).expect("no lookaside dir: a disk boot");
    std::os::unix::fs::symlink(disk.path(), env.path("by-label/OEM")).expect("label link");
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(&out, "neither");
    assert_fails(&out, "nor /config.ign on the OEM partition");
    assert!(
        !mounted_anywhere(&disk),
        "the OEM partition is still mounted"
    );
}

// ---------------------------------------------------------------------------------------
// The OEM partition's base/base.ign and config.ign

const OEM_BASE: &str = r#"{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/oem-base","contents":{"source":"data:,base"},"mode":420},{"filesystem":"root","path":"/etc/shared","contents":{"source":"data:,from-base"},"mode":420}]}}"#;
const OEM_USER: &str = r#"{"ignition":{"version":"2.3.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/shared","contents":{"source":"data:,from-user"},"mode":420}]}}"#;

fn state_source(env: &Env) -> String {
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.run_dir().join("state.json")).expect("state.json"),
    )
    .expect("json");
    state["source"].as_str().expect("source").to_owned()
}

fn file_sources(env: &Env) -> Vec<(String, String)> {
    env.config()["storage"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_owned(),
                f["contents"]["source"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn on_a_flatcar_boot_the_oem_base_config_goes_under_the_oem_user_config() {
    // The platform (qemu) has a config too: the OEM config.ign preempts it, as Flatcar's
    // initramfs makes it the system user.ign.
    let env = with_fw_cfg("flatcar.first_boot=detected flatcar.oem.id=qemu", V2_CFG);
    let vars = oem_vars(&env);
    put(&env.path("oem/base/base.ign"), OEM_BASE);
    put(&env.path("oem/config.ign"), OEM_USER);
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_ok(&out);
    assert_eq!(
        file_sources(&env),
        [
            ("/etc/oem-base".to_owned(), "data:,base".to_owned()),
            ("/etc/shared".to_owned(), "data:,from-user".to_owned()),
        ]
    );
    assert_eq!(
        state_source(&env),
        "oem:///config.ign (Flatcar's OEM partition)"
    );
}

#[test]
fn without_an_oem_config_ign_the_platform_config_is_used_over_the_oem_base() {
    let mut env = with_fw_cfg("coreos.oem.id=qemu", V2_CFG);
    env.config_timeout = 2;
    let vars = oem_vars(&env);
    put(&env.path("oem/base/base.ign"), OEM_BASE);
    assert_ok(&run(&env, "fetch-offline", &vars, &[]));
    let paths: Vec<String> = file_sources(&env).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/etc/oem-base", "/etc/shared", "/etc/flatcar-motd"]);
    assert!(
        state_source(&env).contains("fw_cfg"),
        "{}",
        state_source(&env)
    );
}

#[test]
fn a_boot_without_flatcar_arguments_ignores_the_oem_configs() {
    let env = with_fw_cfg("kindling.platform.id=qemu", V2_CFG);
    let vars = oem_vars(&env);
    put(&env.path("oem/base/base.ign"), OEM_BASE);
    put(&env.path("oem/config.ign"), OEM_USER);
    assert_ok(&run(&env, "fetch-offline", &vars, &[]));
    let paths: Vec<String> = file_sources(&env).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/etc/flatcar-motd"]);
}

#[test]
fn a_policy_that_requires_verification_refuses_the_oem_base_config() {
    let env = with_fw_cfg("flatcar.oem.id=qemu", V2_CFG);
    let hash = kindling::fetch::hash::sha512_of(V2_CFG.as_bytes()).to_string();
    std::fs::write(
        env.path("cmdline"),
        format!("flatcar.oem.id=qemu kindling.config.hash={hash}"),
    )
    .expect("cmdline");
    env.trust(Some(r#"{"require":"hash"}"#), &[]);
    let vars = oem_vars(&env);
    put(&env.path("oem/base/base.ign"), OEM_BASE);
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(
        &out,
        "refusing Flatcar's OEM base config oem:///base/base.ign",
    );
    assert_fails(&out, "requires hash");
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn oem_configs_come_off_the_oem_partition_which_is_unmounted_after() {
    let disk = oem_partition(&[("base/base.ign", OEM_BASE), ("config.ign", OEM_USER)]);
    let env = Env::new("flatcar.first_boot=detected flatcar.oem.id=qemu");
    let vars = oem_vars(&env);
    std::fs::remove_dir(env.path("oem")).expect("no lookaside dir: a disk boot");
    std::os::unix::fs::symlink(disk.path(), env.path("by-label/OEM")).expect("label link");
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_ok(&out);
    assert_eq!(
        file_sources(&env),
        [
            ("/etc/oem-base".to_owned(), "data:,base".to_owned()),
            ("/etc/shared".to_owned(), "data:,from-user".to_owned()),
        ]
    );
    assert!(
        !mounted_anywhere(&disk),
        "the OEM partition is still mounted"
    );
}

#[test]
fn without_an_oem_partition_the_platform_config_is_used_after_a_bounded_wait() {
    let mut env = with_fw_cfg("flatcar.first_boot=detected flatcar.oem.id=qemu", V2_CFG);
    env.config_timeout = 4;
    let vars = oem_vars(&env);
    std::fs::remove_dir(env.path("oem")).expect("no lookaside dir: a disk boot");
    let started = std::time::Instant::now();
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_ok(&out);
    // Half the budget for config.ign; base.ign does not wait again.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.config()["storage"]["files"][0]["path"],
        "/etc/flatcar-motd"
    );
}

// ---------------------------------------------------------------------------------------
// dracut-module/30kindling/kindling-flatcar-quench.sh: GRUB's first-boot flag

fn quench(device: &Path) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("dracut-module/30kindling/kindling-flatcar-quench.sh"),
        )
        .env("KINDLING_ESP_DEVICE", device)
        .output()
        .expect("running bash")
}

fn esp(files: &[(&str, &str)]) -> LoopDisk {
    require_root();
    let src = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        put(&src.path().join(name), text);
    }
    let disk = LoopDisk::new(8);
    run_ok(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-L",
            "EFI-SYSTEM",
            "-d",
            src.path().to_str().expect("utf-8"),
            disk.path_str(),
        ],
    );
    disk
}

/// Whether `rel` exists on `disk` (mounted read-only on a temporary directory to look).
fn exists_on(disk: &LoopDisk, rel: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().to_str().expect("utf-8");
    run_ok("mount", &["-o", "ro", disk.path_str(), mnt]);
    let found = dir.path().join(rel).exists();
    run_ok("umount", &[mnt]);
    found
}

#[test]
fn the_quench_script_removes_flatcars_first_boot_flag_and_unmounts() {
    let disk = esp(&[
        ("flatcar/first_boot", ""),
        ("coreos/first_boot", ""),
        ("flatcar/grub/grub.cfg", "x"),
    ]);
    let out = quench(disk.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!mounted_anywhere(&disk), "the ESP is still mounted");
    assert!(!exists_on(&disk, "flatcar/first_boot"));
    assert!(!exists_on(&disk, "coreos/first_boot"));
    assert!(
        exists_on(&disk, "flatcar/grub/grub.cfg"),
        "nothing else goes"
    );
}

#[test]
fn the_quench_script_fails_when_the_flag_is_not_there() {
    let disk = esp(&[("flatcar/grub/grub.cfg", "x")]);
    let out = quench(disk.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neither flatcar/first_boot nor coreos/first_boot is on"),
        "{err}"
    );
    assert!(!mounted_anywhere(&disk), "the ESP is still mounted");
    let out = quench(Path::new("/nonexistent/esp"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("mounting the EFI system partition /nonexistent/esp"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_oem_config_over_the_limit_is_refused_without_reading_it_whole() {
    let env = Env::new("flatcar.first_boot=detected flatcar.oem.id=qemu");
    env.trust(Some(r#"{"maxConfigBytes": 64}"#), &[]);
    let vars = oem_vars(&env);
    put(&env.path("oem/config.ign"), &" ".repeat(4096));
    let out = run(&env, "fetch-offline", &vars, &[]);
    assert_fails(&out, "oem:///config.ign");
    assert!(stderr(&out).contains("64 bytes"), "{}", stderr(&out));
    assert!(!env.run_dir().join("config.json").exists());
}
