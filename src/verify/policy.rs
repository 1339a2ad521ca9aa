//! The trust policy, `<trust-dir>/policy.json`: what a root config needs before Kindling
//! parses it, and what every resource it references needs before a byte is fetched.
//!
//! A broken policy fails the boot: it must never quietly open what it was meant to close.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What proves the root config is ours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Require {
    /// Ignition-compatible: anything goes (a pin on the command line is still enforced).
    #[default]
    None,
    /// `kindling.config.hash=` must be on the command line, and match.
    Hash,
    /// A valid OpenPGP signature from a certificate in `<trust-dir>/trust/`.
    Signature,
    /// Either of the two.
    HashOrSignature,
}

impl Require {
    pub fn name(self) -> &'static str {
        match self {
            Require::None => "none",
            Require::Hash => "hash",
            Require::Signature => "signature",
            Require::HashOrSignature => "hash-or-signature",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub require: Require,
    /// Every remote resource must carry `verification.hash`; `data:` URLs are covered by the
    /// verified root config.
    #[serde(default)]
    pub strict_chain: bool,
    /// URL schemes that may be fetched without a hash pin (e.g. `["https"]`). Unset: all.
    #[serde(default)]
    pub allowed_schemes: Option<Vec<String>>,
    /// The largest root config accepted, in bytes.
    #[serde(default)]
    pub max_config_bytes: Option<u64>,
    /// Signatures older than this are refused (replay protection).
    #[serde(default)]
    pub max_signature_age_days: Option<u64>,
    /// Refuse to provision when the config cannot be measured into the TPM.
    #[serde(default)]
    pub require_measurement: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading the trust policy {path} failed: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the trust policy {path} is invalid: {reason}; fix it (known keys: require, strictChain, allowedSchemes, maxConfigBytes, maxSignatureAgeDays, requireMeasurement) — a broken policy never falls back to no policy")]
    Invalid { path: PathBuf, reason: String },
}

impl Policy {
    /// `<trust-dir>/policy.json`; no file means the Ignition-compatible default.
    pub fn load(trust_dir: &Path) -> Result<Self, PolicyError> {
        let path = trust_dir.join("policy.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Policy::default()),
            Err(source) => return Err(PolicyError::Read { path, source }),
        };
        Self::parse(&bytes, &path)
    }

    /// A policy from the text of `path` (named in errors only).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, PolicyError> {
        let path = path.to_path_buf();
        // serde reads a struct from a JSON array too, field by field in order (`[]` would be
        // the default policy, `["signature", true]` a strict one): only an object is a policy.
        let top = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if top != Some(&b'{') {
            let kind = match top {
                Some(b'[') => "an array",
                Some(b'"') => "a string",
                Some(b'n') => "null",
                Some(b't' | b'f') => "a boolean",
                Some(b'-' | b'0'..=b'9') => "a number",
                None => "empty",
                Some(_) => "not JSON",
            };
            return Err(PolicyError::Invalid {
                path,
                reason: format!(
                    r#"it is {kind}, but it must be a JSON object, e.g. {{"require": "signature"}}"#
                ),
            });
        }
        let policy: Policy = serde_json::from_slice(bytes).map_err(|e| PolicyError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if let Some(schemes) = &policy.allowed_schemes {
            if let Some(bad) = schemes.iter().find(|s| {
                !matches!(
                    s.as_str(),
                    "http" | "https" | "tftp" | "data" | "s3" | "gs" | "arn"
                )
            }) {
                return Err(PolicyError::Invalid {
                    path,
                    reason: format!("allowedSchemes has unknown scheme {bad:?}"),
                });
            }
        }
        if policy.max_config_bytes == Some(0) {
            return Err(PolicyError::Invalid {
                path,
                reason: "maxConfigBytes must be above 0".into(),
            });
        }
        Ok(policy)
    }

    /// The largest root config accepted, in bytes: `maxConfigBytes`, else the built-in limit
    /// (64 MiB). It holds for the bytes delivered and for a signed message's unpacked payload.
    pub fn config_limit(&self) -> u64 {
        self.max_config_bytes
            .unwrap_or(kindling_spec::source::MAX_CONFIG_BYTES as u64)
    }

    /// A one-line summary for reports, e.g. `require signature, strictChain`.
    pub fn summary(&self) -> String {
        let mut s = format!("require {}", self.require.name());
        if self.strict_chain {
            s.push_str(", strictChain");
        }
        if let Some(schemes) = &self.allowed_schemes {
            s.push_str(&format!(", allowedSchemes {}", schemes.join("/")));
        }
        s
    }

    /// Whether a URL with this scheme may be fetched, given whether it is hash-pinned.
    pub fn allows(&self, url: &str, pinned: bool) -> bool {
        // data: URLs carry their bytes in what was already verified; no scheme to allow.
        if pinned || !crate::fetch::is_remote(url) {
            return true;
        }
        let scheme = url
            .split_once(':')
            .map_or("", |(s, _)| s)
            .to_ascii_lowercase();
        self.allowed_schemes
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&scheme))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Policy, PolicyError> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("policy.json"), text).expect("write");
        Policy::load(dir.path())
    }

    #[test]
    fn no_file_is_ignition_compatible() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            Policy::load(dir.path()).expect("default"),
            Policy::default()
        );
    }

    #[test]
    fn reads_every_key() {
        let p = load(r#"{"require":"hash-or-signature","strictChain":true,"allowedSchemes":["https"],"maxConfigBytes":1000,"maxSignatureAgeDays":30}"#).expect("valid");
        assert_eq!(p.require, Require::HashOrSignature);
        assert!(p.strict_chain);
        assert!(p.allows("https://h/c", false));
        assert!(!p.allows("http://h/c", false));
        assert!(p.allows("http://h/c", true), "a pinned URL is allowed");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        for bad in [
            r#"{"require":"signatures"}"#,
            r#"{"strictchain":true}"#,
            r#"{"require":"none","extra":1}"#,
            r#"{"allowedSchemes":["ftp"]}"#,
            r#"{"maxConfigBytes":0}"#,
            r#"{"require":"signature","require":"none"}"#,
            r#"{"require":"signature"} {}"#,
            "not json",
        ] {
            let err = load(bad).expect_err(bad);
            assert!(err.to_string().contains("is invalid"), "{err}");
        }
    }

    /// Issue 15, defect 2: `[]` was read as the default policy (require none) and
    /// `["signature", true]` field by field, in order.
    #[test]
    fn only_an_object_is_a_policy() {
        for (bad, kind) in [
            ("[]", "an array"),
            (r#"["signature", true]"#, "an array"),
            (r#"["none"]"#, "an array"),
            (r#""signature""#, "a string"),
            ("null", "null"),
            ("true", "a boolean"),
            ("1", "a number"),
            ("", "empty"),
            (" \n", "empty"),
        ] {
            let err = load(bad).expect_err(bad).to_string();
            assert!(
                err.contains("is invalid")
                    && err.contains(&format!("it is {kind}, but it must be a JSON object")),
                "{bad:?}: {err}"
            );
        }
        assert_eq!(load(" \n{}\n").expect("an empty object"), Policy::default());
    }
}
