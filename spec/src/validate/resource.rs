//! Resources: source URLs per scheme and version, compression, verification hashes, headers.

use super::Ctx;
use crate::path::JsonPath;
use crate::types::Resource;
use crate::version::SpecVersion;

/// Where a resource sits decides whether its source is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceRule {
    Optional,
    /// Merge entries and CA bundles: from 3.1 on, an empty source is an error on the entry.
    Required,
}

pub(crate) fn validate(ctx: &mut Ctx<'_>, r: &Resource, at: &JsonPath, rule: SourceRule) {
    let source = r.source.as_deref().unwrap_or("");
    if rule == SourceRule::Required && ctx.since(SpecVersion::V3_1) {
        if source.is_empty() {
            ctx.error(
                at.clone(),
                "source is required: set source to the URL of the content",
            );
        } else if let Err(msg) = check_source(ctx, source) {
            ctx.error(at.clone(), msg);
        }
    }
    if let Some(c) = r.compression.as_deref() {
        if !c.is_empty() && c != "gzip" {
            ctx.error(
                at.key("compression"),
                format!(
                    "invalid compression method {c:?}: use \"gzip\" or leave compression unset"
                ),
            );
        }
    }
    if r.verification.hash.is_some() && r.source.is_none() {
        ctx.error(
            at.key("verification").key("hash"),
            "source must be specified if verification is specified: add a source or remove the hash",
        );
    }
    if !source.is_empty() {
        if let Err(msg) = check_source(ctx, source) {
            ctx.error(at.key("source"), msg);
        }
    } else if rule == SourceRule::Required && !ctx.since(SpecVersion::V3_1) && is_ca(at) {
        // 3.0's CA reference has a plain string source, checked even when empty.
        ctx.error(
            at.key("source"),
            "invalid url scheme: set source to the URL of the CA bundle",
        );
    }
    if !r.http_headers.is_empty() {
        let scheme = scheme_of(source);
        if source.is_empty() || scheme.is_err() {
            ctx.error(
                at.key("httpHeaders"),
                "unable to parse url: httpHeaders need an http or https source",
            );
        } else if !matches!(scheme.as_deref(), Ok("http" | "https")) {
            ctx.error(
                at.key("httpHeaders"),
                "cannot use HTTP headers with this source scheme: headers work only with http and https sources",
            );
        }
    }
    for (i, h) in r.http_headers.iter().enumerate() {
        if h.name.is_empty() {
            ctx.error(
                at.key("httpHeaders").index(i).key("name"),
                "HTTP header name can't be empty: set name",
            );
        }
        if h.value.as_deref() == Some("") {
            ctx.error(
                at.key("httpHeaders").index(i).key("value"),
                "unable to parse HTTP header: an empty value is not allowed; leave value unset instead",
            );
        }
    }
    if let Some(hash) = r.verification.hash.as_deref() {
        match check_hash(ctx.version, hash) {
            Err(msg) => ctx.error(at.key("verification").key("hash"), msg),
            // Ignition checks only the length; a digest that is not hex can never match.
            Ok(())
                if !hash
                    .split_once('-')
                    .is_some_and(|(_, h)| h.bytes().all(|b| b.is_ascii_hexdigit())) =>
            {
                ctx.warning(
                    at.key("verification").key("hash"),
                    "hash digest is not hexadecimal, so the content can never match it: copy the digest from sha512sum or sha256sum",
                );
            }
            Ok(()) => {}
        }
    }
}

fn is_ca(at: &JsonPath) -> bool {
    at.to_string()
        .starts_with("$.ignition.security.tls.certificateAuthorities")
}

/// Checks `sha512-<hex>` / `sha256-<hex>` (sha256 from 3.1 on).
pub(crate) fn check_hash(version: SpecVersion, hash: &str) -> Result<(), String> {
    let Some((function, sum)) = hash.split_once('-') else {
        return Err("malformed hash specifier: write it as sha512-<hex digest>".to_owned());
    };
    let len = match function {
        "sha512" => 128,
        "sha256" if version >= SpecVersion::V3_1 => 64,
        "sha256" => {
            return Err(
                "unrecognized hash function sha256: spec 3.0.0 supports sha512 only; use sha512 or raise ignition.version to 3.1.0".to_owned(),
            )
        }
        other => {
            return Err(format!(
                "unrecognized hash function {other:?}: use sha512 or sha256"
            ))
        }
    };
    if sum.len() != len {
        return Err(format!(
            "incorrect size for hash sum: a {function} digest has {len} hex digits, found {}",
            sum.len()
        ));
    }
    Ok(())
}

/// The lowercased scheme of a URL, as Go's `url.Parse` finds it (`""` when there is none).
pub(crate) fn scheme_of(url: &str) -> Result<String, String> {
    for (i, c) in url.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("unable to parse url: missing protocol scheme".to_owned()),
            ':' => return Ok(url[..i].to_ascii_lowercase()),
            _ => return Ok(String::new()),
        }
    }
    Ok(String::new())
}

/// [`check_url`], plus Flatcar's `oem:///path` in a translated spec 1 or 2.x config.
fn check_source(ctx: &Ctx<'_>, source: &str) -> Result<(), String> {
    if ctx.translated && scheme_of(source).is_ok_and(|s| s == "oem") {
        return Ok(());
    }
    check_url(ctx.version, source)
}

/// Checks a resource URL: that it parses, and that its scheme is allowed in this version.
pub(crate) fn check_url(version: SpecVersion, url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_ascii_control()) {
        return Err("unable to parse url: it contains a control character".to_owned());
    }
    let scheme = scheme_of(url)?;
    match scheme.as_str() {
        "http" | "https" | "tftp" => check_hierarchical(url),
        "s3" => check_hierarchical(url).and_then(|()| check_version_id(url)),
        "gs" if version >= SpecVersion::V3_2 => check_hierarchical(url),
        "arn" if version >= SpecVersion::V3_4 => check_arn(url).and_then(|()| check_version_id(url)),
        "data" => check_data_url(url),
        "gs" => Err("invalid url scheme gs: gs URLs need spec 3.2.0 or newer".to_owned()),
        "arn" => Err("invalid url scheme arn: S3 ARNs need spec 3.4.0 or newer".to_owned()),
        "oem" => Err("invalid url scheme oem: oem:// (Flatcar's OEM partition) is read only in spec 1 and 2.x configs, as in Flatcar; in a 3.x config, put the content in a data URL or serve it over http(s)".to_owned()),
        "" => Err(format!(
            "invalid url scheme: {url:?} has no scheme; use an http, https, tftp, s3, gs or data URL"
        )),
        other => Err(format!(
            "invalid url scheme {other}: use http, https, tftp, s3, gs, arn or data"
        )),
    }
}

fn check_hierarchical(url: &str) -> Result<(), String> {
    bad_percent_escape(url)?;
    url::Url::parse(url)
        .map(|_| ())
        .map_err(|e| format!("unable to parse url: {e}"))
}

/// Go rejects malformed `%` escapes outside the query.
fn bad_percent_escape(url: &str) -> Result<(), String> {
    let (before_query, rest) = url.split_once('?').unwrap_or((url, ""));
    let fragment = rest.split_once('#').map_or("", |(_, f)| f);
    for part in [before_query, fragment] {
        let bytes = part.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err("unable to parse url: invalid %-escape; write % as %25".to_owned());
            }
        }
    }
    Ok(())
}

fn check_version_id(url: &str) -> Result<(), String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "versionId" {
            if value.is_empty() {
                return Err(
                    "invalid S3 object VersionId: give versionId a value or remove it".to_owned(),
                );
            }
            break;
        }
    }
    Ok(())
}

fn check_arn(url: &str) -> Result<(), String> {
    const FORMAT: &str = "invalid S3 ARN format: use arn:aws:s3:::bucket/key or arn:aws:s3:region:account:accesspoint/name/key";
    let full = url.split_once('?').map_or(url, |(u, _)| u);
    let sections: Vec<&str> = full.splitn(6, ':').collect();
    if sections.len() < 6 || sections[2] != "s3" {
        return Err(FORMAT.to_owned());
    }
    let slash_parts = full.split('/').count();
    let needed = if sections[5].starts_with("accesspoint/") {
        3
    } else {
        2
    };
    if slash_parts < needed {
        return Err(FORMAT.to_owned());
    }
    Ok(())
}

/// RFC 2397 as Ignition's parser reads it: `data:[type/subtype][;attr=value]*[;base64],data`.
fn check_data_url(url: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("invalid data URL: {why}"));
    let rest = &url["data:".len()..];
    let Some((header, body)) = rest.split_once(',') else {
        return fail("missing comma before data");
    };
    let mut params = header.split(';');
    let media = params.next().unwrap_or("");
    if !media.is_empty() {
        let Some((ty, sub)) = media.split_once('/') else {
            return fail("missing media type slash");
        };
        if ty.is_empty()
            || sub.is_empty()
            || !ty.chars().all(is_token)
            || !sub.chars().all(is_token)
        {
            return fail("invalid media type");
        }
    }
    let params: Vec<&str> = params.collect();
    let mut base64 = false;
    for (i, param) in params.iter().enumerate() {
        if *param == "base64" && i == params.len() - 1 {
            base64 = true;
            continue;
        }
        let Some((attr, value)) = param.split_once('=') else {
            return fail("expected parameter as attribute=value");
        };
        let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
        if attr.is_empty()
            || !attr.chars().all(is_token)
            || !(quoted || (!value.is_empty() && value.chars().all(is_token)))
        {
            return fail("invalid parameter");
        }
    }
    if base64 {
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n'))
        {
            return fail("invalid data character in base64 data");
        }
        // Decoded as the engine decodes it.
        if crate::data_url::decode(url).is_err() {
            return fail("illegal base64 data");
        }
    } else {
        let bytes = body.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            let ok = b.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,".contains(b);
            if *b == b'%' {
                if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return fail("invalid escaped character; write % as %25");
                }
            } else if !ok {
                return fail(&format!(
                    "character {:?} must be percent-encoded",
                    char::from(*b)
                ));
            }
        }
    }
    Ok(())
}

fn is_token(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_control() && !" ()<>@,;:\\\"/[]?=".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::*;

    const V: SpecVersion = SpecVersion::V3_4;

    #[test]
    fn schemes_depend_on_the_version() {
        assert!(check_url(SpecVersion::V3_1, "gs://bucket/obj").is_err());
        assert!(check_url(SpecVersion::V3_2, "gs://bucket/obj").is_ok());
        assert!(check_url(SpecVersion::V3_3, "arn:aws:s3:::bucket/key").is_err());
        assert!(check_url(V, "arn:aws:s3:::bucket/key").is_ok());
        assert!(check_url(V, "arn:aws:s3:::bucket").is_err());
        assert!(check_url(V, "arn:aws:s3:us-west-2:123:accesspoint/test").is_err());
        assert!(check_url(V, "arn:aws:s3:us-west-2:123:accesspoint/test/object/a").is_ok());
        assert!(check_url(V, "arn:aws:iam::123:role/x").is_err());
        for ok in [
            "http://x/y",
            "HTTPS://x",
            "tftp://10.0.0.1/c",
            "s3://b/k",
            "data:,",
        ] {
            assert!(check_url(V, ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://x",
            "/abs",
            "relative",
            "file:///etc/x",
            "oem:///x",
            ":x",
        ] {
            assert!(check_url(V, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_syntax_errors_are_caught() {
        assert!(check_url(V, "http://x/%zz").is_err());
        assert!(check_url(V, "http://[::1").is_err());
        assert!(check_url(V, "http://x:port/").is_err());
        assert!(check_url(V, "http://x/?q=%zz").is_ok());
        assert!(check_url(V, "s3://b/k?versionId=").is_err());
        assert!(check_url(V, "s3://b/k?versionId").is_err());
        assert!(check_url(V, "s3://b/k?versionId=3").is_ok());
    }

    #[test]
    fn data_urls_follow_rfc_2397() {
        for ok in [
            "data:,hello",
            "data:,Hello%20world%0A",
            "data:text/plain;charset=utf-8;base64,aGk=",
            "data:;base64,aGk=",
            "data:text/plain,x",
            // A `#` in the media type is no fragment (Ignition accepts both).
            "data:text/x#y,abc",
            "data:text/x#y;base64,aGk=",
        ] {
            assert!(check_data_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "data:bad",
            "data:bad,x",
            "data:;base64,!!",
            "data:,hello world",
            "data:,%zz",
            "data:text/plain;charset,x",
        ] {
            assert!(check_data_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashes_are_checked_by_function_and_length() {
        let s512 = format!("sha512-{}", "a".repeat(128));
        let s256 = format!("sha256-{}", "a".repeat(64));
        assert!(check_hash(SpecVersion::V3_0, &s512).is_ok());
        assert!(check_hash(SpecVersion::V3_0, &s256).is_err());
        assert!(check_hash(SpecVersion::V3_1, &s256).is_ok());
        assert!(check_hash(V, "sha512")
            .unwrap_err()
            .starts_with("malformed"));
        assert!(check_hash(V, "md5-abc")
            .unwrap_err()
            .starts_with("unrecognized"));
        assert!(check_hash(V, "sha512-abc")
            .unwrap_err()
            .starts_with("incorrect size"));
        assert!(check_hash(V, "SHA512-abc")
            .unwrap_err()
            .starts_with("unrecognized"));
    }

    #[test]
    fn resource_rules_attach_to_the_right_field() {
        let f = |res: &str| {
            format!(
                r#"{{"ignition":{{"version":"3.4.0"}},"storage":{{"files":[{{"path":"/a","contents":{res}}}]}}}}"#
            )
        };
        assert_error(
            &f(r#"{"source":"data:,x","compression":"zip"}"#),
            "$.storage.files.0.contents.compression",
            "invalid compression method",
        );
        assert_error(
            &f(r#"{"verification":{"hash":"sha512-00"}}"#),
            "$.storage.files.0.contents.verification.hash",
            "source must be specified",
        );
        assert_error(
            &f(r#"{"source":"ftp://x/y"}"#),
            "$.storage.files.0.contents.source",
            "invalid url scheme",
        );
        assert_error(
            &f(r#"{"source":"s3://b/k","httpHeaders":[{"name":"a","value":"b"}]}"#),
            "$.storage.files.0.contents.httpHeaders",
            "cannot use HTTP headers",
        );
        assert_error(
            &f(r#"{"source":"http://x/k","httpHeaders":[{"name":"","value":"b"}]}"#),
            "$.storage.files.0.contents.httpHeaders.0.name",
            "HTTP header name can't be empty",
        );
        assert_clean(&f(
            r#"{"source":"http://x/k","httpHeaders":[{"name":"a","value":"b"}],"compression":"gzip"}"#,
        ));
    }

    #[test]
    fn non_hex_digests_are_accepted_as_ignition_does_but_warned_about() {
        let c = format!(
            r#"{{"ignition":{{"version":"3.0.0"}},"storage":{{"files":[{{"path":"/a","contents":{{"source":"data:,x","verification":{{"hash":"sha512-{}"}}}}}}]}}}}"#,
            "z".repeat(128)
        );
        assert_warning(
            &c,
            "$.storage.files.0.contents.verification.hash",
            "hash digest is not hexadecimal",
        );
        assert!(crate::parse(c.as_bytes(), crate::Options::default()).is_ok());
    }

    #[test]
    fn merge_and_ca_sources_are_required_from_3_1() {
        assert_error(
            r#"{"ignition":{"version":"3.1.0","config":{"merge":[{}]}}}"#,
            "$.ignition.config.merge.0",
            "source is required",
        );
        assert_clean(r#"{"ignition":{"version":"3.0.0","config":{"merge":[{}]}}}"#);
        assert_error(
            r#"{"ignition":{"version":"3.0.0","security":{"tls":{"certificateAuthorities":[{}]}}}}"#,
            "$.ignition.security.tls.certificateAuthorities.0.source",
            "invalid url scheme",
        );
        assert_error(
            r#"{"ignition":{"version":"3.3.0","security":{"tls":{"certificateAuthorities":[{}]}}}}"#,
            "$.ignition.security.tls.certificateAuthorities.0",
            "source is required",
        );
    }
}
