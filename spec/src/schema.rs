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
