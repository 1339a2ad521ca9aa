//! The command line, as a drop-in for `butane`: flags, input and output, exit statuses and
//! the two error formats.

mod support;

use support::Scratch;

const CONFIG: &str = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 0644\n      contents:\n        inline: hello\n";

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let s = Scratch::new();
    let help = s.run(&["--help"]);
    assert_eq!(help.code, 0);
    for flag in [
        "--pretty",
        "--strict",
        "--files-dir",
        "--output",
        "--check",
        "--raw-errors",
    ] {
        assert!(
            help.stdout.contains(flag),
            "help lacks {flag}:\n{}",
            help.stdout
        );
    }
    let version = s.run(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("flint "));
}

#[test]
fn help_lists_sign_and_help_works_for_each_command() {
    let s = Scratch::new();
    let help = s.run(&["--help"]);
    assert!(help.stdout.contains("  sign  "), "{}", help.stdout);
    assert!(help
        .stdout
        .contains("flint sign [OPTIONS] --key <KEY> <CONFIG>"));
    let general = s.run(&["help"]);
    assert_eq!(
        (general.code, general.stdout.as_str()),
        (0, help.stdout.as_str())
    );
    for args in [&["help", "sign"][..], &["sign", "--help"][..]] {
        let out = s.run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout
                .contains("Usage: flint sign [OPTIONS] --key <KEY> <CONFIG>"),
            "{args:?}: the usage line names the program:\n{}",
            out.stdout
        );
    }
    let bad = s.run(&["sign"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("Usage: flint sign"), "{}", bad.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new();
    assert_eq!(s.run(&["--no-such-flag"]).code, 2);
    assert_eq!(s.run(&["a.bu", "b.bu"]).code, 2);
    assert_eq!(s.run(&["--files-dir"]).code, 2);
}

#[test]
fn reads_stdin_when_no_file_or_dash_is_given() {
    let s = Scratch::new();
    let r = s.run_stdin(&[], CONFIG);
    r.succeeds();
    assert_eq!(r.json()["ignition"]["version"], "3.4.0");
    assert_eq!(r.json()["storage"]["files"][0]["mode"], 420);
    s.run_stdin(&["-"], CONFIG).succeeds();
}

#[test]
fn unreadable_input_file_fails() {
    Scratch::new()
        .run(&["missing.bu"])
        .fails_with("reading missing.bu");
}

#[test]
fn compact_by_default_pretty_with_p() {
    let s = Scratch::new();
    s.write("c.bu", CONFIG);
    let compact = s.run(&["c.bu"]);
    assert_eq!(compact.stdout.lines().count(), 1);
    assert!(compact.stdout.ends_with("}\n"));
    let pretty = s.run(&["-p", "c.bu"]);
    assert!(pretty.stdout.starts_with("{\n  \"ignition\": {\n"));
    assert_eq!(pretty.json(), compact.json());
}

#[test]
fn output_file_is_written_whole_with_mode_0644() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write("c.bu", CONFIG);
    let r = s.run(&["-o", "out.ign", "c.bu"]);
    r.succeeds();
    assert!(r.stdout.is_empty());
    let text = std::fs::read_to_string(s.path("out.ign")).expect("written");
    assert!(text.contains("\"3.4.0\""));
    let mode = std::fs::metadata(s.path("out.ign"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".flint-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left behind");
}

#[test]
fn failed_translation_leaves_an_existing_output_untouched() {
    let s = Scratch::new();
    s.write("out.ign", "previous\n");
    s.write(
        "bad.bu",
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: rel\n",
    );
    s.run(&["-o", "out.ign", "bad.bu"])
        .fails_with("$.storage.files.0.path");
    assert_eq!(
        std::fs::read_to_string(s.path("out.ign")).expect("kept"),
        "previous\n"
    );
}

#[test]
fn check_validates_without_output() {
    let s = Scratch::new();
    s.write("c.bu", CONFIG);
    let r = s.run(&["-c", "-o", "out.ign", "c.bu"]);
    r.succeeds();
    assert!(r.stdout.is_empty());
    assert!(!s.path("out.ign").exists());
}

#[test]
fn default_errors_are_snippets_with_file_line_and_caret() {
    let s = Scratch::new();
    s.write(
        "c.bu",
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: 644\n",
    );
    let r = s.run(&["c.bu"]);
    r.succeeds();
    assert!(
        r.stderr
            .contains("warning[$.storage.files.0.mode]: unreasonable mode"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(" --> c.bu:6:13\n"), "{}", r.stderr);
    assert!(r.stderr.contains("6 |       mode: 644\n"), "{}", r.stderr);
    assert!(r.stderr.contains("  |             ^^^\n"), "{}", r.stderr);
    assert!(
        !r.stderr.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn colour_can_be_forced() {
    let s = Scratch::new();
    s.write(
        "c.bu",
        "variant: fcos\nversion: 1.5.0\nstorage:\n  filez: []\n",
    );
    assert!(s
        .run(&["--color=always", "c.bu"])
        .stderr
        .contains("\x1b[1;33m"));
    assert!(!s.run(&["--color=never", "c.bu"]).stderr.contains('\x1b'));
}

#[test]
fn raw_errors_use_butanes_one_line_form() {
    let s = Scratch::new();
    s.write(
        "c.bu",
        "variant: fcos\nversion: 1.5.0\nstorage:\n  filez: []\n",
    );
    let r = s.run(&["--raw-errors", "c.bu"]);
    assert_eq!(
        r.stderr,
        "warning at $.storage.filez, line 4 col 3: unused key filez: did you mean files? (remove it or fix its spelling)\n"
    );
}

#[test]
fn legacy_raw_flag_is_accepted() {
    let s = Scratch::new();
    s.write("c.bu", CONFIG);
    s.run(&["-r", "c.bu"]).succeeds();
}
