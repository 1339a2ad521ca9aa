//! Real Butane configs validate against the published JSON Schema of the dialect, so an
//! editor using it flags nothing in a valid config, and does flag mistakes.

use std::path::{Path, PathBuf};

use flint::variant::Dialect;

fn validator() -> jsonschema::Validator {
    let schema = flint::schema::json_schema(Dialect::FCOS_NEWEST);
    jsonschema::validator_for(&schema).expect("the generated schema compiles")
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    flint::yaml::parse(text).expect("valid YAML").to_json()
}

fn fcos_corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compat/butane/cases");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping the Butane corpus: {} is absent", dir.display());
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bu"))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.trim() == "variant: fcos"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn fcos_corpus_matches_the_schema() {
    let v = validator();
    let mut failures = Vec::new();
    let files = fcos_corpus();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let doc = yaml_to_json(&text);
        for err in v.iter_errors(&doc) {
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
        "{} of {} configs fail the schema:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn schema_flags_unknown_keys_and_wrong_types() {
    let v = validator();
    let ok = yaml_to_json("variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n    - path: /a\n      mode: 0644\n      contents:\n        inline: hi\n");
    assert!(v.is_valid(&ok));
    let typo = yaml_to_json("variant: fcos\nversion: 1.7.0\nstorage:\n  filez: []\n");
    assert!(!v.is_valid(&typo));
    let wrong = yaml_to_json(
        "variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n    - path: /a\n      mode: rw\n",
    );
    assert!(!v.is_valid(&wrong));
    let variant = yaml_to_json("variant: flatcar\nversion: 1.7.0\n");
    assert!(!v.is_valid(&variant));
}
