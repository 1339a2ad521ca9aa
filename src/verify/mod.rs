//! Verifying the root config before it is parsed: a hash pinned on the kernel command line,
//! or an OpenPGP signature from certificates in the (signed) initramfs, as the trust policy
//! demands. See docs/src/security.md for the model.

pub mod measure;
pub mod pgp;
pub mod policy;

use std::time::Duration;

use crate::fetch::hash::{Digest, HashingWriter};
use pgp::{PgpError, Signer, TrustStore};
use policy::{Policy, Require};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("kindling.config.hash on the kernel command line is malformed: {0}")]
    BadPin(String),
    #[error("the config's digest does not match kindling.config.hash: expected {expected}, got {actual}; the config was changed or the pin is stale")]
    PinMismatch { expected: String, actual: String },
    #[error("kindling.config.hash pins a config, but {source_name} supplied none")]
    PinnedButMissing { source_name: String },
    #[error("the config from {source_name} is {size} bytes, larger than the limit of {limit} bytes (raise maxConfigBytes in the trust policy if it is meant to be this big)")]
    TooLarge {
        source_name: String,
        size: u64,
        limit: u64,
    },
    #[error("the config from {source_name} is refused: {reason}")]
    Signature { source_name: String, reason: String },
    #[error("the trust policy (require: {rule}) refuses the config from {source_name}: {why}")]
    Policy {
        rule: &'static str,
        source_name: String,
        why: String,
    },
}

/// How the root config was verified, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The payload, when the config came as a signed message; otherwise the delivered bytes
    /// are the config ([`Verified::config`] picks).
    pub payload: Option<Vec<u8>>,
    pub pin_matched: bool,
    pub signer: Option<Signer>,
}

/// Where the signature for a URL-fetched config is, if one is wanted.
pub fn signature_url(policy: &Policy, config_url: &str, sig_arg: Option<&str>) -> Option<String> {
    match sig_arg {
        Some(s) if !s.is_empty() => Some(s.to_owned()),
        _ if matches!(
            policy.require,
            Require::Signature | Require::HashOrSignature
        ) =>
        {
            Some(format!("{config_url}.asc"))
        }
        _ => None,
    }
}

/// Everything known about the delivered root config.
#[derive(Debug)]
pub struct Delivered<'a> {
    pub bytes: &'a [u8],
    /// Redacted URL or provider description.
    pub source_name: &'a str,
    /// A detached signature fetched for a URL source.
    pub detached_signature: Option<Vec<u8>>,
}

/// Checks the pin, the signature and the policy, in that order; returns what to parse.
pub fn verify_root(
    policy: &Policy,
    trust: &dyn Fn() -> Result<TrustStore, PgpError>,
    pin: Option<&str>,
    delivered: Delivered<'_>,
) -> Result<Verified, VerifyError> {
    let source_name = delivered.source_name.to_owned();
    let mut out = Verified::default();
    if let Some(pin) = pin {
        let expected: Digest = pin
            .parse()
            .map_err(|e: crate::fetch::hash::DigestParseError| {
                VerifyError::BadPin(e.to_string())
            })?;
        let mut hasher = HashingWriter::new(std::io::sink(), expected.algorithm);
        std::io::Write::write_all(&mut hasher, delivered.bytes)
            .map_err(|e| VerifyError::BadPin(e.to_string()))?;
        let (actual, _) = hasher.finish();
        if actual != expected {
            return Err(VerifyError::PinMismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        out.pin_matched = true;
    }
    let max_age = policy
        .max_signature_age_days
        .map(|d| Duration::from_secs(d * 86_400));
    let sig_err = |e: PgpError| VerifyError::Signature {
        source_name: source_name.clone(),
        reason: e.to_string(),
    };
    let bytes = delivered.bytes;
    if pgp::looks_like_openpgp(bytes) {
        let store = trust().map_err(sig_err)?;
        let (payload, signer) = store
            .verify_message(bytes, max_age, policy.config_limit())
            .map_err(sig_err)?;
        out.payload = Some(payload);
        out.signer = Some(signer);
    } else if let Some(sig) = &delivered.detached_signature {
        let store = trust().map_err(sig_err)?;
        out.signer = Some(
            store
                .verify_detached(bytes, sig, max_age)
                .map_err(sig_err)?,
        );
    }
    let refuse = |why: &str| VerifyError::Policy {
        rule: policy.require.name(),
        source_name: source_name.clone(),
        why: why.to_owned(),
    };
    match policy.require {
        Require::None => {}
        Require::Hash if !out.pin_matched => {
            return Err(refuse(
                "no kindling.config.hash on the kernel command line; pin the config's sha512 there",
            ));
        }
        Require::Signature if out.signer.is_none() => {
            return Err(refuse("it is not signed; sign it with `flint sign` (a detached .asc next to a URL, or a signed message for file/fw_cfg sources)"));
        }
        Require::HashOrSignature if !out.pin_matched && out.signer.is_none() => {
            return Err(refuse(
                "it is neither pinned by kindling.config.hash nor signed by a trusted certificate",
            ));
        }
        _ => {}
    }
    Ok(out)
}

impl Verified {
    /// What to parse: the signed message's payload, or the delivered bytes themselves.
    pub fn config<'a>(&'a self, delivered: &'a [u8]) -> &'a [u8] {
        self.payload.as_deref().unwrap_or(delivered)
    }
}
