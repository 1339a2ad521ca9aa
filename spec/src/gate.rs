//! Fields that a spec version does not have. Ignition's decoder for that version ignores
//! them (with an "unused key" warning), so we set them aside the same way before reading the
//! shared 3.6.0 model.

use serde_json::Value;

use crate::path::JsonPath;
use crate::report::Report;
use crate::version::SpecVersion;

/// Each entry: the first version that has the field, and the field's path pattern, where `*`
/// stands for any list index.
const ADDED: &[(SpecVersion, &str)] = &[
    // 3.1.0: proxies, mount options, and one resource type (with compression and headers)
    // for config references and CA bundles.
    (SpecVersion::V3_1, "ignition.proxy"),
    (SpecVersion::V3_1, "storage.filesystems.*.mountOptions"),
    (SpecVersion::V3_1, "ignition.config.merge.*.compression"),
    (SpecVersion::V3_1, "ignition.config.merge.*.httpHeaders"),
    (SpecVersion::V3_1, "ignition.config.replace.compression"),
    (SpecVersion::V3_1, "ignition.config.replace.httpHeaders"),
    (
        SpecVersion::V3_1,
        "ignition.security.tls.certificateAuthorities.*.compression",
    ),
    (
        SpecVersion::V3_1,
        "ignition.security.tls.certificateAuthorities.*.httpHeaders",
    ),
    (SpecVersion::V3_1, "storage.files.*.contents.httpHeaders"),
    (SpecVersion::V3_1, "storage.files.*.append.*.httpHeaders"),
    // 3.2.0: LUKS, partition resizing, user and group deletion.
    (SpecVersion::V3_2, "storage.luks"),
    (SpecVersion::V3_2, "storage.disks.*.partitions.*.resize"),
    (SpecVersion::V3_2, "passwd.users.*.shouldExist"),
    (SpecVersion::V3_2, "passwd.groups.*.shouldExist"),
    // 3.3.0: kernel arguments.
    (SpecVersion::V3_3, "kernelArguments"),
    // 3.4.0: LUKS discard and open options, offline Tang binding.
    (SpecVersion::V3_4, "storage.luks.*.discard"),
    (SpecVersion::V3_4, "storage.luks.*.openOptions"),
    (
        SpecVersion::V3_4,
        "storage.luks.*.clevis.tang.*.advertisement",
    ),
    // 3.5.0: IBM Crypto Express keys.
    (SpecVersion::V3_5, "storage.luks.*.cex"),
];

/// The version that added the field at `key_path` (list indexes left out, as
/// `storage.luks.cex`), if a version after 3.0.0 did. Called for every key of a config, so the
/// common case (a key no version added) is one table lookup.
pub(crate) fn added_since(key_path: &str) -> Option<SpecVersion> {
    static BY_PATH: std::sync::OnceLock<std::collections::HashMap<String, SpecVersion>> =
        std::sync::OnceLock::new();
    BY_PATH
        .get_or_init(|| {
            ADDED
                .iter()
                .map(|(since, pattern)| (pattern.replace(".*", ""), *since))
                .collect()
        })
        .get(key_path)
        .copied()
}

pub(crate) fn set_aside_newer_fields(version: SpecVersion, doc: &mut Value, report: &mut Report) {
    for (since, pattern) in ADDED {
        if version >= *since {
            continue;
        }
        let parts: Vec<&str> = pattern.split('.').collect();
        remove(doc, &parts, *since, JsonPath::root(), report);
    }
}

fn remove(node: &mut Value, parts: &[&str], since: SpecVersion, at: JsonPath, report: &mut Report) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    match (*first, node) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                remove(item, rest, since, at.index(i), report);
            }
        }
        (key, Value::Object(map)) if rest.is_empty() => {
            let removed = map.remove(key).is_some();
            if removed {
                report.key_warning(
                    at.key(key),
                    format!("unused key {key}: the field needs spec {since} or newer; raise ignition.version to use it"),
                );
            }
        }
        (key, Value::Object(map)) => {
            if let Some(child) = map.get_mut(key) {
                remove(child, rest, since, at.key(key), report);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn newer_fields_are_set_aside_with_a_warning() {
        let mut doc = json!({
            "ignition": {"version": "3.1.0"},
            "storage": {"luks": [{"name": "x"}], "disks": [{"device": "/dev/vda",
                "partitions": [{"number": 1, "resize": true}]}]},
            "kernelArguments": {"shouldExist": ["quiet"]}
        });
        let mut report = Report::new();
        set_aside_newer_fields(SpecVersion::V3_1, &mut doc, &mut report);
        let paths: Vec<String> = report.entries.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "$.storage.luks",
                "$.storage.disks.0.partitions.0.resize",
                "$.kernelArguments"
            ]
        );
        assert!(report.entries[0].message.contains("spec 3.2.0 or newer"));
        assert!(doc["storage"].get("luks").is_none());
        assert!(!report.is_fatal());
    }

    #[test]
    fn fields_of_the_config_version_are_kept() {
        let mut doc = json!({"ignition": {"version": "3.5.0"},
            "storage": {"luks": [{"name": "x", "cex": {"enabled": true}, "discard": true}]}});
        let before = doc.clone();
        let mut report = Report::new();
        set_aside_newer_fields(SpecVersion::V3_5, &mut doc, &mut report);
        assert!(report.is_empty());
        assert_eq!(doc, before);
    }
}
