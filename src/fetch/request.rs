//! Requests to cloud metadata services: any method, fixed headers, and a caller-chosen set of
//! statuses that mean "try again" (Azure's 404/410/429, say). Unlike resource fetches, the
//! caller sees every other status and decides what it means: a 404 for user-data is "no
//! config" on most clouds. Every request carries Ignition's default headers unless the
//! provider sets its own under the same name.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::Method;

use super::redact::redact;
use super::retry::{Attempt, Retries};
use super::{FetchError, Fetcher};

/// One request, retried until it gets an answer the caller wants to see.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
    /// Statuses retried besides 5xx; transport errors are always retried.
    pub retry: &'a [u16],
    /// The most body bytes to accept.
    pub limit: u64,
    /// Give up after this long, retries included.
    pub budget: Duration,
}

/// A status the caller did not ask to retry, its headers and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Fetcher {
    /// Sends `req` until it gets an answer outside its retry set, or its budget runs out.
    /// Redirects are not followed: metadata services do not send them.
    pub fn request(&self, req: &Request<'_>) -> Result<Answer, FetchError> {
        let shown = redact(req.url);
        let headers = header_map(req.headers, &shown)?;
        let client = self.http_client(req.url.starts_with("https:"))?;
        let started = Instant::now();
        let retries = Retries {
            shown: &shown,
            doing: req.method.as_str(),
            started,
            deadline: started + req.budget,
            hint: None,
        };
        retries.run(|| {
            let mut builder = client
                .request(req.method.clone(), req.url)
                .headers(headers.clone());
            if let Some(body) = req.body {
                builder = builder.body(body.to_vec());
            }
            let resp = match builder.send() {
                Ok(resp) => resp,
                Err(e) => {
                    return Ok(match super::http::permanent(&e) {
                        Some(why) => {
                            Attempt::Permanent(format!("{}: {why}", super::http::describe(e)))
                        }
                        None => Attempt::Retry {
                            reason: super::http::describe(e),
                            wait: None,
                        },
                    })
                }
            };
            let status = resp.status().as_u16();
            if resp.status().is_server_error() || req.retry.contains(&status) {
                return Ok(Attempt::Retry {
                    reason: format!("HTTP {status}"),
                    wait: retry_after(resp.headers()),
                });
            }
            let headers = resp.headers().clone();
            let body = if req.method == Method::HEAD {
                Vec::new()
            } else {
                read_limited(resp, req.limit, &shown)?
            };
            Ok(Attempt::Done(Answer {
                status,
                headers,
                body,
            }))
        })
    }
}

/// A server's own `Retry-After: <seconds>`, capped so one answer cannot stall a boot.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(30)))
}

/// Ignition's default headers (Accept, Accept-Encoding, User-Agent), with the provider's
/// set over them by name: packet and akamai replace Accept, which their services check.
fn header_map(headers: &[(&str, &str)], url: &str) -> Result<HeaderMap, FetchError> {
    let mut map = super::http::default_headers();
    for (name, value) in headers {
        let bad = || FetchError::Transport {
            url: url.to_owned(),
            reason: format!("request header {name:?} is not valid"),
        };
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?,
            HeaderValue::from_str(value).map_err(|_| bad())?,
        );
    }
    Ok(map)
}

fn read_limited(
    resp: reqwest::blocking::Response,
    limit: u64,
    url: &str,
) -> Result<Vec<u8>, FetchError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge {
            url: url.to_owned(),
            limit,
        });
    }
    let declared = resp.content_length();
    let mut body = Vec::new();
    resp.take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|source| FetchError::Read {
            url: url.to_owned(),
            source,
        })?;
    if body.len() as u64 > limit {
        return Err(FetchError::TooLarge {
            url: url.to_owned(),
            limit,
        });
    }
    if let Some(n) = declared.filter(|n| *n != body.len() as u64) {
        return Err(FetchError::Read {
            url: url.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("body ended after {} of {n} bytes", body.len()),
            ),
        });
    }
    Ok(body)
}
