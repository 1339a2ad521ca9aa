//! `kindling validate` as a user runs it: exit codes, output format, and hostile input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kindling(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kindling runs");
    let mut pipe = child.stdin.take().expect("stdin");
    // The reader may stop early (size limit); a broken pipe is then expected.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("kindling finishes")
}

fn validate_stdin(input: &[u8]) -> (i32, String, String) {
    let out = kindling(&["validate", "-"], input);
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn assert_invalid(input: &[u8], needle: &str) -> String {
    let (code, stdout, stderr) = validate_stdin(input);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains(needle), "expected {needle:?} in {stdout:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

#[test]
fn valid_config_exits_zero_and_prints_nothing() {
    let (code, stdout, _) = validate_stdin(br#"{"ignition": {"version": "3.6.0"}}"#);
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
}

#[test]
fn warnings_keep_exit_zero_but_strict_fails() {
    let input = br#"{"ignition": {"version": "3.2.0"}, "extra": 1}"#;
    let (code, stdout, _) = validate_stdin(input);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "warning at $.extra, line 1 col 36: unused key extra: remove it or check its spelling\n"
    );
    let out = kindling(&["validate", "--strict", "-"], input);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error at $.extra"));
}

#[test]
fn errors_name_path_line_and_column() {
    let input = b"{\n  \"ignition\": {\"version\": \"3.0.0\"},\n  \"storage\": {\"files\": [{\"path\": \"etc/motd\"}]}\n}\n";
    let out = assert_invalid(
        input,
        "error at $.storage.files.0.path, line 3 col 34: path not absolute",
    );
    assert!(out.contains("use /etc/motd"), "{out}");
}

#[test]
fn malformed_json_reports_line_and_column() {
    assert_invalid(
        b"{\n\"ignition\": {\"version\": \"3.0.0\"},\n}",
        "error at $, line 3 col 1: invalid JSON: trailing comma",
    );
}

#[test]
fn empty_input_is_its_own_error() {
    assert_invalid(b"", "config is empty");
    assert_invalid(b"  \n", "config is empty");
}

#[test]
fn binary_garbage_is_refused() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (code, stdout, stderr) = validate_stdin(&garbage);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.starts_with("error at $"), "{stdout}");
}

#[test]
fn invalid_utf8_is_refused_with_its_offset() {
    assert_invalid(
        b"{\"ignition\": {\"version\": \"3.0.0\xc3\x28\"}}",
        "not valid UTF-8 (byte offset 31)",
    );
}

#[test]
fn duplicate_keys_are_refused() {
    assert_invalid(
        br#"{"ignition": {"version": "3.0.0"}, "ignition": {"version": "3.1.0"}}"#,
        "duplicate key \"ignition\"",
    );
}

#[test]
fn deep_nesting_is_refused_without_crashing() {
    let input = format!("{{\"a\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    assert_invalid(input.as_bytes(), "nesting deeper than 128 levels");
}

#[test]
fn huge_input_is_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.ign");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(200 * 1024 * 1024).expect("sparse 200 MB file");
    let out = kindling(&["validate", path.to_str().expect("utf-8 path")], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("larger than the 67108864-byte config limit"),
        "{stderr}"
    );

    // Through a pipe the size is unknown up front: reading stops at the limit.
    let big = vec![b' '; 80 * 1024 * 1024];
    assert_invalid(&big, "larger than the limit of 67108864 bytes");
}

#[test]
fn unsupported_and_malformed_versions() {
    assert_invalid(
        br#"{"ignition": {"version": "2.4.0"}}"#,
        "unsupported config version 2.4.0",
    );
    assert_invalid(
        br#"{"ignition": {"version": "3.7.0"}}"#,
        "unsupported config version 3.7.0",
    );
    assert_invalid(
        br#"{"ignition": {"version": "3.x"}}"#,
        "invalid config version",
    );
    assert_invalid(br#"{"storage": {}}"#, "config has no ignition.version");
}

#[test]
fn flatcar_spec_1_and_2_configs_are_read() {
    for input in [
        &br#"{"ignition": {"version": "2.3.0"}}"#[..],
        br#"{"ignition": {"version": "2.0.0"}}"#,
        br#"{"ignitionVersion": 1}"#,
    ] {
        let (code, stdout, stderr) = validate_stdin(input);
        assert_eq!(
            code,
            0,
            "{}: {stdout}{stderr}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(stdout, "");
    }
}

#[test]
fn wrong_types_name_the_field() {
    assert_invalid(
        br#"{"ignition": {"version": "3.0.0"}, "storage": {"files": [{"path": "/a", "mode": "0644"}]}}"#,
        "error at $.storage.files.0.mode, line 1 col 81: wrong type: expected an integer, found a string (\"0644\"): remove the quotes",
    );
}

#[test]
fn usage_errors_exit_two() {
    let out = kindling(&["validate"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = kindling(&["validate", "/nonexistent/config.ign"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("opening /nonexistent/config.ign"));
    let out = kindling(&["validate", "/"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_stage_commands_under_their_own_heading() {
    let out = kindling(&["--help"], b"");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (commands, stages) = text
        .split_once("Stage commands (the initramfs's kindling-<stage>.service units run these")
        .unwrap_or_else(|| panic!("no stage heading in:\n{text}"));
    assert!(
        commands.contains("validate") && commands.contains("verify"),
        "{text}"
    );
    assert!(
        !commands.contains("fetch-offline"),
        "stages are listed apart: {text}"
    );
    for stage in [
        "fetch-offline",
        "fetch",
        "kargs",
        "disks",
        "mount",
        "files",
        "umount",
    ] {
        assert!(stages.contains(&format!("  {stage} ")), "{stage} in {text}");
    }
}

#[test]
fn each_stage_shows_only_the_options_it_reads_but_accepts_all() {
    let help = |stage: &str| {
        String::from_utf8_lossy(&kindling(&[stage, "--help"], b"").stdout).into_owned()
    };
    let umount = help("umount");
    assert!(
        umount.contains("--root") && umount.contains("--run-dir"),
        "{umount}"
    );
    for unused in [
        "--config-timeout",
        "--platform",
        "--device-timeout",
        "--base-dir",
    ] {
        assert!(!umount.contains(unused), "umount shows {unused}: {umount}");
    }
    let fetch = help("fetch-offline");
    assert!(
        fetch.contains("--platform") && fetch.contains("--config-timeout"),
        "{fetch}"
    );
    assert!(
        !fetch.contains("--device-timeout") && !fetch.contains("--root"),
        "{fetch}"
    );
    // The units pass --platform to every stage: hidden options still parse.
    let out = kindling(
        &[
            "umount",
            "--platform",
            "qemu",
            "--config-timeout",
            "5",
            "--help",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// Issue 15, item 8: 4294967295 is -1 to chown and useradd ("leave unchanged"), so a config
// asking for it would be applied as something else.
#[test]
fn the_id_that_means_unchanged_is_refused() {
    for (config, path) in [
        (
            r#"{"ignition":{"version":"3.6.0"},"storage":{"files":[{"path":"/x","user":{"id":4294967295}}]}}"#,
            "$.storage.files.0.user.id",
        ),
        (
            r#"{"ignition":{"version":"3.6.0"},"storage":{"directories":[{"path":"/d","group":{"id":4294967295}}]}}"#,
            "$.storage.directories.0.group.id",
        ),
        (
            r#"{"ignition":{"version":"3.6.0"},"storage":{"links":[{"path":"/l","target":"/x","user":{"id":-1}}]}}"#,
            "$.storage.links.0.user.id",
        ),
        (
            r#"{"ignition":{"version":"3.6.0"},"passwd":{"users":[{"name":"core","uid":4294967295}]}}"#,
            "$.passwd.users.0.uid",
        ),
        (
            r#"{"ignition":{"version":"3.6.0"},"passwd":{"groups":[{"name":"g","gid":4294967296}]}}"#,
            "$.passwd.groups.0.gid",
        ),
    ] {
        let out = assert_invalid(config.as_bytes(), &format!("error at {path}"));
        assert!(out.contains("0 to 4294967294"), "{out}");
    }
    let (code, stdout, _) = validate_stdin(
        br#"{"ignition":{"version":"3.6.0"},"passwd":{"users":[{"name":"core","uid":4294967294}]}}"#,
    );
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn yaml_gets_a_hint_to_transpile_it_with_flint() {
    let out = assert_invalid(
        b"variant: fcos\nversion: 1.5.0\nstorage:\n  files: []\n",
        "invalid JSON",
    );
    assert!(
        out.contains("this looks like YAML (a Butane config?)") && out.contains("flint"),
        "{out}"
    );
}

#[test]
fn typos_and_quoted_modes_say_the_fix() {
    let (code, stdout, _) = validate_stdin(
        br#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","contnets":{"source":"data:,x"}}]}}"#,
    );
    assert_eq!(code, 0, "an unused key is a warning");
    assert!(
        stdout.contains("unused key contnets: did you mean contents?"),
        "{stdout}"
    );
    assert_invalid(
        br#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","mode":"0644"}]}}"#,
        "wrong type: expected an integer, found a string (\"0644\"): remove the quotes",
    );
}
