//! Kindling and Ignition must agree on which configs are valid.
//!
//! Runs Debian's `ignition-validate` (Ignition 2.14, which knows spec 3.0.0 to 3.3.0) and
//! `kindling validate` on:
//! - every positive case whose spec version is 3.0.0 to 3.3.0, and
//! - every negative case that `cases.tsv` marks `reject`, and
//! - every `n/a` case that `tests/differential/allowed.txt` lists as an intended difference
//!   (a rule Ignition 2.14 lacks, that 2.26 or Kindling has). The other `n/a` rows are
//!   newer specs than ignition-validate 2.14 knows, which it cannot judge.
//!
//! Only the verdict is compared: valid (exit 0, warnings allowed) or invalid. A
//! disagreement fails unless the allow-list names it, in that direction; an entry that
//! allows nothing fails too. The JSON path is checked by `negative_corpus.rs`.

use crate::allowed;
use crate::common;

use std::path::{Path, PathBuf};

use allowed::AllowList;
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
    let allowed = AllowList::load(
        &common::manifest_dir().join("tests/differential/allowed.txt"),
        "differential_ignition",
    );
    let cases = common::negative_cases().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Failures::new();
    for case in &cases {
        let stem = stem(&case.full_path());
        let knows = common::spec_version(&case.full_path())
            .is_some_and(|v| common::ignition_validate_knows(&v));
        if case.ignition == IgnitionVerdict::NotApplicable && knows && !allowed.has_verdict(&stem) {
            failures.push(format!(
                "{}: marked n/a although ignition-validate 2.14 knows its spec version; mark it reject, or list the difference in tests/differential/allowed.txt",
                case.file
            ));
        }
    }
    configs.extend(
        cases
            .iter()
            .filter(|c| {
                c.ignition == IgnitionVerdict::Reject || allowed.has_verdict(&stem(&c.full_path()))
            })
            .map(|c| c.full_path()),
    );
    assert!(!configs.is_empty(), "no configs to compare");

    for config in &configs {
        let theirs = Outcome::of(&ignition, &[config.as_path()]);
        let ours = common::kindling_validate(config);
        let allowed_here = |t: &Outcome, o: &Outcome| {
            t.code.is_some()
                && matches!(o.code, Some(0 | 1))
                && allowed.allows_verdict(&stem(config), t.code == Some(0), o.code == Some(0))
        };
        if let Some(problem) =
            disagreement(&theirs, &ours).filter(|_| !allowed_here(&theirs, &ours))
        {
            failures.push(format!(
                "{}: {problem}\n    ignition-validate:\n{theirs}    kindling validate:\n{ours}",
                shown(config)
            ));
        }
    }
    for entry in allowed.stale() {
        failures.push(format!(
            "{entry}: allows no disagreement in this corpus; remove it or fix the config"
        ));
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

/// A fixture's name without `.json`, as the allow-list names it.
fn stem(config: &Path) -> String {
    config
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}
