//! The platforms whose user data comes from a metadata service over HTTP, run as the dracut
//! units run them against the metadata stand-in on 127.0.0.1 (reached through the test-only
//! `KINDLING_TEST_METADATA_URL`): what they send, what a 404 means, retries, budgets, and
//! signed user data under a policy that requires it.

use crate::support;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use support::pgp::Key;
use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::standin::Standin;

const CFG: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,from%20the%20cloud"}}]}}"#;

fn run(env: &Env, stage: &str, platform: &str, standin: &Standin) -> Output {
    let url = standin.url();
    env.stage_with(
        stage,
        &["--platform".as_ref(), platform.as_ref()],
        &[("KINDLING_TEST_METADATA_URL", Path::new(&url))],
    )
}

fn motd(env: &Env) -> serde_json::Value {
    env.config()["storage"]["files"][0]["contents"]["source"].clone()
}

fn state(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.run_dir().join("state.json")).expect("state"))
        .expect("json")
}

fn user_data_requests(standin: &Standin, path: &str) -> usize {
    standin
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(path))
        .count()
}

#[test]
fn aws_reads_user_data_with_an_imdsv2_token() {
    let standin = Standin::start("aws", Some(CFG.as_bytes()), &[]);
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "aws", &standin));
    assert_eq!(motd(&env), "data:,from%20the%20cloud");
    let reqs = standin.requests();
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].path, "/latest/api/token");
    assert_eq!(
        reqs[0].headers["x-aws-ec2-metadata-token-ttl-seconds"],
        "21600"
    );
    let get = reqs.iter().find(|r| r.method == "GET").expect("a GET");
    assert_eq!(get.path, "/2019-10-01/user-data");
    assert!(get.headers.contains_key("x-aws-ec2-metadata-token"));
    assert!(
        !stderr(&run(&env, "fetch", "aws", &standin)).contains("stand-in-session-token"),
        "the session token is a credential and is never logged"
    );
}

#[test]
fn aws_falls_back_to_imdsv1_when_the_token_put_is_refused() {
    let standin = Standin::start("aws", Some(CFG.as_bytes()), &["token-404"]);
    let env = Env::new("");
    let out = run(&env, "fetch", "aws", &standin);
    assert_ok(&out);
    assert!(stderr(&out).contains("IMDSv1"), "{}", stderr(&out));
    let get = standin
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .expect("a GET");
    assert!(!get.headers.contains_key("x-aws-ec2-metadata-token"));
}

#[test]
fn a_404_for_user_data_is_no_config() {
    for platform in [
        "aws",
        "gcp",
        "aliyun",
        "exoscale",
        "hetzner",
        "upcloud",
        "vultr",
        "oraclecloud",
    ] {
        let standin = Standin::start(platform, None, &[]);
        let env = Env::new("");
        let out = run(&env, "fetch", platform, &standin);
        assert_ok(&out);
        assert!(
            state(&env)["source"]
                .as_str()
                .is_some_and(|s| s.ends_with("(no user config)")),
            "{platform}: {}",
            state(&env)
        );
    }
}

#[test]
fn platforms_whose_user_data_always_exists_refuse_a_404() {
    for platform in ["digitalocean", "packet"] {
        let standin = Standin::start(platform, None, &[]);
        let env = Env::new("");
        let out = run(&env, "fetch", platform, &standin);
        assert_fails(&out, "HTTP 404");
        assert!(stderr(&out).contains(platform), "{}", stderr(&out));
        assert!(!env.run_dir().join("config.json").exists());
    }
}

#[test]
fn each_simple_service_delivers_its_user_data() {
    for platform in [
        "aliyun",
        "digitalocean",
        "exoscale",
        "hetzner",
        "upcloud",
        "vultr",
        "packet",
        "gcp",
    ] {
        let standin = Standin::start(platform, Some(CFG.as_bytes()), &[]);
        let env = Env::new("");
        assert_ok(&run(&env, "fetch", platform, &standin));
        assert_eq!(motd(&env), "data:,from%20the%20cloud", "{platform}");
    }
}

#[test]
fn gcp_and_oracle_send_the_headers_their_services_insist_on() {
    let standin = Standin::start("gcp", Some(CFG.as_bytes()), &[]);
    assert_ok(&run(&Env::new(""), "fetch", "gcp", &standin));
    assert_eq!(standin.requests()[0].headers["metadata-flavor"], "Google");

    let standin = Standin::start("oraclecloud", Some(CFG.as_bytes()), &[]);
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "oraclecloud", &standin));
    assert_eq!(
        standin.requests()[0].headers["authorization"],
        "Bearer Oracle"
    );
    assert_eq!(motd(&env), "data:,from%20the%20cloud", "base64 decoded");
}

#[test]
fn oracle_retries_429_and_honours_retry_after() {
    let standin = Standin::start(
        "oraclecloud",
        Some(CFG.as_bytes()),
        &["429x2", "retry-after=1"],
    );
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "oraclecloud", &standin));
    assert_eq!(user_data_requests(&standin, "/opc/"), 3);
}

#[test]
fn a_5xx_storm_is_retried_until_it_passes() {
    let standin = Standin::start("aws", Some(CFG.as_bytes()), &["503x3"]);
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "aws", &standin));
    assert_eq!(user_data_requests(&standin, "/2019-10-01/user-data"), 4);
}

#[test]
fn a_5xx_storm_past_the_budget_fails_closed_naming_platform_and_url() {
    let standin = Standin::start("aws", Some(CFG.as_bytes()), &["status=503"]);
    let mut env = Env::new("");
    env.config_timeout = 3;
    let out = run(&env, "fetch", "aws", &standin);
    assert_fails(&out, "the aws user data from http://127.0.0.1:");
    assert!(
        stderr(&out).contains("HTTP 503; gave up after"),
        "{}",
        stderr(&out)
    );
    assert!(!env.run_dir().join("config.json").exists());
    assert!(
        user_data_requests(&standin, "/2019-10-01/user-data") >= 3,
        "retried with backoff"
    );
}

#[test]
fn a_truncated_answer_is_an_error_not_a_config() {
    let standin = Standin::start("hetzner", Some(CFG.as_bytes()), &["truncate"]);
    let out = run(&Env::new(""), "fetch", "hetzner", &standin);
    assert_fails(&out, "end of file before message length reached");
}

#[test]
fn fetch_offline_hands_metadata_services_to_the_fetch_stage() {
    for platform in ["aws", "gcp", "akamai", "scaleway", "vultr", "oraclecloud"] {
        let standin = Standin::start(platform, Some(CFG.as_bytes()), &[]);
        let env = Env::new("");
        let out = run(&env, "fetch-offline", platform, &standin);
        assert_ok(&out);
        assert!(env.run_dir().join("neednet").exists(), "{platform}");
        assert!(!env.run_dir().join("config.json").exists(), "{platform}");
        assert!(
            standin.requests().is_empty(),
            "{platform}: nothing is sent before the network is up"
        );
    }
}

#[test]
fn akamai_takes_a_token_then_base64_and_gzip_user_data() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(CFG.as_bytes()).expect("gzip");
    let standin = Standin::start("akamai", Some(&gz.finish().expect("gzip")), &[]);
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "akamai", &standin));
    assert_eq!(motd(&env), "data:,from%20the%20cloud");
    let reqs = standin.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("PUT", "/v1/token")
    );
    assert_eq!(reqs[1].headers["metadata-token"], "stand-in-session-token");
}

#[test]
fn akamai_refuses_a_404_as_ignition_does() {
    let standin = Standin::start("akamai", None, &[]);
    assert_fails(&run(&Env::new(""), "fetch", "akamai", &standin), "HTTP 404");
}

#[test]
fn scaleway_asks_from_a_privileged_source_port() {
    assert!(
        nix_is_root(),
        "binding a source port below 1024 needs root: run the tests as root"
    );
    let standin = Standin::start("scaleway", Some(CFG.as_bytes()), &[]);
    let env = Env::new("");
    assert_ok(&run(&env, "fetch", "scaleway", &standin));
    assert!(standin.requests()[0].port < 1024);
    assert_eq!(motd(&env), "data:,from%20the%20cloud");
}

#[test]
fn signed_user_data_is_verified_under_a_policy_that_requires_it() {
    let key = Key::new("ops");
    let signed = key.message(CFG.as_bytes(), true, false);
    let standin = Standin::start("aws", Some(&signed), &[]);
    let env = Env::new("");
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_ok(&run(&env, "fetch", "aws", &standin));
    assert_eq!(motd(&env), "data:,from%20the%20cloud");
    assert_eq!(state(&env)["signer"], key.fingerprint());
    assert_eq!(state(&env)["policy"], "require signature");
}

#[test]
fn unsigned_user_data_under_a_signature_policy_is_refused_and_nothing_written() {
    let key = Key::new("ops");
    let standin = Standin::start("gcp", Some(CFG.as_bytes()), &[]);
    let env = Env::new("");
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    let out = run(&env, "fetch", "gcp", &standin);
    assert_fails(&out, "it is not signed");
    assert!(!env.run_dir().join("config.json").exists());
    assert!(
        !stderr(&out).contains("from%20the%20cloud"),
        "no config text in logs"
    );
}

#[test]
fn cloud_config_user_data_is_refused_with_a_hint() {
    let standin = Standin::start("aws", Some(b"#cloud-config\nusers: []\n"), &[]);
    let out = run(&Env::new(""), "fetch", "aws", &standin);
    assert_fails(&out, "cloud-config");
    let script = Standin::start("aws", Some(b"#!/bin/sh\necho hi\n"), &[]);
    assert_fails(&run(&Env::new(""), "fetch", "aws", &script), "shell script");
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn an_unknown_platform_id_is_refused_with_the_valid_ones() {
    let env = Env::new("kindling.platform.id=aws-typo");
    let out = env.stage("fetch-offline", &[]);
    assert_fails(&out, "platform \"aws-typo\" is unknown");
    assert!(stderr(&out).contains("aws, azure"), "{}", stderr(&out));
}
