//! Real configs validate against the generated JSON Schema, so editors using it do not flag
//! valid configs.

use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    let shared = root.join("../shared/compat/butane/cases");
    let dirs = [
        root.join("tests/fixtures/positive"),
        root.join("examples"),
        shared.clone(),
    ];
    if !shared.is_dir() {
        eprintln!("skipping the Butane corpus: {} is absent", shared.display());
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let ext = path.extension().and_then(|e| e.to_str());
            if matches!(ext, Some("ign" | "json")) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn corpus_matches_the_schema() {
    let schema = kindling_spec::schema::config_schema();
    let validator = jsonschema::validator_for(&schema).expect("the generated schema compiles");
    let files = corpus();
    assert!(!files.is_empty(), "no corpus found");
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable corpus file");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("corpus file is JSON");
        for err in validator.iter_errors(&doc) {
            failures.push(format!(
                "{}: {} at {}",
                path.display(),
                err,
                err.instance_path()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files fail the schema:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn schema_rejects_wrong_types() {
    let schema = kindling_spec::schema::config_schema();
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let bad = serde_json::json!({"ignition": {"version": "3.6.0"}, "storage": {"files": [{"path": "/a", "mode": "0644"}]}});
    assert!(!validator.is_valid(&bad));
}
