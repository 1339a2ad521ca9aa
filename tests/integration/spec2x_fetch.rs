//! Spec 1 and 2.x configs at boot (issue 14): the fetch stages translate them to 3.x after
//! verification, so the trust policy covers the bytes as delivered, and merged or replacing
//! configs may be 2.x too.

use crate::support;

use std::path::Path;

use kindling::fetch::hash::sha512_of;
use support::pgp::Key;
use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::{ok, Server};

const V2_CFG: &str = r#"{"ignition":{"version":"2.2.0"},"storage":{"filesystems":[{"name":"oem","mount":{"device":"/dev/disk/by-label/OEM","format":"btrfs"}}],"files":[{"filesystem":"root","path":"/etc/motd","contents":{"source":"data:,from%202.2"}},{"filesystem":"oem","path":"/grub.cfg","append":true,"contents":{"source":"data:,set%20x%3D1"}}]},"networkd":{"units":[{"name":"00-eth0.network","contents":"[Match]\nName=eth0\n"}]}}"#;

/// An Env with the config as a file (platform file).
fn file_env(cmdline: &str, config: &[u8]) -> Env {
    let env = Env::new(&format!("kindling.platform.id=file {cmdline}"));
    std::fs::write(env.path("user.ign"), config).expect("config");
    env
}

fn run_file(env: &Env, stage: &str) -> std::process::Output {
    let p = env.path("user.ign");
    env.stage(stage, &[("KINDLING_CONFIG_FILE", p.as_path() as &Path)])
}

fn paths(env: &Env) -> Vec<String> {
    env.config()["storage"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_owned())
        .collect()
}

#[test]
fn a_2x_config_is_translated_into_config_json() {
    let env = file_env("", V2_CFG.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    let cfg = env.config();
    assert_eq!(cfg["ignition"]["version"], "3.6.0");
    assert_eq!(
        paths(&env),
        [
            "/etc/motd",
            "/usr/share/oem/grub.cfg",
            "/etc/systemd/network/00-eth0.network"
        ]
    );
    assert_eq!(
        cfg["storage"]["files"][1]["append"][0]["source"],
        "data:,set%20x%3D1"
    );
    assert_eq!(cfg["storage"]["filesystems"][0]["path"], "/usr/share/oem");
}

#[test]
fn a_spec_1_config_is_translated_into_config_json() {
    let v1 =
        r#"{"ignitionVersion":1,"systemd":{"units":[{"name":"etcd2.service","enable":true}]}}"#;
    let env = file_env("", v1.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    let unit = &env.config()["systemd"]["units"][0];
    assert_eq!(unit["name"], "etcd2.service");
    assert_eq!(unit["enabled"], true);
}

#[test]
fn an_invalid_2x_config_fails_the_stage_with_its_own_path() {
    let bad = r#"{"ignition":{"version":"2.3.0"},"storage":{"files":[{"filesystem":"data","path":"/a"}]}}"#;
    let env = file_env("", bad.as_bytes());
    let out = run_file(&env, "fetch-offline");
    assert_fails(&out, "error at $.storage.files.0.filesystem");
    assert!(
        stderr(&out).contains("filesystem \"data\" is not defined"),
        "{}",
        stderr(&out)
    );
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn the_hash_pin_covers_the_2x_bytes_as_delivered() {
    let pin = sha512_of(V2_CFG.as_bytes());
    let env = file_env(&format!("kindling.config.hash={pin}"), V2_CFG.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_eq!(env.config()["ignition"]["version"], "3.6.0");

    // A pin of the translated config is not a pin of what was delivered.
    let translated = std::fs::read(env.run_dir().join("config.json")).expect("config.json");
    let wrong = sha512_of(&translated);
    let env = file_env(&format!("kindling.config.hash={wrong}"), V2_CFG.as_bytes());
    assert_fails(
        &run_file(&env, "fetch-offline"),
        "does not match kindling.config.hash",
    );
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn a_signed_2x_config_is_verified_then_translated() {
    let key = Key::new("ops");
    let env = file_env("", &key.message(V2_CFG.as_bytes(), true, false));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_eq!(paths(&env)[0], "/etc/motd");

    let intruder = Key::new("intruder");
    let env = file_env("", &intruder.message(V2_CFG.as_bytes(), true, false));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_fails(
        &run_file(&env, "fetch-offline"),
        "no valid signature from a trusted certificate",
    );
}

#[test]
fn a_3x_config_may_merge_a_2x_child_and_a_2x_config_may_append_one() {
    let child = Server::start("127.0.0.1", |_, _| {
        ok(br#"{"ignition":{"version":"2.1.0"},"storage":{"directories":[{"filesystem":"root","path":"/srv/child"}],"files":[{"filesystem":"root","path":"/etc/child","contents":{"source":"data:,c"}}]}}"#)
    });
    let root = format!(
        r#"{{"ignition":{{"version":"3.3.0","config":{{"merge":[{{"source":"{}"}}]}}}},"storage":{{"files":[{{"path":"/etc/root","contents":{{"source":"data:,r"}}}}]}}}}"#,
        child.url("/child.ign")
    );
    let env = file_env("", root.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_ok(&run_file(&env, "fetch"));
    assert_eq!(paths(&env), ["/etc/root", "/etc/child"]);
    assert_eq!(
        env.config()["storage"]["directories"][0]["path"],
        "/srv/child"
    );

    let root = format!(
        r#"{{"ignition":{{"version":"2.0.0","config":{{"append":[{{"source":"{}"}}]}}}}}}"#,
        child.url("/child.ign")
    );
    let env = file_env("", root.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_ok(&run_file(&env, "fetch"));
    assert_eq!(paths(&env), ["/etc/child"]);
}

#[test]
fn an_invalid_2x_child_is_refused_with_the_chain_and_its_path() {
    let child = Server::start("127.0.0.1", |_, _| {
        ok(br#"{"ignition":{"version":"2.2.0"},"systemd":{"units":[{"name":"hello"}]}}"#)
    });
    let root = format!(
        r#"{{"ignition":{{"version":"3.3.0","config":{{"replace":{{"source":"{}"}}}}}}}}"#,
        child.url("/child.ign")
    );
    let env = file_env("", root.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    let out = run_file(&env, "fetch");
    assert_fails(&out, "error at $.systemd.units.0.name");
    assert!(stderr(&out).contains("/child.ign"), "{}", stderr(&out));
    assert!(!env.run_dir().join("config.json").exists());
}
