//! `flint sign`: signs an Ignition config so that Kindling's verified-config policy accepts
//! it. A detached signature goes next to a config served by URL (`<url>.asc`); a signed
//! message wraps the config for single-blob sources (the `file` platform, QEMU fw_cfg, cloud
//! userdata).
//!
//! `flint sign --key KEY [--detached | --message] [--binary] [-o FILE] CONFIG`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, LiteralWriter, Message, Signer};
use sequoia_openpgp as openpgp;

/// The command line; also what tools/docgen renders into the man page and completions.
pub fn command() -> Command {
    Command::new("sign")
        .about("Sign an Ignition config for Kindling's verified-config policy")
        .arg(
            Arg::new("key")
                .long("key")
                .short('k')
                .value_name("KEY")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("OpenPGP secret key (armored or binary) with a signing-capable key"),
        )
        .arg(
            Arg::new("detached")
                .long("detached")
                .action(ArgAction::SetTrue)
                .conflicts_with("message")
                .help("write a detached signature, for configs fetched by URL (default)"),
        )
        .arg(
            Arg::new("message")
                .long("message")
                .action(ArgAction::SetTrue)
                .help(
                    "write a signed message wrapping the config, for file/fw_cfg/userdata sources",
                ),
        )
        .arg(
            Arg::new("binary")
                .long("binary")
                .action(ArgAction::SetTrue)
                .help("write binary OpenPGP instead of ASCII armor"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("write here instead of stdout"),
        )
        .arg(
            Arg::new("config")
                .value_name("CONFIG")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("the Ignition config (JSON) to sign"),
        )
}

/// Runs `flint sign` with its parsed arguments.
pub fn run(matches: &ArgMatches) -> ExitCode {
    match sign(matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("flint sign: {message}");
            ExitCode::from(1)
        }
    }
}

fn sign(m: &ArgMatches) -> Result<(), String> {
    let config_path = m.get_one::<PathBuf>("config").ok_or("CONFIG is required")?;
    let key_path = m.get_one::<PathBuf>("key").ok_or("--key is required")?;
    let config = std::fs::read(config_path)
        .map_err(|e| format!("reading {}: {e}", config_path.display()))?;
    // Signing an invalid config would only move the failure to the machine's first boot.
    if let Err(report) = kindling_spec::parse(&config, kindling_spec::Options::default()) {
        return Err(format!(
            "{} is not a valid Ignition config; fix it before signing:\n{report}",
            config_path.display()
        ));
    }
    let cert = Cert::from_file(key_path)
        .map_err(|e| format!("reading the key {}: {e}", key_path.display()))?;
    let signed = sign_bytes(&cert, &config, m.get_flag("message"), !m.get_flag("binary"))
        .map_err(|e| format!("signing with {}: {e}", key_path.display()))?;
    match m.get_one::<PathBuf>("output") {
        Some(path) => crate::atomic::write_atomically(path, &signed)
            .map_err(|e| format!("writing {}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(&signed)
            .map_err(|e| format!("writing to stdout: {e}")),
    }
}

/// A detached signature over `data`, or a signed message holding it.
pub fn sign_bytes(
    cert: &Cert,
    data: &[u8],
    message: bool,
    armored: bool,
) -> Result<Vec<u8>, String> {
    let policy = StandardPolicy::new();
    let key = cert
        .keys()
        .secret()
        .with_policy(&policy, None)
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .next()
        .ok_or("the key has no usable signing key with secret material (expired, revoked, or a public certificate?)")?;
    let keypair = key
        .key()
        .clone()
        .parts_into_secret()
        .map_err(|e| e.to_string())?
        .into_keypair()
        .map_err(|_| "the signing key is password-protected; export an unprotected copy for signing (e.g. gpg --export-secret-keys after removing the passphrase)".to_owned())?;
    let mut out = Vec::new();
    {
        let mut sink = Message::new(&mut out);
        if armored {
            let kind = if message {
                armor::Kind::Message
            } else {
                armor::Kind::Signature
            };
            sink = Armorer::new(sink)
                .kind(kind)
                .build()
                .map_err(|e| e.to_string())?;
        }
        let signer = Signer::new(sink, keypair).map_err(|e| e.to_string())?;
        if message {
            let signer = signer.build().map_err(|e| e.to_string())?;
            let mut literal = LiteralWriter::new(signer)
                .build()
                .map_err(|e| e.to_string())?;
            literal.write_all(data).map_err(|e| e.to_string())?;
            literal.finalize().map_err(|e| e.to_string())?;
        } else {
            let mut signer = signer.detached().build().map_err(|e| e.to_string())?;
            signer.write_all(data).map_err(|e| e.to_string())?;
            signer.finalize().map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}
