//! URLs as they may appear in logs and errors: `data:` URLs carry config contents and query
//! strings often carry tokens, so neither is ever printed.

/// A printable form of a URL with contents and credentials left out.
pub fn redact(url: &str) -> String {
    if let Some(rest) = super::data_url_rest(url) {
        let header = rest.split(',').next().unwrap_or("");
        let media = header.split(';').next().unwrap_or("");
        let media = if is_media_type(media) { media } else { "" };
        return format!("data:{media}… ({} bytes)", url.len());
    }
    let no_fragment = url.split('#').next().unwrap_or(url);
    let (base, query) = match no_fragment.split_once('?') {
        Some((b, _)) => (b, "?…"),
        None => (no_fragment, ""),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => format!("{scheme}://{}/{path}", strip_userinfo(authority)),
            None => format!("{scheme}://{}", strip_userinfo(rest)),
        },
        None => base.to_owned(),
    };
    format!("{base}{query}")
}

/// `type/subtype` made of RFC 6838's name characters. A URL without its comma has its
/// contents where the media type would be, so anything else is not shown.
fn is_media_type(media: &str) -> bool {
    let name = |part: &str| {
        (1..=127).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    media
        .split_once('/')
        .is_some_and(|(ty, sub)| name(ty) && name(sub))
}

fn strip_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_survive() {
        assert_eq!(
            redact("data:text/plain;base64,c2VjcmV0"),
            "data:text/plain… (31 bytes)"
        );
        assert_eq!(redact("data:,secret"), "data:… (12 bytes)");
        // Schemes are case-insensitive (the data_url fuzz target found these printed whole).
        assert_eq!(redact("DATA:,secret"), "data:… (12 bytes)");
        assert_eq!(
            redact("Data:text/plain;base64,c2VjcmV0"),
            "data:text/plain… (31 bytes)"
        );
        assert_eq!(
            redact("https://user:pw@host/a/b?token=x#f"),
            "https://host/a/b?…"
        );
        assert_eq!(redact("http://host"), "http://host");
        // Without its comma, everything after `data:` would be taken for the media type: only
        // something shaped like one (type/subtype) is shown. Found by the data_url fuzz target.
        let no_comma = r#"data:{"passwd":{"users":[{"passwordHash":"$6$secret"}]}}"#;
        assert_eq!(redact(no_comma), "data:… (56 bytes)");
        assert_eq!(redact("data:s3cret-token"), "data:… (17 bytes)");
        assert_eq!(
            redact("data:application/vnd.example+json;base64"),
            "data:application/vnd.example+json… (40 bytes)"
        );
        assert_eq!(
            redact("tftp://10.0.0.1/config.ign"),
            "tftp://10.0.0.1/config.ign"
        );
    }
}
