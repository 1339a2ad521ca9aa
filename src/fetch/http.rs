//! http and https: retries with backoff, config CAs and proxies, headers that do not follow
//! a redirect to another host, and deadlines.

use std::io::{self, Read};
use std::sync::Once;
use std::time::{Duration, Instant};

use kindling_spec::types::HttpHeader;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{redirect, StatusCode, Url};

use super::redact::redact;
use super::{FetchError, FetchSettings, Fetcher};

const MAX_REDIRECTS: usize = 10;
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Without `httpTotal`, retrying stops after this long.
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(300);

static CRYPTO: Once = Once::new();

/// A client for `https` (`tls`: the system's CA certificates plus the config's), or one for
/// plain `http` only, which skips reading and parsing the system's certificates: that costs
/// tens of milliseconds and a few MiB, for nothing when every URL is plain http.
pub(super) fn client(settings: &FetchSettings, tls: bool) -> Result<Client, FetchError> {
    // ring, not aws-lc: smaller, and no C toolchain needed in the initramfs build.
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let setup = |reason: String| FetchError::Transport {
        url: "(client setup)".into(),
        reason,
    };
    let mut builder = Client::builder()
        .user_agent(concat!("Kindling/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect::Policy::none())
        .connect_timeout(settings.response_headers_timeout)
        .timeout(settings.response_headers_timeout);
    let mut certs = Vec::new();
    for pem in settings.ca_bundles.iter().filter(|_| tls) {
        let bundle = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            setup(format!(
                "a CA bundle from ignition.security.tls is not valid PEM: {e}"
            ))
        })?;
        certs.extend(bundle);
    }
    if !tls {
        builder = builder.tls_certs_only(Vec::new());
    } else if !certs.is_empty() {
        builder = builder.tls_certs_merge(certs);
    }
    let no_proxy = reqwest::NoProxy::from_string(&settings.no_proxy.join(","));
    for (url, https) in [(&settings.http_proxy, false), (&settings.https_proxy, true)] {
        if let Some(url) = url.as_deref().filter(|u| !u.is_empty()) {
            let proxy = if https {
                reqwest::Proxy::https(url)
            } else {
                reqwest::Proxy::http(url)
            }
            .map_err(|e| setup(format!("proxy {}: {e}", redact(url))))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
        }
    }
    builder.build().map_err(|e| setup(e.to_string()))
}

/// Opens `url`, retrying transport errors and 5xx answers until the deadline.
pub(super) fn open(
    fetcher: &Fetcher,
    settings: &FetchSettings,
    url: &str,
    headers: &[HttpHeader],
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let started = Instant::now();
    let extra = header_map(headers, url)?;
    let shown = redact(url);
    let resp = retrying(
        settings,
        &shown,
        started,
        |s| s.is_success() || s.is_client_error(),
        || follow(fetcher, url, &extra),
    )?;
    match resp.status() {
        s if s.is_success() => body(resp, shown, started, settings, limit),
        StatusCode::NOT_FOUND => Err(FetchError::NotFound { url: shown }),
        s => Err(FetchError::Status {
            url: shown,
            status: s.as_u16(),
            hint: "the server refused the request; check the URL and httpHeaders",
        }),
    }
}

/// Calls `send` until it gets a response whose status `is_final` accepts, backing off (with
/// jitter) after transport errors and other statuses, until the config's `httpTotal` (or the
/// default window) runs out. `shown` is the URL as errors and logs may show it.
pub(super) fn retrying(
    settings: &FetchSettings,
    shown: &str,
    started: Instant,
    is_final: impl Fn(StatusCode) -> bool,
    mut send: impl FnMut() -> Result<Response, Hop>,
) -> Result<Response, FetchError> {
    let window = settings.total_timeout.unwrap_or(DEFAULT_RETRY_WINDOW);
    let deadline = started + window;
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let retry_reason = match send() {
            Err(Hop::Fatal(e)) => return Err(e),
            Err(Hop::Retry(reason)) => reason,
            Ok(resp) if is_final(resp.status()) => return Ok(resp),
            Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
        };
        let now = Instant::now();
        if now + backoff > deadline {
            return Err(FetchError::Transport {
                url: shown.to_owned(),
                reason: format!(
                    "{retry_reason}; gave up after {attempt} attempts in {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
            });
        }
        log::warn!(
            "fetching {shown}: {retry_reason}; retrying in {} ms (attempt {attempt})",
            backoff.as_millis()
        );
        std::thread::sleep(jitter(backoff));
        backoff = backoff_after(backoff);
        attempt += 1;
    }
}

/// The body of a successful response as a reader that enforces the deadline and logs
/// progress; a declared length over `limit` is refused before reading.
pub(super) fn body(
    resp: Response,
    shown: String,
    started: Instant,
    settings: &FetchSettings,
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let total = resp.content_length();
    if let (Some(total), Some(limit)) = (total, limit) {
        if total > limit {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
    }
    Ok(Box::new(Body {
        inner: resp,
        url: shown,
        read: 0,
        total,
        deadline: settings.total_timeout.map(|t| started + t),
        last_log: Instant::now(),
    }))
}

/// The start of an error response's body, for the service's error code; never shown as is.
pub(super) fn error_body(resp: Response) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = resp.take(16 * 1024).read_to_end(&mut buf);
    buf
}

/// The next backoff: doubled, up to the cap.
pub(super) fn backoff_after(d: Duration) -> Duration {
    (d * 2).min(MAX_BACKOFF)
}

/// Up to a quarter less than `d`, so that many machines booting at once spread out.
pub(super) fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d - d.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

fn header_map(headers: &[HttpHeader], url: &str) -> Result<HeaderMap, FetchError> {
    let mut map = HeaderMap::new();
    for h in headers {
        let bad = |what: &str| FetchError::Transport {
            url: redact(url),
            reason: format!("httpHeaders entry {:?} has an invalid {what}", h.name),
        };
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad("name"))?;
        let value =
            HeaderValue::from_str(h.value.as_deref().unwrap_or("")).map_err(|_| bad("value"))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Why a request got no answer to use.
pub(super) enum Hop {
    /// Worth trying again (transport errors and the like), with the reason.
    Retry(String),
    /// Not worth it: the client could not be built.
    Fatal(FetchError),
}

impl From<String> for Hop {
    fn from(reason: String) -> Self {
        Self::Retry(reason)
    }
}

/// Sends the request and follows redirects by hand, dropping the config's headers as soon as
/// a redirect leads to another host (they often carry credentials).
fn follow(fetcher: &Fetcher, url: &str, extra: &HeaderMap) -> Result<Response, Hop> {
    let mut current = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    let origin = (
        current.scheme().to_owned(),
        current.host_str().map(str::to_owned),
        current.port_or_known_default(),
    );
    for _ in 0..=MAX_REDIRECTS {
        let same_origin = (
            current.scheme().to_owned(),
            current.host_str().map(str::to_owned),
            current.port_or_known_default(),
        ) == origin;
        // Each hop with the client for its scheme: a plain http URL may redirect to https.
        let client = fetcher
            .http_client(current.scheme() == "https")
            .map_err(Hop::Fatal)?;
        let mut req = client.get(current.clone());
        if same_origin {
            req = req.headers(extra.clone());
        }
        let resp = req.send().map_err(describe)?;
        if !resp.status().is_redirection() {
            return Ok(resp);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("HTTP {} without a Location header", resp.status().as_u16()))?;
        current = current
            .join(location)
            .map_err(|e| format!("bad redirect Location: {e}"))?;
    }
    Err(format!("more than {MAX_REDIRECTS} redirects").into())
}

/// The error chain of a reqwest error, which names TLS and connection problems precisely.
pub(super) fn describe(err: reqwest::Error) -> String {
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cur = e.source();
    }
    out
}

/// The response body, with the total deadline enforced and progress logged.
struct Body {
    inner: Response,
    url: String,
    read: u64,
    total: Option<u64>,
    deadline: Option<Instant>,
    last_log: Instant,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "ignition.timeouts.httpTotal expired during the download",
            ));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if n == 0 {
            if let Some(total) = self.total.filter(|t| *t != self.read) {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("body ended after {} of {total} bytes", self.read),
                ));
            }
        }
        if self.last_log.elapsed() >= Duration::from_secs(5) {
            self.last_log = Instant::now();
            match self.total {
                Some(t) => log::info!(
                    "fetching {}: {} of {} MiB",
                    self.url,
                    self.read >> 20,
                    t >> 20
                ),
                None => log::info!("fetching {}: {} MiB", self.url, self.read >> 20),
            }
        }
        Ok(n)
    }
}
