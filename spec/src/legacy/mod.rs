//! Spec 1 and 2.x configs, which Flatcar still accepts: detection, reading, validation by their
//! own rules, and translation to the 3.x model the way Flatcar's Ignition translates them.
//!
//! Findings about the config as written carry its own JSON paths. The translated config is
//! then checked by spec 3.0.0's rules too, as Flatcar's Ignition does after translating, and
//! those findings are mapped back to the source's paths where they can be.

mod translate;
mod types;
mod url;
mod v1;
mod validate;

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::path::JsonPath;
use crate::report::Report;
use crate::types::Config;
use crate::version::SpecVersion;

/// A spec version from before 3.0.0 that Kindling translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LegacyVersion {
    /// `"ignitionVersion": 1`.
    V1,
    V2_0,
    V2_1,
    V2_2,
    V2_3,
}

impl LegacyVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            LegacyVersion::V1 => "1",
            LegacyVersion::V2_0 => "2.0.0",
            LegacyVersion::V2_1 => "2.1.0",
            LegacyVersion::V2_2 => "2.2.0",
            LegacyVersion::V2_3 => "2.3.0",
        }
    }
}

impl fmt::Display for LegacyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The version 3.x rules that a translated config is checked by: everything 2.x can say
/// exists in 3.0.0.
pub(crate) const TRANSLATED_AS: SpecVersion = SpecVersion::V3_0;

/// Recognises a spec 1 or 2.0.0–2.3.0 config. Anything else (3.x, or an unsupported version)
/// is left to the 3.x version check, which reports it.
pub(crate) fn detect(doc: &Value) -> Option<LegacyVersion> {
    match doc.get("ignition").and_then(|i| i.get("version")) {
        Some(Value::String(v)) => match v.as_str() {
            "2.0.0" => Some(LegacyVersion::V2_0),
            "2.1.0" => Some(LegacyVersion::V2_1),
            "2.2.0" => Some(LegacyVersion::V2_2),
            "2.3.0" => Some(LegacyVersion::V2_3),
            _ => None,
        },
        None | Some(Value::Null) => doc.get("ignitionVersion").map(|_| LegacyVersion::V1),
        Some(_) => None,
    }
}

/// Reads, validates and translates a spec 1 or 2.x config into the 3.x model (with
/// `ignition.version` left for the caller to set). `None` when the report has errors.
pub(crate) fn parse(version: LegacyVersion, mut doc: Value, report: &mut Report) -> Option<Config> {
    let mut unused = Report::new();
    let (v2config, origins) = if version == LegacyVersion::V1 {
        let old: v1::Config = deserialize(doc, report, &mut unused)?;
        v1::validate(&old, report);
        let (new, origins) = v1::to_v2(old);
        (new, origins)
    } else {
        gate(version, &mut doc, &mut unused);
        let config: types::Config = deserialize(doc, report, &mut unused)?;
        validate::validate(version, &config, report);
        let origins = translate::Origins::of_v2(&config);
        (config, origins)
    };
    if report.is_fatal() {
        report.merge(unused);
        return None;
    }
    let mut v2config = v2config;
    if version <= LegacyVersion::V2_1 {
        zero_modes(version, &mut v2config, &origins, report);
    }
    let (config, map) = translate::translate(v2config, &origins, report);
    // The translated config must be a valid 3.x config; say where in the source a problem
    // comes from.
    let mut checked = Report::new();
    crate::validate::validate_translated(TRANSLATED_AS, &config, &mut checked);
    for mut entry in checked.entries {
        let translated_path = entry.path.clone();
        entry.path = map.to_source(&translated_path);
        entry.message = format!(
            "{} (in the config translated to spec 3.x, at {translated_path})",
            entry.message
        );
        entry.on_key = false;
        report.entries.push(entry);
    }
    report.merge(unused);
    (!report.is_fatal()).then_some(config)
}

/// In spec 1, 2.0.0 and 2.1.0 a mode is a plain number, so a file or directory without one has
/// mode 0, and Flatcar's Ignition writes it with no permission bits at all. Kindling does the
/// same, and says so, since it is rarely what the author meant.
fn zero_modes(
    version: LegacyVersion,
    config: &mut types::Config,
    origins: &translate::Origins,
    report: &mut Report,
) {
    let files = config.storage.files.iter_mut().zip(&origins.files);
    for (file, at) in files.filter(|(f, _)| f.mode.is_none()) {
        file.mode = Some(0);
        report.warning(
            at.clone(),
            format!("file has no mode: in spec {version} that means mode 0, so it is written with no permissions (0000), as Flatcar does; set mode (420 for 0644)"),
        );
    }
    let dirs = config.storage.directories.iter_mut().enumerate();
    for (i, dir) in dirs.filter(|(_, d)| d.mode.is_none()) {
        dir.mode = Some(0);
        report.warning(
            crate::jp!("storage", "directories", i),
            format!("directory has no mode: in spec {version} that means mode 0, so it is created with no permissions (0000), as Flatcar does; set mode (493 for 0755)"),
        );
    }
}

/// Reads a typed model from the tree, reporting every key it does not use.
fn deserialize<T: DeserializeOwned>(
    doc: Value,
    report: &mut Report,
    unused_keys: &mut Report,
) -> Option<T> {
    let mut unused = Vec::new();
    let mut on_unused = |path: serde_ignored::Path<'_>| unused.push(crate::ignored_path(&path));
    let ignored = serde_ignored::Deserializer::new(doc, &mut on_unused);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(ignored, &mut track);
    let result = T::deserialize(tracked);
    for path in unused {
        let key = path.last_key().unwrap_or("?").to_owned();
        unused_keys.key_warning(
            path,
            format!("unused key {key}: remove it or check its spelling"),
        );
    }
    match result {
        Ok(config) => Some(config),
        Err(err) => {
            let path = JsonPath::from(&track.path());
            report.error(path, crate::type_error_message(&err.to_string()));
            None
        }
    }
}

/// Fields that 2.x versions after 2.0.0 added, with the version that added them. A config
/// of an older version that uses one gets a warning, and the field is ignored, as Ignition
/// ignored fields its version did not know.
const ADDED: &[(&str, LegacyVersion)] = &[
    ("ignition.timeouts", LegacyVersion::V2_1),
    ("ignition.security", LegacyVersion::V2_2),
    ("storage.directories", LegacyVersion::V2_1),
    ("storage.links", LegacyVersion::V2_1),
    ("storage.files.*.append", LegacyVersion::V2_1),
    ("storage.files.*.user.name", LegacyVersion::V2_1),
    ("storage.files.*.group.name", LegacyVersion::V2_1),
    ("storage.files.*.overwrite", LegacyVersion::V2_2),
    ("storage.directories.*.overwrite", LegacyVersion::V2_2),
    ("storage.links.*.overwrite", LegacyVersion::V2_2),
    ("storage.filesystems.*.mount.label", LegacyVersion::V2_1),
    ("storage.filesystems.*.mount.uuid", LegacyVersion::V2_1),
    (
        "storage.filesystems.*.mount.wipeFilesystem",
        LegacyVersion::V2_1,
    ),
    ("storage.filesystems.*.mount.options", LegacyVersion::V2_1),
    ("storage.disks.*.partitions.*.guid", LegacyVersion::V2_1),
    ("storage.disks.*.partitions.*.sizeMiB", LegacyVersion::V2_3),
    ("storage.disks.*.partitions.*.startMiB", LegacyVersion::V2_3),
    (
        "storage.disks.*.partitions.*.shouldExist",
        LegacyVersion::V2_3,
    ),
    (
        "storage.disks.*.partitions.*.wipePartitionEntry",
        LegacyVersion::V2_3,
    ),
    ("storage.raid.*.options", LegacyVersion::V2_2),
    ("systemd.units.*.enabled", LegacyVersion::V2_1),
    ("networkd.units.*.dropins", LegacyVersion::V2_2),
    ("passwd.users.*.uid", LegacyVersion::V2_1),
    ("passwd.users.*.gecos", LegacyVersion::V2_1),
    ("passwd.users.*.homeDir", LegacyVersion::V2_1),
    ("passwd.users.*.noCreateHome", LegacyVersion::V2_1),
    ("passwd.users.*.primaryGroup", LegacyVersion::V2_1),
    ("passwd.users.*.groups", LegacyVersion::V2_1),
    ("passwd.users.*.noUserGroup", LegacyVersion::V2_1),
    ("passwd.users.*.noLogInit", LegacyVersion::V2_1),
    ("passwd.users.*.shell", LegacyVersion::V2_1),
    ("passwd.users.*.system", LegacyVersion::V2_1),
];

fn gate(version: LegacyVersion, doc: &mut Value, unused: &mut Report) {
    for (pattern, since) in ADDED.iter().filter(|(_, since)| *since > version) {
        let parts: Vec<&str> = pattern.split('.').collect();
        remove(doc, &parts, JsonPath::root(), &mut |path| {
            let key = path.last_key().unwrap_or("?").to_owned();
            unused.key_warning(
                path,
                format!("unused key {key}: spec {version} has no such field (it was added in {since}); raise ignition.version or remove it"),
            );
        });
    }
}

fn remove(value: &mut Value, parts: &[&str], at: JsonPath, found: &mut dyn FnMut(JsonPath)) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if *first == "*" {
        if let Value::Array(items) = value {
            for (i, item) in items.iter_mut().enumerate() {
                remove(item, rest, at.index(i), found);
            }
        }
        return;
    }
    let Value::Object(map) = value else { return };
    if rest.is_empty() {
        if map.remove(*first).is_some() {
            found(at.key(first));
        }
    } else if let Some(child) = map.get_mut(*first) {
        remove(child, rest, at.key(first), found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::{assert_error, assert_warning, check};
    use serde_json::json;

    fn parsed(json: &str) -> crate::Parsed {
        crate::parse(json.as_bytes(), crate::Options::default())
            .unwrap_or_else(|r| panic!("{json}: {r}"))
    }

    #[test]
    fn versions_are_detected_by_their_own_key() {
        for (v, want) in [
            ("2.0.0", LegacyVersion::V2_0),
            ("2.1.0", LegacyVersion::V2_1),
            ("2.2.0", LegacyVersion::V2_2),
            ("2.3.0", LegacyVersion::V2_3),
        ] {
            assert_eq!(detect(&json!({"ignition": {"version": v}})), Some(want));
        }
        assert_eq!(
            detect(&json!({"ignitionVersion": 1})),
            Some(LegacyVersion::V1)
        );
        // ignition.version decides when both are there, and other versions are not ours.
        assert_eq!(
            detect(&json!({"ignitionVersion": 1, "ignition": {"version": "3.0.0"}})),
            None
        );
        for other in ["2.4.0", "2.3.1", "3.0.0", "1.0.0"] {
            assert_eq!(
                detect(&json!({"ignition": {"version": other}})),
                None,
                "{other}"
            );
        }
    }

    #[test]
    fn oem_urls_are_accepted_in_2x_configs_only() {
        let p = parsed(
            r#"{"ignition": {"version": "2.3.0", "config": {"append": [{"source": "oem:///a.ign"}]}},
                "storage": {"files": [{"filesystem": "root", "path": "/x", "contents": {"source": "OEM:///x"}}]}}"#,
        );
        assert_eq!(
            p.config.storage.files[0].contents.source.as_deref(),
            Some("OEM:///x")
        );
        assert_eq!(
            p.config.ignition.config.merge[0].source.as_deref(),
            Some("oem:///a.ign")
        );
        assert_error(
            r#"{"ignition": {"version": "3.0.0"}, "storage": {"files": [{"path": "/x", "contents": {"source": "oem:///x"}}]}}"#,
            "$.storage.files.0.contents.source",
            "invalid url scheme oem: oem:// (Flatcar's OEM partition) is read only in spec 1 and 2.x configs",
        );
    }

    #[test]
    fn parse_says_which_version_was_translated() {
        let p = parsed(r#"{"ignition": {"version": "2.2.0"}}"#);
        assert_eq!(p.legacy, Some(LegacyVersion::V2_2));
        assert_eq!(p.version, SpecVersion::V3_0);
        assert_eq!(p.config.ignition.version, "3.6.0");
        let p = parsed(r#"{"ignitionVersion": 1}"#);
        assert_eq!(p.legacy, Some(LegacyVersion::V1));
        let p = parsed(r#"{"ignition": {"version": "3.1.0"}}"#);
        assert_eq!(p.legacy, None);
    }

    #[test]
    fn fields_newer_than_the_version_are_warned_about_and_ignored() {
        let cfg = r#"{"ignition": {"version": "2.1.0"}, "storage": {"files": [
            {"filesystem": "root", "path": "/a", "overwrite": false}]}}"#;
        assert_warning(
            cfg,
            "$.storage.files.0.overwrite",
            "unused key overwrite: spec 2.1.0 has no such field (it was added in 2.2.0)",
        );
        assert_eq!(parsed(cfg).config.storage.files[0].overwrite, Some(true));
        // The same field is read in the version that has it.
        let cfg = cfg.replace("2.1.0", "2.2.0");
        assert_eq!(parsed(&cfg).config.storage.files[0].overwrite, Some(false));
    }

    #[test]
    fn unknown_keys_are_warnings_and_strict_mode_refuses_them() {
        let cfg = r#"{"ignition": {"version": "2.3.0"}, "storage": {"filez": []}}"#;
        assert_warning(cfg, "$.storage.filez", "unused key filez");
        let strict = crate::parse(cfg.as_bytes(), crate::Options { strict: true });
        assert!(strict.is_err());
    }

    #[test]
    fn findings_carry_line_and_column() {
        let cfg = "{\"ignition\": {\"version\": \"2.3.0\"},\n \"storage\": {\"files\": [\n  {\"filesystem\": \"nope\", \"path\": \"/a\"}]}}";
        let report = crate::parse(cfg.as_bytes(), crate::Options::default()).unwrap_err();
        let entry = &report.entries[0];
        assert_eq!(entry.path.to_string(), "$.storage.files.0.filesystem");
        assert_eq!(entry.position.map(|p| p.line), Some(3));
    }

    #[test]
    fn findings_in_the_translated_config_point_back_at_the_source() {
        // Two entries that become the same 3.x path: 3.x's duplicate rule finds it.
        let cfg = r#"{"ignition": {"version": "2.3.0"}, "storage": {
            "filesystems": [{"name": "var", "path": "/var"}],
            "files": [
              {"filesystem": "root", "path": "/var/x", "contents": {"source": "data:,a"}},
              {"filesystem": "var", "path": "/x", "append": true, "contents": {"source": "data:,b"}}]}}"#;
        let lines = check(cfg);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("E $.storage.files.1: duplicate entry")
                    && l.contains("translated to spec 3.x, at $.storage.files.1")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_missing_mode_is_mode_0_before_2_2() {
        let cfg = r#"{"ignition": {"version": "2.1.0"}, "storage": {
            "files": [{"filesystem": "root", "path": "/a"}, {"filesystem": "root", "path": "/b", "mode": 420}],
            "directories": [{"filesystem": "root", "path": "/d"}]}}"#;
        let p = parsed(cfg);
        assert_eq!(p.config.storage.files[0].mode, Some(0));
        assert_eq!(p.config.storage.files[1].mode, Some(0o644));
        assert_eq!(p.config.storage.directories[0].mode, Some(0));
        assert_warning(
            cfg,
            "$.storage.files.0",
            "file has no mode: in spec 2.1.0 that means mode 0",
        );
        assert_warning(cfg, "$.storage.directories.0", "directory has no mode");
        // From 2.2.0 on a missing mode is the default (0644 for files, 0755 for directories).
        let p = parsed(&cfg.replace("2.1.0", "2.2.0"));
        assert_eq!(p.config.storage.files[0].mode, None);
        assert_eq!(p.config.storage.directories[0].mode, None);
        let v1 = r#"{"ignitionVersion": 1, "storage": {"filesystems": [
            {"device": "/dev/vdb", "format": "ext4", "files": [{"path": "/a", "contents": "x"}]}]}}"#;
        assert_warning(
            v1,
            "$.storage.filesystems.0.files.0",
            "file has no mode: in spec 1 that",
        );
    }

    #[test]
    fn spec_1_findings_use_spec_1_paths() {
        assert_error(
            r#"{"ignitionVersion": 1, "storage": {"filesystems": [
                {"device": "/dev/vdb", "format": "ext4", "files": [{"path": "/a", "mode": 70000}]}]}}"#,
            "$.storage.filesystems.0.files.0.mode",
            "illegal file mode",
        );
        assert_error(
            r#"{"ignitionVersion": 1, "storage": {"filesystems": [{"device": "vdb", "format": "ext4"}]}}"#,
            "$.storage.filesystems.0.device",
            "path not absolute",
        );
    }
}
