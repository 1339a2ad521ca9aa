//! Platform `akamai` (Linode): a metadata token from a PUT, then the user data, base64 and
//! possibly gzip-compressed. Every failure, a 404 included, is an error, as in Ignition.

use std::io::Read;

use reqwest::Method;

use super::metadata::MetadataService;
use super::simple::decode_base64;
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::FetchError;

const TOKEN_URL: &str = "http://169.254.169.254/v1/token";
const USERDATA_URL: &str = "http://169.254.169.254/v1/user-data";
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

#[derive(Debug)]
pub struct AkamaiProvider;

impl Provider for AkamaiProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, "akamai");
        let token_url = service.url(TOKEN_URL);
        if let Some(offline) = service.offline(&token_url) {
            return Ok(offline);
        }
        let answer = service.send(
            Method::PUT,
            &token_url,
            &[
                ("Metadata-Token-Expiry-Seconds", "300"),
                ("Accept", "text/plain"),
            ],
            None,
            &[],
        )?;
        if !answer.is_success() {
            return Err(service.status_error(&token_url, answer.status));
        }
        let token = String::from_utf8_lossy(&answer.body).trim().to_owned();
        let bad = |url: &str, reason: String| {
            service.error(
                url,
                FetchError::Transport {
                    url: redact(url),
                    reason,
                },
            )
        };
        if token.is_empty() {
            return Err(bad(&token_url, "the metadata token was empty".into()));
        }
        let url = service.url(USERDATA_URL);
        let answer = service.get(&url, &[("Metadata-Token", &token), ("Accept", "*/*")])?;
        if !answer.is_success() {
            return Err(service.status_error(&url, answer.status));
        }
        let raw = decode_base64(&answer.body).map_err(|r| bad(&url, r))?;
        let bytes = gunzip_if_gzip(raw, cx.limit).map_err(|r| bad(&url, r))?;
        Ok(Acquired::Config {
            bytes,
            detached_signature: None,
        })
    }

    fn describe(&self) -> String {
        "the Akamai (Linode) metadata service (user data)".to_owned()
    }
}

/// Gzip-compressed user data is inflated (at most `limit` bytes); anything else is returned
/// as it is.
pub fn gunzip_if_gzip(raw: Vec<u8>, limit: u64) -> Result<Vec<u8>, String> {
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the user data looks gzip-compressed but does not inflate: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "the user data inflates to more than the limit of {limit} bytes (the policy's maxConfigBytes)"
        ));
    }
    Ok(out)
}
