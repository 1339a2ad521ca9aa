//! Decoding `data:` URLs (RFC 2397) as Ignition does, for validation and for the engine
//! alike, so a URL that validates is one the engine decodes.

/// Why a data URL cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataUrlError {
    /// Not a data URL the parser accepts; its reason.
    Syntax(String),
    /// A `;base64` body that is not base64.
    Base64,
}

/// The bytes of a data URL. Ignition decodes the whole string: a data URL has no fragment.
/// The data_url crate follows the WHATWG URL rules and cuts at the first `#`, which a media
/// type may hold; escaped, it stays where it is.
pub fn decode(url: &str) -> Result<Vec<u8>, DataUrlError> {
    let whole = url.replace('#', "%23");
    let parsed =
        data_url::DataUrl::process(&whole).map_err(|e| DataUrlError::Syntax(format!("{e:?}")))?;
    let (body, _) = parsed.decode_to_vec().map_err(|_| DataUrlError::Base64)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_sign_is_part_of_the_url() {
        assert_eq!(decode("data:text/x#y;base64,aGk="), Ok(b"hi".to_vec()));
        assert_eq!(decode("data:,a#b"), Ok(b"a#b".to_vec()));
        assert_eq!(decode("data:;base64,!!"), Err(DataUrlError::Base64));
    }
}
