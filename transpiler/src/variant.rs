//! Variants and versions of the Butane dialect, and the Ignition spec each one emits.

use std::fmt;

use kindling_spec::SpecVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Fcos,
    Flatcar,
    R4e,
    Fiot,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Fcos => "fcos",
            Variant::Flatcar => "flatcar",
            Variant::R4e => "r4e",
            Variant::Fiot => "fiot",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One supported variant and version: which fields exist and which Ignition spec it emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dialect {
    pub variant: Variant,
    /// The minor version of the Butane spec (all stable specs are 1.x.0).
    pub minor: u8,
    /// The Ignition spec emitted; its minor number also orders the shared "base" features.
    pub ignition: SpecVersion,
}

/// Every stable variant/version pair, with the Ignition spec Butane maps it to.
pub const DIALECTS: &[Dialect] = &[
    d(Variant::Fcos, 0, SpecVersion::V3_0),
    d(Variant::Fcos, 1, SpecVersion::V3_1),
    d(Variant::Fcos, 2, SpecVersion::V3_2),
    d(Variant::Fcos, 3, SpecVersion::V3_2),
    d(Variant::Fcos, 4, SpecVersion::V3_3),
    d(Variant::Fcos, 5, SpecVersion::V3_4),
    d(Variant::Fcos, 6, SpecVersion::V3_5),
    d(Variant::Fcos, 7, SpecVersion::V3_6),
    d(Variant::Flatcar, 0, SpecVersion::V3_3),
    d(Variant::Flatcar, 1, SpecVersion::V3_4),
    d(Variant::R4e, 0, SpecVersion::V3_3),
    d(Variant::R4e, 1, SpecVersion::V3_4),
    d(Variant::Fiot, 0, SpecVersion::V3_4),
];

const fn d(variant: Variant, minor: u8, ignition: SpecVersion) -> Dialect {
    Dialect {
        variant,
        minor,
        ignition,
    }
}

impl Dialect {
    /// The newest fcos spec, which the published JSON Schema describes.
    pub const FCOS_NEWEST: Dialect = d(Variant::Fcos, 7, SpecVersion::V3_6);

    /// The base feature level: the emitted Ignition spec's minor number.
    pub fn level(self) -> u8 {
        self.ignition.minor() as u8
    }

    pub fn is_fcos_at_least(self, minor: u8) -> bool {
        self.variant == Variant::Fcos && self.minor >= minor
    }

    pub fn version(self) -> String {
        format!("1.{}.0", self.minor)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.variant, self.version())
    }
}

/// Why `variant`/`version` do not name a supported dialect; the texts follow Butane's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    #[error("error parsing variant; must be specified")]
    NoVariant,
    #[error("error parsing version; must be a valid semver")]
    InvalidVersion,
    #[error("rhcos variant has been removed; use openshift variant instead")]
    Rhcos,
    #[error("the openshift variant (MachineConfig output) is not supported by flint")]
    Openshift,
    #[error(
        "No translator exists for variant {variant} with version {version}{hint}; flint knows {}",
        known()
    )]
    Unknown {
        variant: String,
        version: String,
        hint: &'static str,
    },
}

/// The variant/version pairs flint translates, as `fcos 1.0.0-1.7.0, flatcar 1.0.0-1.1.0, …`.
pub fn known() -> String {
    let mut out: Vec<String> = Vec::new();
    for variant in [Variant::Fcos, Variant::Flatcar, Variant::R4e, Variant::Fiot] {
        let minors: Vec<u8> = DIALECTS
            .iter()
            .filter(|d| d.variant == variant)
            .map(|d| d.minor)
            .collect();
        match (minors.first(), minors.last()) {
            (Some(a), Some(b)) if a == b => out.push(format!("{variant} 1.{a}.0")),
            (Some(a), Some(b)) => out.push(format!("{variant} 1.{a}.0-1.{b}.0")),
            _ => {}
        }
    }
    out.join(", ")
}

/// Looks up the dialect for the `variant` and `version` fields of a config.
pub fn lookup(variant: &str, version: &str) -> Result<Dialect, DialectError> {
    if variant.is_empty() {
        return Err(DialectError::NoVariant);
    }
    let (core, pre) = parse_semver(version).ok_or(DialectError::InvalidVersion)?;
    match variant {
        "rhcos" => return Err(DialectError::Rhcos),
        "openshift" => return Err(DialectError::Openshift),
        _ => {}
    }
    let unknown = |hint| DialectError::Unknown {
        variant: variant.to_owned(),
        version: version.to_owned(),
        hint,
    };
    if pre.is_some() {
        return Err(unknown(
            "; experimental specs are not supported by flint, use a stable version",
        ));
    }
    let (major, minor, patch) = core;
    DIALECTS
        .iter()
        .copied()
        .find(|d| {
            d.variant.as_str() == variant && major == 1 && patch == 0 && u64::from(d.minor) == minor
        })
        .ok_or_else(|| unknown(""))
}

/// `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, as go-semver accepts it.
type Semver<'a> = ((u64, u64, u64), Option<&'a str>);

fn parse_semver(text: &str) -> Option<Semver<'_>> {
    let text = text.split_once('+').map_or(text, |(v, _)| v);
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (text, None),
    };
    let mut parts = core.split('.');
    let mut next = || -> Option<u64> {
        let p = parts.next()?;
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        p.parse().ok()
    };
    let v = (next()?, next()?, next()?);
    if parts.next().is_some() || pre.is_some_and(str::is_empty) {
        return None;
    }
    Some((v, pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcos_versions_map_as_butane_maps_them() {
        let map = |v: &str| lookup("fcos", v).map(|d| d.ignition.as_str());
        assert_eq!(map("1.0.0"), Ok("3.0.0"));
        assert_eq!(map("1.1.0"), Ok("3.1.0"));
        assert_eq!(map("1.2.0"), Ok("3.2.0"));
        assert_eq!(map("1.3.0"), Ok("3.2.0"));
        assert_eq!(map("1.4.0"), Ok("3.3.0"));
        assert_eq!(map("1.5.0"), Ok("3.4.0"));
        assert_eq!(map("1.6.0"), Ok("3.5.0"));
        assert_eq!(map("1.7.0"), Ok("3.6.0"));
        assert_eq!(
            lookup("flatcar", "1.1.0").map(|d| d.ignition.as_str()),
            Ok("3.4.0")
        );
        assert_eq!(
            lookup("r4e", "1.0.0").map(|d| d.ignition.as_str()),
            Ok("3.3.0")
        );
        assert_eq!(
            lookup("fiot", "1.0.0").map(|d| d.ignition.as_str()),
            Ok("3.4.0")
        );
    }

    #[test]
    fn bad_variants_and_versions_are_explained() {
        assert_eq!(lookup("", "1.0.0"), Err(DialectError::NoVariant));
        assert_eq!(lookup("fcos", "1.0"), Err(DialectError::InvalidVersion));
        assert!(matches!(
            lookup("fcos", "1.9.0"),
            Err(DialectError::Unknown { .. })
        ));
        assert!(matches!(
            lookup("fcos", "1.8.0-experimental"),
            Err(DialectError::Unknown { .. })
        ));
        assert!(matches!(
            lookup("fiot", "1.1.0"),
            Err(DialectError::Unknown { .. })
        ));
    }
}
