//! The fetch layer: every byte a config references comes through here. It streams the body
//! to a destination, decompresses it, hashes what comes out, and refuses content whose hash
//! does not match, so callers can write to a temporary file and keep it only on success.

pub mod ahead;
pub mod cloud;
mod data;
pub mod gs;
pub mod hash;
mod http;
pub mod imds;
pub mod oem;
pub mod redact;
pub mod request;
mod retry;
mod s3;
pub mod s3_location;
mod tftp;
mod tls;

pub use http::{ACCEPT, ACCEPT_ENCODING, DEFAULT_RETRY_WINDOW, DEFAULT_TOTAL, USER_AGENT};

use std::io::{self, Read, Write};
use std::time::Duration;

use flate2::read::GzDecoder;
use kindling_spec::types::Resource;

use hash::{Algorithm, Digest, HashingWriter};
use redact::redact;

/// How to reach remote resources; filled from the config's `ignition` section.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Wait at most this long for response headers.
    pub response_headers_timeout: Duration,
    /// Give up on one resource, retries and body included, after this long
    /// (`ignition.timeouts.httpTotal`). `None` (unset): retries stop after 5 minutes and the
    /// whole fetch after 10 ([`DEFAULT_TOTAL`]); zero: no overall limit.
    pub total_timeout: Option<Duration>,
    /// Extra trusted CA certificates, PEM.
    pub ca_bundles: Vec<Vec<u8>>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Vec<String>,
    /// What the trust policy demands of every resource.
    pub policy: FetchPolicy,
    /// Where s3:// and gs:// credentials come from (the platform), and tests' stand-ins.
    pub cloud: cloud::Cloud,
    /// Where `oem:///` files are (Flatcar's OEM partition).
    pub oem: oem::OemSource,
}

/// The part of the trust policy the fetch layer enforces, before any byte is fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Remote resources need `verification.hash` (strict chain).
    pub require_hash: bool,
    /// Schemes allowed without a hash; `None` allows all.
    pub allowed_schemes: Option<Vec<String>>,
}

impl FetchPolicy {
    pub fn from_policy(p: &crate::verify::policy::Policy) -> Self {
        Self {
            require_hash: p.strict_chain,
            allowed_schemes: p.allowed_schemes.clone(),
        }
    }

    fn check(&self, url: &str, pinned: bool) -> Result<(), FetchError> {
        // The OEM partition needs no network, but it is writable and outside the signed
        // chain: the policy covers it as it covers remote resources.
        let remote = is_remote(url) || oem::is_oem(url);
        if remote && self.require_hash && !pinned {
            return Err(FetchError::Refused {
                url: redact(url),
                rule: "strictChain: every remote or oem:// resource needs verification.hash; add the content's sha512 to the config",
            });
        }
        if remote && !pinned {
            let scheme = url
                .split_once(':')
                .map_or("", |(s, _)| s)
                .to_ascii_lowercase();
            if self
                .allowed_schemes
                .as_ref()
                .is_some_and(|a| !a.contains(&scheme))
            {
                return Err(FetchError::Refused {
                    url: redact(url),
                    rule: "allowedSchemes: this scheme may only be used with a verification.hash",
                });
            }
        }
        Ok(())
    }
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            response_headers_timeout: Duration::from_secs(10),
            total_timeout: None,
            ca_bundles: Vec::new(),
            http_proxy: None,
            https_proxy: None,
            no_proxy: Vec::new(),
            policy: FetchPolicy::default(),
            cloud: cloud::Cloud::default(),
            oem: oem::OemSource::default(),
        }
    }
}

/// What was fetched: its size and digest after decompression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub size: u64,
    pub digest: Digest,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused {url} before fetching it: the trust policy's {rule}")]
    Refused { url: String, rule: &'static str },
    #[error("unsupported URL scheme in {url}: Kindling fetches http, https, tftp, s3, arn (S3 objects), gs and data URLs, and oem URLs in spec 1 and 2.x configs")]
    UnsupportedScheme { url: String },
    #[error("invalid object store URL {url}: {reason}")]
    InvalidObjectUrl { url: String, reason: &'static str },
    #[error("{url}: compression is not supported for S3 objects (Ignition refuses it too); store the object uncompressed, or drop \"compression\"")]
    CompressionUnsupported { url: String },
    #[error("finding the region of the bucket for {url} failed: {reason}")]
    BucketRegion { url: String, reason: String },
    /// An object store refused the request; `code` is its error code (may be empty). The
    /// response body is never shown: S3 echoes the string to sign in it.
    #[error("{service} refused {url} with HTTP {status} {code}: {hint}")]
    Store {
        url: String,
        service: &'static str,
        status: u16,
        code: String,
        hint: &'static str,
    },
    #[error("invalid data URL {url}: {reason}")]
    InvalidDataUrl { url: String, reason: String },
    #[error("reading {url} (Flatcar's OEM partition) failed: {reason}")]
    Oem { url: String, reason: String },
    #[error("not found: {url}")]
    NotFound { url: String },
    #[error("{url} answered HTTP {status}: {hint}")]
    Status {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error("fetching {url} failed: {reason}")]
    Transport { url: String, reason: String },
    #[error("reading {url} failed: {source}")]
    Read { url: String, source: io::Error },
    #[error("decompressing {url} failed (is it really gzip?): {source}")]
    Decompress { url: String, source: io::Error },
    #[error("hash mismatch for {url}: expected {expected}, got {actual}; the content changed or the hash in the config is wrong")]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url} is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("writing the content of {url} failed: {source}")]
    Write { url: String, source: io::Error },
}

/// Whether fetching `url` leaves the machine: every URL but `data:` (whose bytes are in the
/// config), `oem:` (Flatcar's OEM partition, a local disk) and none (empty content). The one
/// answer to "is this remote" that the trust policy, the offline check and fetch-ahead all
/// use (the fetch layer's own policy check covers `oem:` as well, see `FetchPolicy::check`).
pub fn is_remote(url: &str) -> bool {
    !(url.is_empty() || data_url_rest(url).is_some() || oem::is_oem(url))
}

/// What follows `data:` when `url` is a data URL. The scheme is case-insensitive (RFC 3986),
/// as the fetch layer's dispatch and validation read it: `DATA:,x` is a data URL too, and
/// must be redacted and treated as local like one.
fn data_url_rest(url: &str) -> Option<&str> {
    url.split_once(':')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("data"))
        .map(|(_, rest)| rest)
}

/// Fetches resources with one set of settings. The HTTP client is built on first use, and so
/// is what object stores need (the instance's role and region, the service account's token),
/// once per fetcher.
#[derive(Debug, Default)]
pub struct Fetcher {
    settings: FetchSettings,
    /// For https (and http redirected there): knows the CA certificates.
    client: std::sync::OnceLock<reqwest::blocking::Client>,
    /// For plain http only.
    plain: std::sync::OnceLock<reqwest::blocking::Client>,
    /// Held while a client is built, so that threads sharing a fetcher build it once.
    building: std::sync::Mutex<()>,
    /// Platform aws: the instance's region and role credentials, read from IMDS on first use.
    aws: std::sync::OnceLock<imds::Instance>,
    /// Platform gcp: the service account's token (type, token), or none.
    gcs_token: std::sync::OnceLock<Option<(String, cloud::Secret)>>,
    /// Buckets' regions, as their HEAD answered.
    bucket_regions: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Self {
        Self {
            settings,
            client: std::sync::OnceLock::new(),
            plain: std::sync::OnceLock::new(),
            building: std::sync::Mutex::new(()),
            aws: std::sync::OnceLock::new(),
            gcs_token: std::sync::OnceLock::new(),
            bucket_regions: std::sync::Mutex::default(),
        }
    }

    /// The AWS instance (region, role credentials), read once.
    fn aws_instance(&self, budget: Duration) -> &imds::Instance {
        self.aws
            .get_or_init(|| imds::instance(self, &self.settings.cloud, budget))
    }

    /// The GCE service account's token, read once.
    fn gcs_token(&self) -> Option<(String, cloud::Secret)> {
        self.gcs_token
            .get_or_init(|| gs::service_account_token(self))
            .clone()
    }

    fn cached_bucket_region(&self, bucket: &str) -> Option<String> {
        self.bucket_regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(bucket)
            .cloned()
    }

    fn remember_bucket_region(&self, bucket: &str, region: &str) {
        self.bucket_regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(bucket.to_owned(), region.to_owned());
    }

    /// The client for https (`tls`) or for plain http, built on first use.
    fn http_client(&self, tls: bool) -> Result<&reqwest::blocking::Client, FetchError> {
        let cell = if tls { &self.client } else { &self.plain };
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let _building = self
            .building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let c = http::client(&self.settings, tls)?;
        Ok(cell.get_or_init(|| c))
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// The same settings under another policy (for things verified some other way).
    pub fn with_policy(&self, policy: FetchPolicy) -> Self {
        Self::new(FetchSettings {
            policy,
            ..self.settings.clone()
        })
    }

    /// Streams a resource into `out`. On error, what was written to `out` must be discarded.
    pub fn fetch(&self, res: &Resource, out: &mut dyn Write) -> Result<Fetched, FetchError> {
        self.fetch_limited(res, out, u64::MAX)
    }

    /// Reads a whole resource into memory, refusing more than `limit` bytes.
    pub fn fetch_to_vec(
        &self,
        res: &Resource,
        limit: u64,
    ) -> Result<(Vec<u8>, Fetched), FetchError> {
        let mut buf = Vec::new();
        let fetched = self.fetch_limited(res, &mut buf, limit)?;
        Ok((buf, fetched))
    }

    fn fetch_limited(
        &self,
        res: &Resource,
        out: &mut dyn Write,
        limit: u64,
    ) -> Result<Fetched, FetchError> {
        let url = res.source.as_deref().unwrap_or("");
        let expected: Option<Digest> = res
            .verification
            .hash
            .as_deref()
            .map(|h| h.parse())
            .transpose()
            .map_err(|e: hash::DigestParseError| FetchError::HashMismatch {
                url: redact(url),
                expected: e.to_string(),
                actual: "not computed".to_owned(),
            })?;
        self.settings.policy.check(url, expected.is_some())?;
        let algorithm = expected.as_ref().map_or(Algorithm::Sha512, |d| d.algorithm);
        let gzip = res.compression.as_deref() == Some("gzip");
        if gzip && is_s3(url) {
            return Err(FetchError::CompressionUnsupported { url: redact(url) });
        }
        // A declared length over the limit is refused before the body is read (only for
        // uncompressed bodies: compressed ones say nothing about the decompressed size).
        let raw = self.open(url, &res.http_headers, (!gzip).then_some(limit))?;
        let fetched = copy(raw, gzip, out, algorithm, limit, url)?;
        if let Some(expected) = expected {
            if expected != fetched.digest {
                return Err(FetchError::HashMismatch {
                    url: redact(url),
                    expected: expected.to_string(),
                    actual: fetched.digest.to_string(),
                });
            }
        }
        Ok(fetched)
    }

    /// A reader for the raw (still compressed) body of `url`. An empty URL is empty content.
    fn open(
        &self,
        url: &str,
        headers: &[kindling_spec::types::HttpHeader],
        limit: Option<u64>,
    ) -> Result<Box<dyn Read>, FetchError> {
        if url.is_empty() {
            return Ok(Box::new(io::empty()));
        }
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("data") => data::open(url),
            Some("http" | "https") => http::open(self, &self.settings, url, headers, limit),
            Some("tftp") => tftp::open(&self.settings, url),
            Some("s3" | "arn") => s3::open(self, url, limit),
            Some("gs") => gs::open(self, url, limit),
            Some("oem") => oem::open(&self.settings.oem, url, self.settings.total_timeout),
            _ => Err(FetchError::UnsupportedScheme { url: redact(url) }),
        }
    }
}

/// `s3://` and `arn:` URLs name S3 objects.
fn is_s3(url: &str) -> bool {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    scheme.eq_ignore_ascii_case("s3") || scheme.eq_ignore_ascii_case("arn")
}

/// Copies body → (gunzip) → hash → `out`, keeping read and write failures apart.
fn copy(
    raw: Box<dyn Read>,
    gzip: bool,
    out: &mut dyn Write,
    algorithm: Algorithm,
    limit: u64,
    url: &str,
) -> Result<Fetched, FetchError> {
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(GzDecoder::new(raw))
    } else {
        raw
    };
    let mut sink = HashingWriter::new(out, algorithm);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) if gzip => {
                return Err(FetchError::Decompress {
                    url: redact(url),
                    source,
                })
            }
            Err(source) => {
                return Err(FetchError::Read {
                    url: redact(url),
                    source,
                })
            }
        };
        total += n as u64;
        if total > limit {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit,
            });
        }
        sink.write_all(&buf[..n])
            .map_err(|source| FetchError::Write {
                url: redact(url),
                source,
            })?;
    }
    sink.flush().map_err(|source| FetchError::Write {
        url: redact(url),
        source,
    })?;
    let (digest, size) = sink.finish();
    Ok(Fetched { size, digest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;

    fn res(source: &str) -> Resource {
        Resource {
            source: Some(source.to_owned()),
            ..Resource::default()
        }
    }

    #[test]
    fn data_urls_decode() {
        let (bytes, fetched) = Fetcher::default()
            .fetch_to_vec(&res("data:,hello%20world"), 1024)
            .expect("fetch");
        assert_eq!(bytes, b"hello world");
        assert_eq!(fetched.size, 11);
        let (bytes, _) = Fetcher::default()
            .fetch_to_vec(&res("data:;base64,aGk="), 1024)
            .expect("fetch");
        assert_eq!(bytes, b"hi");
    }

    /// Found by the data_url fuzz target: validation accepts a `#` in the media type, as
    /// Ignition does, but the decoder took it for the start of a fragment and found no comma.
    #[test]
    fn a_hash_sign_in_a_data_url_is_no_fragment() {
        for (url, want) in [
            ("data:text/x#y,abc", &b"abc"[..]),
            ("data:text/x#y;base64,aGk=", b"hi"),
            ("data:,a%23b", b"a#b"),
        ] {
            let (bytes, _) = Fetcher::default()
                .fetch_to_vec(&res(url), 1024)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(bytes, want, "{url}");
        }
    }

    #[test]
    fn gzip_is_decompressed_and_the_hash_covers_the_result() {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"compressed content").expect("gzip");
        let gz = enc.finish().expect("gzip");
        let b64 = data_url_base64(&gz);
        let mut r = res(&b64);
        r.compression = Some("gzip".into());
        r.verification.hash = Some(hash::sha512_of(b"compressed content").to_string());
        let (bytes, _) = Fetcher::default().fetch_to_vec(&r, 1024).expect("fetch");
        assert_eq!(bytes, b"compressed content");
    }

    #[test]
    fn hash_mismatch_is_refused_without_printing_contents() {
        let mut r = res("data:,secret-password");
        r.verification.hash = Some(hash::sha512_of(b"other").to_string());
        let err = Fetcher::default()
            .fetch_to_vec(&r, 1024)
            .expect_err("mismatch");
        let msg = err.to_string();
        assert!(msg.starts_with("hash mismatch for data:…"), "{msg}");
        assert!(!msg.contains("secret"), "{msg}");
    }

    /// Found by the `data_url` fuzz target: a URL scheme is case-insensitive, so `DATA:` is
    /// decoded as a data URL (and validation accepts it), but errors printed it whole.
    #[test]
    fn data_urls_with_an_upper_case_scheme_are_data_urls() {
        for url in ["DATA:,secret-password", "Data:;base64,c2VjcmV0LXBhc3N3b3Jk"] {
            let mut r = res(url);
            r.verification.hash = Some(hash::sha512_of(b"other").to_string());
            let err = Fetcher::default()
                .fetch_to_vec(&r, 1024)
                .expect_err("mismatch");
            let msg = err.to_string();
            assert!(msg.starts_with("hash mismatch for data:…"), "{msg}");
            assert!(!msg.contains("secret") && !msg.contains("c2Vj"), "{msg}");
            assert!(!is_remote(url), "{url} needs no network");
            let strict = Fetcher::new(FetchSettings {
                policy: FetchPolicy {
                    require_hash: true,
                    allowed_schemes: None,
                },
                ..FetchSettings::default()
            });
            assert!(
                strict.fetch_to_vec(&res(url), 1024).is_ok(),
                "{url} is covered by the config"
            );
        }
    }

    #[test]
    fn corrupt_gzip_is_a_decompression_error() {
        let mut r = res("data:,not-gzip");
        r.compression = Some("gzip".into());
        let err = Fetcher::default()
            .fetch_to_vec(&r, 1024)
            .expect_err("corrupt");
        assert!(matches!(err, FetchError::Decompress { .. }), "{err}");
    }

    #[test]
    fn limits_are_enforced() {
        let err = Fetcher::default()
            .fetch_to_vec(&res("data:,0123456789"), 4)
            .expect_err("too large");
        assert!(matches!(err, FetchError::TooLarge { limit: 4, .. }));
    }

    #[test]
    fn strict_chain_refuses_unpinned_remote_resources_before_fetching() {
        let strict = Fetcher::new(FetchSettings {
            policy: FetchPolicy {
                require_hash: true,
                allowed_schemes: None,
            },
            ..FetchSettings::default()
        });
        // Port 9 on 127.0.0.1 would refuse the connection: the policy must stop it first.
        let err = strict
            .fetch_to_vec(&res("http://127.0.0.1:9/x"), 10)
            .expect_err("refused");
        assert!(err.to_string().contains("strictChain"), "{err}");
        assert!(
            strict.fetch_to_vec(&res("data:,inline"), 10).is_ok(),
            "data: is covered by the config"
        );
    }

    #[test]
    fn strict_chain_covers_object_stores() {
        let strict = Fetcher::new(FetchSettings {
            policy: FetchPolicy {
                require_hash: true,
                allowed_schemes: None,
            },
            ..FetchSettings::default()
        });
        for url in [
            "s3://bucket/key",
            "arn:aws:s3:::bucket/key",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/key",
            "gs://bucket/object",
        ] {
            let err = strict.fetch_to_vec(&res(url), 10).expect_err(url);
            assert!(
                matches!(err, FetchError::Refused { .. })
                    && err.to_string().contains("strictChain"),
                "{url}: {err}"
            );
            assert!(
                crate::pipeline::render::needs_network(url),
                "{url} needs the network"
            );
        }
    }

    #[test]
    fn s3_objects_refuse_compression_before_any_request() {
        for url in ["s3://bucket/key", "arn:aws:s3:::bucket/key"] {
            let mut r = res(url);
            r.compression = Some("gzip".into());
            let err = Fetcher::default().fetch_to_vec(&r, 10).expect_err(url);
            assert!(
                matches!(err, FetchError::CompressionUnsupported { .. }),
                "{url}: {err}"
            );
            assert!(err.to_string().contains(url), "{err}");
        }
    }

    #[test]
    fn allowed_schemes_need_a_pin_otherwise() {
        let https_only = Fetcher::new(FetchSettings {
            policy: FetchPolicy {
                require_hash: false,
                allowed_schemes: Some(vec!["https".into()]),
            },
            ..FetchSettings::default()
        });
        let err = https_only
            .fetch_to_vec(&res("http://127.0.0.1:9/x"), 10)
            .expect_err("refused");
        assert!(err.to_string().contains("allowedSchemes"), "{err}");
    }

    #[test]
    fn absent_source_is_empty_content() {
        let (bytes, f) = Fetcher::default()
            .fetch_to_vec(&Resource::default(), 4)
            .expect("empty");
        assert!(bytes.is_empty());
        assert_eq!(f.size, 0);
    }

    fn data_url_base64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        format!(
            "data:;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}
