//! Step 3 of the pipeline, render: parse the verified root config and follow
//! `ignition.config.replace` and `ignition.config.merge` depth-first, as Ignition does. Each
//! config's own timeouts, CAs and proxy govern the fetching of the configs it references, and
//! the trust policy (strict chain, allowed schemes) governs every fetch.

use std::time::Duration;

use kindling_spec::source::MAX_CONFIG_BYTES;
use kindling_spec::types::{Ignition, Resource};
use kindling_spec::{merge, Config, Options};

use crate::fetch::redact::redact;
use crate::fetch::{FetchError, FetchSettings, Fetcher};

/// How deep replace/merge references may nest.
pub const MAX_DEPTH: usize = 10;

/// Whether remote URLs may be fetched now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Only local sources (fetch-offline): the first remote URL stops the render.
    Offline,
    Online,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Not an error for fetch-offline: the fetch stage will do it once the network is up.
    #[error("{url} needs the network")]
    NeedsNetwork { url: String },
    #[error("fetching {chain} failed: {source}")]
    Fetch { chain: String, source: FetchError },
    #[error("config {chain} is invalid:\n{report}")]
    Invalid { chain: String, report: String },
    #[error(
        "config references form a cycle: {chain}; remove the reference back to an earlier config"
    )]
    Cycle { chain: String },
    #[error("config references nest deeper than {MAX_DEPTH} levels: {chain}")]
    TooDeep { chain: String },
}

/// A rendered config and what was fetched to build it.
#[derive(Debug)]
pub struct Rendered {
    pub config: Config,
    /// (redacted URL, digest) of each fetched config and CA bundle.
    pub fetched: Vec<(String, String)>,
}

/// The root config's place in a chain (it has no URL of its own when it came from a provider).
pub fn root_chain(url: Option<&str>) -> Vec<String> {
    url.map(|u| vec![u.to_owned()]).unwrap_or_default()
}

/// Parses and validates config bytes, logging warnings; errors become `ChainError::Invalid`.
pub fn parse(bytes: &[u8], chain: &[String]) -> Result<Config, ChainError> {
    match kindling_spec::parse(bytes, Options::default()) {
        Ok(parsed) => {
            for entry in &parsed.report.entries {
                log::warn!("{}: {entry}", show(chain));
            }
            Ok(parsed.config)
        }
        Err(report) => Err(ChainError::Invalid {
            chain: show(chain),
            report: report.to_string().trim_end().to_owned(),
        }),
    }
}

fn show(chain: &[String]) -> String {
    if chain.is_empty() {
        "root config".to_owned()
    } else {
        chain
            .iter()
            .map(|u| redact(u))
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

/// The whole render step for the root config: parse what verification let through, then
/// follow its references. `url` is where the root config came from, when it was a URL, so a
/// reference back to it is a cycle.
pub fn render_root(
    bytes: &[u8],
    url: Option<&str>,
    network: Network,
    base: &FetchSettings,
) -> Result<Rendered, ChainError> {
    let mut chain = root_chain(url);
    if let Some(kind) = not_an_ignition_config(bytes) {
        // Ignition 2.26 fails on these too (its parser finds no JSON); say what it is.
        return Err(ChainError::Invalid {
            chain: show(&chain),
            report: format!(
                "error: this is {kind}, not an Ignition config: Kindling reads only Ignition JSON \
                 (spec 3.x, or 2.x/1 for Flatcar); write the config in Butane YAML and transpile \
                 it with flint, or give the instance an Ignition config as user data"
            ),
        });
    }
    let config = parse(bytes, &chain)?;
    render(config, &mut chain, network, base)
}

/// Recognises the user data that other first-boot tools read: cloud-init's formats.
fn not_an_ignition_config(bytes: &[u8]) -> Option<&'static str> {
    let start = bytes.trim_ascii_start();
    if start.starts_with(b"#cloud-config") {
        Some("a cloud-config (#cloud-config)")
    } else if start.starts_with(b"#!") {
        Some("a shell script (#!)")
    } else if start.starts_with(b"Content-Type: multipart/") {
        Some("a cloud-init MIME multipart archive")
    } else {
        None
    }
}

pub fn render(
    config: Config,
    chain: &mut Vec<String>,
    network: Network,
    base: &FetchSettings,
) -> Result<Rendered, ChainError> {
    let mut fetched = Vec::new();
    let config = render_inner(config, chain, network, base, &mut fetched)?;
    Ok(Rendered { config, fetched })
}

fn render_inner(
    config: Config,
    chain: &mut Vec<String>,
    network: Network,
    base: &FetchSettings,
    fetched: &mut Vec<(String, String)>,
) -> Result<Config, ChainError> {
    let refs = &config.ignition.config;
    if refs.replace.source.as_deref().is_none_or(str::is_empty) && refs.merge.is_empty() {
        return Ok(config);
    }
    let fetcher = fetcher_for(&config.ignition, chain, network, base, fetched)?;
    if refs
        .replace
        .source
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        let child = fetch_config(&fetcher, &refs.replace, chain, network, fetched)?;
        let rendered = render_inner(child, chain, network, base, fetched);
        chain.pop();
        return rendered;
    }
    let mut result = config.clone();
    for reference in &config.ignition.config.merge {
        let child = fetch_config(&fetcher, reference, chain, network, fetched)?;
        let child = render_inner(child, chain, network, base, fetched)?;
        chain.pop();
        result = merge::merge(&result, &child).map_err(|e| ChainError::Invalid {
            chain: show(chain),
            report: e.to_string(),
        })?;
    }
    Ok(result)
}

/// Fetches and parses one referenced config, pushing its URL onto the chain.
fn fetch_config(
    fetcher: &Fetcher,
    reference: &Resource,
    chain: &mut Vec<String>,
    network: Network,
    fetched: &mut Vec<(String, String)>,
) -> Result<Config, ChainError> {
    // The chain holds full URLs (redacted only when shown), so cycles compare exactly.
    let url = reference.source.as_deref().unwrap_or("");
    let shown = redact(url);
    let cycle = chain.iter().any(|c| c == url);
    chain.push(url.to_owned());
    if cycle {
        return Err(ChainError::Cycle { chain: show(chain) });
    }
    if chain.len() > MAX_DEPTH {
        return Err(ChainError::TooDeep { chain: show(chain) });
    }
    if network == Network::Offline && needs_network(url) {
        return Err(ChainError::NeedsNetwork { url: shown });
    }
    let (bytes, got) = fetcher
        .fetch_to_vec(reference, MAX_CONFIG_BYTES as u64)
        .map_err(|source| ChainError::Fetch {
            chain: show(chain),
            source,
        })?;
    fetched.push((shown, got.digest.to_string()));
    parse(&bytes, chain)
}

/// Every URL but `data:`, `oem:` (Flatcar's OEM partition) and none is fetched over the
/// network: http(s), tftp, and the object stores (s3, arn, gs).
pub use crate::fetch::is_remote as needs_network;

/// Fetch settings from a config's `ignition` section over `base` (the trust policy and the
/// platform's cloud settings); CA bundles are fetched here.
pub fn fetcher_for(
    ign: &Ignition,
    chain: &[String],
    network: Network,
    base: &FetchSettings,
    fetched: &mut Vec<(String, String)>,
) -> Result<Fetcher, ChainError> {
    let secs = |v: Option<i64>| v.filter(|s| *s > 0).map(|s| Duration::from_secs(s as u64));
    let mut settings = FetchSettings {
        response_headers_timeout: secs(ign.timeouts.http_response_headers)
            .unwrap_or(Duration::from_secs(10)),
        // Unset: the fetch layer's defaults. 0: no overall limit, as the spec documents.
        total_timeout: ign
            .timeouts
            .http_total
            .filter(|s| *s >= 0)
            .map(|s| Duration::from_secs(s as u64)),
        http_proxy: ign.proxy.http_proxy.clone(),
        https_proxy: ign.proxy.https_proxy.clone(),
        no_proxy: ign.proxy.no_proxy.clone(),
        policy: base.policy.clone(),
        cloud: base.cloud.clone(),
        ..FetchSettings::default()
    };
    let plain = Fetcher::new(settings.clone());
    for ca in &ign.security.tls.certificate_authorities {
        let url = ca.source.as_deref().unwrap_or("");
        if network == Network::Offline && needs_network(url) {
            return Err(ChainError::NeedsNetwork { url: redact(url) });
        }
        let (pem, got) = plain
            .fetch_to_vec(ca, MAX_CONFIG_BYTES as u64)
            .map_err(|source| ChainError::Fetch {
                chain: format!("{} → CA {}", show(chain), redact(url)),
                source,
            })?;
        fetched.push((redact(url), got.digest.to_string()));
        settings.ca_bundles.push(pem);
    }
    Ok(Fetcher::new(settings))
}
