//! `flint sign`: its output verifies with the signer's certificate, and bad input is refused.

use std::process::Command;

use openpgp::cert::prelude::*;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

const CFG: &str = r#"{"ignition":{"version":"3.4.0"}}"#;

struct Helper(Cert);

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(vec![self.0.clone()])
    }
    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                if results.iter().any(Result::is_ok) {
                    return Ok(());
                }
            }
        }
        Err(anyhow::anyhow!("no good signature"))
    }
}

fn setup() -> (tempfile::TempDir, Cert) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, _) = CertBuilder::general_purpose(Some("ops <ops@example.org>"))
        .generate()
        .expect("key");
    std::fs::write(
        dir.path().join("key.asc"),
        cert.as_tsk().armored().to_vec().expect("armor"),
    )
    .expect("key");
    std::fs::write(dir.path().join("config.ign"), CFG).expect("config");
    (dir, cert)
}

fn flint(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flint"))
        .arg("sign")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("flint runs")
}

#[test]
fn detached_signatures_verify() {
    let (dir, cert) = setup();
    let out = flint(
        dir.path(),
        &["--key", "key.asc", "-o", "config.ign.asc", "config.ign"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sig = std::fs::read(dir.path().join("config.ign.asc")).expect("sig");
    assert!(sig.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
    let p = StandardPolicy::new();
    let verifier = || {
        DetachedVerifierBuilder::from_bytes(&sig)
            .expect("sig")
            .with_policy(&p, None, Helper(cert.clone()))
            .expect("v")
    };
    verifier().verify_bytes(CFG).expect("verifies");
    assert!(
        verifier().verify_bytes(b"{}").is_err(),
        "other bytes do not verify"
    );
}

#[test]
fn signed_messages_verify_and_carry_the_config() {
    let (dir, cert) = setup();
    for binary in [false, true] {
        let mut args = vec!["--key", "key.asc", "--message", "config.ign"];
        if binary {
            args.insert(0, "--binary");
        }
        let out = flint(dir.path(), &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let p = StandardPolicy::new();
        let mut v = VerifierBuilder::from_bytes(&out.stdout)
            .expect("msg")
            .with_policy(&p, None, Helper(cert.clone()))
            .expect("v");
        let mut payload = Vec::new();
        std::io::Read::read_to_end(&mut v, &mut payload).expect("verified");
        assert_eq!(payload, CFG.as_bytes());
    }
}

#[test]
fn invalid_configs_and_public_keys_are_refused() {
    let (dir, cert) = setup();
    std::fs::write(
        dir.path().join("bad.ign"),
        r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"rel"}]}}"#,
    )
    .expect("bad");
    let out = flint(dir.path(), &["--key", "key.asc", "bad.ign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid Ignition config"));

    std::fs::write(
        dir.path().join("pub.asc"),
        cert.armored().to_vec().expect("armor"),
    )
    .expect("pub");
    let out = flint(dir.path(), &["--key", "pub.asc", "config.ign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no usable signing key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = flint(dir.path(), &["config.ign"]);
    assert_eq!(out.status.code(), Some(2), "--key is required");
}
