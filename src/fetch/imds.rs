//! The AWS instance metadata service (IMDS), as the aws provider and S3 fetches read it: an
//! IMDSv2 session token (IMDSv1 when the token PUT is refused), the instance's region, and the
//! instance role's temporary credentials. Tokens and credentials never reach a log or an
//! error: they live in [`Secret`]s.

use std::time::Duration;

use reqwest::Method;

use super::cloud::{Cloud, Secret};
use super::redact::redact;
use super::request::{Answer, Request};
use super::{FetchError, Fetcher};

pub const IMDS: &str = "http://169.254.169.254";
pub const TOKEN_PATH: &str = "/latest/api/token";
const REGION_PATH: &str = "/latest/meta-data/placement/region";
const ROLE_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// Six hours, as Ignition and the AWS SDKs ask.
const TOKEN_TTL: &str = "21600";
/// Metadata answers here are a few hundred bytes.
const ANSWER_LIMIT: u64 = 64 * 1024;

/// Sends one IMDS request within `budget`, retrying 5xx and transport errors.
fn send(
    fetcher: &Fetcher,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    budget: Duration,
) -> Result<Answer, FetchError> {
    fetcher.request(&Request {
        method,
        url,
        headers,
        body: None,
        retry: &[],
        limit: ANSWER_LIMIT,
        budget,
    })
}

fn refused(url: &str, status: u16) -> FetchError {
    FetchError::Status {
        url: redact(url),
        status,
        hint: "the metadata service refused the request",
    }
}

/// An IMDSv2 session token from `url`, or `None` when the service refuses the PUT (IMDSv2 is
/// off, or an old proxy is in the way): then requests go the IMDSv1 way, without one.
pub fn session_token(
    fetcher: &Fetcher,
    url: &str,
    budget: Duration,
) -> Result<Option<Secret>, FetchError> {
    let answer = send(
        fetcher,
        Method::PUT,
        url,
        &[("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL)],
        budget,
    )?;
    match answer.status {
        s if (200..300).contains(&s) => String::from_utf8(answer.body)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .map(|t| Some(Secret::new(t)))
            .ok_or_else(|| FetchError::Transport {
                url: redact(url),
                reason: "the IMDSv2 token answer was empty or not text".into(),
            }),
        403..=405 => {
            log::info!(
                "the IMDSv2 token request got HTTP {}; reading metadata the IMDSv1 way",
                answer.status
            );
            Ok(None)
        }
        status => Err(refused(url, status)),
    }
}

/// The instance role's temporary credentials.
#[derive(Debug, Clone)]
pub struct RoleCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub token: Option<Secret>,
    /// As IMDS gives it (RFC 3339), for diagnostics only.
    pub expiration: Option<String>,
}

/// The instance as S3 fetches see it: read once per fetcher.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The instance's region, the first guess for a bucket's region.
    pub region: Option<String>,
    /// `None`: no role (or it could not be read), so requests are anonymous.
    pub credentials: Option<RoleCredentials>,
}

/// Reads the region and the role credentials. Nothing here fails the fetch: as in Ignition,
/// a role that cannot be read means anonymous requests, and an unknown region means asking
/// the bucket.
pub fn instance(fetcher: &Fetcher, cloud: &Cloud, budget: Duration) -> Instance {
    let token_url = cloud.metadata(&format!("{IMDS}{TOKEN_PATH}"));
    let token = match session_token(fetcher, &token_url, budget) {
        Ok(t) => t,
        Err(e) => {
            log::warn!("no IMDSv2 session token ({e}); trying IMDSv1");
            None
        }
    };
    let headers: Vec<(&str, &str)> = token
        .as_ref()
        .map(|t| vec![("X-aws-ec2-metadata-token", t.expose())])
        .unwrap_or_default();
    let region = match text(fetcher, cloud, REGION_PATH, &headers, budget) {
        Ok(Some(r)) => Some(r),
        Ok(None) => None,
        Err(e) => {
            log::warn!("the instance's region is unknown ({e}); asking the bucket");
            None
        }
    };
    let credentials = match role_credentials(fetcher, cloud, &headers, budget) {
        Ok(Some(c)) => Some(c),
        Ok(None) => {
            log::info!("the instance has no IAM role: reading S3 objects anonymously");
            None
        }
        Err(reason) => {
            log::warn!(
                "reading the instance role's credentials failed ({reason}): reading S3 objects anonymously"
            );
            None
        }
    };
    Instance {
        region,
        credentials,
    }
}

/// A short text answer: `Ok(None)` for a 404.
fn text(
    fetcher: &Fetcher,
    cloud: &Cloud,
    path: &str,
    headers: &[(&str, &str)],
    budget: Duration,
) -> Result<Option<String>, FetchError> {
    let url = cloud.metadata(&format!("{IMDS}{path}"));
    let answer = send(fetcher, Method::GET, &url, headers, budget)?;
    match answer.status {
        s if (200..300).contains(&s) => Ok(String::from_utf8(answer.body)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())),
        404 => Ok(None),
        status => Err(refused(&url, status)),
    }
}

/// The role's credentials; `Ok(None)` when the instance has no role. The error is a reason
/// that names no credential.
fn role_credentials(
    fetcher: &Fetcher,
    cloud: &Cloud,
    headers: &[(&str, &str)],
    budget: Duration,
) -> Result<Option<RoleCredentials>, String> {
    let Some(list) = text(fetcher, cloud, ROLE_PATH, headers, budget).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let Some(role) = list.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if !role
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err("the metadata service's role name is not a valid IAM role name".into());
    }
    let url = cloud.metadata(&format!("{IMDS}{ROLE_PATH}{role}"));
    let answer = send(fetcher, Method::GET, &url, headers, budget).map_err(|e| e.to_string())?;
    if !(200..300).contains(&answer.status) {
        return Err(refused(&url, answer.status).to_string());
    }
    parse_credentials(&answer.body).map(Some)
}

/// The credentials document. Its parse errors are described without serde's text, which
/// can quote the input (the secret key).
fn parse_credentials(body: &[u8]) -> Result<RoleCredentials, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Document {
        code: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        token: Option<String>,
        expiration: Option<String>,
    }
    let doc: Document = serde_json::from_slice(body)
        .map_err(|_| "the role's credentials are not the JSON document IMDS serves".to_owned())?;
    if let Some(code) = doc.code.as_deref().filter(|c| *c != "Success") {
        let code: String = code
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        return Err(format!(
            "IMDS answered the credentials request with code {code}"
        ));
    }
    match (doc.access_key_id, doc.secret_access_key) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok(RoleCredentials {
            access_key_id: Secret::new(id),
            secret_access_key: Secret::new(secret),
            token: doc.token.filter(|t| !t.is_empty()).map(Secret::new),
            expiration: doc.expiration,
        }),
        _ => Err("the role's credentials lack AccessKeyId or SecretAccessKey".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_documents_parse_and_their_errors_quote_nothing() {
        let good = br#"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s3cr3t","Token":"t0k3n","Expiration":"2026-12-05T08:00:00Z"}"#;
        let c = parse_credentials(good).expect("parses");
        assert_eq!(c.access_key_id.expose(), "ASIAEXAMPLE");
        assert_eq!(c.token.as_ref().map(Secret::expose), Some("t0k3n"));
        assert!(!format!("{c:?}").contains("s3cr3t"));

        let wrong_type = br#"{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":17,"Token":"s3cr3t"}"#;
        let err = parse_credentials(wrong_type).expect_err("bad");
        assert!(!err.contains("s3cr3t") && !err.contains("ASIA"), "{err}");

        let failed = br#"{"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A","SecretAccessKey":"s3cr3t"}"#;
        let err = parse_credentials(failed).expect_err("not Success");
        assert!(err.contains("AssumeRoleUnauthorizedAccess"), "{err}");
    }
}
