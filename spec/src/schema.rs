//! The JSON Schema of the 3.6.0 config and the config reference page, both generated from the
//! types so that neither can drift from the code.

use std::fmt::Write;

use serde_json::Value;

/// The schema as pretty-printed JSON, as checked in under `docs/schema/`.
pub fn config_schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&config_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema as a JSON value.
pub fn config_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::types::Config)).unwrap_or_default()
}

/// The config reference in Markdown: every field, its type, and what it does.
pub fn reference_markdown() -> String {
    let schema = config_schema();
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    let mut out = String::from(
        "# Config reference (spec 3.6.0)\n\n\
         <!-- Generated from spec/src/types by `KINDLING_UPDATE_GENERATED=1 cargo test -p kindling-spec --test generated`. Do not edit. -->\n\n\
         Every field Kindling reads, as the 3.6.0 spec defines it. Configs of older versions \
         (3.0.0 to 3.5.0) have a subset of these fields. A field marked *list* holds a JSON list \
         of the kind shown. Integers are JSON numbers without a fraction.\n\n",
    );
    describe_properties(&schema, &defs, 0, &mut out);
    out
}

/// Follows a `$ref` into `$defs`.
pub(crate) fn resolve<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .rsplit('/')
            .next()
            .and_then(|name| defs.get(name))
            .unwrap_or(node),
        None => node,
    }
}

fn type_name(node: &Value, defs: &Value) -> String {
    let node = resolve(node, defs);
    let base = match node.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "object".to_owned(),
    };
    if base == "array" {
        let item = node
            .get("items")
            .map_or("value".to_owned(), |i| type_name(i, defs));
        return format!("list of {item}");
    }
    base
}

fn describe_properties(node: &Value, defs: &Value, depth: usize, out: &mut String) {
    let node = resolve(node, defs);
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let target = resolve(prop, defs);
        let description = prop
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ");
        let indent = "  ".repeat(depth);
        let _ = writeln!(
            out,
            "{indent}- **`{name}`** ({}): {description}",
            type_name(prop, defs)
        );
        let child = match target.get("items") {
            Some(items) => resolve(items, defs),
            None => target,
        };
        describe_properties(child, defs, depth + 1, out);
    }
}

/// The source of the object-path table the parser consults (generated, see `make generated`).
#[doc(hidden)]
pub fn object_paths_source() -> String {
    crate::shape::object_paths_source()
}

/// The fields valid in the object that holds the last key of `path` (the JSON path of an
/// unknown key), for "did you mean" hints; empty when the path leads nowhere in the schema.
pub fn fields_of_parent(path: &crate::path::JsonPath) -> Vec<String> {
    use crate::path::Segment;
    let schema = config_schema();
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    let segments = path.segments();
    let mut node = &schema;
    for segment in &segments[..segments.len().saturating_sub(1)] {
        let Some(here) = concrete(node, &defs) else {
            return Vec::new();
        };
        let next = match segment {
            Segment::Key(k) => here.get("properties").and_then(|p| p.get(k)),
            Segment::Index(_) => here.get("items"),
        };
        match next {
            Some(n) => node = n,
            None => return Vec::new(),
        }
    }
    concrete(node, &defs)
        .and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The node itself, or the alternative of an `anyOf`/`oneOf` (an optional field's `null`
/// aside) that has properties or items, with `$ref`s followed.
fn concrete<'a>(node: &'a Value, defs: &'a Value) -> Option<&'a Value> {
    let node = resolve(node, defs);
    if node.get("properties").is_some() || node.get("items").is_some() {
        return Some(node);
    }
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|alt| {
            let alt = resolve(alt, defs);
            (alt.get("properties").is_some() || alt.get("items").is_some()).then_some(alt)
        })
}
