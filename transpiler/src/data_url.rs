//! Embedding contents as `data:` URLs the way Butane does: the shortest of percent-encoding,
//! base64, and gzip+base64 (the latter counted with the four bytes `gzip` costs in the
//! `compression` field). Without compression chosen by the user, `compression` is set to
//! `""` explicitly so that a parent config's compression is never inherited.

use std::io::Write;

use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;

/// A data URL and the `compression` value to write beside it; `None` means "leave the
/// field as the user wrote it".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUrl {
    pub url: String,
    pub compression: Option<&'static str>,
}

/// Encodes `contents`. `user_compression` is the resource's own `compression` field; when
/// it names a compression the contents are taken as already compressed.
pub fn make(contents: &[u8], user_compression: Option<&str>, allow_gzip: bool) -> DataUrl {
    let user_set = user_compression.is_some_and(|c| !c.is_empty());
    let mut compression = if user_set { None } else { Some("") };

    let mut best = String::with_capacity(contents.len() + 8);
    best.push(',');
    escape_into(contents, &mut best);

    let b64_len = 8 + base64_len(contents.len());
    if b64_len < best.len() {
        best.clear();
        best.push_str(";base64,");
        base64::engine::general_purpose::STANDARD.encode_string(contents, &mut best);
    }

    if !user_set && allow_gzip {
        if let Some(gz) = gzip(contents) {
            let gz_len = 8 + base64_len(gz.len());
            if gz_len + "gzip".len() < best.len() {
                best.clear();
                best.push_str(";base64,");
                base64::engine::general_purpose::STANDARD.encode_string(&gz, &mut best);
                compression = Some("gzip");
            }
        }
    }
    DataUrl {
        url: format!("data:{best}"),
        compression,
    }
}

fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

fn gzip(contents: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(contents.len() / 2 + 32),
        Compression::best(),
    );
    enc.write_all(contents).ok()?;
    enc.finish().ok()
}

/// RFC 2397 escaping as Butane's data URL library does it: letters, digits and
/// `-_.!~*'()` stay, every other byte becomes `%XX`.
fn escape_into(data: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in data {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_percent_encoded_with_empty_compression() {
        let d = make(b"Hello, world!", None, true);
        assert_eq!(d.url, "data:,Hello%2C%20world!");
        assert_eq!(d.compression, Some(""));
    }

    #[test]
    fn empty_contents_are_an_empty_data_url() {
        assert_eq!(make(b"", None, true).url, "data:,");
    }

    #[test]
    fn json_prefers_base64() {
        let d = make(br#"{"ignition": {"version": "3.5.0"}}"#, None, true);
        assert_eq!(
            d.url,
            "data:;base64,eyJpZ25pdGlvbiI6IHsidmVyc2lvbiI6ICIzLjUuMCJ9fQ=="
        );
    }

    #[test]
    fn repetitive_text_is_gzipped() {
        let text = "line of text\n".repeat(200);
        let d = make(text.as_bytes(), None, true);
        assert_eq!(d.compression, Some("gzip"));
        assert!(d.url.starts_with("data:;base64,H4sI"));
    }

    #[test]
    fn user_compression_is_kept_and_never_doubled() {
        let text = "line of text\n".repeat(200);
        let d = make(text.as_bytes(), Some("gzip"), true);
        assert_eq!(d.compression, None);
        assert!(!d.url.starts_with("data:;base64,H4sI"));
    }
}
