//! Step 2 of the pipeline, verify: measure the root config into the TPM, then check the
//! command line's pin and the OpenPGP signature as the initramfs's trust policy demands, all
//! before a single byte of it is parsed. See `crate::verify` for the checks themselves.

use super::acquire::Delivery;
use super::PipelineError;
use crate::fetch::hash::sha512_beside;
use crate::stages::runtime::{RuntimeError, State};
use crate::stages::StageContext;
use crate::verify::{self, measure, pgp::TrustStore, Verified};

/// Verifies the delivered config and records how in `state`; returns what to parse, or
/// `None` when there is no user config (refused if the command line pins one).
pub fn verify(
    ctx: &StageContext,
    delivery: &Delivery,
    state: &mut State,
) -> Result<Option<Verified>, PipelineError> {
    let pin = ctx.cmdline.config_pin()?;
    let Some(bytes) = &delivery.bytes else {
        if pin.is_some() {
            return Err(verify::VerifyError::PinnedButMissing {
                source_name: state.source.clone(),
            }
            .into());
        }
        return Ok(None);
    };
    let source = state.source.clone();
    // The digest for the state file is not part of the decision.
    let (digest, checked) = sha512_beside(bytes, || -> Result<_, PipelineError> {
        let measurement = measure_once(ctx, bytes, &source)?;
        let trust = || TrustStore::load(&ctx.trust_dir);
        let verified = verify::verify_root(
            &ctx.policy,
            &trust,
            pin,
            verify::Delivered {
                bytes,
                source_name: &source,
                detached_signature: delivery.detached_signature.clone(),
            },
        )?;
        Ok((measurement, verified))
    });
    state.config_digest = Some(digest.to_string());
    let (measurement, verified) = checked?;
    state.measurement = measurement;
    if verified.pin_matched {
        state.verified_by.push("hash".into());
    }
    if let Some(signer) = &verified.signer {
        state.verified_by.push("signature".into());
        state.signer = Some(signer.fingerprint.clone());
        log::info!("config from {source} is signed by {}", signer.fingerprint);
    }
    Ok(Some(verified))
}

/// Extends the PCR with the config once per boot: fetch-offline may read the config and
/// leave the rest to fetch, which reads it again. The run dir remembers what was measured.
fn measure_once(
    ctx: &StageContext,
    bytes: &[u8],
    source: &str,
) -> Result<Option<measure::Measurement>, PipelineError> {
    let marker = crate::rundir::measured(&ctx.run_dir);
    if let Ok(old) = std::fs::read(&marker) {
        if let Ok(m) = serde_json::from_slice::<measure::Measurement>(&old) {
            use sha2::Digest;
            if m.digest == hex::encode(sha2::Sha256::digest(bytes)) {
                return Ok(Some(m));
            }
        }
    }
    let m = measure::measure(bytes, source, ctx.policy.require_measurement)?;
    if let Some(m) = &m {
        std::fs::create_dir_all(&ctx.run_dir)
            .and_then(|()| std::fs::write(&marker, serde_json::to_vec(m).unwrap_or_default()))
            .map_err(|source| RuntimeError::Write {
                path: marker.clone(),
                source,
            })?;
    }
    Ok(m)
}
