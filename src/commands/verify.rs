//! `kindling verify`: what the initramfs would decide about a config, and why, offline.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{VerifyArgs, EXIT_INVALID};
use crate::fetch::hash::sha512_beside;
use crate::input::read_config;
use crate::verify::pgp::TrustStore;
use crate::verify::policy::Policy;
use crate::verify::{verify_root, Delivered, VerifyError};

pub fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let policy = Policy::load(&args.trust_dir)?;
    let bytes = read_config(&args.config)?;
    let signature = args
        .signature
        .as_ref()
        .map(|p| std::fs::read(p).with_context(|| format!("reading the signature {}", p.display())))
        .transpose()?;
    let name = args.config.display().to_string();
    let trust = || TrustStore::load(&args.trust_dir);
    // The digest line is for the reader, not the decision.
    let limit = policy.config_limit();
    let (digest, verdict) = sha512_beside(&bytes, || {
        // The same size check as the fetch stages make on what a provider delivers.
        if bytes.len() as u64 > limit {
            return Err(VerifyError::TooLarge {
                source_name: name.clone(),
                size: bytes.len() as u64,
                limit,
            });
        }
        let delivered = Delivered {
            bytes: &bytes,
            source_name: &name,
            detached_signature: signature,
        };
        verify_root(&policy, &trust, args.hash.as_deref(), delivered)
    });
    println!("config:  {name}");
    println!("digest:  {digest}");
    println!(
        "policy:  require {}{}",
        policy.require.name(),
        if policy.strict_chain {
            ", strictChain"
        } else {
            ""
        }
    );
    match verdict {
        Err(e) => {
            println!("verdict: refused: {e}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Ok(v) => {
            let signer = v.signer.as_ref().map_or("unsigned".to_owned(), |s| {
                format!("signed by {}", s.fingerprint)
            });
            let pin = if v.pin_matched {
                ", hash pin matches"
            } else {
                ""
            };
            match kindling_spec::parse(v.config(&bytes), kindling_spec::Options::default()) {
                Ok(_) => {
                    println!("verdict: accepted ({signer}{pin})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(report) => {
                    println!("verdict: refused: the verified config is not valid:");
                    print!("{report}");
                    Ok(ExitCode::from(EXIT_INVALID))
                }
            }
        }
    }
}
