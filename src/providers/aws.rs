//! Platform `aws`: EC2 user data from the instance metadata service. IMDSv2 first (a session
//! token from a PUT), IMDSv1 when the token PUT is refused; a 404 for user data is no config.

use reqwest::Method;

use super::metadata::{found, MetadataService};
use super::{Acquired, Provider, ProviderContext, ProviderError};

pub const IMDS: &str = "http://169.254.169.254";
const TOKEN_PATH: &str = "/latest/api/token";
const USERDATA_PATH: &str = "/2019-10-01/user-data";
/// Six hours, as Ignition and the AWS SDKs ask.
const TOKEN_TTL: &str = "21600";

#[derive(Debug)]
pub struct AwsProvider;

impl Provider for AwsProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let imds = MetadataService::new(cx, "aws");
        let url = imds.url(&format!("{IMDS}{USERDATA_PATH}"));
        if let Some(offline) = imds.offline(&url) {
            return Ok(offline);
        }
        let token = session_token(&imds)?;
        let headers: Vec<(&str, &str)> = token
            .as_deref()
            .map(|t| vec![("X-aws-ec2-metadata-token", t)])
            .unwrap_or_default();
        Ok(found(imds.userdata(&url, &headers, &[])?))
    }

    fn describe(&self) -> String {
        "the AWS instance metadata service (user data)".to_owned()
    }
}

/// An IMDSv2 session token, or `None` when the service refuses the PUT (IMDSv2 is off, or an
/// old proxy in the way): then user data is read the IMDSv1 way, without one. The token is a
/// credential: it is never logged.
pub fn session_token(imds: &MetadataService<'_>) -> Result<Option<String>, ProviderError> {
    let url = imds.url(&format!("{IMDS}{TOKEN_PATH}"));
    let answer = imds.send(
        Method::PUT,
        &url,
        &[("X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL)],
        None,
        &[],
    )?;
    match answer.status {
        s if (200..300).contains(&s) => {
            let token = String::from_utf8(answer.body)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            match token {
                Some(t) => Ok(Some(t)),
                None => Err(imds.error(
                    &url,
                    crate::fetch::FetchError::Transport {
                        url: url.clone(),
                        reason: "the IMDSv2 token answer was empty or not text".into(),
                    },
                )),
            }
        }
        403..=405 => {
            log::info!(
                "the IMDSv2 token request got HTTP {}; reading user data the IMDSv1 way",
                answer.status
            );
            Ok(None)
        }
        status => Err(imds.status_error(&url, status)),
    }
}
