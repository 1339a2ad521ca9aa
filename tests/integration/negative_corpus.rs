//! The config corpus run through the real binary.
//!
//! - `tests/fixtures/negative/`: each config has exactly one defect. `cases.tsv` says where
//!   Ignition attaches the error (the JSON path ignition-validate prints) and a word the
//!   message must contain. `kindling validate` must exit 1 and print `error at <path>`.
//! - `tests/fixtures/positive/`: valid configs for every spec version; exit 0.
//! - `tests/compat/butane/*.ign`: what Butane v0.29.0 produced for the repository's own
//!   reference cases; and `../shared/compat/butane/cases/*.ign`, what it produced for its
//!   documentation examples, where that shared folder exists (under CI it must); exit 0.
//!
//! Every test checks the whole corpus and then fails once, listing each failing case with
//! what was expected and what the binary printed.

use crate::common;

use std::collections::BTreeSet;

use common::{Failures, IgnitionVerdict, Outcome};

#[test]
fn negative_cases_are_rejected_at_the_expected_path() {
    let cases = common::negative_cases().unwrap_or_else(|e| panic!("{e}"));
    assert!(!cases.is_empty(), "cases.tsv lists no cases");
    let mut failures = Failures::new();
    for case in &cases {
        let outcome = common::kindling_validate(&case.full_path());
        if let Some(problem) = judge_negative(&outcome, &case.path, &case.message) {
            failures.push(format!(
                "{file}: {problem}\n    expected: exit 1 and a line `error at {path}: …` whose message contains {msg:?}\n    actual:\n{outcome}",
                file = case.file,
                path = case.path,
                msg = case.message,
            ));
        }
    }
    failures.finish(cases.len(), "negative cases");
}

/// Why an outcome does not satisfy a negative case, or `None` when it does.
fn judge_negative(outcome: &Outcome, path: &str, message: &str) -> Option<String> {
    let errors = outcome.errors();
    let at_path: Vec<&String> = errors
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, m)| m)
        .collect();
    let matching = at_path
        .iter()
        .any(|m| m.to_lowercase().contains(&message.to_lowercase()));
    match (outcome.code, at_path.is_empty(), matching) {
        (Some(1), false, true) => None,
        (Some(0), _, _) => Some("accepted as valid".to_owned()),
        (Some(1), true, _) if errors.is_empty() => {
            Some("rejected, but printed no `error at` line".to_owned())
        }
        (Some(1), true, _) => Some(format!("rejected, but no error at {path}")),
        (Some(1), false, false) => Some(format!(
            "error at {path}, but its message lacks {message:?}"
        )),
        (code, _, _) => Some(format!("unexpected exit code {code:?}")),
    }
}

#[test]
fn positive_cases_are_accepted() {
    let files = common::json_files(&common::positive_dir());
    assert!(
        files.len() >= 10,
        "expected the positive corpus in {}, found {} files",
        common::positive_dir().display(),
        files.len()
    );
    let mut failures = Failures::new();
    for file in &files {
        let outcome = common::kindling_validate(file);
        if !outcome.succeeded() {
            failures.push(format!(
                "{}: rejected a valid config\n    expected: exit 0 (warnings allowed)\n    actual:\n{outcome}",
                common::file_name(file)
            ));
        }
    }
    failures.finish(files.len(), "positive cases");
}

#[test]
fn positive_corpus_covers_every_spec_version() {
    let seen: BTreeSet<String> = common::json_files(&common::positive_dir())
        .iter()
        .filter_map(|f| common::spec_version(f))
        .collect();
    let missing: Vec<String> = (0..=6)
        .map(|minor| format!("3.{minor}.0"))
        .filter(|v| !seen.contains(v))
        .collect();
    assert!(
        missing.is_empty(),
        "the positive corpus has no config for spec version(s) {missing:?}; found {seen:?}"
    );
}

#[test]
fn butane_compat_outputs_are_accepted() {
    let test = "butane_compat_outputs_are_accepted";
    let own = common::files_with_extension(&common::own_butane_cases_dir(), "ign");
    // tests/compat/README.md lists 30 accepted cases; a lost folder must not pass quietly.
    assert!(
        own.len() >= 30,
        "only {} Butane outputs in {}",
        own.len(),
        common::own_butane_cases_dir().display()
    );
    let mut files = own;
    let shared = common::shared_butane_cases(test);
    if let Some(dir) = &shared {
        let more = common::files_with_extension(dir, "ign");
        assert!(!more.is_empty(), "no .ign files in {}", dir.display());
        files.extend(more);
    }
    let mut failures = Failures::new();
    for file in &files {
        let outcome = common::kindling_validate(file);
        if !outcome.succeeded() {
            failures.push(format!(
                "{}: rejected a config Butane produced\n    expected: exit 0 (warnings allowed)\n    actual:\n{outcome}",
                file.display()
            ));
        }
    }
    failures.finish(files.len(), "Butane outputs");
    common::note(&format!(
        "{test}: {} Butane outputs checked ({})",
        files.len(),
        if shared.is_some() {
            "the repository's own and the shared corpus"
        } else {
            "the repository's own only"
        }
    ));
}

/// The table and the folder must agree, and each row must make sense, or cases would be
/// skipped without anyone noticing.
#[test]
fn cases_table_matches_the_negative_folder() {
    let cases = common::negative_cases().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Failures::new();
    let listed: BTreeSet<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    if listed.len() != cases.len() {
        failures.push("cases.tsv lists a file more than once");
    }
    for file in common::json_files(&common::negative_dir()) {
        let name = common::file_name(&file);
        if !listed.contains(name.as_str()) {
            failures.push(format!(
                "{name}: in the negative folder but not in cases.tsv"
            ));
        }
    }
    for case in &cases {
        if !case.full_path().is_file() {
            failures.push(format!("{}: listed in cases.tsv but missing", case.file));
        }
        if !case.path.starts_with('$') {
            failures.push(format!(
                "{}: expected path {:?} does not start with `$`",
                case.file, case.path
            ));
        }
        if case.message != case.message.to_lowercase() {
            failures.push(format!(
                "{}: message substring {:?} must be lowercase",
                case.file, case.message
            ));
        }
        let version = common::spec_version(&case.full_path());
        // Configs for specs that Kindling reads but ignition-validate 2.14 does not; an
        // invalid version string (3.9.0, 2.3.0) is rejected by both and stays `reject`.
        let newer = version
            .as_deref()
            .is_some_and(|v| matches!(v, "3.4.0" | "3.5.0" | "3.6.0"));
        if newer && case.ignition == IgnitionVerdict::Reject {
            failures.push(format!(
                "{}: spec {} is newer than ignition-validate 2.14 knows, so its verdict must be n/a",
                case.file,
                version.unwrap_or_default()
            ));
        }
    }
    failures.finish(cases.len(), "rows of cases.tsv");
}
