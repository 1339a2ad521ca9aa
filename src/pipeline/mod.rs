//! The config pipeline that the fetch stages run, one module per step:
//!
//! 1. [`acquire`]: this boot's provider returns the root config's bytes, "no config", or
//!    "needs the network" (`crate::providers` holds the sources).
//! 2. [`verify`]: measurement, the command line's pin and the OpenPGP signature, as the
//!    initramfs's trust policy demands, before anything parses the bytes.
//! 3. [`render`]: parse, then follow merge/replace references, every fetch under the strict
//!    chain.
//! 4. [`assemble`]: merge over the base configs and write the run directory.

pub mod acquire;
pub mod assemble;
pub mod render;
pub mod verify;

use kindling_spec::Config;

use crate::providers::ProviderError;
use crate::stages::runtime::{self, State};
use crate::stages::StageContext;
use render::{ChainError, Network};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Cmdline(#[from] crate::cmdline::CmdlineError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("getting the config took longer than {secs} s (the --config-timeout limit)")]
    Timeout { secs: u64 },
    #[error("reading base configs from {dir} failed: {source}")]
    BaseDir { dir: String, source: std::io::Error },
    #[error("the base config {name} is larger than the limit of {limit} bytes (raise maxConfigBytes in the trust policy if it is meant to be this big)")]
    BaseTooLarge { name: String, limit: u64 },
    #[error("refusing Flatcar's OEM base config oem:///{}: the trust policy requires {require} for configs, and the OEM partition is writable and outside the signed chain; move the base config into the initramfs (/usr/lib/kindling/base.d/) or remove it from the OEM partition", crate::flatcar::OEM_BASE_CONFIG)]
    OemBaseRefused { require: &'static str },
    #[error(transparent)]
    Runtime(#[from] runtime::RuntimeError),
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    #[error(transparent)]
    Measure(#[from] crate::verify::measure::MeasureError),
}

/// Runs the four steps; the caller writes the run directory (or the neednet marker).
pub fn run(ctx: &StageContext, network: Network) -> Result<(Config, State), PipelineError> {
    // Before anything is read: an empty or repeated pin or signature URL is refused, never
    // resolved by "the last one wins".
    ctx.cmdline.config_pin()?;
    ctx.cmdline.config_sig()?;
    let delivery = acquire::acquire(ctx, network)?;
    let mut state = State {
        source: delivery.source.clone(),
        policy: ctx.policy.summary(),
        ..State::default()
    };
    let user = match verify::verify(ctx, &delivery, &mut state)? {
        None => {
            log::info!(
                "no user config from {}; provisioning from base configs only",
                state.source
            );
            state.source = format!("{} (no user config)", state.source);
            None
        }
        Some(verified) => {
            let bytes = delivery.bytes.as_deref().unwrap_or_default();
            let rendered = render::render_root(
                verified.config(bytes),
                delivery.url.as_deref(),
                network,
                &ctx.fetch_settings(),
            )?;
            state.fetched = rendered.fetched;
            Some(rendered.config)
        }
    };
    let config = assemble::assemble(ctx, user, network, &mut state)?;
    Ok((config, state))
}
