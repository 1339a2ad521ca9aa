//! The JSON Schema of the YAML dialect under docs/ is generated from the field table. This
//! test fails when it is stale; `KINDLING_UPDATE_GENERATED=1 cargo test -p flint --test
//! generated` rewrites it.

use std::path::PathBuf;

use flint::variant::Dialect;

#[test]
fn butane_schema_is_current() {
    let relative = "docs/schema/butane-fcos-1.7.0.json";
    let fresh = flint::schema::json_schema_text(Dialect::FCOS_NEWEST);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    if std::env::var_os("KINDLING_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, &fresh).expect("write generated file");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "{relative} is stale: run `KINDLING_UPDATE_GENERATED=1 cargo test -p flint --test generated` and commit the result"
    );
}
