//! Real Butane configs validate against the published JSON Schema of the dialect, so an
//! editor using it flags nothing in a valid config, and does flag mistakes.

mod support;

use std::path::{Path, PathBuf};

use flint::variant::Dialect;
use support::reference::{cases_in, note, own_cases_dir, shared_corpus};

fn validator() -> jsonschema::Validator {
    let schema = flint::schema::json_schema(Dialect::FCOS_NEWEST);
    jsonschema::validator_for(&schema).expect("the generated schema compiles")
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    flint::yaml::parse(text).expect("valid YAML").to_json()
}

fn is_fcos(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.trim() == "variant: fcos"))
}

/// The fcos configs to check: the repository's own reference cases that Butane translated
/// without a warning (the others carry unknown keys or wrong values on purpose), and the
/// shared corpus where it is present.
fn fcos_corpus() -> Vec<PathBuf> {
    let own: Vec<PathBuf> = cases_in(&own_cases_dir())
        .into_iter()
        .filter(|p| is_fcos(p))
        .filter(|p| !p.with_extension("warnings").exists() && !p.with_extension("errors").exists())
        .collect();
    assert!(own.len() >= 15, "only {} own fcos cases", own.len());
    let mut files = own;
    if let Some(shared) = shared_corpus("fcos_corpus_matches_the_schema") {
        files.extend(
            cases_in(&shared.join("cases"))
                .into_iter()
                .filter(|p| is_fcos(p)),
        );
    }
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
    note(&format!(
        "fcos_corpus_matches_the_schema: {} fcos configs checked",
        files.len()
    ));
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
