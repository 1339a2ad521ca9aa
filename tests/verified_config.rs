//! Verified configs: hash pins, OpenPGP signatures (detached and signed messages), the strict
//! chain, and policies that refuse. Each refusal must fail the stage and say why.

mod support;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use kindling::fetch::hash::sha512_of;
use support::pgp::{self, Key};
use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::{ok, status, Server};

const CFG: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,signed"}}]}}"#;

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

fn state(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.run_dir().join("state.json")).expect("state"))
        .expect("json")
}

#[test]
fn a_matching_pin_is_accepted_and_recorded() {
    let pin = sha512_of(CFG.as_bytes());
    let env = file_env(&format!("kindling.config.hash={pin}"), CFG.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_eq!(state(&env)["verifiedBy"], serde_json::json!(["hash"]));
}

#[test]
fn a_mismatching_pin_is_refused_with_both_digests() {
    let pin = sha512_of(b"another config");
    let env = file_env(&format!("kindling.config.hash={pin}"), CFG.as_bytes());
    let out = run_file(&env, "fetch-offline");
    assert_fails(&out, "does not match kindling.config.hash");
    assert!(
        stderr(&out).contains(&pin.to_string())
            && stderr(&out).contains(&sha512_of(CFG.as_bytes()).to_string())
    );
    assert!(!env.run_dir().join("config.json").exists());
    assert!(
        !stderr(&out).contains("signed"),
        "no config contents in the error"
    );
}

#[test]
fn a_malformed_pin_is_an_error() {
    let env = file_env("kindling.config.hash=sha512-xyz", CFG.as_bytes());
    assert_fails(
        &run_file(&env, "fetch-offline"),
        "kindling.config.hash on the kernel command line is malformed",
    );
}

#[test]
fn a_pin_without_a_config_is_refused() {
    let env = Env::new(&format!(
        "kindling.platform.id=qemu kindling.config.hash={}",
        sha512_of(CFG.as_bytes())
    ));
    assert_fails(
        &env.stage("fetch-offline", &[]),
        "pins a config, but QEMU fw_cfg",
    );
}

#[test]
fn policy_hash_needs_a_pin() {
    let env = file_env("", CFG.as_bytes());
    env.trust(Some(r#"{"require":"hash"}"#), &[]);
    assert_fails(
        &run_file(&env, "fetch-offline"),
        "trust policy (require: hash) refuses",
    );
}

#[test]
fn a_broken_policy_fails_closed() {
    let env = file_env("", CFG.as_bytes());
    env.trust(Some(r#"{"require":"sometimes"}"#), &[]);
    assert_fails(&run_file(&env, "fetch-offline"), "is invalid");
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn signed_messages_are_verified_and_unwrapped() {
    let key = Key::new("ops");
    for (armored, compressed) in [(true, false), (false, false), (true, true)] {
        let env = file_env("", &key.message(CFG.as_bytes(), armored, compressed));
        env.trust(
            Some(r#"{"require":"signature"}"#),
            &[("ops.asc", &key.public_armored())],
        );
        assert_ok(&run_file(&env, "fetch-offline"));
        assert_eq!(env.config()["storage"]["files"][0]["path"], "/etc/motd");
        let st = state(&env);
        assert_eq!(st["signer"], key.fingerprint());
        assert_eq!(st["verifiedBy"], serde_json::json!(["signature"]));
    }
}

#[test]
fn signatures_from_unknown_keys_are_refused() {
    let (trusted, other) = (Key::new("ops"), Key::new("intruder"));
    let env = file_env("", &other.message(CFG.as_bytes(), true, false));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &trusted.public_armored())],
    );
    let out = run_file(&env, "fetch-offline");
    assert_fails(&out, "no valid signature from a trusted certificate");
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn expired_and_revoked_keys_are_refused() {
    for key in [Key::expired("old"), Key::revoked("gone")] {
        let env = file_env("", &key.message(CFG.as_bytes(), true, false));
        env.trust(
            Some(r#"{"require":"signature"}"#),
            &[("k.asc", &key.public_armored())],
        );
        assert_fails(&run_file(&env, "fetch-offline"), "refused");
    }
}

#[test]
fn signatures_from_the_future_or_too_old_are_refused() {
    let key = Key::old("ops");
    let future = Key::new("ops2");
    let server = Server::start("127.0.0.1", |_, _| ok(CFG.as_bytes()));
    let url = server.url("/c.ign");
    for (k, at, policy, needle) in [
        (
            &future,
            SystemTime::now() + Duration::from_secs(86_400),
            r#"{"require":"signature"}"#,
            "in the future",
        ),
        (
            &key,
            SystemTime::now() - Duration::from_secs(40 * 86_400),
            r#"{"require":"signature","maxSignatureAgeDays":30}"#,
            "older than the policy's maxSignatureAgeDays",
        ),
    ] {
        let sig = k.detached(CFG.as_bytes(), Some(at));
        let sig_server = Server::start("127.0.0.1", move |_, _| ok(&sig));
        let env = Env::new(&format!(
            "kindling.config.url={url} kindling.config.sig={}",
            sig_server.url("/c.ign.asc")
        ));
        env.trust(Some(policy), &[("k.asc", &k.public_armored())]);
        assert_fails(&env.stage("fetch", &[]), needle);
    }
}

#[test]
fn detached_signatures_sit_next_to_the_url() {
    let key = Key::new("ops");
    let sig = key.detached(CFG.as_bytes(), None);
    let server = Server::start("127.0.0.1", move |req, _| match req.path.as_str() {
        "/c.ign" => ok(CFG.as_bytes()),
        "/c.ign.asc" => ok(&sig),
        "/tampered.ign" => ok(CFG.replace("signed", "evil!!").as_bytes()),
        "/tampered.ign.asc" => ok(&sig),
        "/unsigned.json" => ok(CFG.as_bytes()),
        _ => status(404, "Not Found"),
    });
    let env = Env::new(&format!("kindling.config.url={}", server.url("/c.ign")));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_ok(&env.stage("fetch-offline", &[]));
    assert!(env.run_dir().join("neednet").exists());
    assert_ok(&env.stage("fetch", &[]));
    assert_eq!(state(&env)["signer"], key.fingerprint());

    let env = Env::new(&format!(
        "kindling.config.url={}",
        server.url("/tampered.ign")
    ));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    let out = env.stage("fetch", &[]);
    assert_fails(&out, "refused");
    assert!(!stderr(&out).contains("evil"), "{}", stderr(&out));

    let env = Env::new(&format!(
        "kindling.config.url={}",
        server.url("/unsigned.json")
    ));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_fails(&env.stage("fetch", &[]), "fetching the signature");
}

#[test]
fn hash_or_signature_accepts_a_pin_alone() {
    let env = file_env(
        &format!("kindling.config.hash={}", sha512_of(CFG.as_bytes())),
        CFG.as_bytes(),
    );
    env.trust(Some(r#"{"require":"hash-or-signature"}"#), &[]);
    assert_ok(&run_file(&env, "fetch-offline"));
    let env = file_env("", CFG.as_bytes());
    env.trust(Some(r#"{"require":"hash-or-signature"}"#), &[]);
    assert_fails(&run_file(&env, "fetch-offline"), "neither pinned");
}

#[test]
fn secret_keys_in_the_trust_dir_are_refused() {
    let key = Key::new("ops");
    let env = file_env("", &key.message(CFG.as_bytes(), true, false));
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.secret_armored())],
    );
    assert_fails(&run_file(&env, "fetch-offline"), "secret key material");
}

#[test]
fn strict_chain_refuses_unpinned_references_before_fetching() {
    let child = br#"{"ignition":{"version":"3.4.0"}}"#;
    let server = Server::start("127.0.0.1", |_, _| {
        ok(br#"{"ignition":{"version":"3.4.0"}}"#)
    });
    let unpinned = format!(
        r#"{{"ignition":{{"version":"3.4.0","config":{{"merge":[{{"source":"{}"}}]}}}}}}"#,
        server.url("/child.ign")
    );
    let env = file_env("", unpinned.as_bytes());
    env.trust(Some(r#"{"strictChain":true}"#), &[]);
    let out = run_file(&env, "fetch");
    assert_fails(&out, "strictChain");
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        0,
        "refused before any byte is fetched"
    );

    let pinned = format!(
        r#"{{"ignition":{{"version":"3.4.0","config":{{"merge":[{{"source":"{}","verification":{{"hash":"{}"}}}}]}}}}}}"#,
        server.url("/child.ign"),
        sha512_of(child)
    );
    let env = file_env("", pinned.as_bytes());
    env.trust(Some(r#"{"strictChain":true}"#), &[]);
    assert_ok(&run_file(&env, "fetch"));
    assert_eq!(state(&env)["fetched"][0][1], sha512_of(child).to_string());
}

#[test]
fn allowed_schemes_refuse_plain_http_unless_pinned() {
    let server = Server::start("127.0.0.1", |_, _| ok(CFG.as_bytes()));
    let env = Env::new(&format!("kindling.config.url={}", server.url("/c.ign")));
    env.trust(Some(r#"{"allowedSchemes":["https"]}"#), &[]);
    assert_fails(&env.stage("fetch", &[]), "allowedSchemes");
    let env = Env::new(&format!(
        "kindling.config.url={} kindling.config.hash={}",
        server.url("/c.ign"),
        sha512_of(CFG.as_bytes())
    ));
    env.trust(Some(r#"{"allowedSchemes":["https"]}"#), &[]);
    assert_ok(&env.stage("fetch", &[]));
}

#[test]
fn max_config_bytes_limits_the_root_config() {
    let env = file_env("", CFG.as_bytes());
    env.trust(Some(r#"{"maxConfigBytes":16}"#), &[]);
    assert_fails(
        &run_file(&env, "fetch-offline"),
        "larger than the limit of 16 bytes",
    );
}

#[test]
fn no_policy_stays_ignition_compatible() {
    let env = file_env("", CFG.as_bytes());
    assert_ok(&run_file(&env, "fetch-offline"));
    assert_eq!(state(&env)["verifiedBy"], serde_json::json!([]));
}

#[test]
fn one_flipped_payload_bit_is_refused_with_nothing_applied() {
    let key = Key::new("ops");
    // The payload sits inside the literal data packet; flip a bit in "signed".
    let message = pgp::with_one_bit_flipped(&key.message(CFG.as_bytes(), false, false), b"signed");
    let env = file_env("", &message);
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_fails(&run_file(&env, "fetch-offline"), "refused");
    assert!(!env.run_dir().join("config.json").exists());
}

/// A payload much larger than what the verifier holds back (64 KiB): a byte changed near its
/// start has long been read when the signature check fails at the end, and still nothing of
/// it is used. Compressed or not.
#[test]
fn a_change_early_in_a_large_signed_message_is_refused() {
    let key = Key::new("ops");
    let files: Vec<String> = (0..4000)
        .map(|i| {
            format!(
                r#"{{"path":"/etc/big/{i:05}","contents":{{"source":"data:,payload-{i:05}"}}}}"#
            )
        })
        .collect();
    let config = format!(
        r#"{{"ignition":{{"version":"3.4.0"}},"storage":{{"files":[{}]}}}}"#,
        files.join(",")
    );
    assert!(config.len() > 256 * 1024, "{}", config.len());
    for compressed in [false, true] {
        // Intact, it is accepted.
        let env = file_env("", &key.message(config.as_bytes(), false, compressed));
        env.trust(
            Some(r#"{"require":"signature"}"#),
            &[("ops.asc", &key.public_armored())],
        );
        assert_ok(&run_file(&env, "fetch-offline"));
        assert!(env.run_dir().join("config.json").exists());

        // Changed: refused, nothing written. (Compressed, a change anywhere in the packet
        // makes the inflated payload differ, or fails to inflate.)
        let mut message = key.message(config.as_bytes(), false, compressed);
        let at = if compressed {
            message.len() / 8
        } else {
            message
                .windows(13)
                .position(|w| w == b"payload-00010")
                .expect("payload is in the clear")
        };
        message[at] ^= 0x01;
        let env = file_env("", &message);
        env.trust(
            Some(r#"{"require":"signature"}"#),
            &[("ops.asc", &key.public_armored())],
        );
        let out = run_file(&env, "fetch-offline");
        assert!(
            !out.status.success(),
            "compressed={compressed}: a changed message was accepted"
        );
        assert!(!env.run_dir().join("config.json").exists());
    }
}

#[test]
fn unsigned_config_under_require_signature_is_refused() {
    let key = Key::new("ops");
    let env = file_env("", CFG.as_bytes());
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_fails(&run_file(&env, "fetch-offline"), "it is not signed");
}

fn kindling_verify(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindling"))
        .arg("verify")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn kindling_verify_explains_the_decision_offline() {
    let key = Key::new("ops");
    let env = Env::new("");
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    let trust = env.path("trust");
    let trust = trust.to_str().expect("utf-8");
    std::fs::write(env.path("c.ign"), CFG).expect("cfg");
    std::fs::write(env.path("c.ign.asc"), key.detached(CFG.as_bytes(), None)).expect("sig");
    let cfg = env.path("c.ign");
    let sig = env.path("c.ign.asc");
    let (code, out) = kindling_verify(&[
        "--trust-dir",
        trust,
        "--signature",
        sig.to_str().expect("p"),
        cfg.to_str().expect("p"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "verdict: accepted (signed by {})",
            key.fingerprint()
        )),
        "{out}"
    );
    assert!(out.contains("policy:  require signature"), "{out}");

    let (code, out) = kindling_verify(&["--trust-dir", trust, cfg.to_str().expect("p")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: refused") && out.contains("not signed"),
        "{out}"
    );
    assert!(
        !out.contains("data:,signed"),
        "never prints the config: {out}"
    );
}

#[test]
fn require_measurement_without_a_tpm_refuses_the_config() {
    let env = file_env("", CFG.as_bytes());
    env.trust(Some(r#"{"requireMeasurement":true}"#), &[]);
    let p = env.path("user.ign");
    let none = env.path("no-tpm");
    let out = env.stage(
        "fetch-offline",
        &[
            ("KINDLING_CONFIG_FILE", p.as_path() as &Path),
            ("KINDLING_TPM_DEVICE", none.as_path()),
        ],
    );
    assert_fails(&out, "requireMeasurement");
    assert!(!env.run_dir().join("config.json").exists());

    // Without the requirement, no TPM only means no measurement.
    env.trust(Some(r#"{}"#), &[]);
    let out = env.stage(
        "fetch-offline",
        &[
            ("KINDLING_CONFIG_FILE", p.as_path() as &Path),
            ("KINDLING_TPM_DEVICE", none.as_path()),
        ],
    );
    assert_ok(&out);
    assert!(state(&env)["measurement"].is_null());
}
