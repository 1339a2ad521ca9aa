//! Ignition's merge semantics, used for `ignition.config.merge` and for base configs.
//!
//! The child wins field by field; fields the child leaves unset keep the parent's value.
//! Lists come in three kinds: append lists (concatenated), keyed lists (entries with the same
//! key merge in place, new child entries follow), and keyed lists that share one namespace
//! (files, directories and links by path; kernel arguments that must and must not exist),
//! where a child entry in one list removes the parent's entry from the others.
//!
//! The merge works on the JSON form of two 3.6.0 configs, so each rule is stated once, in
//! the table below, rather than once per type.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::types::Config;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("merged config does not fit the config model: {0}")]
    Model(#[from] serde_json::Error),
}

/// Merges `child` over `parent`.
pub fn merge(parent: &Config, child: &Config) -> Result<Config, MergeError> {
    let parent = serde_json::to_value(parent)?;
    let child = serde_json::to_value(child)?;
    let merged = merge_values(&parent, &child, &mut Vec::new());
    // Through text rather than `from_value`: see `Config::from_json`.
    Ok(Config::from_json(&merged.to_string())?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    /// Concatenated; duplicates are kept.
    Append,
    /// Keyed by the item itself (lists of strings).
    Value,
    /// Keyed by one field of each item.
    Field(&'static str),
    /// Keyed by number, else by label.
    Partition,
    /// Keyed by name; a child header without a value deletes the parent's header.
    Header,
}

/// Lists by their path of keys (list indexes left out), with the namespace they share, if any.
fn list_kind(path: &[&str]) -> (ListKind, Option<&'static str>) {
    use ListKind::*;
    let joined = path.join(".");
    match joined.as_str() {
        "storage.files" | "storage.directories" | "storage.links" => (Field("path"), Some("node")),
        "kernelArguments.shouldExist" | "kernelArguments.shouldNotExist" => (Value, Some("karg")),
        "ignition.config.merge" | "ignition.security.tls.certificateAuthorities" => {
            (Field("source"), None)
        }
        "storage.disks" | "storage.filesystems" => (Field("device"), None),
        "storage.disks.partitions" => (Partition, None),
        "storage.raid"
        | "storage.luks"
        | "systemd.units"
        | "systemd.units.dropins"
        | "passwd.users"
        | "passwd.groups" => (Field("name"), None),
        "storage.luks.clevis.tang" => (Field("url"), None),
        "storage.files.append"
        | "storage.filesystems.options"
        | "storage.filesystems.mountOptions"
        | "storage.luks.options"
        | "storage.raid.options" => (Append, None),
        _ if path.last() == Some(&"httpHeaders") => (Header, None),
        // sshAuthorizedKeys, user groups, RAID devices, noProxy, LUKS open options.
        _ => (Value, None),
    }
}

fn key_of(kind: ListKind, item: &Value) -> String {
    let field = |name: &str| match item.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    match kind {
        ListKind::Value | ListKind::Append => match item {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        ListKind::Field(name) => field(name),
        ListKind::Header => field("name"),
        ListKind::Partition => match item.get("number").and_then(Value::as_i64).unwrap_or(0) {
            0 => match item.get("label") {
                Some(Value::String(l)) => format!("label:{l}"),
                _ => String::new(),
            },
            n => format!("number:{n}"),
        },
    }
}

fn merge_values(parent: &Value, child: &Value, path: &mut Vec<String>) -> Value {
    match (parent, child) {
        (_, Value::Null) => parent.clone(),
        (Value::Object(p), Value::Object(c)) => Value::Object(merge_objects(p, c, path)),
        _ => child.clone(),
    }
}

fn merge_objects(
    parent: &Map<String, Value>,
    child: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Map<String, Value> {
    // For shared namespaces: which child list holds each key.
    let mut child_owner: HashMap<(&'static str, String), &str> = HashMap::new();
    for (name, value) in child {
        if let Value::Array(items) = value {
            if let (kind, Some(ns)) = kind_at(path, name) {
                for item in items {
                    child_owner.insert((ns, key_of(kind, item)), name.as_str());
                }
            }
        }
    }

    let mut out = Map::new();
    for (name, p) in parent {
        let merged = match (p, child.get(name)) {
            (Value::Array(p_items), Some(Value::Array(c_items))) => {
                Value::Array(merge_lists(path, name, p_items, c_items, &child_owner))
            }
            (Value::Array(p_items), None | Some(Value::Null)) if !child_owner.is_empty() => {
                Value::Array(merge_lists(path, name, p_items, &[], &child_owner))
            }
            (_, Some(c)) => {
                path.push(name.clone());
                let v = merge_values(p, c, path);
                path.pop();
                v
            }
            (_, None) => p.clone(),
        };
        if !is_empty(&merged) {
            out.insert(name.clone(), merged);
        }
    }
    for (name, c) in child {
        if !parent.contains_key(name) && !c.is_null() && !is_empty(c) {
            out.insert(name.clone(), c.clone());
        }
    }
    out
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.is_empty())
}

fn kind_at(path: &[String], name: &str) -> (ListKind, Option<&'static str>) {
    let mut keys: Vec<&str> = path.iter().map(String::as_str).collect();
    keys.push(name);
    list_kind(&keys)
}

fn merge_lists(
    path: &mut Vec<String>,
    name: &str,
    parent: &[Value],
    child: &[Value],
    child_owner: &HashMap<(&'static str, String), &str>,
) -> Vec<Value> {
    let (kind, namespace) = kind_at(path, name);
    if kind == ListKind::Append {
        return parent.iter().chain(child).cloned().collect();
    }
    let mut child_by_key: HashMap<String, &Value> = HashMap::new();
    for item in child {
        child_by_key.insert(key_of(kind, item), item);
    }
    let mut out = Vec::with_capacity(parent.len() + child.len());
    let mut parent_keys = HashSet::new();
    path.push(name.to_owned());
    for item in parent {
        let key = key_of(kind, item);
        let moved_elsewhere = namespace.is_some_and(|ns| {
            child_owner
                .get(&(ns, key.clone()))
                .is_some_and(|owner| *owner != name)
        });
        match child_by_key.get(&key) {
            _ if moved_elsewhere => {}
            Some(c) if kind == ListKind::Header && c.get("value").is_none_or(Value::is_null) => {}
            Some(c) => out.push(merge_values(item, c, path)),
            None => out.push(item.clone()),
        }
        parent_keys.insert(key);
    }
    path.pop();
    for item in child {
        if !parent_keys.contains(&key_of(kind, item)) {
            out.push(item.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(parent: Value, child: Value) -> Value {
        let parent: Config = serde_json::from_value(parent).expect("parent");
        let child: Config = serde_json::from_value(child).expect("child");
        let mut out = serde_json::to_value(merge(&parent, &child).expect("merge")).expect("json");
        // Configs without an ignition section serialize it as an empty version.
        if out["ignition"] == json!({"version": ""}) {
            out.as_object_mut().expect("object").remove("ignition");
        }
        out
    }

    fn files(v: Value) -> Value {
        json!({"storage": {"files": v}})
    }

    #[test]
    fn child_fields_win_and_unset_fields_are_inherited() {
        let out = m(
            files(json!([{"path": "/f", "overwrite": true, "mode": 420,
                "contents": {"source": "data:,x", "compression": "gzip"}}])),
            files(json!([{"path": "/f", "overwrite": false,
                "contents": {"source": "data:,y", "verification": {"hash": "sha512-00"}}}])),
        );
        assert_eq!(
            out["storage"]["files"],
            json!([{"path": "/f", "overwrite": false, "mode": 420,
                "contents": {"source": "data:,y", "compression": "gzip",
                    "verification": {"hash": "sha512-00"}}}])
        );
    }

    #[test]
    fn keyed_lists_keep_parent_order_then_append_new_child_entries() {
        let out = m(
            files(json!([{"path": "/a"}, {"path": "/b", "mode": 420}, {"path": "/c"}])),
            files(json!([{"path": "/d"}, {"path": "/b", "user": {"id": 1}}])),
        );
        assert_eq!(
            out["storage"]["files"],
            json!([{"path": "/a"}, {"path": "/b", "mode": 420, "user": {"id": 1}},
                {"path": "/c"}, {"path": "/d"}])
        );
    }

    #[test]
    fn chained_merges_apply_in_order() {
        let f = |items: &[(&str, i64)]| {
            files(Value::Array(
                items
                    .iter()
                    .map(|(p, mode)| json!({"path": p, "mode": mode}))
                    .collect(),
            ))
        };
        let first = m(f(&[("/p", 1)]), f(&[("/a", 2), ("/p", 3)]));
        let second = m(first, f(&[("/b", 4), ("/p", 5), ("/a", 6)]));
        assert_eq!(second, f(&[("/p", 5), ("/a", 6), ("/b", 4)]));
    }

    #[test]
    fn files_directories_and_links_share_one_namespace() {
        let out = m(
            json!({"storage": {"files": [{"path": "/bar", "mode": 420}], "links": [{"path": "/l", "target": "/t"}]}}),
            json!({"storage": {"directories": [{"path": "/bar"}], "files": [{"path": "/l"}]}}),
        );
        assert_eq!(
            out["storage"],
            json!({"files": [{"path": "/l"}], "directories": [{"path": "/bar"}]})
        );
    }

    #[test]
    fn kernel_arguments_move_between_exist_and_not_exist() {
        let out = m(
            json!({"kernelArguments": {"shouldExist": ["a", "b"], "shouldNotExist": ["z", "y"]}}),
            json!({"kernelArguments": {"shouldExist": ["z", "c", "a"], "shouldNotExist": ["b"]}}),
        );
        assert_eq!(
            out["kernelArguments"],
            json!({"shouldExist": ["a", "z", "c"], "shouldNotExist": ["y", "b"]})
        );
    }

    #[test]
    fn partitions_match_by_number_else_label() {
        let disk = |parts: Value| json!({"storage": {"disks": [{"device": "/dev/vda", "partitions": parts}]}});
        let out = m(
            disk(json!([{"number": 1, "label": "a", "sizeMiB": 10}, {"label": "x", "sizeMiB": 5}])),
            disk(
                json!([{"number": 1, "startMiB": 2}, {"label": "x", "sizeMiB": 7}, {"number": 2, "label": "a2"}]),
            ),
        );
        assert_eq!(
            out,
            disk(
                json!([{"number": 1, "label": "a", "sizeMiB": 10, "startMiB": 2},
                {"label": "x", "sizeMiB": 7}, {"number": 2, "label": "a2"}])
            )
        );
        let out = m(
            disk(json!([{"number": 3, "label": "p"}])),
            disk(json!([{"label": "p"}])),
        );
        assert_eq!(
            out,
            disk(json!([{"number": 3, "label": "p"}, {"label": "p"}]))
        );
    }

    #[test]
    fn append_lists_concatenate_with_duplicates() {
        let fs = |opts: Value| json!({"storage": {"filesystems": [{"device": "/dev/vdb", "format": "ext4", "options": opts}]}});
        assert_eq!(
            m(fs(json!(["-a", "-b"])), fs(json!(["-b"]))),
            fs(json!(["-a", "-b", "-b"]))
        );
        let app = |srcs: &[&str]| {
            files(
                json!([{"path": "/f", "append": srcs.iter().map(|s| json!({"source": s})).collect::<Vec<_>>()}]),
            )
        };
        assert_eq!(
            m(app(&["data:,1", "data:,2"]), app(&["data:,2", "data:,3"])),
            app(&["data:,1", "data:,2", "data:,2", "data:,3"])
        );
    }

    #[test]
    fn string_lists_deduplicate() {
        let user = |keys: Value| json!({"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": keys}]}});
        assert_eq!(
            m(user(json!(["one", "two"])), user(json!(["three", "two"]))),
            user(json!(["one", "two", "three"]))
        );
    }

    #[test]
    fn a_child_header_without_value_removes_the_parents() {
        let h = |headers: Value| json!({"ignition": {"version": "", "config": {"replace": {"source": "http://x/c", "httpHeaders": headers}}}});
        let out = m(
            h(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
            h(json!([{"name": "A"}, {"name": "B", "value": "3"}, {"name": "C"}])),
        );
        assert_eq!(out, h(json!([{"name": "B", "value": "3"}, {"name": "C"}])));
    }

    #[test]
    fn unset_sections_keep_the_parents() {
        let parent = json!({"ignition": {"version": "3.6.0", "timeouts": {"httpTotal": 5}},
            "systemd": {"units": [{"name": "a.service", "enabled": true}]}});
        let out = m(parent.clone(), json!({"ignition": {"version": "3.6.0"}}));
        assert_eq!(out, parent);
        let out = m(
            json!({"systemd": {"units": [{"name": "a.service", "enabled": true, "contents": "x"}]}}),
            json!({"systemd": {"units": [{"name": "a.service", "enabled": false}]}}),
        );
        assert_eq!(
            out["systemd"]["units"],
            json!([{"name": "a.service", "enabled": false, "contents": "x"}])
        );
    }
}
