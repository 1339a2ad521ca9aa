//! What the platforms whose config comes from a metadata service over HTTP share: the
//! service's address (or, in tests only, a stand-in's), retries within the config budget, and
//! the common meaning of answers (2xx: the config; 404: no config).

use std::time::Duration;

use reqwest::Method;

use super::{Acquired, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::request::{Answer, Request};
use crate::fetch::{FetchSettings, Fetcher};
use crate::pipeline::render::Network;

/// A metadata service as one platform's provider sees it.
#[derive(Debug)]
pub struct MetadataService<'a> {
    cx: &'a ProviderContext<'a>,
    platform: &'static str,
    fetcher: Fetcher,
}

impl<'a> MetadataService<'a> {
    pub fn new(cx: &'a ProviderContext<'a>, platform: &'static str) -> Self {
        Self {
            cx,
            platform,
            fetcher: Fetcher::new(FetchSettings {
                response_headers_timeout: Duration::from_secs(10),
                total_timeout: Some(cx.timeout),
                ..FetchSettings::default()
            }),
        }
    }

    /// In fetch-offline, the answer every metadata provider gives: the fetch stage will ask
    /// once the network is up.
    pub fn offline(&self, production_url: &str) -> Option<Acquired> {
        (self.cx.network == Network::Offline).then(|| Acquired::NeedsNetwork {
            what: format!(
                "the {} metadata service ({})",
                self.platform,
                redact(production_url)
            ),
        })
    }

    /// The fetcher for this service's requests.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The budget for one request, retries included.
    pub fn budget(&self) -> Duration {
        self.cx.timeout
    }

    /// `production` with its scheme, host and port replaced by the stand-in's when a test set
    /// one (`KINDLING_TEST_METADATA_URL`); otherwise `production` itself.
    pub fn url(&self, production: &str) -> String {
        self.cx.env.metadata_url(production)
    }

    /// Sends one request within the config budget, retrying 5xx, transport errors and
    /// `retry`; the error names the platform and the URL.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        retry: &[u16],
    ) -> Result<Answer, ProviderError> {
        self.fetcher
            .request(&Request {
                method,
                url,
                headers,
                body,
                retry,
                limit: self.cx.limit,
                budget: self.cx.timeout,
            })
            .map_err(|source| self.error(url, source))
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, ProviderError> {
        self.send(Method::GET, url, headers, None, &[])
    }

    /// The user data at `url`: a 2xx is the config (possibly empty), a 404 is no config, and
    /// anything else an error that names the status.
    pub fn userdata(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        retry: &[u16],
    ) -> Result<Option<Vec<u8>>, ProviderError> {
        let answer = self.send(Method::GET, url, headers, None, retry)?;
        match answer.status {
            s if (200..300).contains(&s) => Ok(Some(answer.body)),
            404 => Ok(None),
            status => Err(self.status_error(url, status)),
        }
    }

    pub fn error(&self, url: &str, source: crate::fetch::FetchError) -> ProviderError {
        ProviderError::Fetch {
            what: format!("the {} user data from {}", self.platform, redact(url)),
            source,
        }
    }

    pub fn status_error(&self, url: &str, status: u16) -> ProviderError {
        self.error(
            url,
            crate::fetch::FetchError::Status {
                url: redact(url),
                status,
                hint: "the metadata service refused the request",
            },
        )
    }
}

/// Bytes found as user data: the config, or no config when there were none.
pub fn found(bytes: Option<Vec<u8>>) -> Acquired {
    match bytes {
        Some(bytes) => Acquired::Config {
            bytes,
            detached_signature: None,
        },
        None => Acquired::NoConfig,
    }
}
