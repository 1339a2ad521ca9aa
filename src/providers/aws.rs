//! Platform `aws`: EC2 user data from the instance metadata service. IMDSv2 first (a session
//! token from a PUT), IMDSv1 when the token PUT is refused; a 404 for user data is no config.

use super::metadata::{found, MetadataService};
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::cloud::Secret;
use crate::fetch::imds::{self, IMDS, TOKEN_PATH};

const USERDATA_PATH: &str = "/2019-10-01/user-data";

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
            .as_ref()
            .map(|t| vec![("X-aws-ec2-metadata-token", t.expose())])
            .unwrap_or_default();
        Ok(found(imds.userdata(&url, &headers, &[])?))
    }

    fn describe(&self) -> String {
        "the AWS instance metadata service (user data)".to_owned()
    }
}

/// An IMDSv2 session token, or `None` when the service refuses the PUT (IMDSv2 is off, or an
/// old proxy in the way): then user data is read the IMDSv1 way, without one. The token is a
/// credential: it is never logged. S3 fetches share the request (`fetch::imds`).
pub fn session_token(imds: &MetadataService<'_>) -> Result<Option<Secret>, ProviderError> {
    let url = imds.url(&format!("{IMDS}{TOKEN_PATH}"));
    imds::session_token(imds.fetcher(), &url, imds.budget()).map_err(|e| imds.error(&url, e))
}
