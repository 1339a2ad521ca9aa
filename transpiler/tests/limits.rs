//! Issue 15, defect 5: flint's input limits, on the real binary. Endless or huge input is
//! refused at the size limit, having read at most one byte past it, and hostile YAML (deep
//! nesting, alias bombs) is refused while it is read. Each error names the limit.

mod support;

use std::process::{Command, Stdio};

use support::Scratch;

const LIMIT: &str = "larger than flint's limit of 67108864 bytes";

/// Runs flint under a 512 MiB address-space limit, so that reading without a bound would
/// fail with an allocation error instead of the limit's message.
fn flint_bounded(dir: &std::path::Path, args: &str, stdin: Stdio) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v 524288; exec \"$FLINT\" {args}"))
        .env("FLINT", env!("CARGO_BIN_EXE_flint"))
        .current_dir(dir)
        .stdin(stdin)
        .output()
        .expect("sh runs flint")
}

fn assert_refused(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(needle),
        "stderr lacks {needle:?}:\n{stderr}"
    );
}

#[test]
fn dev_zero_is_refused_at_the_size_limit() {
    let s = Scratch::new();
    let out = flint_bounded(s.dir.path(), "/dev/zero", Stdio::null());
    assert_refused(&out, &format!("reading /dev/zero: the config is {LIMIT}"));
}

#[test]
fn endless_stdin_is_refused_at_the_size_limit() {
    let s = Scratch::new();
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let out = flint_bounded(s.dir.path(), "-", Stdio::from(zero));
    assert_refused(&out, &format!("reading <stdin>: the config is {LIMIT}"));
}

#[test]
fn a_file_one_byte_over_the_limit_is_refused_and_one_at_it_is_read() {
    let s = Scratch::new();
    // Sparse files: no disk space, and their zeros are not valid YAML either way, so the
    // message tells which check refused them.
    let over = s.path("over.bu");
    std::fs::File::create(&over)
        .and_then(|f| f.set_len(64 * 1024 * 1024 + 1))
        .expect("sparse file");
    s.run(&["over.bu"])
        .fails_with(&format!("reading over.bu: the config is {LIMIT}"));
    let at = s.path("at.bu");
    std::fs::File::create(&at)
        .and_then(|f| f.set_len(64 * 1024 * 1024))
        .expect("sparse file");
    let run = s.run(&["at.bu"]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains(LIMIT), "{}", run.stderr);
}

#[test]
fn deep_nesting_is_refused_naming_the_limit() {
    let s = Scratch::new();
    let deep = format!(
        "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    {}x\n",
        "- ".repeat(1_000_000)
    );
    s.translate(&deep, &[])
        .fails_with("nest deeper than the limit of 256 levels");
}

#[test]
fn a_billion_laughs_is_refused_naming_the_limit() {
    let s = Scratch::new();
    let mut bomb = String::from("variant: fcos\nversion: 1.5.0\n");
    bomb.push_str("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s.write("bomb.bu", &bomb);
    let out = flint_bounded(s.dir.path(), "bomb.bu", Stdio::null());
    assert_refused(
        &out,
        "aliases expand to more than the limit of 100000 nodes",
    );
}
