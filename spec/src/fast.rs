//! The fast path for clean configs: read the typed model straight from the text, without
//! building a JSON tree first.
//!
//! A JSON tree of a config takes about six times the config's size in memory (a 2 MB config
//! with 10,000 files needs 12 MB), and in the initramfs memory is scarce. Most configs are
//! clean, so one streaming pass over the text checks everything the tree is needed for:
//! duplicate keys, lists where objects belong, fields newer than the config's version. When
//! the pass finds nothing, the typed model is read from the text directly. When it finds
//! anything, or the typed read fails or leaves a key unused, [`try_parse`] gives up and the
//! caller takes the slow path, which reports exactly what is wrong. So the fast path changes
//! how fast a config is read, never what is reported about it.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::source::MAX_CONFIG_BYTES;
use crate::types::Config;
use crate::version::{self, SpecVersion};

/// The typed config and its version, when the config is clean; `None` sends the caller to the
/// slow path.
pub(crate) fn try_parse(input: &[u8]) -> Option<(Config, SpecVersion)> {
    if input.len() > MAX_CONFIG_BYTES {
        return None;
    }
    let text = std::str::from_utf8(input).ok()?;
    let mut scan = Scan::default();
    let mut de = serde_json::Deserializer::from_str(text);
    Node { scan: &mut scan }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    if scan.off || !scan.root_is_object {
        return None;
    }
    let head = serde_json::json!({ "ignition": { "version": scan.version.take()? } });
    let version = version::detect(&head).ok()?;
    if scan.newest_added.is_some_and(|since| since > version) {
        return None;
    }
    let mut unused = false;
    let config = config_from_text(text, &mut |_| unused = true).ok()?;
    (!unused).then_some((config, version))
}

/// Reads the typed model from JSON text, telling `on_unused` of every key it does not use.
///
/// Every reader of JSON text into a [`Config`] (this fast path, merges, the engine's run
/// directory) goes through here, with the callback behind `dyn`, so that the model's
/// deserializer is compiled once for text rather than once per caller: each instance is some
/// hundreds of kilobytes of engine that the initramfs carries.
pub(crate) fn config_from_text(
    text: &str,
    mut on_unused: &mut dyn FnMut(serde_ignored::Path<'_>),
) -> Result<Config, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let config = Config::deserialize(serde_ignored::Deserializer::new(&mut de, &mut on_unused))?;
    de.end()?;
    Ok(config)
}

/// What the streaming pass found.
#[derive(Default)]
struct Scan {
    /// The key path of the current value, list indexes left out (`storage.files.path`).
    key_path: String,
    /// Something the slow path must report: a duplicate key, or a list where an object belongs.
    off: bool,
    root_is_object: bool,
    /// `ignition.version`, as found.
    version: Option<Value>,
    /// The newest spec version that added a field the config uses.
    newest_added: Option<SpecVersion>,
    /// The current value is an item of a list whose items must be objects.
    in_object_list: bool,
    depth: usize,
}

impl Scan {
    fn enter_key(&mut self, key: &str) -> usize {
        let len = self.key_path.len();
        if !self.key_path.is_empty() {
            self.key_path.push('.');
        }
        self.key_path.push_str(key);
        if let Some(since) = crate::gate::added_since(&self.key_path) {
            self.newest_added = self.newest_added.max(Some(since));
        }
        len
    }
}

/// One JSON value at the scan's current key path.
struct Node<'a> {
    scan: &'a mut Scan,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(|| Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(|| Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(|| Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(|| Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(|| Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar(|| Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let scan = self.scan;
        // A list where the model wants an object (a key's value, or a list's item): the slow
        // path reports it.
        if scan.in_object_list || (scan.depth > 0 && crate::shape::is_object_path(&scan.key_path)) {
            scan.off = true;
        }
        let outer = scan.in_object_list;
        scan.in_object_list = crate::shape::is_object_path(&format!("{}[]", scan.key_path));
        scan.depth += 1;
        while seq.next_element_seed(Node { scan: &mut *scan })?.is_some() {}
        scan.depth -= 1;
        scan.in_object_list = outer;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let scan = self.scan;
        if scan.depth == 0 {
            scan.root_is_object = true;
        }
        let outer = scan.in_object_list;
        scan.in_object_list = false;
        scan.depth += 1;
        // Hashes of the keys seen in this object; a collision only costs the slow path. A set,
        // not a list: an object with 100k keys made the list's search quadratic (issue 15).
        let mut seen: HashSet<u64> = HashSet::new();
        while let Some(len) = map.next_key_seed(Key { scan: &mut *scan })? {
            let mut h = DefaultHasher::new();
            scan.key_path[len..].hash(&mut h);
            let hash = h.finish();
            if !seen.insert(hash) {
                scan.off = true;
            }
            map.next_value_seed(Node { scan: &mut *scan })?;
            scan.key_path.truncate(len);
        }
        scan.depth -= 1;
        scan.in_object_list = outer;
        Ok(())
    }
}

impl Node<'_> {
    fn scalar<E>(self, value: impl FnOnce() -> Value) -> Result<(), E> {
        // Only the root object's ignition.version (root at depth 1, `ignition` at 2).
        if self.scan.depth != 2 || self.scan.key_path != "ignition.version" {
            return Ok(());
        }
        self.scan.version = Some(value());
        Ok(())
    }
}

/// An object key: appended to the key path; returns the path's length before it.
struct Key<'a> {
    scan: &'a mut Scan,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<usize, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        Ok(self.scan.enter_key(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(text: &str) -> bool {
        try_parse(text.as_bytes()).is_some()
    }

    #[test]
    fn clean_configs_take_the_fast_path_and_read_the_same_model() {
        let text = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","contents":{"source":"data:,x"},"mode":420}],"luks":[{"name":"d","device":"/dev/vdb","discard":true}]},"systemd":{"units":[{"name":"a.service","enabled":true}]}}"#;
        let (config, version) = try_parse(text.as_bytes()).expect("fast");
        assert_eq!(version, SpecVersion::V3_4);
        let slow = crate::parse(text.as_bytes(), crate::Options::default()).expect("valid");
        assert_eq!(crate::translate::to_newest(version, config), slow.config);
    }

    #[test]
    fn anything_the_slow_path_must_report_leaves_the_fast_path() {
        // duplicate keys, at the top and deep down
        assert!(!fast(
            r#"{"ignition":{"version":"3.4.0"},"ignition":{"version":"3.4.0"}}"#
        ));
        assert!(!fast(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","path":"/b"}]}}"#
        ));
        // lists where objects belong
        assert!(!fast(r#"{"ignition":{"version":"3.4.0"},"storage":[]}"#));
        assert!(!fast(
            r#"{"ignition":{"version":"3.4.0"},"passwd":{"users":[[]]}}"#
        ));
        // a field newer than the config's version
        assert!(!fast(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","cex":{"enabled":true}}]}}"#
        ));
        // unused keys, type errors, bad versions, not an object, not JSON
        assert!(!fast(r#"{"ignition":{"version":"3.4.0"},"storge":{}}"#));
        assert!(!fast(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":5}]}}"#
        ));
        assert!(!fast(r#"{"ignition":{"version":"2.2.0"}}"#));
        assert!(!fast(r#"{"ignition":{"version":3}}"#));
        assert!(!fast(r#"{"ignition":{}}"#));
        assert!(!fast(r#"[]"#));
        assert!(!fast(r#"{"ignition":{"version":"3.4.0"}} x"#));
        // a version key elsewhere is not the config's version
        assert!(!fast(r#"{"storage":{"ignition":{"version":"3.4.0"}}}"#));
    }

    #[test]
    fn fields_of_the_configs_own_version_stay_on_the_fast_path() {
        assert!(fast(
            r#"{"ignition":{"version":"3.5.0"},"storage":{"luks":[{"name":"d","device":"/dev/vdb","cex":{"enabled":true}}]}}"#
        ));
    }
}
