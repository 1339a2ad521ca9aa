//! Stages `fetch-offline` and `fetch`: run the config pipeline (`crate::pipeline`: acquire,
//! verify, render, assemble) and hand the result on as `<run-dir>/config.json`.
//!
//! fetch-offline uses only local sources. When the config (or anything it references) needs
//! the network, it writes `<run-dir>/neednet` and stops without error; the fetch stage then
//! runs once the network is up.

use std::path::Path;
use std::time::Instant;

use super::runtime;
use super::StageContext;
use crate::pipeline::render::{ChainError, Network};
use crate::pipeline::{self, assemble};

pub use crate::pipeline::PipelineError as FetchStageError;

/// What the stage did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// config.json was written.
    Fetched { source: String },
    /// The network is needed; neednet was written.
    NeedsNetwork { url: String },
    /// fetch-offline already wrote config.json; nothing to do.
    AlreadyFetched,
}

pub fn fetch_offline(ctx: &StageContext) -> Result<Outcome, FetchStageError> {
    note_stub_extras(Path::new(STUB_EXTRAS));
    run(ctx, Network::Offline)
}

/// Where systemd-stub puts the credentials and system extensions it finds on the ESP.
pub const STUB_EXTRAS: &str = "/.extra";

/// systemd-stub copies files from the ESP into the initramfs at /.extra without checking any
/// signature: whoever can write the ESP can put them there. Kindling reads nothing from
/// there (no provider, base config or trust file lives under it); this only says so in the
/// log, so an operator who put a config there learns why it had no effect.
fn note_stub_extras(dir: &Path) {
    let count = walk_count(dir, 0);
    if count > 0 {
        log::warn!(
            "fetch-offline: ignoring {count} files systemd-stub placed in {} (credentials, system extensions): they come from the ESP unsigned",
            dir.display()
        );
    }
}

fn walk_count(dir: &Path, depth: u32) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() && depth < 4 => walk_count(&e.path(), depth + 1),
            Ok(t) if t.is_dir() => 0,
            _ => 1,
        })
        .sum()
}

pub fn fetch(ctx: &StageContext) -> Result<Outcome, FetchStageError> {
    if runtime::config_path(&ctx.run_dir).exists() {
        return Ok(Outcome::AlreadyFetched);
    }
    run(ctx, Network::Online)
}

fn run(ctx: &StageContext, network: Network) -> Result<Outcome, FetchStageError> {
    let started = Instant::now();
    match pipeline::run(ctx, network) {
        Ok((config, state)) => {
            if started.elapsed() > ctx.config_timeout {
                return Err(FetchStageError::Timeout {
                    secs: ctx.config_timeout.as_secs(),
                });
            }
            assemble::write_run_dir(&ctx.run_dir, &config, &state)?;
            log::info!(
                "config from {} is valid; wrote {}",
                state.source,
                runtime::config_path(&ctx.run_dir).display()
            );
            Ok(Outcome::Fetched {
                source: state.source,
            })
        }
        Err(FetchStageError::Chain(ChainError::NeedsNetwork { url }))
            if network == Network::Offline =>
        {
            assemble::write_neednet(&ctx.run_dir)?;
            log::info!("{url} needs the network; the fetch stage will get it");
            Ok(Outcome::NeedsNetwork { url })
        }
        Err(e) => Err(e),
    }
}
