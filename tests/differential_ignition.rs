//! Kindling and Ignition must agree on which configs are valid.
//!
//! Runs Debian's `ignition-validate` (Ignition 2.14, which knows spec 3.0.0 to 3.3.0) and
//! `kindling validate` on:
//! - every positive case whose spec version is 3.0.0 to 3.3.0, and
//! - every negative case that `cases.tsv` marks `reject` (the ones ignition-validate can
//!   judge; `n/a` rows are newer specs or rules that Ignition 2.14 lacks).
//!
//! Only the verdict is compared: valid (exit 0, warnings allowed) or invalid. The JSON path
//! is checked by `negative_corpus.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::{Failures, IgnitionVerdict, Outcome};

const IGNITION_VALIDATE: &str = "ignition-validate";

#[test]
fn kindling_and_ignition_validate_agree() {
    let Some(ignition) = common::find_on_path(IGNITION_VALIDATE) else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{IGNITION_VALIDATE} is not on PATH, and CI is set, so the differential test cannot be skipped: install it with `apt-get install ignition`"
            );
        }
        common::skip(
            "kindling_and_ignition_validate_agree",
            &format!(
                "{IGNITION_VALIDATE} is not on PATH (install it with `apt-get install ignition`)"
            ),
        );
        return;
    };

    let mut configs: Vec<PathBuf> = common::json_files(&common::positive_dir())
        .into_iter()
        .filter(|f| common::spec_version(f).is_some_and(|v| common::ignition_validate_knows(&v)))
        .collect();
    let cases = common::negative_cases().unwrap_or_else(|e| panic!("{e}"));
    configs.extend(
        cases
            .iter()
            .filter(|c| c.ignition == IgnitionVerdict::Reject)
            .map(|c| c.full_path()),
    );
    assert!(!configs.is_empty(), "no configs to compare");

    let mut failures = Failures::new();
    for config in &configs {
        let theirs = Outcome::of(&ignition, &[config.as_path()]);
        let ours = common::kindling_validate(config);
        if let Some(problem) = disagreement(&theirs, &ours) {
            failures.push(format!(
                "{}: {problem}\n    ignition-validate:\n{theirs}    kindling validate:\n{ours}",
                shown(config)
            ));
        }
    }
    failures.finish(configs.len(), "configs compared with ignition-validate");
}

/// Why the two verdicts differ, or `None` when they agree.
fn disagreement(ignition: &Outcome, kindling: &Outcome) -> Option<String> {
    // ignition-validate exits non-zero on an invalid config; it has no separate usage code.
    let ignition_valid = ignition.code == Some(0);
    let kindling_valid = match kindling.code {
        Some(0) => true,
        Some(1) => false,
        other => return Some(format!("kindling exited with {other:?}, not 0 or 1")),
    };
    if ignition.code.is_none() {
        return Some("ignition-validate did not run to completion".to_owned());
    }
    match (ignition_valid, kindling_valid) {
        (true, false) => Some("Ignition accepts it, Kindling rejects it".to_owned()),
        (false, true) => Some("Ignition rejects it, Kindling accepts it".to_owned()),
        _ => None,
    }
}

/// The config's path relative to the crate, which is shorter to read in a report.
fn shown(config: &Path) -> String {
    config
        .strip_prefix(common::manifest_dir())
        .unwrap_or(config)
        .display()
        .to_string()
}
