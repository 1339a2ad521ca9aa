//! The JSON Schema and the config reference under docs/ are generated from the types. This
//! test fails when they are stale; `KINDLING_UPDATE_GENERATED=1 cargo test -p kindling-spec
//! --test generated` rewrites them.

use std::path::PathBuf;

fn check(relative: &str, fresh: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    if std::env::var_os("KINDLING_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, fresh).expect("write generated file");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "{relative} is stale: run `KINDLING_UPDATE_GENERATED=1 cargo test -p kindling-spec --test generated` and commit the result"
    );
}

#[test]
fn config_schema_is_current() {
    check(
        "docs/schema/config-3.6.0.json",
        &kindling_spec::schema::config_schema_json(),
    );
}

#[test]
fn config_reference_is_current() {
    check(
        "docs/src/reference/config-3.6.0.md",
        &kindling_spec::schema::reference_markdown(),
    );
}

#[test]
fn object_paths_table_is_current() {
    check(
        "spec/src/shape/table.rs",
        &kindling_spec::schema::object_paths_source(),
    );
}
