//! Step 1 of the pipeline, acquire: ask this boot's provider for the root config (see
//! `crate::providers` for the sources) and hold it to the policy's size limit.

use super::render::{ChainError, Network};
use super::PipelineError;
use crate::providers::{self, Acquired, ProviderContext, ProviderError};
use crate::stages::StageContext;

/// The root config as delivered, before anything has looked inside it.
#[derive(Debug)]
pub struct Delivery {
    /// `None` when the platform supplied no user config (or only whitespace).
    pub bytes: Option<Vec<u8>>,
    /// Redacted URL or provider description, for logs and the report.
    pub source: String,
    /// The full URL when the config came from `kindling.config.url`: the merge chain starts
    /// there, so a reference back to it is a cycle.
    pub url: Option<String>,
    pub detached_signature: Option<Vec<u8>>,
}

pub fn acquire(ctx: &StageContext, network: Network) -> Result<Delivery, PipelineError> {
    let provider = providers::for_boot(&ctx.platform, &ctx.cmdline, &ctx.env, &ctx.config_dirs)?;
    let limit = ctx.policy.config_limit();
    let cx = ProviderContext {
        network,
        env: &ctx.env,
        cmdline: &ctx.cmdline,
        policy: &ctx.policy,
        limit,
        timeout: ctx.config_timeout,
        cloud: ctx.fetch_settings().cloud,
    };
    let url = ctx
        .cmdline
        .value("config.url")
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let acquired = provider.acquire(&cx)?;
    // After acquiring: a provider with a fallback names the source it used.
    let source = provider.describe();
    match acquired {
        Acquired::NeedsNetwork { what } => Err(ChainError::NeedsNetwork { url: what }.into()),
        Acquired::NoConfig => Ok(Delivery {
            bytes: None,
            source,
            url,
            detached_signature: None,
        }),
        Acquired::Config {
            bytes,
            detached_signature,
        } => {
            log::debug!("read {} bytes from {source}", bytes.len());
            if bytes.len() as u64 > limit {
                return Err(ProviderError::TooLarge {
                    source_name: source,
                    size: Some(bytes.len() as u64),
                    limit,
                }
                .into());
            }
            // Whitespace alone is no config, as an empty userdata field is.
            let bytes = Some(bytes).filter(|b| !b.iter().all(u8::is_ascii_whitespace));
            Ok(Delivery {
                bytes,
                source,
                url,
                detached_signature,
            })
        }
    }
}
