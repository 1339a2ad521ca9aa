//! Flatcar's spec 1 and 2.x configs through the real binary (issue 14), over the hand-written
//! corpus in `tests/fixtures/spec2x/`:
//!
//! - `NAME.ign` with `NAME.expected.json`: `kindling validate` accepts it, and
//!   `kindling translate` writes exactly the expected spec 3.6.0 config, which `kindling
//!   validate` accepts in turn.
//! - `NAME.ign` with `NAME.expected-error` (`JSON path<TAB>message substring`): both commands
//!   exit 1 and name that path; `translate` writes nothing to stdout.
//!
//! Every test checks the whole corpus and then fails once, listing each failing case.

use crate::common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Failures, Outcome};

fn corpus_dir() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/spec2x")
}

fn kindling() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kindling"))
}

fn run(args: &[&str], file: &Path) -> Outcome {
    let mut cmd = Command::new(kindling());
    cmd.args(args).arg(file);
    Outcome::run(cmd, &kindling())
}

fn run_stdin(args: &[&str], input: &[u8]) -> Outcome {
    let mut child = Command::new(kindling())
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kindling runs");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(input).expect("writing stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("kindling finishes");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The corpus's `.ign` files whose companion file has `suffix`.
fn cases(suffix: &str) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(corpus_dir()).expect("reading the corpus") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".ign"))
        else {
            continue;
        };
        let companion = corpus_dir().join(format!("{name}{suffix}"));
        if companion.exists() {
            out.push((name.to_owned(), path.clone(), companion));
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_config_has_an_expectation() {
    let mut failures = Failures::new();
    let mut checked = 0;
    for entry in fs::read_dir(corpus_dir()).expect("reading the corpus") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.to_str().and_then(|p| p.strip_suffix(".ign")) else {
            continue;
        };
        checked += 1;
        let expected = Path::new(&format!("{name}.expected.json")).exists();
        let error = Path::new(&format!("{name}.expected-error")).exists();
        if expected == error {
            failures.push(format!(
                "{name}.ign: needs exactly one of .expected.json and .expected-error"
            ));
        }
    }
    assert!(checked >= 20, "the corpus has only {checked} configs");
    failures.finish(checked, "corpus configs");
}

#[test]
fn positive_cases_translate_to_the_expected_3x_config() {
    let cases = cases(".expected.json");
    assert!(cases.len() >= 6, "only {} positive cases", cases.len());
    let mut failures = Failures::new();
    for (name, config, expected) in &cases {
        let validated = run(&["validate"], config);
        if !validated.succeeded() || validated.stdout.contains("error") {
            failures.push(format!("{name}: validate refused it\n{validated}"));
            continue;
        }
        let translated = run(&["translate"], config);
        if !translated.succeeded() {
            failures.push(format!("{name}: translate failed\n{translated}"));
            continue;
        }
        let got: serde_json::Value = match serde_json::from_str(&translated.stdout) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!(
                    "{name}: translate wrote no JSON ({e})\n{translated}"
                ));
                continue;
            }
        };
        let want: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(expected).expect("reading the expectation"))
                .expect("the expectation is JSON");
        if got != want {
            failures.push(format!(
                "{name}: translation differs\n  expected: {want}\n  actual:   {got}"
            ));
            continue;
        }
        // What translate writes is a valid config of the version it says.
        let again = run_stdin(&["validate", "--strict"], translated.stdout.as_bytes());
        if !again.succeeded() {
            failures.push(format!(
                "{name}: the translated config is not valid 3.6.0\n{again}"
            ));
        }
    }
    failures.finish(cases.len(), "positive spec 1/2.x cases");
}

#[test]
fn negative_cases_are_refused_at_the_expected_path() {
    let cases = cases(".expected-error");
    assert!(cases.len() >= 15, "only {} negative cases", cases.len());
    let mut failures = Failures::new();
    for (name, config, expected) in &cases {
        let text = fs::read_to_string(expected).expect("reading the expectation");
        let (path, needle) = text
            .trim_end()
            .split_once('\t')
            .unwrap_or_else(|| panic!("{name}.expected-error: want `PATH<TAB>MESSAGE`"));
        let matches = |lines: &str| {
            common::report_lines(lines, "error")
                .iter()
                .any(|(p, m)| p == path && m.to_lowercase().contains(&needle.to_lowercase()))
        };
        let validated = run(&["validate"], config);
        if validated.code != Some(1) || !matches(&validated.stdout) {
            failures.push(format!(
                "{name}: validate should exit 1 with `error at {path}: …{needle}…`\n{validated}"
            ));
        }
        let translated = run(&["translate"], config);
        if translated.code != Some(1)
            || !matches(&translated.stderr)
            || !translated.stdout.is_empty()
        {
            failures.push(format!(
                "{name}: translate should exit 1, print nothing on stdout and `error at {path}: …{needle}…` on stderr\n{translated}"
            ));
        }
    }
    failures.finish(cases.len(), "negative spec 1/2.x cases");
}

#[test]
fn filesystems_without_a_path_get_flatcars_mount_point_with_a_warning() {
    let out = run(&["translate"], &corpus_dir().join("v2_3-filesystems.ign"));
    assert!(out.succeeded(), "{out}");
    let warnings = common::report_lines(&out.stderr, "warning");
    assert!(
        warnings
            .iter()
            .any(|(p, m)| p == "$.storage.filesystems.1.name"
                && m.contains("mounted at /tmp/var-ign2")),
        "{out}"
    );
    // The oem filesystem has Flatcar's fixed place and needs no warning.
    assert!(
        !warnings
            .iter()
            .any(|(p, _)| p == "$.storage.filesystems.0.name"),
        "{out}"
    );
}

#[test]
fn translate_says_where_the_output_needs_changes_to_stand_as_3x() {
    // Found by the spec2x_translate fuzz target: an oem:// source is kept (the engine reads
    // it at boot), but a 3.x config of its own cannot have one.
    let out = run_stdin(
        &["translate"],
        br#"{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/x","contents":{"source":"oem:///x"}}]}}"#,
    );
    assert!(out.succeeded(), "{out}");
    let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(got["storage"]["files"][0]["contents"]["source"], "oem:///x");
    assert!(
        out.stderr
            .contains("as a 3.6.0 config of its own it needs these changes first")
            && out.stderr.contains("$.storage.files.0.contents.source")
            && out
                .stderr
                .contains("put the content in a data URL or serve it over http(s)"),
        "{out}"
    );
    // A config without such sources gets no such warning.
    let out = run(
        &["translate"],
        &corpus_dir().join("v2_2-append-dropins-security.ign"),
    );
    assert!(!out.stderr.contains("needs these changes"), "{out}");
}

#[test]
fn translate_to_an_older_3x_version_sets_that_version() {
    let config = corpus_dir().join("v2_2-append-dropins-security.ign");
    let out = run(&["translate", "--to", "3.0.0"], &config);
    assert!(out.succeeded(), "{out}");
    let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(got["ignition"]["version"], "3.0.0");
    let again = run_stdin(&["validate", "--strict"], out.stdout.as_bytes());
    assert!(
        again.succeeded(),
        "the 3.0.0 output is not valid 3.0.0:\n{again}"
    );
}

#[test]
fn translate_reads_3x_configs_and_refuses_to_go_down() {
    let newer = br#"{"ignition": {"version": "3.4.0"}}"#;
    let up = run_stdin(&["translate", "--to", "3.6.0"], newer);
    assert!(up.succeeded(), "{up}");
    assert!(up.stdout.contains("\"version\": \"3.6.0\""), "{up}");
    let down = run_stdin(&["translate", "--to", "3.2.0"], newer);
    assert_eq!(down.code, Some(1), "{down}");
    assert!(down.stdout.is_empty(), "{down}");
    assert!(
        down.stderr.contains("error at $.ignition.version")
            && down
                .stderr
                .contains("cannot translate spec 3.4.0 down to 3.2.0"),
        "{down}"
    );
}

#[test]
fn translate_usage_errors_exit_2() {
    let config = corpus_dir().join("v2_0-minimal.ign");
    let bad_version = run(&["translate", "--to", "2.3.0"], &config);
    assert_eq!(bad_version.code, Some(2), "{bad_version}");
    assert!(
        bad_version
            .stderr
            .contains("not a spec version Kindling writes"),
        "{bad_version}"
    );
    let missing = run(&["translate"], &corpus_dir().join("no-such-file.ign"));
    assert_eq!(missing.code, Some(2), "{missing}");
    assert!(missing.stderr.contains("no-such-file.ign"), "{missing}");
}
