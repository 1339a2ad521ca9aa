//! `data:` URLs (RFC 2397), decoded in memory: they are already part of the config.

use std::io::{Cursor, Read};

use super::redact::redact;
use super::FetchError;

pub(super) fn open(url: &str) -> Result<Box<dyn Read>, FetchError> {
    let invalid = |reason: String| FetchError::InvalidDataUrl {
        url: redact(url),
        reason,
    };
    // Ignition decodes the whole string: a data URL has no fragment. The data_url crate
    // follows the WHATWG URL rules and cuts at the first `#`, which validation allows in the
    // media type; escaped, it stays where it is.
    let whole = url.replace('#', "%23");
    let parsed = data_url::DataUrl::process(&whole).map_err(|e| invalid(format!("{e:?}")))?;
    let (body, _) = parsed
        .decode_to_vec()
        .map_err(|_| invalid("invalid base64 data".to_owned()))?;
    Ok(Box::new(Cursor::new(body)))
}
