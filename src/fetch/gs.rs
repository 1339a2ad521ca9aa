//! `gs://bucket/object`, read through the GCS JSON API as Ignition's main branch reads it
//! (`/storage/v1/b/<bucket>/o/<object>?alt=media`). On platform gcp the request carries the
//! default service account's token from the metadata server; without a service account (a
//! 404 there), or elsewhere, it is anonymous. The token never reaches a log or an error.

use std::io::Read;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;

use super::cloud::Secret;
use super::http;
use super::redact::redact;
use super::request::Request;
use super::{FetchError, Fetcher};

const API: &str = "https://storage.googleapis.com";
const TOKEN_URL: &str = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token?scopes=https://www.googleapis.com/auth/devstorage.read_only";

/// A path segment: everything but the unreserved characters is escaped, `/` included (an
/// object name is one segment of the API path).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The bucket and object a `gs://` URL names.
pub fn parse(url: &str) -> Result<(String, String), &'static str> {
    let rest = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or("write it as gs://bucket/object")?;
    let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("it names no bucket (gs://bucket/object)");
    }
    let object = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| "its object name is not valid UTF-8 once decoded")?;
    if object.is_empty() {
        return Err("it names no object (gs://bucket/object)");
    }
    Ok((bucket.to_owned(), object.into_owned()))
}

/// The JSON API's media URL for an object, under `base` (the API, or a test's stand-in).
pub fn media_url(base: &str, bucket: &str, object: &str) -> String {
    format!(
        "{}/storage/v1/b/{}/o/{}?alt=media",
        base.trim_end_matches('/'),
        utf8_percent_encode(bucket, SEGMENT),
        utf8_percent_encode(object, SEGMENT)
    )
}

pub(super) fn open(
    fetcher: &Fetcher,
    url: &str,
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let shown = redact(url);
    let (bucket, object) = parse(url).map_err(|reason| FetchError::InvalidObjectUrl {
        url: shown.clone(),
        reason,
    })?;
    let settings = fetcher.settings();
    let base = settings.cloud.gcs_endpoint.as_deref().unwrap_or(API);
    let target = reqwest::Url::parse(&media_url(base, &bucket, &object)).map_err(|_| {
        FetchError::InvalidObjectUrl {
            url: shown.clone(),
            reason: "its bucket or object does not make a valid URL",
        }
    })?;
    let token = settings
        .cloud
        .gcp_instance
        .then(|| fetcher.gcs_token())
        .flatten();
    let mut headers = HeaderMap::new();
    if let Some((kind, token)) = &token {
        let mut value =
            HeaderValue::from_str(&format!("{kind} {}", token.expose())).map_err(|_| {
                FetchError::Transport {
                    url: shown.clone(),
                    reason: "the metadata server's token is not a valid header value".into(),
                }
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    log::debug!(
        "fetching {shown} ({})",
        if token.is_some() {
            "with the service account's token"
        } else {
            "anonymously"
        }
    );
    let (status, body) =
        match http::get_object(fetcher, settings, &target, &headers, shown.clone(), limit)? {
            Ok(reader) => return Ok(reader),
            Err(refused) => refused,
        };
    let code = error_reason(&body);
    Err(FetchError::Store {
        url: shown,
        service: "GCS",
        status: status.as_u16(),
        hint: hint(status.as_u16(), token.is_some()),
        code: code.unwrap_or_default(),
    })
}

/// The default service account's token: `(type, token)`, or `None` when the instance has
/// none (or the metadata server cannot say), and the request goes anonymously.
pub(super) fn service_account_token(fetcher: &Fetcher) -> Option<(String, Secret)> {
    let cloud = &fetcher.settings().cloud;
    let url = cloud.metadata(TOKEN_URL);
    let answer = fetcher.request(&Request {
        method: Method::GET,
        url: &url,
        headers: &[("Metadata-Flavor", "Google")],
        body: None,
        retry: &[],
        limit: 64 * 1024,
        budget: std::time::Duration::from_secs(30),
    });
    let answer = match answer {
        Ok(a) if a.is_success() => a,
        Ok(a) if a.status == 404 => {
            log::info!("the instance has no service account: reading GCS objects anonymously");
            return None;
        }
        Ok(a) => {
            log::warn!(
                "the metadata server answered HTTP {} for the service account's token: reading GCS objects anonymously",
                a.status
            );
            return None;
        }
        Err(e) => {
            log::warn!("no service account token ({e}): reading GCS objects anonymously");
            return None;
        }
    };
    #[derive(serde::Deserialize)]
    struct Token {
        access_token: String,
        token_type: Option<String>,
    }
    match serde_json::from_slice::<Token>(&answer.body) {
        Ok(t) if !t.access_token.is_empty() => Some((
            t.token_type
                .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphabetic()))
                .unwrap_or_else(|| "Bearer".to_owned()),
            Secret::new(t.access_token),
        )),
        // serde's message could quote the token: say only what was wrong.
        _ => {
            log::warn!(
                "the metadata server's token answer is not the JSON it should be: reading GCS objects anonymously"
            );
            None
        }
    }
}

/// The `reason` of a JSON API error (`{"error": {"errors": [{"reason": …}]}}`).
fn error_reason(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let reason = v
        .pointer("/error/errors/0/reason")
        .and_then(serde_json::Value::as_str)?;
    (!reason.is_empty() && reason.len() <= 64 && reason.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| reason.to_owned())
}

fn hint(status: u16, with_token: bool) -> &'static str {
    match status {
        401 if with_token => {
            "the service account's token was refused (expired or not valid): check the system clock and the metadata server"
        }
        401 | 403 if !with_token => {
            "access denied to an anonymous request: the object is not public, and no service account token came with it (platform gcp with a service account sends one)"
        }
        403 => {
            "access denied: the instance's service account may not read this object (it needs storage.objects.get, and the devstorage.read_only scope)"
        }
        _ => "GCS refused the request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_one_escaped_segment() {
        let (b, o) = parse("gs://my-bucket/dir/with%20space.ign").expect("parses");
        assert_eq!(
            (b.as_str(), o.as_str()),
            ("my-bucket", "dir/with space.ign")
        );
        assert_eq!(
            media_url(API, &b, &o),
            "https://storage.googleapis.com/storage/v1/b/my-bucket/o/dir%2Fwith%20space.ign?alt=media"
        );
        assert!(parse("gs://bucket").is_err());
        assert!(parse("gs:///object").is_err());
    }

    #[test]
    fn error_reasons_are_read_and_nothing_else() {
        let body = br#"{"error":{"code":403,"message":"x@y.iam.gserviceaccount.com does not have access","errors":[{"reason":"forbidden"}]}}"#;
        assert_eq!(error_reason(body).as_deref(), Some("forbidden"));
        assert_eq!(error_reason(b"<html>"), None);
    }
}
