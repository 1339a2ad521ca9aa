//! The JSON Schema of the 3.6.0 config, generated from the types.

/// The schema as pretty-printed JSON, as checked in under `docs/`.
pub fn config_schema_json() -> String {
    let schema = schemars::schema_for!(crate::types::Config);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
