//! http and https: retries with backoff, config CAs and proxies, Ignition's request headers
//! (which, like the config's own, do not follow a redirect), and deadlines.

use std::io::{self, Read};
use std::sync::Once;
use std::time::{Duration, Instant};

use kindling_spec::types::HttpHeader;
use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT as ACCEPT_NAME,
    ACCEPT_ENCODING as ACCEPT_ENCODING_NAME, LOCATION, USER_AGENT as USER_AGENT_NAME,
};
use reqwest::{redirect, StatusCode, Url};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::redact::redact;
use super::retry::{Attempt, Retries};
use super::{FetchError, FetchSettings, Fetcher};

const MAX_REDIRECTS: usize = 10;
/// Without `httpTotal`, retrying stops after this long.
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(300);
/// Without `httpTotal`, one resource (retries and body) may take this long in all. Ignition
/// has no such default; without one a server that sends a byte a second holds the boot for
/// ever (issue 15, defect 12).
pub const DEFAULT_TOTAL: Duration = Duration::from_secs(600);

static CRYPTO: Once = Once::new();

/// The `Accept` header Ignition 2.26.0 sends on every http(s) fetch. Config servers choose
/// the spec version they answer with by it: the OpenShift Machine Config Server, for one,
/// serves a spec 2.2 config to a client that does not ask for 3.x.
pub const ACCEPT: &str = "application/vnd.coreos.ignition+json;version=3.6.0, */*;q=0.1";
/// Sent as Ignition sends it, so that no transparent compression changes the bytes that a
/// verification hash covers.
pub const ACCEPT_ENCODING: &str = "identity";
/// The `User-Agent`, exactly as a distribution build of Ignition 2.26.0 sends it, with
/// nothing after the version: servers read what follows `Ignition/` as a semantic version
/// (the Machine Config Server answered 400 to anything else), so a suffix naming Kindling
/// would break them. Kindling names itself in its logs and result report instead.
pub const USER_AGENT: &str = "Ignition/2.26.0";

/// The headers every http(s) request starts with; a config's `httpHeaders` (or a metadata
/// provider's own) replace them by name, as Ignition's `Header.Set` does.
pub(super) fn default_headers() -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(ACCEPT_NAME, HeaderValue::from_static(ACCEPT));
    map.insert(
        ACCEPT_ENCODING_NAME,
        HeaderValue::from_static(ACCEPT_ENCODING),
    );
    map.insert(USER_AGENT_NAME, HeaderValue::from_static(USER_AGENT));
    map
}

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
    // No client-wide User-Agent: the request headers carry it, and a request after a
    // redirect carries none of them (see `follow`).
    let mut builder = Client::builder()
        .redirect(redirect::Policy::none())
        .connect_timeout(settings.response_headers_timeout)
        .timeout(settings.response_headers_timeout);
    let mut certs = Vec::new();
    for pem in settings.ca_bundles.iter().filter(|_| tls) {
        let bad = |e: &dyn std::fmt::Display| {
            setup(format!(
                "a CA bundle from ignition.security.tls is not valid PEM: {e}"
            ))
        };
        // Checked by reqwest's parser first, for the same error text as before.
        reqwest::Certificate::from_pem_bundle(pem).map_err(|e| bad(&e))?;
        for cert in <CertificateDer<'static> as PemObject>::pem_slice_iter(pem) {
            certs.push(cert.map_err(|e| bad(&e))?);
        }
    }
    if !tls {
        builder = builder.tls_certs_only(Vec::new());
    } else if !certs.is_empty() {
        // The system's CAs and the config's, and a config CA served as the server's own
        // certificate accepted as Ignition accepts it (see tls.rs).
        let config = super::tls::client_config(certs).map_err(|e| {
            setup(format!(
                "a CA from ignition.security.tls cannot be used: {e}"
            ))
        })?;
        builder = builder.tls_backend_preconfigured(config);
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

/// Opens `url`, retrying transport errors, 5xx and 429 answers until the deadline.
pub(super) fn open(
    fetcher: &Fetcher,
    settings: &FetchSettings,
    url: &str,
    headers: &[HttpHeader],
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let started = Instant::now();
    let headers = header_map(headers, url)?;
    let shown = redact(url);
    let resp = retrying(
        settings,
        &shown,
        started,
        |s| s.is_success() || s.is_client_error(),
        || follow(fetcher, url, &headers),
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
/// jitter, or after the server's Retry-After on a 429) after transport errors and other
/// statuses, until the retry window of the config's `httpTotal` runs out. A failure that
/// retrying cannot cure ([`Hop::Permanent`]) ends it at once. `shown` is the URL as errors
/// and logs may show it.
pub(super) fn retrying(
    settings: &FetchSettings,
    shown: &str,
    started: Instant,
    is_final: impl Fn(StatusCode) -> bool,
    mut send: impl FnMut() -> Result<Response, Hop>,
) -> Result<Response, FetchError> {
    let total = Total::of(settings);
    let retries = Retries {
        shown,
        doing: "fetching",
        started,
        deadline: started + total.retry_window(),
        hint: Some(format!(
            "{}; set ignition.timeouts.httpTotal to allow more time",
            total.describe_retry()
        )),
    };
    retries.run(|| match send() {
        Err(Hop::Fatal(e)) => Err(e),
        Err(Hop::Permanent(reason)) => Ok(Attempt::Permanent(reason)),
        Err(Hop::Retry(reason)) => Ok(Attempt::Retry { reason, wait: None }),
        Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
            // Rate limited: worth another try, after the server's Retry-After if it gives
            // one.
            let wait = super::request::retry_after(resp.headers());
            let reason = match wait {
                Some(d) => format!("HTTP 429 Too Many Requests, Retry-After {} s", d.as_secs()),
                None => "HTTP 429 Too Many Requests".to_owned(),
            };
            Ok(Attempt::Retry { reason, wait })
        }
        Ok(resp) if is_final(resp.status()) => Ok(Attempt::Done(resp)),
        Ok(resp) => Ok(Attempt::Retry {
            reason: format!("HTTP {}", resp.status().as_u16()),
            wait: None,
        }),
    })
}

/// The body of a successful response as a reader that enforces the overall deadline and
/// the stall limit and logs progress; a declared length over `limit` is refused before
/// reading.
pub(super) fn body(
    resp: Response,
    shown: String,
    started: Instant,
    settings: &FetchSettings,
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let total = Total::of(settings);
    let length = resp.content_length();
    if let (Some(length), Some(limit)) = (length, limit) {
        if length > limit {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
    }
    Ok(Box::new(Body {
        inner: resp,
        url: shown,
        read: 0,
        total: length,
        deadline: total.overall().map(|d| (started + d, d)),
        budget: total,
        stall: settings.response_headers_timeout,
        last_log: Instant::now(),
    }))
}

/// What a store answered: the object's body, or the status and start of the body of a refusal.
pub(super) type StoreAnswer = Result<Box<dyn Read>, (StatusCode, Vec<u8>)>;

/// GETs an object from a store (S3, GCS) with retries on 5xx, 429 and transport errors:
/// the body as a bounded reader, `NotFound` for a 404, or any other answer's status and the
/// start of its body for the caller to read the service's error code from.
pub(super) fn get_object(
    fetcher: &Fetcher,
    settings: &FetchSettings,
    target: &Url,
    headers: &HeaderMap,
    shown: String,
    limit: Option<u64>,
) -> Result<StoreAnswer, FetchError> {
    let client = fetcher.http_client(target.scheme() == "https")?;
    let started = Instant::now();
    // A store answers a wrong region or a bad signature for good: only 5xx (and 429) and
    // transport errors are worth another try.
    let resp = retrying(
        settings,
        &shown,
        started,
        |s| !s.is_server_error(),
        || {
            client
                .get(target.clone())
                .headers(headers.clone())
                .send()
                .map_err(|e| Hop::Retry(describe(e)))
        },
    )?;
    let status = resp.status();
    if status.is_success() {
        return body(resp, shown, started, settings, limit).map(Ok);
    }
    if status == StatusCode::NOT_FOUND {
        return Err(FetchError::NotFound { url: shown });
    }
    Ok(Err((status, error_body(resp))))
}

/// The start of an error response's body, for the service's error code; never shown as is.
pub(super) fn error_body(resp: Response) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = resp.take(16 * 1024).read_to_end(&mut buf);
    buf
}

/// The time budget of one resource, from `ignition.timeouts.httpTotal`.
#[derive(Debug, Clone, Copy)]
enum Total {
    /// httpTotal unset: retries stop after [`DEFAULT_RETRY_WINDOW`], everything after
    /// [`DEFAULT_TOTAL`].
    Default,
    /// httpTotal 0: no overall limit (retries still stop after [`DEFAULT_RETRY_WINDOW`]).
    Unlimited,
    /// httpTotal N: retries and body together within N seconds.
    Set(Duration),
}

impl Total {
    fn of(settings: &FetchSettings) -> Self {
        match settings.total_timeout {
            None => Total::Default,
            Some(d) if d.is_zero() => Total::Unlimited,
            Some(d) => Total::Set(d),
        }
    }

    fn retry_window(self) -> Duration {
        match self {
            Total::Default | Total::Unlimited => DEFAULT_RETRY_WINDOW,
            Total::Set(d) => d,
        }
    }

    fn overall(self) -> Option<Duration> {
        match self {
            Total::Default => Some(DEFAULT_TOTAL),
            Total::Unlimited => None,
            Total::Set(d) => Some(d),
        }
    }

    fn describe_retry(self) -> String {
        match self {
            Total::Set(d) => format!(
                "the limit ignition.timeouts.httpTotal is {} s",
                d.as_secs_f64()
            ),
            Total::Default | Total::Unlimited => format!(
                "retries stop after {} s unless ignition.timeouts.httpTotal sets a limit",
                DEFAULT_RETRY_WINDOW.as_secs()
            ),
        }
    }
}

/// Ignition's default headers with the config's `httpHeaders` set over them: a name given
/// again replaces the earlier value (the last one wins), so a config can override Accept,
/// Accept-Encoding and User-Agent.
fn header_map(headers: &[HttpHeader], url: &str) -> Result<HeaderMap, FetchError> {
    let mut map = default_headers();
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
    /// Never worth trying again: a certificate the client does not trust, a redirect loop,
    /// a redirect to a scheme Kindling does not follow. Retrying these only held the boot
    /// for five minutes before failing the same way (issue 15, defect 11).
    Permanent(String),
    /// Not worth it: the client could not be built.
    Fatal(FetchError),
}

impl From<String> for Hop {
    fn from(reason: String) -> Self {
        Self::Retry(reason)
    }
}

/// Sends the request and follows redirects by hand. The first request carries `headers`
/// (Ignition's defaults and the config's); a request after a redirect carries none of them,
/// to the same host or another, as Ignition 2.26 does (its redirect hook empties the header
/// set). The config's headers often carry credentials meant for one URL only.
fn follow(fetcher: &Fetcher, url: &str, headers: &HeaderMap) -> Result<Response, Hop> {
    let mut current = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    for hop in 0..=MAX_REDIRECTS {
        // Each hop with the client for its scheme: a plain http URL may redirect to https.
        let client = fetcher
            .http_client(current.scheme() == "https")
            .map_err(Hop::Fatal)?;
        let mut req = client.get(current.clone());
        if hop == 0 {
            req = req.headers(headers.clone());
        }
        let resp = req.send().map_err(|e| match permanent(&e) {
            Some(why) => Hop::Permanent(format!("{}: {why}", describe(e))),
            None => Hop::Retry(describe(e)),
        })?;
        if !resp.status().is_redirection() {
            return Ok(resp);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("HTTP {} without a Location header", resp.status().as_u16()))?;
        let next = current.join(location).map_err(|e| {
            Hop::Permanent(format!("redirect to an invalid Location {location:?}: {e}"))
        })?;
        let downgrade = current.scheme() == "https" && next.scheme() == "http";
        if downgrade || !matches!(next.scheme(), "http" | "https") {
            return Err(Hop::Permanent(format!(
                "redirected from {} to {}, which Kindling does not follow: {}",
                current.scheme(),
                redact(next.as_str()),
                if downgrade {
                    "a redirect from https to plain http would drop the transport's protection; serve the resource over https"
                } else {
                    "HTTP redirects are followed only to http and https; put the final URL in the config"
                }
            )));
        }
        current = next;
    }
    Err(Hop::Permanent(format!(
        "more than {MAX_REDIRECTS} redirects (a redirect loop?); the last one pointed at {}",
        redact(current.as_str())
    )))
}

/// Why an error cannot go away by trying again, if it cannot: the server's certificate
/// failed verification (unknown issuer, expired, wrong name...). Connection refusals,
/// resets and timeouts can heal while the network comes up, so they stay retryable.
pub(super) fn permanent(err: &reqwest::Error) -> Option<&'static str> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(why) = e.downcast_ref::<rustls::Error>().and_then(permanent_tls) {
            return Some(why);
        }
        cur = match e.downcast_ref::<io::Error>() {
            // io::Error::source() skips the error it wraps, where rustls puts its own
            // (inside another io::Error, on the way through hyper).
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

fn permanent_tls(err: &rustls::Error) -> Option<&'static str> {
    match err {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => Some(
            "the server's TLS certificate was refused; add its CA to ignition.security.tls.certificateAuthorities, or fix the certificate (expiry, host name)",
        ),
        _ => None,
    }
}

/// The error chain of a reqwest error, which names TLS and connection problems precisely.
pub(super) fn describe(err: reqwest::Error) -> String {
    chain(&err)
}

/// The response body, with the total deadline enforced and progress logged.
struct Body {
    inner: Response,
    url: String,
    read: u64,
    total: Option<u64>,
    /// When the whole fetch must be done, and the limit that set it.
    deadline: Option<(Instant, Duration)>,
    budget: Total,
    /// Each read may wait this long for data (reqwest's per-read timeout).
    stall: Duration,
    last_log: Instant,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((deadline, limit)) = self.deadline {
            if Instant::now() > deadline {
                let which = match self.budget {
                    Total::Set(_) => "ignition.timeouts.httpTotal",
                    _ => "the default limit, as ignition.timeouts.httpTotal is not set",
                };
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the download took longer than {} s ({which}) after {} bytes; set ignition.timeouts.httpTotal to allow more time",
                        limit.as_secs_f64(),
                        self.read
                    ),
                ));
            }
        }
        let n = self.inner.read(buf).map_err(|e| self.explain(e))?;
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

impl Body {
    /// Says what went wrong in a read: no data for the whole per-read wait (naming that
    /// limit), or the connection failing before the declared length, with the byte counts.
    /// hyper's own text for both is only "request or response body error".
    fn explain(&self, e: io::Error) -> io::Error {
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>());
        let timed_out =
            e.kind() == io::ErrorKind::TimedOut || inner.is_some_and(reqwest::Error::is_timeout);
        if timed_out {
            return io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no data for {} s after {} bytes (the stall limit is ignition.timeouts.httpResponseHeaders, default 10 s; raise it for slow servers)",
                    self.stall.as_secs_f64(),
                    self.read
                ),
            );
        }
        let cause = chain(&e);
        let what = match self.total {
            Some(total) => format!("body ended after {} of {total} bytes", self.read),
            None => format!("body ended after {} bytes", self.read),
        };
        io::Error::new(e.kind(), format!("{what}: {cause}"))
    }
}

/// An error and its causes, one after the other, looking inside io::Errors (whose
/// `source()` skips the error they wrap).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cur = match e.downcast_ref::<io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|i| i as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(secs: Option<u64>) -> Total {
        Total::of(&FetchSettings {
            total_timeout: secs.map(Duration::from_secs),
            ..FetchSettings::default()
        })
    }

    /// Issue 15, defect 12: without httpTotal a fetch still has an overall limit.
    #[test]
    fn http_total_unset_zero_and_set() {
        assert_eq!(total(None).overall(), Some(DEFAULT_TOTAL));
        assert_eq!(total(None).retry_window(), DEFAULT_RETRY_WINDOW);
        assert_eq!(total(Some(0)).overall(), None);
        assert_eq!(total(Some(0)).retry_window(), DEFAULT_RETRY_WINDOW);
        assert_eq!(total(Some(7)).overall(), Some(Duration::from_secs(7)));
        assert_eq!(total(Some(7)).retry_window(), Duration::from_secs(7));
    }
}
