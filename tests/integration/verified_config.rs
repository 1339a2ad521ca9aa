//! Verified configs: hash pins, OpenPGP signatures (detached and signed messages), the strict
//! chain, and policies that refuse. Each refusal must fail the stage and say why.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use kindling::fetch::hash::sha512_of;
use support::bomb;
use support::pgp::{self, Key};
use support::stage::{assert_fails, assert_ok, stderr, with_peak_rss, Env};
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
    // `kindling verify` decides as the initramfs would.
    let out = kindling_verify_in(&env);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("larger than the limit of 16 bytes"),
        "{}",
        stdout(&out)
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

const MIB: u64 = 1 << 20;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Issue 15, defect 1: a signed message is a compressed container, so a megabyte on the wire
/// can hold a gigabyte. Unsigned, signed by a stranger or by a trusted key, it is refused as
/// soon as the payload passes the config limit, and the engine never holds more than that.
#[test]
fn a_decompression_bomb_is_refused_at_the_config_limit_in_bounded_memory() {
    let (trusted, stranger) = (Key::new("ops"), Key::new("intruder"));
    let certs = [("ops.asc", trusted.public_armored())];
    let certs: Vec<(&str, &[u8])> = certs.iter().map(|(n, c)| (*n, c.as_slice())).collect();

    // The bomb is a well-formed signed message: small, it verifies (and then is no config).
    let env = file_env("", &bomb::zero_bomb(Some(&trusted), 2 * MIB));
    env.trust(Some(r#"{"require":"signature"}"#), &certs);
    let out = kindling_verify_in(&env);
    assert!(
        stdout(&out).contains("refused: the verified config is not valid"),
        "{}",
        stdout(&out)
    );

    for (who, signer) in [
        ("unsigned", None),
        ("signed by an unknown key", Some(&stranger)),
        ("signed by a trusted key", Some(&trusted)),
    ] {
        let bomb = bomb::zero_bomb(signer, 1024 * MIB);
        assert!(bomb.len() < 4 * MIB as usize, "{who}: {} bytes", bomb.len());
        for (policy, limit) in [
            (r#"{"require":"signature"}"#, 64 * MIB),
            (r#"{"maxConfigBytes":4194304}"#, 4 * MIB),
        ] {
            let env = file_env("", &bomb);
            env.trust(Some(policy), &certs);
            let needle = format!("larger than the config limit of {limit} bytes");

            let (out, peak) = with_peak_rss(&verify_command(&env));
            eprintln!(
                "{who}, {policy}: kindling verify peaked at {} KiB",
                peak / 1024
            );
            assert_eq!(out.status.code(), Some(1), "{who}: {}", stdout(&out));
            assert!(
                stdout(&out).contains(&needle) && stdout(&out).contains("maxConfigBytes"),
                "{who}, {policy}: {}",
                stdout(&out)
            );
            assert!(
                peak < 64 * MIB,
                "{who}, {policy}: kindling verify peaked at {} MiB",
                peak / MIB
            );

            let p = env.path("user.ign");
            let cmd = env.command("fetch-offline", &[], &[("KINDLING_CONFIG_FILE", &p)]);
            let (out, peak) = with_peak_rss(&cmd);
            eprintln!(
                "{who}, {policy}: fetch-offline peaked at {} KiB",
                peak / 1024
            );
            assert_fails(&out, &needle);
            assert!(stderr(&out).contains("maxConfigBytes"), "{}", stderr(&out));
            assert!(
                peak < 64 * MIB,
                "{who}, {policy}: fetch-offline peaked at {} MiB",
                peak / MIB
            );
            assert!(!env.run_dir().join("config.json").exists());
        }
    }
}

fn verify_command(env: &Env) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
    cmd.arg("verify")
        .arg("--trust-dir")
        .arg(env.path("trust"))
        .arg(env.path("user.ign"));
    cmd
}

fn kindling_verify_in(env: &Env) -> std::process::Output {
    verify_command(env).output().expect("runs")
}

/// Issue 15, defect 9: whatever follows the one signed message (garbage, a stray armor
/// trailer, a second message signed by someone else) is refused, armored or binary, and
/// nothing is applied. Whitespace after the armor is not "something".
#[test]
fn anything_after_the_signed_message_is_refused() {
    let (key, other) = (Key::new("ops"), Key::new("other"));
    let evil = CFG.replace("signed", "evil!!");
    let armored = key.message(CFG.as_bytes(), true, false);
    let binary = key.message(CFG.as_bytes(), false, false);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "armored, then garbage",
            [&armored[..], b"garbage\n"].concat(),
        ),
        (
            "armored, then an armor trailer",
            [&armored[..], b"-----END PGP MESSAGE-----\n"].concat(),
        ),
        (
            "armored, then a message signed by another key",
            [armored.clone(), other.message(evil.as_bytes(), true, false)].concat(),
        ),
        (
            "armored, then the same message again",
            [armored.clone(), armored.clone()].concat(),
        ),
        ("binary, then garbage", [&binary[..], b"garbage"].concat()),
        (
            "binary, then one zero byte",
            [&binary[..], &[0u8][..]].concat(),
        ),
        (
            "binary, then a message signed by another key",
            [binary.clone(), other.message(evil.as_bytes(), false, false)].concat(),
        ),
        (
            "compressed, then a compressed message signed by another key",
            [
                key.message(CFG.as_bytes(), false, true),
                other.message(evil.as_bytes(), false, true),
            ]
            .concat(),
        ),
        (
            "one armor around two messages",
            pgp::armored(&[binary.clone(), other.message(evil.as_bytes(), false, false)].concat()),
        ),
        (
            "one armor around a message and garbage",
            pgp::armored(&[&binary[..], b"garbage"].concat()),
        ),
    ];
    for (what, message) in cases {
        for trusted in [vec![&key], vec![&key, &other]] {
            let env = file_env("", &message);
            let certs: Vec<(String, Vec<u8>)> = trusted
                .iter()
                .enumerate()
                .map(|(i, k)| (format!("k{i}.asc"), k.public_armored()))
                .collect();
            let certs: Vec<(&str, &[u8])> = certs
                .iter()
                .map(|(n, c)| (n.as_str(), c.as_slice()))
                .collect();
            env.trust(Some(r#"{"require":"signature"}"#), &certs);
            let out = run_file(&env, "fetch-offline");
            assert_eq!(out.status.code(), Some(1), "{what}: accepted");
            assert!(
                stderr(&out).contains("after the signed message"),
                "{what}: {}",
                stderr(&out)
            );
            assert!(!env.run_dir().join("config.json").exists(), "{what}");
            assert!(!stderr(&out).contains("evil"), "{what}: {}", stderr(&out));
        }
    }

    // Trailing whitespace (an editor's newline) after the armor is fine.
    let env = file_env("", &[&armored[..], b"\n\n  \r\n"].concat());
    env.trust(
        Some(r#"{"require":"signature"}"#),
        &[("ops.asc", &key.public_armored())],
    );
    assert_ok(&run_file(&env, "fetch-offline"));
}

/// Issue 15, defect 2: a policy.json that is not a JSON object is broken, and a broken
/// policy fails the boot; it is never read as "require none", nor field by position.
#[test]
fn a_policy_that_is_not_an_object_fails_closed() {
    for policy in [
        "[]",
        r#"["signature", true]"#,
        r#""signature""#,
        "null",
        "  [ ]\n",
    ] {
        let env = file_env("", CFG.as_bytes());
        env.trust(Some(policy), &[]);
        let out = run_file(&env, "fetch-offline");
        assert_fails(&out, "is invalid");
        assert!(
            stderr(&out).contains("JSON object"),
            "{policy}: {}",
            stderr(&out)
        );
        assert!(!env.run_dir().join("config.json").exists(), "{policy}");
    }
}

/// Issue 15, defect 10: a later, empty `kindling.config.hash=` must not cancel an earlier
/// pin, nor may a second pin (under either name) replace the first. Both are refused before
/// the config is read, with what to fix; the same holds for `kindling.config.sig`.
#[test]
fn an_empty_or_repeated_pin_is_refused() {
    let pin = sha512_of(CFG.as_bytes());
    let stale = sha512_of(b"another config");
    for (cmdline, needle) in [
        ("kindling.config.hash=".to_owned(), "is empty"),
        ("ignition.config.hash".to_owned(), "is empty"),
        (
            format!("kindling.config.hash={stale} kindling.config.hash="),
            "given 2 times",
        ),
        (
            format!("ignition.config.hash={stale} ignition.config.hash="),
            "given 2 times",
        ),
        (
            format!("kindling.config.hash={stale} kindling.config.hash"),
            "given 2 times",
        ),
        (
            format!("kindling.config.hash={stale} kindling.config.hash={pin}"),
            "given 2 times",
        ),
        (
            format!("ignition.config.hash={stale} kindling.config.hash={pin}"),
            "given 2 times",
        ),
        (
            format!("kindling.config.hash={pin} kindling.config.hash={pin}"),
            "given 2 times",
        ),
    ] {
        let env = file_env(&cmdline, CFG.as_bytes());
        let out = run_file(&env, "fetch-offline");
        assert_fails(&out, needle);
        assert!(
            stderr(&out).contains("config.hash"),
            "{cmdline}: {}",
            stderr(&out)
        );
        assert!(!env.run_dir().join("config.json").exists(), "{cmdline}");
    }

    // The signature URL: a later empty one would drop the check of an earlier one.
    let key = Key::new("ops");
    let sig = key.detached(b"another config", None);
    let server = Server::start("127.0.0.1", move |req, _| match req.path.as_str() {
        "/c.ign" => ok(CFG.as_bytes()),
        "/c.ign.asc" => ok(&sig),
        _ => status(404, "Not Found"),
    });
    let (url, sig_url) = (server.url("/c.ign"), server.url("/c.ign.asc"));
    for (cmdline, needle) in [
        (
            format!("kindling.config.url={url} kindling.config.sig={sig_url} kindling.config.sig="),
            "given 2 times",
        ),
        (
            format!("kindling.config.url={url} ignition.config.sig={sig_url} kindling.config.sig={sig_url}"),
            "given 2 times",
        ),
        (format!("kindling.config.url={url} kindling.config.sig="), "is empty"),
    ] {
        let env = Env::new(&cmdline);
        env.trust(None, &[("ops.asc", &key.public_armored())]);
        let out = env.stage("fetch", &[]);
        assert_fails(&out, needle);
        assert!(stderr(&out).contains("config.sig"), "{cmdline}: {}", stderr(&out));
        assert!(!env.run_dir().join("config.json").exists(), "{cmdline}");
    }
}
