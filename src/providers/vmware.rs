//! Platform `vmware`: the config is the guestinfo variable `ignition.config.data`, encoded
//! as `ignition.config.data.encoding` says. Properties of the same names in the OVF
//! environment (`guestinfo.ovfenv`, set by vApp options) are the fallback for each.
//!
//! Guestinfo is reached through the hypervisor's backdoor I/O port, which needs raw port
//! access (unsafe code, iopl). Kindling asks open-vm-tools' `vmware-rpctool` instead, the
//! documented user-space client of the same channel; the dracut module installs it when the
//! build host has it.

use super::akamai::gunzip_if_gzip;
use super::host::{self, ToolFailure};
use super::simple::decode_base64;
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::command::Cmd;

const PLATFORM: &str = "vmware";
const DATA: &str = "guestinfo.ignition.config.data";
const ENCODING: &str = "guestinfo.ignition.config.data.encoding";
const OVFENV: &str = "guestinfo.ovfenv";
const RPCTOOL: &str = "vmware-rpctool";
const MISSING: &str = "Kindling reads guestinfo through it. It comes with open-vm-tools: \
    install open-vm-tools on the host that builds the initramfs and rebuild the initramfs (the \
    kindling dracut module includes the tool when the host has it). Outside a VMware VM there \
    is no guestinfo: check kindling.platform.id";
/// What the hypervisor answers for a variable that was never set.
const NOT_SET: &str = "No value found";
const ENCODINGS: &str =
    "\"\" (none), base64, b64, gz, gzip, gz+base64, gzip+base64, gz+b64, gzip+b64";

#[derive(Debug)]
pub struct VmwareProvider;

impl Provider for VmwareProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let ovf = match info_get(OVFENV, encoded_limit(cx.limit)) {
            Ok(Some(xml)) => match ovf_properties(&String::from_utf8_lossy(&xml)) {
                Ok(props) => props,
                Err(reason) => {
                    log::warn!("ignoring {OVFENV}: {reason}");
                    Vec::new()
                }
            },
            Ok(None) => Vec::new(),
            Err(ToolFailure::Missing(e)) => return Err(e),
            Err(ToolFailure::Failed(e)) => {
                // Reading the config itself fails below with the same cause if it is real.
                log::warn!("reading {OVFENV} failed: {e}");
                Vec::new()
            }
        };
        let ovf_value = |key: &str| {
            ovf.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone().into_bytes())
        };
        let data = info_get(DATA, encoded_limit(cx.limit))
            .map_err(fatal)?
            .or_else(|| ovf_value(DATA))
            .unwrap_or_default();
        let encoding = info_get(ENCODING, SMALL_VALUE)
            .map_err(fatal)?
            .or_else(|| ovf_value(ENCODING))
            .unwrap_or_default();
        let encoding = String::from_utf8_lossy(&encoding).into_owned();
        if data.is_empty() {
            return Ok(Acquired::NoConfig);
        }
        let bytes = decode(&encoding, data, cx.limit)?;
        log::info!(
            "read the config from {DATA} ({})",
            if encoding.is_empty() {
                "not encoded"
            } else {
                &encoding
            }
        );
        Ok(Acquired::Config {
            bytes,
            detached_signature: None,
        })
    }

    fn describe(&self) -> String {
        format!("VMware guestinfo {DATA} (through {RPCTOOL})")
    }
}

/// The most output a guestinfo value holding the config may have: base64 makes 4 bytes of
/// 3, and the OVF environment wraps the value in XML.
fn encoded_limit(config_limit: u64) -> u64 {
    config_limit.saturating_mul(2).saturating_add(64 << 10)
}

/// The most output a guestinfo value that is a word (the encoding) may have.
const SMALL_VALUE: u64 = 4 << 10;

fn fatal(failure: ToolFailure) -> ProviderError {
    match failure {
        ToolFailure::Missing(e) => e,
        ToolFailure::Failed(e @ crate::command::CommandError::TooMuchOutput { .. }) => host::error(
            PLATFORM,
            format!("{e} (a config larger than maxConfigBytes in the trust policy is refused: raise maxConfigBytes if the config is meant to be this big)"),
        ),
        ToolFailure::Failed(e) => host::error(
            PLATFORM,
            format!("{e}\n(vmware-rpctool fails like this outside a VMware VM, or when the VM's tools channel is disabled)"),
        ),
    }
}

/// A guestinfo variable, or `None` when it is not set. The tool prints the value and a
/// newline; the newline is not part of the value.
fn info_get(key: &str, max: u64) -> Result<Option<Vec<u8>>, ToolFailure> {
    let cmd = Cmd::new(format!("reading {key}"), RPCTOOL)
        .arg(format!("info-get {key}"))
        .max_stdout(max);
    match host::run(PLATFORM, cmd, MISSING) {
        Ok(out) => {
            let mut value = out.stdout;
            if value.last() == Some(&b'\n') {
                value.pop();
            }
            Ok(Some(value))
        }
        Err(ToolFailure::Failed(crate::command::CommandError::Failed { stderr, .. }))
            if stderr.trim() == NOT_SET =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The config from `data` as `encoding` says it is encoded.
fn decode(encoding: &str, data: Vec<u8>, limit: u64) -> Result<Vec<u8>, ProviderError> {
    let bad = |reason: String| host::error(PLATFORM, format!("{DATA}: {reason}"));
    match encoding {
        "" => Ok(data),
        "b64" | "base64" => decode_base64(&data).map_err(bad),
        "gz" | "gzip" => gunzip(data, limit).map_err(bad),
        "gz+base64" | "gzip+base64" | "gz+b64" | "gzip+b64" => {
            gunzip(decode_base64(&data).map_err(bad)?, limit).map_err(bad)
        }
        other => Err(host::error(
            PLATFORM,
            format!(
                "{ENCODING} is {other:?}, an encoding Kindling does not know; use one of {ENCODINGS}"
            ),
        )),
    }
}

fn gunzip(data: Vec<u8>, limit: u64) -> Result<Vec<u8>, String> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Err(format!(
            "the encoding says gzip, but the data is not gzip-compressed (set {ENCODING} to match the data)"
        ));
    }
    gunzip_if_gzip(data, limit)
}

/// The `key`/`value` pairs of the `Property` elements in an OVF environment's
/// `PropertySection`, namespace prefixes ignored, as the vApp options set them.
fn ovf_properties(xml: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut in_section = false;
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            let end = comment.find("-->").ok_or("a comment is not closed")?;
            rest = &comment[end + 3..];
            continue;
        }
        let end = tag_end(rest).ok_or("a tag is not closed")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let closing = tag.starts_with('/');
        let tag = tag.trim_start_matches('/');
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = local_name(&tag[..name_end]);
        match (name, closing) {
            ("PropertySection", closing) => in_section = !closing && !tag.ends_with('/'),
            ("Property", false) if in_section => {
                let attrs = attributes(&tag[name_end..])?;
                let get = |want: &str| {
                    attrs
                        .iter()
                        .find(|(k, _)| local_name(k) == want)
                        .map(|(_, v)| v.clone())
                };
                if let (Some(k), Some(v)) = (get("key"), get("value")) {
                    out.push((k, v));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Where a tag ends: the first `>` outside a quoted attribute value.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// `name="value"` pairs, values unescaped.
fn attributes(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start().trim_start_matches('/').trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let eq = s.find('=').ok_or("an attribute has no value")?;
        let name = s[..eq].trim().to_owned();
        let after = s[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or("an attribute value is not quoted")?;
        let body = &after[1..];
        let close = body.find(quote).ok_or("an attribute value is not closed")?;
        out.push((name, unescape(&body[..close])?));
        s = &body[close + 1..];
    }
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..]
            .find(';')
            .ok_or("an entity in an attribute is not closed")?;
        let entity = &rest[amp + 1..amp + semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &rest[amp + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="">
   <!-- a comment with <Property oe:key="x" oe:value="y"/> in it -->
   <PlatformSection><Kind>VMware ESXi</Kind></PlatformSection>
   <Property oe:key="outside" oe:value="ignored"/>
   <PropertySection>
         <Property oe:key="guestinfo.ignition.config.data" oe:value="eyJhIjoxfQ=="/>
         <Property oe:key="guestinfo.ignition.config.data.encoding" oe:value='base64'/>
         <Property oe:key="other" oe:value="a &amp; b &lt;&#x41;&#66;&gt; &quot;q&quot;"/>
   </PropertySection>
</Environment>"#;

    #[test]
    fn ovf_properties_come_from_the_property_section() {
        let props = ovf_properties(OVF).expect("parses");
        assert_eq!(
            props,
            vec![
                (DATA.to_owned(), "eyJhIjoxfQ==".to_owned()),
                (ENCODING.to_owned(), "base64".to_owned()),
                ("other".to_owned(), "a & b <AB> \"q\"".to_owned()),
            ]
        );
    }

    #[test]
    fn broken_ovf_is_an_error_not_a_panic() {
        for bad in [
            "<PropertySection><Property oe:key=\"a",
            "<PropertySection><Property oe:key=a oe:value=b/>",
            "<PropertySection><Property oe:key=\"a\" oe:value=\"&bogus;\"/>",
            "<!-- open",
        ] {
            assert!(ovf_properties(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_encoding_decodes() {
        use std::io::Write;
        let json = br#"{"ignition":{"version":"3.4.0"}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let b64 = |b: &[u8]| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(b)
                .into_bytes()
        };
        assert_eq!(decode("", json.to_vec(), 1 << 20).expect("raw"), json);
        for enc in ["base64", "b64"] {
            assert_eq!(decode(enc, b64(json), 1 << 20).expect(enc), json);
        }
        for enc in ["gz", "gzip"] {
            assert_eq!(decode(enc, gz.clone(), 1 << 20).expect(enc), json);
        }
        for enc in ["gz+base64", "gzip+base64", "gz+b64", "gzip+b64"] {
            assert_eq!(decode(enc, b64(&gz), 1 << 20).expect(enc), json);
        }
        let err = decode("gzip", json.to_vec(), 1 << 20).expect_err("not gzip");
        assert!(err.to_string().contains("not gzip-compressed"), "{err}");
        let err = decode("gzip", gz, 5).expect_err("too big");
        assert!(err.to_string().contains("limit of 5"), "{err}");
    }

    #[test]
    fn unknown_encodings_are_named_with_the_valid_ones() {
        let err = decode("base32", b"x".to_vec(), 100).expect_err("unknown");
        let msg = err.to_string();
        assert!(msg.contains("\"base32\""), "{msg}");
        assert!(msg.contains("gzip+base64"), "{msg}");
    }
}
