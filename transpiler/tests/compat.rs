//! Equivalence with Butane v0.29.0, checked by running the real `flint` binary.
//!
//! - The repository's own cases (`tests/compat/butane/`, see its README) run everywhere,
//!   a fresh clone included. A case translates to what Butane recorded, by meaning, with the
//!   same warnings at the same places; a case Butane rejected is rejected, with Butane's
//!   errors among flint's.
//! - The shared corpus beside the checkout (`../shared/compat/butane/`) is checked the same
//!   way where it exists; under CI its absence fails.
//!
//! All failures are collected and reported together.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::reference::{
    cases_in, differences, finding_places, note, own_cases_dir, shared_corpus,
};

/// Where flint and Butane v0.29.0 knowingly differ on the own cases: (case, finding place
/// that only Butane reports, why). Each entry must still occur, so a fixed difference cannot
/// linger here.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "fcos-1.7-anchors",
        "warning at $.storage.files.0.<<, line 12 col 7",
        "Butane expands YAML merge keys and then also reports `<<` as an unused key; flint \
         only expands them",
    ),
    (
        "fcos-1.7-anchors",
        "warning at $.storage.files.1.<<, line 16 col 7",
        "as above",
    ),
];

struct Flint {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn flint(files_dir: &Path, case: &Path, strict: bool) -> Flint {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flint"));
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd
        .args(["--pretty", "--raw-errors", "-d"])
        .arg(files_dir)
        .arg(case)
        .output()
        .expect("flint runs");
    Flint {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// flint's output for `case` against Butane's `expected`; the differences, if any.
fn compare_output(name: &str, run: &Flint, expected: &Path, failures: &mut Vec<String>) {
    if run.code != Some(0) {
        failures.push(format!(
            "{name}: flint exited with {:?}, Butane succeeded:\n{}",
            run.code, run.stderr
        ));
        return;
    }
    let actual: Value = match serde_json::from_str(&run.stdout) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("{name}: flint's output is not JSON: {e}"));
            return;
        }
    };
    let diffs = differences(&read_json(expected), &actual);
    if !diffs.is_empty() {
        failures.push(format!(
            "{name}: output differs from Butane's:\n  {}",
            diffs.join("\n  ")
        ));
    }
}

/// One own case: what it was recorded with decides how flint runs and what is compared.
fn check_own_case(dir: &Path, case: &Path, known_seen: &mut Vec<String>) -> Vec<String> {
    let mut failures = Vec::new();
    let name = case
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let files = dir.join("files");
    let errors = case.with_extension("errors");
    if errors.is_file() {
        let butane = std::fs::read_to_string(&errors).expect("readable .errors");
        let run = flint(&files, case, false);
        if run.code != Some(1) || !run.stdout.is_empty() {
            failures.push(format!(
                "{name}: Butane rejected it, flint exited with {:?} and printed {} bytes:\n{}",
                run.code,
                run.stdout.len(),
                run.stderr
            ));
            return failures;
        }
        let ours = finding_places(&run.stderr, "error");
        let missing: Vec<String> = finding_places(&butane, "error")
            .into_iter()
            .filter(|p| !ours.contains(p))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{name}: flint lacks Butane's errors:\n  {}\nflint said:\n{}",
                missing.join("\n  "),
                run.stderr
            ));
        }
        return failures;
    }

    let warnings = case.with_extension("warnings");
    let butane_warnings = std::fs::read_to_string(&warnings).unwrap_or_default();
    // A case Butane translated without a warning must pass flint's --strict too.
    let run = flint(&files, case, butane_warnings.is_empty());
    compare_output(&name, &run, &case.with_extension("ign"), &mut failures);
    let ours = finding_places(&run.stderr, "warning");
    let mut theirs = finding_places(&butane_warnings, "warning");
    theirs.retain(|place| {
        let known = KNOWN_DIFFERENCES
            .iter()
            .any(|(case, p, _)| *case == name && p == place);
        if known && !ours.contains(place) {
            known_seen.push(format!("{name}\t{place}"));
            return false;
        }
        true
    });
    if ours != theirs {
        failures.push(format!(
            "{name}: warnings differ\n  Butane: {theirs:?}\n  flint:  {ours:?}"
        ));
    }
    failures
}

#[test]
fn own_cases_mean_what_butane_v0_29_0_produced() {
    let dir = own_cases_dir();
    let cases = cases_in(&dir);
    // The README and docs state the count; a lost case must not pass silently.
    assert!(
        cases.len() >= 30,
        "only {} cases in {}",
        cases.len(),
        dir.display()
    );
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    for case in &cases {
        let expected = [case.with_extension("ign"), case.with_extension("errors")];
        if !expected.iter().any(|p| p.is_file()) {
            failures.push(format!(
                "{}: no recorded .ign or .errors beside it (run tests/compat/record.sh)",
                case.display()
            ));
            continue;
        }
        failures.extend(check_own_case(&dir, case, &mut known_seen));
    }
    for (case, place, why) in KNOWN_DIFFERENCES {
        if !known_seen.contains(&format!("{case}\t{place}")) {
            failures.push(format!(
                "known difference no longer seen, remove it from KNOWN_DIFFERENCES: {case}: \
                 {place} ({why})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) over {} cases:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    note(&format!(
        "own_cases: {} Butane v0.29.0 cases in {} checked, {} known difference(s)",
        cases.len(),
        dir.display(),
        KNOWN_DIFFERENCES.len()
    ));
}

#[test]
fn shared_corpus_where_present_means_what_butane_produced() {
    let test = "shared_corpus_where_present_means_what_butane_produced";
    let Some(base) = shared_corpus(test) else {
        return;
    };
    let cases = cases_in(&base.join("cases"));
    assert!(!cases.is_empty(), "no .bu cases in {}", base.display());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let run = flint(&base.join("files-dir"), case, true);
        compare_output(&name, &run, &case.with_extension("ign"), &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    note(&format!(
        "{test}: {} cases in {} checked",
        cases.len(),
        base.display()
    ));
}

/// The comparison itself must see real differences, or every case above would pass.
#[test]
fn the_comparison_ignores_encoding_and_sees_meaning() {
    let json = |text: &str| -> Value { serde_json::from_str(text).expect("JSON") };
    let percent = json(r#"{"f": {"source": "data:,a%20b", "compression": ""}}"#);
    let base64 = json(r#"{"f": {"source": "data:;base64,YSBi"}, "empty": []}"#);
    // gzip of "a b", base64-encoded.
    let gzip = json(
        r#"{"f": {"source": "data:;base64,H4sIAAAAAAACA0tUSAIA01xsgAMAAAA=", "compression": "gzip"}}"#,
    );
    assert_eq!(differences(&percent, &base64), Vec::<String>::new());
    assert_eq!(differences(&percent, &gzip), Vec::<String>::new());

    let other = json(r#"{"f": {"source": "data:,a%20c"}}"#);
    assert_eq!(
        differences(&percent, &other),
        vec![r#"$.f.source.data: expected "a b", found "a c""#.to_owned()]
    );
    let extra = json(r#"{"f": {"source": "data:,a%20b"}, "mode": 420}"#);
    assert_eq!(
        differences(&percent, &extra),
        vec!["$.mode: unexpected 420".to_owned()]
    );
    let list = json(r#"{"f": {"source": "data:,a%20b"}, "l": [1, 2]}"#);
    let shorter = json(r#"{"f": {"source": "data:,a%20b"}, "l": [1]}"#);
    assert_eq!(
        differences(&list, &shorter),
        vec!["$.l: 2 entries expected, 1 found".to_owned()]
    );

    let stderr = "warning at $.a, line 2 col 1: Unused key a\nerror at $.b, line 3 col 5: bad\n\
                  flint: translating x failed: 1 error\n";
    assert_eq!(
        finding_places(stderr, "warning"),
        vec!["warning at $.a, line 2 col 1".to_owned()]
    );
    assert_eq!(
        finding_places(stderr, "error"),
        vec!["error at $.b, line 3 col 5".to_owned()]
    );
}
