//! Objects where objects belong. serde's derived structs also accept a JSON list (read
//! positionally), which would let `"storage": []` through; Ignition rejects it, and so do we.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::path::{JsonPath, Segment};
use crate::report::Report;
use crate::schema::resolve;

/// Key paths (list indexes left out, as `storage.files.contents`) whose value is an object.
fn object_paths() -> &'static HashSet<String> {
    static PATHS: OnceLock<HashSet<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let schema = crate::schema::config_schema();
        let defs = schema.get("$defs").cloned().unwrap_or_default();
        let mut out = HashSet::new();
        collect(&schema, &defs, String::new(), &mut out, 0);
        out
    })
}

fn collect(node: &Value, defs: &Value, prefix: String, out: &mut HashSet<String>, depth: usize) {
    let node = resolve(node, defs);
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    if depth > 16 {
        return;
    }
    for (name, prop) in props {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let target = resolve(prop, defs);
        let item = target.get("items").map(|i| resolve(i, defs));
        if target.get("properties").is_some() {
            out.insert(path.clone());
            collect(target, defs, path, out, depth + 1);
        } else if let Some(item) = item.filter(|i| i.get("properties").is_some()) {
            // List items keep the list's key path.
            out.insert(format!("{path}[]"));
            collect(item, defs, path, out, depth + 1);
        }
    }
}

/// Whether the value at `key_path` (list indexes left out; `path[]` for a list's items) is an
/// object in the model.
pub(crate) fn is_object_path(key_path: &str) -> bool {
    object_paths().contains(key_path)
}

/// Reports the first list found where the model expects an object.
pub(crate) fn check(doc: &Value, report: &mut Report) -> bool {
    let mut key_path = String::new();
    walk(doc, &mut key_path, &mut JsonPath::root(), report)
}

fn walk(node: &Value, key_path: &mut String, at: &mut JsonPath, report: &mut Report) -> bool {
    let paths = object_paths();
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                if !(v.is_object() || v.is_array()) {
                    continue;
                }
                let len = key_path.len();
                if !key_path.is_empty() {
                    key_path.push('.');
                }
                key_path.push_str(k);
                at.push(Segment::Key(k.clone()));
                if v.is_array() && paths.contains(key_path.as_str()) {
                    report.error(
                        at.clone(),
                        format!("wrong type: expected an object, found a list; write {k} as {{…}}"),
                    );
                    return false;
                }
                if !walk(v, key_path, at, report) {
                    return false;
                }
                at.pop();
                key_path.truncate(len);
            }
            true
        }
        Value::Array(items) => {
            let item_is_object = paths.contains(&format!("{key_path}[]"));
            for (i, v) in items.iter().enumerate() {
                if v.is_array() && item_is_object {
                    report.error(at.index(i), "wrong type: expected an object, found a list");
                    return false;
                }
                if v.is_object() {
                    at.push(Segment::Index(i));
                    if !walk(v, key_path, at, report) {
                        return false;
                    }
                    at.pop();
                }
            }
            true
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    #[test]
    fn lists_in_place_of_objects_are_type_errors() {
        assert_error(
            r#"{"ignition":{"version":"3.0.0"},"storage":[]}"#,
            "$.storage",
            "wrong type: expected an object",
        );
        assert_error(
            r#"{"ignition":{"version":"3.0.0"},"passwd":{"users":[[]]}}"#,
            "$.passwd.users.0",
            "wrong type: expected an object",
        );
        assert_error(
            r#"{"ignition":{"version":"3.0.0"},"storage":{"files":[{"path":"/a","contents":["x"]}]}}"#,
            "$.storage.files.0.contents",
            "wrong type",
        );
    }
}
