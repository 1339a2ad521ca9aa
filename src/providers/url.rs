//! `kindling.config.url=` (alias `ignition.config.url`): the config at a URL, and its detached
//! signature when the policy asks for one or `kindling.config.sig=` names it.

use kindling_spec::types::Resource;

use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::{FetchError, FetchPolicy, FetchSettings, Fetcher};
use crate::pipeline::render::{needs_network, Network};
use crate::verify;

/// Detached signatures are small; anything larger is not one.
const MAX_SIGNATURE_BYTES: u64 = 1 << 20;

#[derive(Debug)]
pub struct UrlProvider {
    url: String,
    sig_arg: Option<String>,
}

impl UrlProvider {
    pub fn new(url: &str, sig_arg: Option<&str>) -> Self {
        Self {
            url: url.to_owned(),
            sig_arg: sig_arg.map(str::to_owned),
        }
    }

    /// The full URL, for the merge chain (cycles compare exact URLs).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Provider for UrlProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let url = self.url.as_str();
        let sig_url = verify::signature_url(cx.policy, url, self.sig_arg.as_deref());
        if cx.network == Network::Offline {
            if let Some(remote) = [Some(url), sig_url.as_deref()]
                .into_iter()
                .flatten()
                .find(|u| needs_network(u))
            {
                return Ok(Acquired::NeedsNetwork {
                    what: redact(remote),
                });
            }
        }
        let pinned = cx.cmdline.config_pin()?.is_some();
        if !cx.policy.allows(url, pinned) {
            return Err(ProviderError::Fetch {
                what: format!("the config from {}", redact(url)),
                source: FetchError::Refused {
                    url: redact(url),
                    rule: "allowedSchemes: pin this config with kindling.config.hash or serve it over an allowed scheme",
                },
            });
        }
        // The root config's pin is on the command line and its signature verifies itself:
        // both are checked by the verify step, so the fetch itself needs no hash.
        let fetcher = Fetcher::new(FetchSettings {
            total_timeout: Some(cx.timeout),
            policy: FetchPolicy::default(),
            cloud: cx.cloud.clone(),
            ..Default::default()
        });
        let get = |url: &str, limit: u64, what: String| {
            let res = Resource {
                source: Some(url.to_owned()),
                ..Resource::default()
            };
            fetcher
                .fetch_to_vec(&res, limit)
                .map(|(bytes, _)| bytes)
                .map_err(|source| ProviderError::Fetch { what, source })
        };
        let bytes = get(url, cx.limit, format!("the config from {}", redact(url)))?;
        let detached_signature = sig_url
            .map(|s| {
                get(
                    &s,
                    MAX_SIGNATURE_BYTES,
                    format!("the signature {}", redact(&s)),
                )
            })
            .transpose()?;
        Ok(Acquired::Config {
            bytes,
            detached_signature,
        })
    }

    fn describe(&self) -> String {
        redact(&self.url)
    }
}
