//! Flatcar's boot conventions, run through the real binary: the OEM id names the platform,
//! Flatcar's config URL arguments name the config, and `oem://` reads the OEM partition.

mod support;

use support::stage::{assert_fails, assert_ok, Env};
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
        assert_ok(&env.stage("fetch-offline", &[]));
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
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(
        env.config()["storage"]["files"][0]["path"],
        "/etc/flatcar-motd"
    );
}

#[test]
fn an_unknown_oem_id_is_refused_with_the_argument_and_the_list() {
    let env = Env::new("flatcar.first_boot=detected coreos.oem.id=cloudsigma");
    let out = env.stage("fetch-offline", &[]);
    assert_fails(&out, "coreos.oem.id=\"cloudsigma\" names no platform");
    assert_fails(&out, "ec2, gce and pxe stand for aws, gcp and metal");
    assert_fails(&out, "akamai, aliyun, applehv");
    // As the generator passes it through to the units.
    let out = env.stage_with(
        "fetch-offline",
        &["--platform".as_ref(), "cloudsigma".as_ref()],
        &[],
    );
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
        assert_ok(&env.stage("fetch-offline", &[]));
        assert!(env.run_dir().join("neednet").exists(), "{cmdline}");
        assert_ok(&env.stage("fetch", &[]));
        assert_eq!(
            env.config()["storage"]["files"][0]["path"],
            "/etc/flatcar-motd",
            "{cmdline}"
        );
    }
}
