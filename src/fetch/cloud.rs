//! What `s3://`, `arn:` and `gs://` fetches need to know about the machine they run on: the
//! platform decides whether credentials come from an instance role or a service account (as
//! Ignition decides it), and tests point the services at stand-ins on 127.0.0.1.

/// The cloud side of the fetch settings.
#[derive(Debug, Clone, Default)]
pub struct Cloud {
    /// Platform `aws`: S3 requests are signed with the instance role's credentials, and the
    /// instance's region is the first guess for a bucket's region (both from IMDS).
    pub aws_instance: bool,
    /// Platform `gcp`: GCS requests carry the default service account's token from the
    /// metadata server.
    pub gcp_instance: bool,
    /// Tests only (`KINDLING_TEST_METADATA_URL`): replaces the scheme, host and port of
    /// metadata service URLs.
    pub metadata_url: Option<String>,
    /// Tests only (`KINDLING_TEST_S3_ENDPOINT`): an S3 endpoint such as
    /// `http://127.0.0.1:PORT`, addressed path-style.
    pub s3_endpoint: Option<String>,
    /// Tests only (`KINDLING_TEST_GCS_ENDPOINT`): replaces `https://storage.googleapis.com`.
    pub gcs_endpoint: Option<String>,
}

impl Cloud {
    /// The settings for a platform id, with the stand-ins the environment names.
    pub fn for_platform(platform: &str, env: &crate::providers::Environment) -> Self {
        Self {
            aws_instance: platform == "aws",
            gcp_instance: platform == "gcp",
            metadata_url: env.metadata_url.clone(),
            s3_endpoint: env.s3_endpoint.clone(),
            gcs_endpoint: env.gcs_endpoint.clone(),
        }
    }

    /// A metadata service URL, pointed at the stand-in when a test set one.
    pub fn metadata(&self, production: &str) -> String {
        standin_url(self.metadata_url.as_deref(), production)
    }
}

/// `production` with its scheme, host and port replaced by `base`'s, when there is one.
pub fn standin_url(base: Option<&str>, production: &str) -> String {
    let Some(base) = base else {
        return production.to_owned();
    };
    let Ok(url) = reqwest::Url::parse(production) else {
        return production.to_owned();
    };
    let mut out = base.trim_end_matches('/').to_owned();
    out.push_str(url.path());
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A credential (secret key, session token, bearer token): shown as `<redacted>` by `Debug`,
/// and with no `Display`, so it cannot end up in a log line or an error by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    /// The value, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standin_urls_keep_path_and_query() {
        assert_eq!(
            standin_url(
                Some("http://127.0.0.1:8080/"),
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/?x=1"
            ),
            "http://127.0.0.1:8080/latest/meta-data/iam/security-credentials/?x=1"
        );
        assert_eq!(
            standin_url(None, "http://169.254.169.254/a"),
            "http://169.254.169.254/a"
        );
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "<redacted>");
    }
}
