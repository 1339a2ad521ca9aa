//! Equivalence with Butane v0.29.0: every reference case under `../shared/compat/butane/`
//! translated by the real `flint` binary (`--strict -d files-dir`) must mean the same as the
//! Ignition config Butane produced, as judged by `../shared/tools/ignjson-diff`. All
//! failures are collected and reported together.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

#[test]
fn every_butane_case_means_the_same() {
    let base = shared().join("compat/butane");
    let cases_dir = base.join("cases");
    let diff_tool = shared().join("tools/ignjson-diff");
    if !cases_dir.is_dir() || !diff_tool.is_file() {
        eprintln!(
            "skipping the Butane equivalence test: {} or {} is absent",
            cases_dir.display(),
            diff_tool.display()
        );
        return;
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .expect("readable cases dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bu"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no .bu cases in {}", cases_dir.display());

    let out_dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected = case.with_extension("ign");
        let actual = out_dir.path().join(format!("{name}.ign"));
        let run = Command::new(env!("CARGO_BIN_EXE_flint"))
            .arg("--strict")
            .arg("--pretty")
            .arg("--raw-errors")
            .arg("-d")
            .arg(base.join("files-dir"))
            .arg("-o")
            .arg(&actual)
            .arg(case)
            .output()
            .expect("flint runs");
        if !run.status.success() {
            failures.push(format!(
                "{name}: flint exited with {}:\n{}",
                run.status,
                String::from_utf8_lossy(&run.stderr)
            ));
            continue;
        }
        let diff = Command::new("python3")
            .arg(&diff_tool)
            .arg(&expected)
            .arg(&actual)
            .output()
            .expect("python3 runs ignjson-diff");
        if !diff.status.success() {
            failures.push(format!(
                "{name}: output differs from Butane's:\n{}{}",
                String::from_utf8_lossy(&diff.stdout),
                String::from_utf8_lossy(&diff.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
