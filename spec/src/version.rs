//! The `ignition.version` field: which spec a config is written against.

use std::fmt;

use serde_json::Value;

/// A config spec version Kindling reads. Ordered, so `v < SpecVersion::V3_6` works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    V3_0,
    V3_1,
    V3_2,
    V3_3,
    V3_4,
    V3_5,
    V3_6,
}

impl SpecVersion {
    pub const ALL: [SpecVersion; 7] = [
        SpecVersion::V3_0,
        SpecVersion::V3_1,
        SpecVersion::V3_2,
        SpecVersion::V3_3,
        SpecVersion::V3_4,
        SpecVersion::V3_5,
        SpecVersion::V3_6,
    ];
    pub const NEWEST: SpecVersion = SpecVersion::V3_6;

    pub fn minor(self) -> u64 {
        self as u64
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V3_0 => "3.0.0",
            SpecVersion::V3_1 => "3.1.0",
            SpecVersion::V3_2 => "3.2.0",
            SpecVersion::V3_3 => "3.3.0",
            SpecVersion::V3_4 => "3.4.0",
            SpecVersion::V3_5 => "3.5.0",
            SpecVersion::V3_6 => "3.6.0",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a config's version could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "config has no ignition.version: add \"ignition\": {{\"version\": \"{}\"}}",
        SpecVersion::NEWEST
    )]
    Missing,
    #[error("ignition.version must be a string such as \"{newest}\", found {0}", newest = SpecVersion::NEWEST)]
    NotAString(String),
    #[error("invalid config version {0:?}: expected MAJOR.MINOR.PATCH such as \"{newest}\"", newest = SpecVersion::NEWEST)]
    Malformed(String),
    #[error("unsupported config version {0}: {1}")]
    Unsupported(String, &'static str),
}

const HINT_V2: &str = "Kindling reads spec 1, 2.0.0 to 2.3.0 and 3.0.0 to 3.6.0; set ignition.version to one of those (a spec 1 config has \"ignitionVersion\": 1 instead)";
const HINT_OTHER: &str = "Kindling reads spec 3.0.0 to 3.6.0; set ignition.version to one of those";
const HINT_EXPERIMENTAL: &str = "experimental spec versions are not accepted; use the stable version it became (3.6.0 or older)";

/// Reads `ignition.version` from a parsed document without looking at anything else.
pub fn detect(doc: &Value) -> Result<SpecVersion, VersionError> {
    let version = doc
        .get("ignition")
        .and_then(|ign| ign.get("version"))
        .ok_or(VersionError::Missing)?;
    let text = match version {
        Value::String(s) => s.as_str(),
        Value::Null => return Err(VersionError::Missing),
        other => return Err(VersionError::NotAString(other.to_string())),
    };
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numbers: Option<Vec<u64>> = if parts.len() == 3 {
        parts
            .iter()
            .map(|p| {
                let ok = !p.is_empty()
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (p.len() == 1 || !p.starts_with('0'));
                if ok {
                    p.parse().ok()
                } else {
                    None
                }
            })
            .collect()
    } else {
        None
    };
    let Some(nums) = numbers else {
        return Err(VersionError::Malformed(text.to_owned()));
    };
    if pre.is_some_and(|p| p.is_empty()) {
        return Err(VersionError::Malformed(text.to_owned()));
    }
    if pre.is_some() {
        return Err(VersionError::Unsupported(
            text.to_owned(),
            HINT_EXPERIMENTAL,
        ));
    }
    match (nums[0], nums[1], nums[2]) {
        (3, minor, 0) if minor <= 6 => Ok(SpecVersion::ALL[minor as usize]),
        (1 | 2, _, _) => Err(VersionError::Unsupported(text.to_owned(), HINT_V2)),
        _ => Err(VersionError::Unsupported(text.to_owned(), HINT_OTHER)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(s: &str) -> Result<SpecVersion, VersionError> {
        detect(&json!({"ignition": {"version": s}}))
    }

    #[test]
    fn every_supported_version_is_detected() {
        for (i, want) in SpecVersion::ALL.iter().enumerate() {
            assert_eq!(v(&format!("3.{i}.0")), Ok(*want));
        }
    }

    #[test]
    fn spec_2_is_unsupported_with_a_hint() {
        let err = v("2.4.0").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("unsupported config version 2.4.0"));
        assert!(err.to_string().contains("2.0.0 to 2.3.0"));
    }

    #[test]
    fn unknown_and_experimental_versions_are_unsupported() {
        assert!(matches!(v("3.7.0"), Err(VersionError::Unsupported(..))));
        assert!(matches!(v("3.1.1"), Err(VersionError::Unsupported(..))));
        assert!(matches!(
            v("3.6.0-experimental"),
            Err(VersionError::Unsupported(..))
        ));
        assert!(matches!(v("4.0.0"), Err(VersionError::Unsupported(..))));
    }

    #[test]
    fn malformed_versions_are_their_own_error() {
        for bad in ["3.1", "three", "3.01.0", "", "3.1.0-", "3..0"] {
            assert!(matches!(v(bad), Err(VersionError::Malformed(_))), "{bad}");
        }
        assert!(matches!(
            detect(&json!({"ignition": {"version": 3}})),
            Err(VersionError::NotAString(_))
        ));
        assert_eq!(detect(&json!({})), Err(VersionError::Missing));
    }
}
