//! `s3://` and `arn:aws:s3:…` objects, fetched as Ignition 2.26 fetches them:
//!
//! - Region: the URL's own (access points), else the bucket's, which an anonymous HEAD reads
//!   from `x-amz-bucket-region`, asked first in the ARN partition's region, else the instance's
//!   (platform aws), else us-east-1.
//! - Credentials: on platform aws, the instance role's (IMDS); when the instance has no role,
//!   or it cannot be read, the request is anonymous. Elsewhere always anonymous.
//! - The GET is signed with SigV4 by `aws-sigv4` and sent through the fetch layer's client, so
//!   the body streams through the same hash, size and deadline checks as https.
//!
//! No secret reaches a log line or an error: errors carry S3's error code and a hint, never
//! its response body (which can echo the string to sign).

use std::io::Read;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;

use super::http::{self, DEFAULT_RETRY_WINDOW};
use super::imds::RoleCredentials;
use super::redact::redact;
use super::request::Request;
use super::s3_location::{self, Location};
use super::{FetchError, Fetcher};

/// Where a bucket's region is unknown and nothing hints at it, as in the AWS SDKs.
const DEFAULT_REGION: &str = "us-east-1";
/// IMDS and the region HEAD are quick or broken; they get this much of the budget.
const LOOKUP_BUDGET: Duration = Duration::from_secs(30);

/// A reader for the object `url` names.
pub(super) fn open(
    fetcher: &Fetcher,
    url: &str,
    limit: Option<u64>,
) -> Result<Box<dyn Read>, FetchError> {
    let shown = redact(url);
    let location = s3_location::parse(url).map_err(|reason| FetchError::InvalidObjectUrl {
        url: shown.clone(),
        reason,
    })?;
    let settings = fetcher.settings();
    let endpoint = settings.cloud.s3_endpoint.as_deref();
    let instance = settings
        .cloud
        .aws_instance
        .then(|| fetcher.aws_instance(lookup_budget(fetcher)));
    let region = match location.region() {
        Some(r) => r.to_owned(),
        None => {
            let hint = location
                .region_hint()
                .or_else(|| instance.and_then(|i| i.region.as_deref()))
                .unwrap_or(DEFAULT_REGION);
            bucket_region(fetcher, &location, hint, &shown)?
        }
    };
    let target = location.object_url(&region, endpoint);
    let credentials = instance.and_then(|i| i.credentials.as_ref());
    let headers = match credentials {
        Some(c) => signed_headers(c, &region, &target, &shown)?,
        None => HeaderMap::new(),
    };
    log::debug!(
        "fetching {shown} from region {region} ({})",
        if credentials.is_some() {
            "signed with the instance role"
        } else {
            "anonymously"
        }
    );
    let target_url = reqwest::Url::parse(&target).map_err(|_| FetchError::InvalidObjectUrl {
        url: shown.clone(),
        reason: "its bucket or key does not make a valid URL",
    })?;
    let (status, body) = match http::get_object(
        fetcher,
        settings,
        &target_url,
        &headers,
        shown.clone(),
        limit,
    )? {
        Ok(reader) => return Ok(reader),
        Err(refused) => refused,
    };
    let code = error_code(&body);
    Err(FetchError::Store {
        url: shown,
        service: "S3",
        status: status.as_u16(),
        hint: hint(code.as_deref(), status.as_u16(), credentials.is_some()),
        code: code.unwrap_or_default(),
    })
}

fn lookup_budget(fetcher: &Fetcher) -> Duration {
    fetcher
        .settings()
        .total_timeout
        .unwrap_or(DEFAULT_RETRY_WINDOW)
        .min(LOOKUP_BUDGET)
}

/// The bucket's region from an anonymous HEAD in the `hint` region: S3 names it in
/// `x-amz-bucket-region` whatever the status (a 403 for a private bucket, say).
fn bucket_region(
    fetcher: &Fetcher,
    location: &Location,
    hint: &str,
    shown: &str,
) -> Result<String, FetchError> {
    let bucket = location.bucket();
    if let Some(r) = fetcher.cached_bucket_region(&bucket) {
        return Ok(r);
    }
    let endpoint = fetcher.settings().cloud.s3_endpoint.as_deref();
    let url = location.bucket_url(hint, endpoint);
    let answer = fetcher.request(&Request {
        method: Method::HEAD,
        url: &url,
        headers: &[],
        body: None,
        retry: &[],
        limit: 0,
        budget: lookup_budget(fetcher),
    })?;
    let region = answer
        .headers
        .get("x-amz-bucket-region")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|r| {
            !r.is_empty()
                && r.len() <= 32
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    match (region, answer.status) {
        (Some(r), _) => {
            fetcher.remember_bucket_region(&bucket, r);
            Ok(r.to_owned())
        }
        (None, 404) => Err(FetchError::BucketRegion {
            url: shown.to_owned(),
            reason: format!(
                "bucket {bucket} does not exist (HTTP 404 from {})",
                redact(&url)
            ),
        }),
        (None, status) => Err(FetchError::BucketRegion {
            url: shown.to_owned(),
            reason: format!(
                "{} answered HTTP {status} without an x-amz-bucket-region header",
                redact(&url)
            ),
        }),
    }
}

/// The SigV4 headers for a GET of `url` (`x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token`, `authorization`), marked sensitive so that no debug print of the
/// request shows them.
fn signed_headers(
    creds: &RoleCredentials,
    region: &str,
    url: &str,
    shown: &str,
) -> Result<HeaderMap, FetchError> {
    let failed = |what: &str| FetchError::Transport {
        url: shown.to_owned(),
        reason: format!("signing the request failed ({what})"),
    };
    if let Some(expiration) = creds.expiration.as_deref() {
        log::debug!("the instance role's credentials expire at {expiration}");
    }
    let identity = Credentials::new(
        creds.access_key_id.expose(),
        creds.secret_access_key.expose(),
        creds.token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "instance role",
    )
    .into();
    // S3's rules: paths are encoded once and not normalized, and the payload hash is sent.
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|_| failed("incomplete signing parameters"))?
        .into();
    let request = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|_| failed("the URL cannot be signed"))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|_| failed("the signer refused the request"))?
        .into_parts();
    let mut headers = HeaderMap::new();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| failed("header name"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| failed("header value"))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

/// The `<Code>` of an S3 error document, if it looks like one (letters and digits only).
fn error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    let code = &text[start..start + len];
    (!code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| code.to_owned())
}

/// What to do about an S3 refusal.
fn hint(code: Option<&str>, status: u16, signed: bool) -> &'static str {
    match code {
        Some("SignatureDoesNotMatch") => {
            "the request's signature does not match: the secret key the metadata service gave for the instance role is wrong, or something between here and S3 changed the request"
        }
        Some("ExpiredToken") => {
            "the instance role's session token has expired: check the system clock and that the metadata service hands out fresh credentials"
        }
        Some("InvalidToken") => {
            "the instance role's session token is not valid: the metadata service's credentials do not belong together"
        }
        Some("InvalidAccessKeyId") => {
            "S3 does not know the instance role's access key: the metadata service's credentials are stale or not from this account"
        }
        Some("RequestTimeTooSkewed") => {
            "the system clock is too far from S3's: set the time (RTC, NTP) and boot again"
        }
        Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            "the bucket is not in the region it was asked in"
        }
        _ if status == 403 && signed => {
            "access denied: the instance role may not read this object (it needs s3:GetObject, and s3:GetObjectVersion with versionId)"
        }
        _ if status == 403 => {
            "access denied to an anonymous request: the object is not public, and no instance role signed the request (platform aws with an IAM role signs it)"
        }
        _ => "S3 refused the request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_and_nothing_else() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>ASIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 secret</StringToSign></Error>";
        assert_eq!(error_code(body).as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(error_code(b"<Error><Code>bad code</Code></Error>"), None);
        assert_eq!(error_code(b""), None);
    }

    #[test]
    fn signing_yields_sensitive_sigv4_headers() {
        use super::super::cloud::Secret;
        let creds = RoleCredentials {
            access_key_id: Secret::new("ASIAEXAMPLE".into()),
            secret_access_key: Secret::new("s3cr3t".into()),
            token: Some(Secret::new("t0k3n".into())),
            expiration: None,
        };
        let h = signed_headers(
            &creds,
            "eu-west-3",
            "https://b.s3.dualstack.eu-west-3.amazonaws.com/k%20x?versionId=1",
            "s3://b/k x",
        )
        .expect("signs");
        let auth = h.get("authorization").expect("authorization");
        assert!(auth.is_sensitive());
        let auth = auth.to_str().expect("ascii");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-3/s3/aws4_request"), "{auth}");
        assert!(!auth.contains("s3cr3t"));
        assert_eq!(
            h.get("x-amz-security-token").map(|v| v.is_sensitive()),
            Some(true)
        );
        assert!(h.contains_key("x-amz-content-sha256") && h.contains_key("x-amz-date"));
        assert!(!format!("{h:?}").contains("t0k3n"));
    }
}
