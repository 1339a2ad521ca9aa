//! The generated man pages and completions cover every command the programs take.

use std::fs;
use std::path::Path;
use std::process::Command;

fn read(path: &Path) -> String {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(!text.trim().is_empty(), "{} is empty", path.display());
    text
}

/// Every subcommand's name, hidden ones (the stages) included; not clap's `help`.
fn subcommands(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|n| n != "help")
        .collect()
}

fn generate() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    let status = Command::new(env!("CARGO_BIN_EXE_kindling-docgen"))
        .arg(out.path())
        .status()
        .expect("kindling-docgen runs");
    assert!(status.success(), "kindling-docgen failed: {status}");
    out
}

#[test]
fn every_kindling_command_has_a_page_and_completions() {
    let out = generate();
    let subs = subcommands(&kindling_docgen::kindling());
    for stage in [
        "fetch-offline",
        "fetch",
        "kargs",
        "disks",
        "mount",
        "files",
        "umount",
    ] {
        assert!(
            subs.iter().any(|s| s == stage),
            "{stage} missing from {subs:?}"
        );
    }
    let main = read(&out.path().join("man1/kindling.1"));
    let bash = read(&out.path().join("bash/kindling"));
    let zsh = read(&out.path().join("zsh/_kindling"));
    let fish = read(&out.path().join("fish/kindling.fish"));
    for sub in &subs {
        // roff escapes the hyphen: kindling\-fetch\-offline.
        let page_ref = format!("kindling-{sub}").replace('-', "\\-");
        assert!(
            main.contains(&page_ref),
            "kindling.1 does not mention {page_ref}"
        );
        let page = read(&out.path().join(format!("man1/kindling-{sub}.1")));
        assert!(
            page.contains(&format!("kindling {}", sub.replace('-', "\\-"))),
            "kindling-{sub}.1 has no usage line:\n{page}"
        );
        for (shell, text) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
            assert!(
                text.contains(sub.as_str()),
                "the {shell} completion does not offer {sub}"
            );
        }
    }
    assert!(
        !out.path().join("man1/kindling-help.1").exists(),
        "a page for clap's help subcommand"
    );
    assert!(
        !main.contains("kindling\\-help"),
        "kindling.1 lists a kindling-help page that is not generated"
    );
}

#[test]
fn each_stage_page_shows_only_the_options_the_stage_reads() {
    let out = generate();
    let umount = read(&out.path().join("man1/kindling-umount.1"));
    assert!(
        umount.contains("\\-\\-root"),
        "kindling-umount.1 lacks --root:\n{umount}"
    );
    assert!(
        !umount.contains("config\\-timeout"),
        "kindling-umount.1 shows --config-timeout, which umount does not read:\n{umount}"
    );
}

#[test]
fn flint_pages_and_completions_include_sign() {
    let out = generate();
    let main = read(&out.path().join("man1/flint.1"));
    assert!(
        main.contains("flint\\-sign"),
        "flint.1 does not list flint-sign:\n{main}"
    );
    let sign = read(&out.path().join("man1/flint-sign.1"));
    assert!(
        sign.contains("\\-\\-key"),
        "flint-sign.1 lacks --key:\n{sign}"
    );
    for path in ["bash/flint", "zsh/_flint", "fish/flint.fish"] {
        let text = read(&out.path().join(path));
        assert!(text.contains("sign"), "{path} does not offer sign");
        assert!(text.contains("pretty"), "{path} does not offer --pretty");
    }
}

#[test]
fn a_missing_output_directory_argument_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_kindling-docgen"))
        .output()
        .expect("kindling-docgen runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: kindling-docgen OUT_DIR"));
}
