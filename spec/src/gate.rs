//! Fields that a spec version does not have. Ignition's decoder for that version ignores
//! them (with an "unused key" warning), so we set them aside the same way before reading the
//! shared 3.6.0 model.

use serde_json::Value;

use crate::path::JsonPath;
use crate::report::Report;
use crate::version::SpecVersion;

/// Each entry: the first version that has the field, and the field's path pattern, where `*`
/// stands for any list index.
const ADDED: &[(SpecVersion, &str)] = &[];

pub(crate) fn set_aside_newer_fields(version: SpecVersion, doc: &mut Value, report: &mut Report) {
    for (since, pattern) in ADDED {
        if version >= *since {
            continue;
        }
        let parts: Vec<&str> = pattern.split('.').collect();
        remove(doc, &parts, JsonPath::root(), report);
    }
}

fn remove(node: &mut Value, parts: &[&str], at: JsonPath, report: &mut Report) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    match (*first, node) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                remove(item, rest, at.index(i), report);
            }
        }
        (key, Value::Object(map)) if rest.is_empty() => {
            let removed = map.remove(key).is_some();
            if removed {
                report.warning(
                    at.key(key),
                    format!("unused key {key}: this field needs a newer spec version; raise ignition.version"),
                );
            }
        }
        (key, Value::Object(map)) => {
            if let Some(child) = map.get_mut(key) {
                remove(child, rest, at.key(key), report);
            }
        }
        _ => {}
    }
}
