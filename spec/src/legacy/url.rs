//! `data:` URLs for contents that spec 1 and 2.x configs carry inline (spec 1 file contents,
//! networkd units), so that 3.x can carry them as file sources.

/// A `data:` URL of `bytes`, percent-encoding every byte outside RFC 3986's unreserved set.
pub(crate) fn data_url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(6 + bytes.len());
    out.push_str("data:,");
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_decode_to_the_same_bytes() {
        let text = "[Match]\nName=eth0 # 100%\n\u{e9}";
        let url = data_url(text.as_bytes());
        assert_eq!(
            url,
            "data:,%5BMatch%5D%0AName%3Deth0%20%23%20100%25%0A%C3%A9"
        );
        let decoded = data_url::DataUrl::process(&url)
            .unwrap()
            .decode_to_vec()
            .unwrap()
            .0;
        assert_eq!(decoded, text.as_bytes());
    }
}
