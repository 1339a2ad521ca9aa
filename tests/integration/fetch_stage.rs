//! Stages fetch-offline and fetch, run as the dracut units run them.

use crate::support;

use std::path::Path;

use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::{ok, status, Server};

const FILE_CFG: &str = r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hi"}}]}}"#;

#[test]
fn file_platform_writes_config_json_0600() {
    let env = Env::new("root=/dev/vda kindling.firstboot kindling.platform.id=file");
    std::fs::write(env.path("user.ign"), FILE_CFG).expect("config");
    let out = env.stage(
        "fetch-offline",
        &[("IGNITION_CONFIG_FILE", &env.path("user.ign"))],
    );
    assert_ok(&out);
    let cfg = env.config();
    assert_eq!(cfg["ignition"]["version"], "3.6.0");
    assert_eq!(cfg["storage"]["files"][0]["path"], "/etc/motd");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.run_dir().join("config.json"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!env.run_dir().join("neednet").exists());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.run_dir().join("state.json")).expect("state"))
            .expect("json");
    assert!(state["configDigest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha512-")));
}

#[test]
fn platform_comes_from_the_ignition_alias() {
    let env = Env::new("ignition.firstboot ignition.platform.id=qemu");
    let fw = env.path("sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config");
    std::fs::create_dir_all(&fw).expect("fw_cfg dir");
    std::fs::write(fw.join("raw"), FILE_CFG).expect("raw");
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(env.config()["storage"]["files"][0]["path"], "/etc/motd");
}

#[test]
fn no_config_is_not_an_error() {
    let env = Env::new("kindling.platform.id=qemu");
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(env.config()["ignition"]["version"], "3.6.0");
}

#[test]
fn remote_config_needs_the_network_then_fetch_gets_it() {
    let server = Server::start("127.0.0.1", |_, _| ok(FILE_CFG.as_bytes()));
    let env = Env::new(&format!(
        "kindling.config.url={}",
        server.url("/config.ign")
    ));
    assert_ok(&env.stage("fetch-offline", &[]));
    assert!(env.run_dir().join("neednet").exists());
    assert!(!env.run_dir().join("config.json").exists());
    assert_eq!(
        server.hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "offline stage stays offline"
    );
    assert!(
        !env.run_dir().join("idle").exists(),
        "no plan before a config"
    );
    assert_ok(&env.stage("fetch", &[]));
    assert_eq!(env.config()["storage"]["files"][0]["path"], "/etc/motd");
    assert!(!env.run_dir().join("neednet").exists());
    // The plan comes with the config: files only, so the other stages' units are skipped.
    for stage in ["kargs", "disks", "mount"] {
        assert!(env.run_dir().join("idle").join(stage).exists(), "{stage}");
    }
}

#[test]
fn the_plan_skips_only_the_stages_without_work() {
    let env = Env::new("kindling.platform.id=file");
    let cfg = r#"{"ignition":{"version":"3.4.0"},"kernelArguments":{"shouldExist":["quiet"]},
        "storage":{"filesystems":[{"device":"/dev/vdb","format":"ext4","wipeFilesystem":true}]}}"#;
    std::fs::write(env.path("user.ign"), cfg).expect("config");
    assert_ok(&env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    ));
    let idle = env.run_dir().join("idle");
    assert!(!idle.join("kargs").exists());
    assert!(!idle.join("disks").exists());
    assert_eq!(
        std::fs::read_to_string(idle.join("mount")).expect("mount marker"),
        "the config has no storage.filesystems with a path\n"
    );
}

/// A local config whose files, LUKS keys or Tang bindings are remote: fetch-offline leaves the
/// config to the fetch stage, which brings the network up, so the later stages can reach them.
#[test]
fn local_configs_with_remote_resources_need_the_network() {
    let cases = [
        (
            r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,a"},"append":[{"source":"https://example.com/more"}]}]}}"#,
            "https://example.com/more",
        ),
        (
            r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","keyFile":{"source":"tftp://10.0.0.1/key"}}]}}"#,
            "tftp://10.0.0.1/key",
        ),
        (
            r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","clevis":{"tang":[{"url":"http://tang.example","thumbprint":"x"}]}}]}}"#,
            "the Tang server http://tang.example ($.storage.luks.0)",
        ),
        (
            r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","clevis":{"custom":{"pin":"sss","config":"{}","needsNetwork":true}}}]}}"#,
            "the clevis pin of $.storage.luks.0",
        ),
    ];
    for (config, what) in cases {
        let env = Env::new("kindling.platform.id=file");
        std::fs::write(env.path("user.ign"), config).expect("config");
        let out = env.stage(
            "fetch-offline",
            &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
        );
        assert_ok(&out);
        assert!(env.run_dir().join("neednet").exists(), "{config}");
        assert!(!env.run_dir().join("config.json").exists(), "{config}");
        assert!(
            stderr(&out).contains(&format!("{what} needs the network")),
            "{}",
            stderr(&out)
        );
    }
    // Local-only resources (data: URLs, a tpm2 binding) need nothing.
    let env = Env::new("kindling.platform.id=file");
    std::fs::write(
        env.path("user.ign"),
        r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","clevis":{"tpm2":true}}],"files":[{"path":"/a","contents":{"source":"data:,a"}}]}}"#,
    )
    .expect("config");
    assert_ok(&env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    ));
    assert!(env.run_dir().join("config.json").exists());
}

#[test]
fn fetch_does_nothing_after_fetch_offline_succeeded() {
    let env = Env::new("kindling.platform.id=file");
    std::fs::write(env.path("user.ign"), FILE_CFG).expect("config");
    assert_ok(&env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    ));
    let out = env.stage("fetch", &[]);
    assert_ok(&out);
    assert!(stderr(&out).contains("already fetched"), "{}", stderr(&out));
}

#[test]
fn merge_chain_is_rendered_depth_first() {
    let child = Server::start("127.0.0.1", |_, _| {
        ok(br#"{"ignition":{"version":"3.2.0"},"storage":{"files":[{"path":"/a","mode":384},{"path":"/c"}]}}"#)
    });
    let root = format!(
        r#"{{"ignition":{{"version":"3.2.0","config":{{"merge":[{{"source":"{}"}},{{"source":"data:,%7B%22ignition%22%3A%7B%22version%22%3A%223.2.0%22%7D%2C%22storage%22%3A%7B%22files%22%3A%5B%7B%22path%22%3A%22%2Fb%22%7D%5D%7D%7D"}}]}}}},"storage":{{"files":[{{"path":"/a","mode":420}}]}}}}"#,
        child.url("/child.ign")
    );
    let env = Env::new("kindling.platform.id=file");
    std::fs::write(env.path("user.ign"), root).expect("config");
    let file = [("KINDLING_CONFIG_FILE", env.path("user.ign"))];
    let file: Vec<(&str, &Path)> = file.iter().map(|(k, v)| (*k, v.as_path())).collect();
    assert_ok(&env.stage("fetch-offline", &file));
    assert!(
        env.run_dir().join("neednet").exists(),
        "the http child needs the network"
    );
    assert_ok(&env.stage("fetch", &file));
    let files = &env.config()["storage"]["files"];
    let paths: Vec<&str> = files
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["/a", "/c", "/b"]);
    assert_eq!(files[0]["mode"], 384, "the child's mode wins");
}

/// Every http request of the fetch stage (the root config, a merged config, a CA bundle)
/// carries Ignition 2.26.0's Accept, Accept-Encoding and User-Agent, which config servers
/// choose their answer by.
#[test]
fn every_config_request_carries_ignitions_headers() {
    let pem = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "/dev/null",
        ])
        .args(["-out", "-", "-subj", "/CN=headers test", "-days", "1"])
        .output()
        .expect("openssl");
    assert!(
        pem.status.success(),
        "{}",
        String::from_utf8_lossy(&pem.stderr)
    );
    let pem = pem.stdout;
    let server = Server::start("127.0.0.1", move |req, _| match req.path.as_str() {
        "/ca.pem" => ok(&pem),
        "/child.ign" => {
            ok(br#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/b"}]}}"#)
        }
        _ => ok(b"{}"),
    });
    let root = format!(
        r#"{{"ignition":{{"version":"3.3.0","config":{{"merge":[{{"source":"{}"}}]}},"security":{{"tls":{{"certificateAuthorities":[{{"source":"{}"}}]}}}}}}}}"#,
        server.url("/child.ign"),
        server.url("/ca.pem")
    );
    let config = Server::start("127.0.0.1", move |_, _| ok(root.as_bytes()));
    let env = Env::new(&format!(
        "kindling.config.url={}",
        config.url("/config.ign")
    ));
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_ok(&env.stage("fetch", &[]));
    assert_eq!(env.config()["storage"]["files"][0]["path"], "/b");
    let mut requests = config.requests.lock().expect("lock").clone();
    requests.extend(server.requests.lock().expect("lock").iter().cloned());
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    for want in ["/config.ign", "/child.ign", "/ca.pem"] {
        assert!(paths.contains(&want), "{want} was not fetched: {paths:?}");
    }
    for r in &requests {
        assert_eq!(
            r.header("Accept"),
            Some("application/vnd.coreos.ignition+json;version=3.6.0, */*;q=0.1"),
            "{}",
            r.path
        );
        assert_eq!(r.header("Accept-Encoding"), Some("identity"), "{}", r.path);
        assert_eq!(
            r.header("User-Agent"),
            Some("Ignition/2.26.0"),
            "{}",
            r.path
        );
    }
}

#[test]
fn merge_cycles_are_refused_with_the_chain() {
    let server = Server::start("127.0.0.1", |req, _| {
        let next = if req.path == "/a.ign" {
            "/b.ign"
        } else {
            "/a.ign"
        };
        let host = req.header("Host").unwrap_or("127.0.0.1").to_owned();
        ok(format!(r#"{{"ignition":{{"version":"3.1.0","config":{{"merge":[{{"source":"http://{host}{next}"}}]}}}}}}"#).as_bytes())
    });
    let env = Env::new(&format!("kindling.config.url={}", server.url("/a.ign")));
    let out = env.stage("fetch", &[]);
    assert_fails(&out, "config references form a cycle");
    assert!(
        stderr(&out).contains("/a.ign → ") && stderr(&out).contains("/b.ign → "),
        "{}",
        stderr(&out)
    );
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn invalid_configs_fail_with_the_report() {
    let env = Env::new("kindling.platform.id=file");
    std::fs::write(
        env.path("user.ign"),
        r#"{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"rel"}]}}"#,
    )
    .expect("cfg");
    let out = env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    );
    assert_fails(
        &out,
        "error at $.storage.files.0.path, line 1 col 61: path not absolute",
    );
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn oversized_configs_are_refused() {
    let big = vec![b' '; kindling_spec::source::MAX_CONFIG_BYTES + 10];
    let server = Server::start("127.0.0.1", move |_, _| ok(&big));
    let env = Env::new(&format!("kindling.config.url={}", server.url("/big.ign")));
    assert_fails(&env.stage("fetch", &[]), "is larger than the limit");
}

#[test]
fn root_config_404_names_the_url() {
    let server = Server::start("127.0.0.1", |_, _| status(404, "Not Found"));
    let env = Env::new(&format!("ignition.config.url={}", server.url("/nope.ign")));
    assert_fails(
        &env.stage("fetch", &[]),
        &format!("not found: {}", server.url("/nope.ign")),
    );
}

#[test]
fn base_configs_go_under_the_user_config() {
    let env = Env::new("kindling.platform.id=file");
    std::fs::create_dir_all(env.config_dir("usr").join("base.d")).expect("base.d");
    std::fs::write(env.config_dir("usr").join("base.d/10-base.json"), r#"{"ignition":{"version":"3.0.0"},"storage":{"files":[{"path":"/etc/motd","mode":384},{"path":"/etc/base"}]}}"#).expect("base");
    std::fs::write(env.path("user.ign"), FILE_CFG).expect("cfg");
    assert_ok(&env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    ));
    let files = &env.config()["storage"]["files"];
    assert_eq!(files[0]["path"], "/etc/motd");
    assert_eq!(
        files[0]["mode"], 384,
        "user config keeps the base's mode it did not set"
    );
    assert_eq!(files[0]["contents"]["source"], "data:,hi");
    assert_eq!(files[1]["path"], "/etc/base");
}

#[test]
fn a_base_config_over_the_limit_is_refused_naming_it() {
    let env = Env::new("kindling.platform.id=file");
    env.trust(Some(r#"{"maxConfigBytes": 64}"#), &[]);
    std::fs::create_dir_all(env.config_dir("usr").join("base.d")).expect("base.d");
    let big = format!(
        r#"{{"ignition":{{"version":"3.0.0"}},"storage":{{"files":[{{"path":"/etc/{}"}}]}}}}"#,
        "x".repeat(100)
    );
    std::fs::write(env.config_dir("usr").join("base.d/10-big.json"), big).expect("base");
    std::fs::write(env.path("user.ign"), r#"{"ignition":{"version":"3.0.0"}}"#).expect("cfg");
    let out = env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    );
    assert_fails(&out, "10-big.json is larger than the limit of 64 bytes");
    assert!(
        stderr(&out).contains("raise maxConfigBytes"),
        "{}",
        stderr(&out)
    );
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn secrets_stay_out_of_errors() {
    let env = Env::new("kindling.platform.id=file");
    let cfg = r#"{"ignition":{"version":"3.3.0","config":{"merge":[{"source":"data:,%7Bnot-json-s3cret","verification":{}}]}}}"#;
    std::fs::write(env.path("user.ign"), cfg).expect("cfg");
    let out = env.stage(
        "fetch-offline",
        &[("KINDLING_CONFIG_FILE", &env.path("user.ign"))],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
}

fn qemu_env_with_fw_cfg(config: &str) -> Env {
    let env = Env::new("kindling.platform.id=qemu");
    let fw = env.path("sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config");
    std::fs::create_dir_all(&fw).expect("fw_cfg dir");
    std::fs::write(fw.join("raw"), config).expect("raw");
    env
}

fn put(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

fn motd_cfg(text: &str) -> String {
    format!(
        r#"{{"ignition":{{"version":"3.4.0"}},"storage":{{"files":[{{"path":"/etc/motd","contents":{{"source":"data:,{text}"}}}}]}}}}"#
    )
}

#[test]
fn a_system_user_config_preempts_the_platform_config() {
    let env = qemu_env_with_fw_cfg(&motd_cfg("platform"));
    put(&env.config_dir("usr").join("user.ign"), &motd_cfg("system"));
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(
        env.config()["storage"]["files"][0]["contents"]["source"],
        "data:,system"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.run_dir().join("state.json")).expect("state"))
            .expect("json");
    assert!(
        state["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("the system config ") && s.ends_with("user.ign")),
        "{state}"
    );
}

#[test]
fn the_runtime_config_directory_wins_over_the_vendor_one() {
    let env = qemu_env_with_fw_cfg(&motd_cfg("platform"));
    put(&env.config_dir("usr").join("user.ign"), &motd_cfg("vendor"));
    put(
        &env.config_dir("run").join("user.ign"),
        &motd_cfg("runtime"),
    );
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(
        env.config()["storage"]["files"][0]["contents"]["source"],
        "data:,runtime"
    );
}

#[test]
fn the_config_url_on_the_command_line_comes_before_a_system_config() {
    let env = Env::new(&format!(
        "kindling.config.url=data:,{}",
        motd_cfg("url").replace('"', "%22").replace(' ', "%20")
    ));
    put(&env.config_dir("usr").join("user.ign"), &motd_cfg("system"));
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_eq!(
        env.config()["storage"]["files"][0]["contents"]["source"],
        "data:,url"
    );
}

#[test]
fn base_configs_layer_across_directories_and_platforms() {
    let env = qemu_env_with_fw_cfg(r#"{"ignition":{"version":"3.4.0"}}"#);
    let file = |path: &str| {
        format!(
            r#"{{"ignition":{{"version":"3.0.0"}},"storage":{{"files":[{{"path":"{path}"}}]}}}}"#
        )
    };
    // The same name in a higher-priority directory hides the lower one.
    put(
        &env.config_dir("usr").join("base.d/10-a.ign"),
        &file("/etc/vendor-a"),
    );
    put(
        &env.config_dir("run").join("base.d/10-a.ign"),
        &file("/etc/runtime-a"),
    );
    put(
        &env.config_dir("usr").join("base.d/20-b.json"),
        &file("/etc/vendor-b"),
    );
    // Only the booted platform's directory applies.
    put(
        &env.config_dir("usr").join("base.platform.d/qemu/30.ign"),
        &file("/etc/qemu-only"),
    );
    put(
        &env.config_dir("usr").join("base.platform.d/aws/30.ign"),
        &file("/etc/aws-only"),
    );
    put(&env.config_dir("usr").join("base.d/README"), "not a config");
    let out = env.stage("fetch-offline", &[]);
    assert_ok(&out);
    let paths: Vec<String> = env.config()["storage"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_owned())
        .collect();
    assert_eq!(paths, ["/etc/runtime-a", "/etc/vendor-b", "/etc/qemu-only"]);
    assert!(
        stderr(&out).contains("base.d/README: base configs are"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_oversized_fw_cfg_config_is_refused_at_the_policy_limit() {
    let env = qemu_env_with_fw_cfg(&motd_cfg("x".repeat(200).as_str()));
    env.trust(Some(r#"{"maxConfigBytes":64}"#), &[]);
    let out = env.stage("fetch-offline", &[]);
    assert_fails(&out, "larger than the limit of 64 bytes");
    assert!(!env.run_dir().join("config.json").exists());
}
