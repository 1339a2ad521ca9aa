//! `data:` URLs as the engine reads them for file contents and config sources (the fetch
//! layer: RFC 2397 decoding, then gzip when `compression` says so, the size limit, the hash
//! check). The input is the URL (`data:` is put in front when it has no scheme of that name).
//! Whatever the bytes:
//! - no panic; the decoded content is never longer than the URL, and a gzip one never longer
//!   than the limit; the size and digest reported are those of the bytes handed over;
//! - a data URL that config validation accepts is one the fetch layer decodes;
//! - an error never shows the URL's contents (they are config contents, maybe secrets);
//! - round trip: what it decodes to, and the input bytes themselves, encoded by flint the way
//!   Butane embeds contents (percent, base64 or gzip+base64), validate and decode back to the
//!   same bytes.

#![no_main]

use kindling::fetch::hash::sha512_of;
use kindling::fetch::{FetchError, Fetcher};
use kindling_spec::types::Resource;
use libfuzzer_sys::fuzz_target;

/// The size limit for the fuzzed URLs' decoded content, small so gzip bombs reach it.
const LIMIT: u64 = 64 * 1024;

fn resource(url: &str, compression: Option<&str>, hash: Option<String>) -> Resource {
    let mut r = Resource {
        source: Some(url.to_owned()),
        compression: compression.map(str::to_owned),
        ..Resource::default()
    };
    r.verification.hash = hash;
    r
}

/// Whether a spec 3.6.0 config with this file source passes validation.
fn validates(url: &str, compression: Option<&str>) -> bool {
    let mut contents = serde_json::json!({ "source": url });
    if let Some(c) = compression {
        contents["compression"] = c.into();
    }
    let config = serde_json::json!({
        "ignition": { "version": "3.6.0" },
        "storage": { "files": [{ "path": "/f", "contents": contents }] },
    });
    let text = serde_json::to_vec(&config).expect("JSON");
    kindling_spec::parse(&text, kindling_spec::Options::default()).is_ok()
}

/// The URL as an error shows it. Only that part comes from the URL: the rest of the message
/// is fixed text, which an input may copy (the fuzzer did).
fn shown_url(e: &FetchError) -> String {
    match e {
        FetchError::InvalidDataUrl { url, .. }
        | FetchError::HashMismatch { url, .. }
        | FetchError::TooLarge { url, .. }
        | FetchError::Decompress { url, .. }
        | FetchError::Read { url, .. }
        | FetchError::Write { url, .. }
        | FetchError::Refused { url, .. } => url.clone(),
        other => other.to_string(),
    }
}

/// The error must not carry the URL's contents: after `data:`, at most a media type may be
/// shown (a leading run of the characters media types are made of). What follows it must not
/// appear, checked on its first 16 characters (a leak shows the URL from its start, whole or
/// cut short).
fn assert_redacted(url: &str, e: &FetchError) {
    let message = shown_url(e);
    let rest = &url["data:".len()..];
    let hidden =
        rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || "!#$&-^_.+/".contains(c));
    let head: String = hidden.chars().take(16).collect();
    assert!(
        head.chars().count() < 16 || !message.contains(&head),
        "an error shows the data URL's contents ({head:?}): {e}"
    );
}

/// flint's encoding of `bytes` validates and decodes back to `bytes`.
fn round_trip(fetcher: &Fetcher, bytes: &[u8]) {
    for allow_gzip in [false, true] {
        let made = flint::data_url::make(bytes, None, allow_gzip);
        let compression = made.compression.filter(|c| !c.is_empty());
        assert!(
            validates(&made.url, compression),
            "flint's data URL does not validate: {}",
            made.url
        );
        let (back, _) = fetcher
            .fetch_to_vec(&resource(&made.url, compression, None), bytes.len() as u64)
            .unwrap_or_else(|e| panic!("flint's data URL does not decode: {e}"));
        assert_eq!(back, bytes, "round trip through {}", made.url);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let url = match text.get(..5) {
        Some(s) if s.eq_ignore_ascii_case("data:") => text.into_owned(),
        _ => format!("data:{text}"),
    };
    let fetcher = Fetcher::default();

    let plain = fetcher.fetch_to_vec(&resource(&url, None, None), LIMIT);
    match &plain {
        Ok((bytes, fetched)) => {
            assert!(
                bytes.len() <= url.len(),
                "{} bytes from a {}-byte URL",
                bytes.len(),
                url.len()
            );
            assert_eq!(fetched.size, bytes.len() as u64);
            assert_eq!(fetched.digest, sha512_of(bytes));
        }
        Err(e) => {
            assert_redacted(&url, &e);
            // Validation knows no size limit; the fuzzer's -max_len keeps URLs under LIMIT.
            assert!(
                matches!(e, FetchError::TooLarge { .. }) || !validates(&url, None),
                "validation accepts {url:?}, the fetch layer refuses it: {e}"
            );
        }
    }

    // A pin that cannot match (or, for empty content, does): the mismatch names the URL.
    let pin = sha512_of(b"\0").to_string();
    match fetcher.fetch_to_vec(&resource(&url, None, Some(pin)), LIMIT) {
        Ok((bytes, _)) => assert_eq!(bytes, b"\0"),
        Err(e) => assert_redacted(&url, &e),
    }

    match fetcher.fetch_to_vec(&resource(&url, Some("gzip"), None), LIMIT) {
        Ok((bytes, fetched)) => {
            assert!(bytes.len() as u64 <= LIMIT);
            assert_eq!(fetched.size, bytes.len() as u64);
        }
        Err(e) => assert_redacted(&url, &e),
    }

    if let Ok((bytes, _)) = &plain {
        round_trip(&fetcher, bytes);
    }
    round_trip(&fetcher, data);
});
