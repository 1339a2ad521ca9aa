//! `data:` URLs (RFC 2397), decoded in memory: they are already part of the config.

use std::io::{Cursor, Read};

use kindling_spec::data_url::DataUrlError;

use super::redact::redact;
use super::FetchError;

pub(super) fn open(url: &str) -> Result<Box<dyn Read>, FetchError> {
    let invalid = |reason: String| FetchError::InvalidDataUrl {
        url: redact(url),
        reason,
    };
    let body = kindling_spec::data_url::decode(url).map_err(|e| match e {
        DataUrlError::Syntax(reason) => invalid(reason),
        DataUrlError::Base64 => invalid("invalid base64 data".to_owned()),
    })?;
    Ok(Box::new(Cursor::new(body)))
}
