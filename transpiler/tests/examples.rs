//! The Butane examples in the repository (the demo's config among them) transpile under
//! `--strict` to configs Kindling accepts, so the demo cannot rot unnoticed.

use std::path::Path;
use std::process::Command;

#[test]
fn every_example_transpiles_strictly_to_a_valid_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("bu") {
            continue;
        }
        seen += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_flint"))
            .arg("--strict")
            .arg(&path)
            .output()
            .expect("running flint");
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed = kindling_spec::parse(&out.stdout, kindling_spec::Options { strict: true })
            .unwrap_or_else(|report| panic!("{}: {report}", path.display()));
        assert!(
            !parsed.config.storage.files.is_empty(),
            "{}: the example writes files",
            path.display()
        );
    }
    assert!(seen >= 1, "no .bu example in {}", dir.display());
}
