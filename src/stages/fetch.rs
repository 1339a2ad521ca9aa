//! Stages `fetch-offline` and `fetch`: find the user config, render its merge/replace chain,
//! merge it over the base configs, validate, and hand it on as `<run-dir>/config.json`.
//!
//! fetch-offline uses only local sources. When the config (or anything it references) needs
//! the network, it writes `<run-dir>/neednet` and stops without error; the fetch stage then
//! runs once the network is up.

use std::path::Path;
use std::time::Instant;

use kindling_spec::types::Resource;
use kindling_spec::Config;

use super::chain::{self, ChainError, Network};
use super::plan;
use super::runtime::{self, State};
use super::StageContext;
use crate::fetch::hash::sha512_beside;
use crate::fetch::redact::redact;
use crate::fetch::{FetchError, FetchPolicy, Fetcher};
use crate::providers;
use crate::verify::{self, measure, pgp::TrustStore};

#[derive(Debug, thiserror::Error)]
pub enum FetchStageError {
    #[error(transparent)]
    Provider(#[from] providers::ProviderError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("fetching the config from {url} failed: {source}")]
    RootFetch { url: String, source: FetchError },
    #[error("getting the config took longer than {secs} s (the --config-timeout limit)")]
    Timeout { secs: u64 },
    #[error("reading base configs from {dir} failed: {source}")]
    BaseDir { dir: String, source: std::io::Error },
    #[error(transparent)]
    Runtime(#[from] runtime::RuntimeError),
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    #[error(transparent)]
    Measure(#[from] crate::verify::measure::MeasureError),
    #[error("fetching the signature {url} failed: {source}")]
    SignatureFetch { url: String, source: FetchError },
    #[error("writing {path} failed: {source}")]
    NeedNet {
        path: String,
        source: std::io::Error,
    },
}

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

/// Extends the PCR with the config once per boot: fetch-offline may read the config and
/// leave the rest to fetch, which reads it again. The run dir remembers what was measured.
fn measure_once(
    ctx: &StageContext,
    bytes: &[u8],
    source: &str,
) -> Result<Option<measure::Measurement>, FetchStageError> {
    let marker = ctx.run_dir.join("measured.json");
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
            .map_err(|source| crate::stages::runtime::RuntimeError::Write {
                path: marker.clone(),
                source,
            })?;
    }
    Ok(m)
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
    match build(ctx, network) {
        Ok((config, state)) => {
            if started.elapsed() > ctx.config_timeout {
                return Err(FetchStageError::Timeout {
                    secs: ctx.config_timeout.as_secs(),
                });
            }
            // The plan first: a config.json on disk means the stages after may start.
            plan::write(&ctx.run_dir, &config)?;
            runtime::write_config(&ctx.run_dir, &config, &state)?;
            let _ = std::fs::remove_file(runtime::neednet_path(&ctx.run_dir));
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
            let path = runtime::neednet_path(&ctx.run_dir);
            std::fs::create_dir_all(&ctx.run_dir)
                .and_then(|()| std::fs::write(&path, b""))
                .map_err(|source| FetchStageError::NeedNet {
                    path: path.display().to_string(),
                    source,
                })?;
            log::info!("{url} needs the network; the fetch stage will get it");
            Ok(Outcome::NeedsNetwork { url })
        }
        Err(e) => Err(e),
    }
}

fn build(ctx: &StageContext, network: Network) -> Result<(Config, State), FetchStageError> {
    let url = ctx.cmdline.value("config.url").filter(|u| !u.is_empty());
    let pin = ctx.cmdline.value("config.hash").filter(|p| !p.is_empty());
    let fetch_policy = ctx.fetch_policy();
    let limit = ctx
        .policy
        .max_config_bytes
        .unwrap_or(kindling_spec::source::MAX_CONFIG_BYTES as u64);
    let (bytes, source, detached_signature) = match url {
        Some(url) => {
            let sig_url = verify::signature_url(&ctx.policy, url, ctx.cmdline.value("config.sig"));
            if network == Network::Offline {
                if let Some(remote) = [Some(url), sig_url.as_deref()]
                    .into_iter()
                    .flatten()
                    .find(|u| chain::needs_network(u))
                {
                    return Err(ChainError::NeedsNetwork {
                        url: redact(remote),
                    }
                    .into());
                }
            }
            // The root config's pin is on the command line (checked below, with allowedSchemes
            // checked here); its signature verifies itself.
            let root_policy = FetchPolicy::default();
            if !ctx.policy.allows(url, pin.is_some()) {
                return Err(FetchStageError::RootFetch {
                    url: redact(url),
                    source: FetchError::Refused { url: redact(url), rule: "allowedSchemes: pin this config with kindling.config.hash or serve it over an allowed scheme" },
                });
            }
            let fetcher = Fetcher::new(crate::fetch::FetchSettings {
                total_timeout: Some(ctx.config_timeout),
                policy: root_policy,
                ..Default::default()
            });
            let root = Resource {
                source: Some(url.to_owned()),
                ..Resource::default()
            };
            let (bytes, _) = fetcher.fetch_to_vec(&root, limit).map_err(|source| {
                FetchStageError::RootFetch {
                    url: redact(url),
                    source,
                }
            })?;
            let signature = match sig_url {
                Some(sig_url) => {
                    let sig = Resource {
                        source: Some(sig_url.clone()),
                        ..Resource::default()
                    };
                    let (sig, _) = fetcher.fetch_to_vec(&sig, 1 << 20).map_err(|source| {
                        FetchStageError::SignatureFetch {
                            url: redact(&sig_url),
                            source,
                        }
                    })?;
                    Some(sig)
                }
                None => None,
            };
            (Some(bytes), redact(url), signature)
        }
        None => {
            let provider = providers::for_platform(&ctx.platform, &ctx.env)?;
            let bytes = provider.fetch_config()?;
            log::debug!(
                "read {} bytes from {}",
                bytes.as_ref().map_or(0, Vec::len),
                provider.describe()
            );
            if bytes.as_ref().is_some_and(|b| b.len() as u64 > limit) {
                return Err(FetchStageError::RootFetch {
                    url: provider.describe(),
                    source: FetchError::TooLarge {
                        url: provider.describe(),
                        limit,
                    },
                });
            }
            (bytes, provider.describe(), None)
        }
    };
    let mut state = State {
        source,
        ..State::default()
    };
    let user = match bytes.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) {
        None => {
            if pin.is_some() {
                return Err(verify::VerifyError::PinnedButMissing {
                    source_name: state.source,
                }
                .into());
            }
            log::info!(
                "no user config from {}; provisioning from base configs only",
                state.source
            );
            state.source = format!("{} (no user config)", state.source);
            None
        }
        Some(bytes) => {
            // The digest for the state file is not part of the decision.
            let source = state.source.clone();
            let (digest, checked) = sha512_beside(&bytes, || -> Result<_, FetchStageError> {
                let measurement = measure_once(ctx, &bytes, &source)?;
                let trust = || TrustStore::load(&ctx.trust_dir);
                let verified = verify::verify_root(
                    &ctx.policy,
                    &trust,
                    pin,
                    verify::Delivered {
                        bytes: &bytes,
                        source_name: &source,
                        detached_signature,
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
                log::info!(
                    "config from {} is signed by {}",
                    state.source,
                    signer.fingerprint
                );
            }
            let mut chain = chain::root_chain(url);
            let config = chain::parse(verified.config(&bytes), &chain)?;
            let rendered = chain::render(config, &mut chain, network, &fetch_policy)?;
            state.fetched = rendered.fetched;
            Some(rendered.config)
        }
    };
    let base = base_config(&ctx.base_dir, network, &fetch_policy, &mut state)?;
    let mut config = match user {
        // Merging over nothing changes nothing, and would cost two JSON trees of the config.
        Some(user) if base == Config::default() => user,
        Some(user) => {
            kindling_spec::merge::merge(&base, &user).map_err(|e| ChainError::Invalid {
                chain: "base configs + user config".into(),
                report: e.to_string(),
            })?
        }
        None => base,
    };
    config.ignition.version = kindling_spec::SpecVersion::NEWEST.to_string();
    if network == Network::Offline {
        if let Some(what) = later_network_need(&config) {
            // The later stages fetch these; the fetch stage brings the network up for them.
            return Err(ChainError::NeedsNetwork { url: what }.into());
        }
    }
    Ok((config, state))
}

/// The first thing the later stages will need the network for: a remote file, append or LUKS
/// key, or a clevis binding to a Tang server (or a custom pin that says it needs it).
fn later_network_need(config: &Config) -> Option<String> {
    let storage = &config.storage;
    let remote = |r: &Resource| {
        r.source
            .as_deref()
            .filter(|u| chain::needs_network(u))
            .map(redact)
    };
    storage
        .files
        .iter()
        .flat_map(|f| std::iter::once(&f.contents).chain(&f.append))
        .chain(storage.luks.iter().map(|l| &l.key_file))
        .find_map(remote)
        .or_else(|| {
            storage.luks.iter().enumerate().find_map(|(i, l)| {
                if let Some(t) = l.clevis.tang.first() {
                    Some(format!(
                        "the Tang server {} ($.storage.luks.{i})",
                        redact(&t.url)
                    ))
                } else if l.clevis.custom.needs_network == Some(true) {
                    Some(format!("the clevis pin of $.storage.luks.{i}"))
                } else {
                    None
                }
            })
        })
}

/// `base.d/*.json` in name order, merged into one config that the user config goes over.
fn base_config(
    dir: &Path,
    network: Network,
    policy: &FetchPolicy,
    state: &mut State,
) -> Result<Config, FetchStageError> {
    let mut config = Config::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(config),
        Err(source) => {
            return Err(FetchStageError::BaseDir {
                dir: dir.display().to_string(),
                source,
            })
        }
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| FetchStageError::BaseDir {
            dir: path.display().to_string(),
            source,
        })?;
        let mut chain = vec![path.display().to_string()];
        let base = chain::render(chain::parse(&bytes, &chain)?, &mut chain, network, policy)?;
        state.fetched.extend(base.fetched);
        config = kindling_spec::merge::merge(&config, &base.config).map_err(|e| {
            ChainError::Invalid {
                chain: path.display().to_string(),
                report: e.to_string(),
            }
        })?;
    }
    Ok(config)
}
