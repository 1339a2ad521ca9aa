//! Helpers shared by the corpus tests: running `kindling validate`, reading the negative
//! corpus's `cases.tsv`, and collecting every failure so one run reports all of them.
//!
//! Each integration test crate compiles this module on its own and uses a different part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate root (`/work/main` in a checkout).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn negative_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures/negative")
}

pub fn positive_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures/positive")
}

/// The repository's own Butane reference cases: `NAME.ign` is what Butane v0.29.0 produced
/// (see tests/compat/README.md). Present in every checkout.
pub fn own_butane_cases_dir() -> PathBuf {
    manifest_dir().join("tests/compat/butane")
}

/// The Butane compatibility corpus in the shared folder beside the checkout, an extra check
/// where it exists. Under CI (`CI` set) its absence panics, since CI must check it; elsewhere
/// a note says that `test` did not check it, and `None` is returned.
pub fn shared_butane_cases(test: &str) -> Option<PathBuf> {
    let dir = manifest_dir().join("../shared/compat/butane/cases");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: the shared Butane corpus {} is absent, and CI is set, so it must be checked",
        dir.display()
    );
    note(&format!(
        "{test}: the shared Butane corpus {} is absent; it was NOT checked",
        dir.display()
    ));
    None
}

/// Says what a test checked, on stderr directly (see [`skip`]).
pub fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE {text}");
}

/// What a finished command left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit code, or `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Runs `program args…` to completion. A program that cannot be started is reported as
    /// an outcome with no exit code and the reason in `stderr`, so callers can list it as a
    /// failure like any other.
    pub fn of(program: &Path, args: &[&Path]) -> Outcome {
        let mut cmd = Command::new(program);
        cmd.args(args);
        Outcome::run(cmd, program)
    }

    /// Runs `cmd` and collects its exit code and output; a program that cannot start is
    /// an outcome too (code `None`), so callers can report it with the case it belongs to.
    pub fn run(mut cmd: Command, program: &Path) -> Outcome {
        match cmd.output() {
            Ok(out) => Outcome {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            Err(err) => Outcome {
                code: None,
                stdout: String::new(),
                stderr: format!("could not run {}: {err}", program.display()),
            },
        }
    }

    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// The `error at PATH…: MESSAGE` lines of the output, as (path, message) pairs.
    pub fn errors(&self) -> Vec<(String, String)> {
        report_lines(&self.stdout, "error")
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => writeln!(f, "      exit code: {code}")?,
            None => writeln!(
                f,
                "      exit code: none (killed by a signal or not started)"
            )?,
        }
        write_block(f, "stdout", &self.stdout)?;
        write_block(f, "stderr", &self.stderr)
    }
}

fn write_block(f: &mut fmt::Formatter<'_>, name: &str, text: &str) -> fmt::Result {
    if text.trim().is_empty() {
        return writeln!(f, "      {name}: (empty)");
    }
    writeln!(f, "      {name}:")?;
    for line in text.lines() {
        writeln!(f, "        | {line}")?;
    }
    Ok(())
}

/// Parses report lines of one kind (`error`, `warning`) in the form
/// `KIND at $.a.b, line L col C: message` or `KIND at $.a.b: message`.
pub fn report_lines(output: &str, kind: &str) -> Vec<(String, String)> {
    let prefix = format!("{kind} at ");
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (location, message) = rest.split_once(": ")?;
            let path = location.split(", line ").next().unwrap_or(location);
            Some((path.to_owned(), message.to_owned()))
        })
        .collect()
}

/// The binary under test.
pub fn kindling() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kindling"))
}

/// `kindling validate FILE`.
pub fn kindling_validate(file: &Path) -> Outcome {
    Outcome::of(&kindling(), &[Path::new("validate"), file])
}

/// What ignition-validate (Debian's Ignition 2.14, spec 3.0.0 to 3.3.0) is expected to say
/// about a negative case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnitionVerdict {
    /// ignition-validate rejects the config.
    Reject,
    /// ignition-validate cannot judge it: the spec version is newer than it knows, or the
    /// rule is one it does not have (Kindling is stricter there on purpose, or newer
    /// Ignition releases added the rule).
    NotApplicable,
}

/// One line of `tests/fixtures/negative/cases.tsv`.
#[derive(Debug, Clone)]
pub struct NegativeCase {
    /// File name inside the negative folder.
    pub file: String,
    /// Where the error must be attached, such as `$.storage.files.0.path`.
    pub path: String,
    /// Lowercase text the error message must contain; empty means any message.
    pub message: String,
    pub ignition: IgnitionVerdict,
}

impl NegativeCase {
    pub fn full_path(&self) -> PathBuf {
        negative_dir().join(&self.file)
    }
}

/// Reads `cases.tsv`. Lines starting with `#` and blank lines are skipped. Any malformed
/// line is an error naming the line, so a broken table never silently drops cases.
pub fn negative_cases() -> Result<Vec<NegativeCase>, String> {
    let table = negative_dir().join("cases.tsv");
    let text =
        fs::read_to_string(&table).map_err(|e| format!("reading {}: {e}", table.display()))?;
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, path, message, verdict] = fields[..] else {
            return Err(format!(
                "{}:{}: expected 4 tab-separated fields, found {}: {line:?}",
                table.display(),
                n + 1,
                fields.len()
            ));
        };
        let ignition = match verdict {
            "reject" => IgnitionVerdict::Reject,
            "n/a" => IgnitionVerdict::NotApplicable,
            other => {
                return Err(format!(
                    "{}:{}: verdict must be `reject` or `n/a`, found {other:?}",
                    table.display(),
                    n + 1
                ))
            }
        };
        cases.push(NegativeCase {
            file: file.to_owned(),
            path: path.to_owned(),
            message: message.to_owned(),
            ignition,
        });
    }
    Ok(cases)
}

/// The `.json` files of a fixture folder, sorted by name.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "json")
}

/// The files of `dir` whose extension is `ext`, sorted by name. A missing folder yields
/// an empty list.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The `ignition.version` string of a config file, when the file is JSON and has one.
pub fn spec_version(file: &Path) -> Option<String> {
    let bytes = fs::read(file).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    doc.get("ignition")?
        .get("version")?
        .as_str()
        .map(str::to_owned)
}

/// Whether Debian's ignition-validate (Ignition 2.14) knows this spec version's rules.
pub fn ignition_validate_knows(version: &str) -> bool {
    matches!(version, "3.0.0" | "3.1.0" | "3.2.0" | "3.3.0")
}

/// Looks a program up on `PATH`.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Says that a test skipped its work, and why. It writes to stderr directly rather than
/// through `eprintln!`, which the test harness captures and shows only for failing tests, so
/// the skip is visible in an ordinary `cargo test` run.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {why}");
}

/// Failures collected over a whole corpus, reported together at the end.
#[derive(Debug, Default)]
pub struct Failures {
    entries: Vec<String>,
}

impl Failures {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, entry: impl Into<String>) {
        self.entries.push(entry.into());
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Panics with every collected failure when there is at least one.
    pub fn finish(self, checked: usize, what: &str) {
        if self.entries.is_empty() {
            eprintln!("{checked} {what}: all passed");
            return;
        }
        let mut report = format!("{} of {checked} {what} failed:\n", self.entries.len());
        // First one line per failure, to scan; then each failure with its full output.
        for entry in &self.entries {
            report.push_str("  - ");
            report.push_str(entry.lines().next().unwrap_or_default());
            report.push('\n');
        }
        report.push_str("\ndetails:\n\n");
        for entry in &self.entries {
            report.push_str(entry.trim_end());
            report.push_str("\n\n");
        }
        panic!("{report}");
    }
}

// ---- The files stage (tests/integration/files_stage.rs, tests/integration/differential_files.rs) ----

/// Whether this process runs as root (the files stage and its tests need it).
pub fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|ids| ids.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Skips a test that needs root when not root, and fails it instead when CI is set.
pub fn require_root(test: &str) -> bool {
    if running_as_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test} needs root, and CI is set, so it cannot be skipped");
    }
    skip(
        test,
        "needs root (it runs useradd and chown in a real root)",
    );
    false
}

/// A fresh directory (0755, so programs acting as another user can walk into it) holding a
/// minimal target root at `<dir>/<name>` ([`make_files_root`]): the guard, the directory and
/// the root.
pub fn dir_with_root(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = dir.join(name);
    fs::create_dir(&root).expect("mkdir root");
    make_files_root(&root);
    (tmp, dir, root)
}

/// A minimal target root: `/etc/passwd`, `/etc/group`, `/etc/shadow` and `/etc/gshadow`
/// with root's entries, root's home `/root`, and an SELinux config that turns SELinux off (Ignition reads it).
/// The directory is made 0755 so that programs acting as another user can walk into it.
pub fn make_files_root(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let etc = root.join("etc");
    fs::create_dir_all(etc.join("selinux")).expect("creating etc");
    let write = |name: &str, text: &str, mode: u32| {
        let p = etc.join(name);
        fs::write(&p, text).expect("writing a root file");
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    };
    write("passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644);
    write("group", "root:x:0:\nusers:x:100:\n", 0o644);
    write("shadow", "root:*:19000:0:99999:7:::\n", 0o640);
    write("gshadow", "root:*::\nusers:*::\n", 0o640);
    write("selinux/config", "SELINUX=disabled\nSELINUXTYPE=x\n", 0o644);
    fs::create_dir_all(root.join("root")).expect("creating /root");
    fs::set_permissions(root.join("root"), fs::Permissions::from_mode(0o700)).expect("chmod");
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).expect("chmod root");
}

/// Runs a command with extra environment variables and collects its outcome.
pub fn run_with_env(program: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Outcome::run(cmd, program)
}

/// `kindling fetch-offline` then `kindling files` for `config` into `root`, with the run
/// dir, an empty base dir and the kernel command line under `work`. Returns both outcomes;
/// `files` is not run when `fetch-offline` fails.
pub fn kindling_files(
    config: &Path,
    root: &Path,
    work: &Path,
    cmdline: &str,
    env: &[(&str, &str)],
) -> (Outcome, Option<Outcome>) {
    kindling_files_after("fetch-offline", config, root, work, cmdline, env)
}

/// [`kindling_files`] with another fetch stage first: `fetch` for configs whose files
/// come from a server (for those, `fetch-offline` only asks for the network).
pub fn kindling_files_after(
    fetch_stage: &str,
    config: &Path,
    root: &Path,
    work: &Path,
    cmdline: &str,
    env: &[(&str, &str)],
) -> (Outcome, Option<Outcome>) {
    fs::create_dir_all(work).expect("creating the work dir");
    let cmdline_file = work.join("cmdline");
    fs::write(&cmdline_file, cmdline).expect("writing the command line");
    let run_dir = work.join("run");
    let base_dir = work.join("base.d");
    let common: Vec<&std::ffi::OsStr> = vec![
        "--platform".as_ref(),
        "file".as_ref(),
        "--run-dir".as_ref(),
        run_dir.as_os_str(),
        "--cmdline-file".as_ref(),
        cmdline_file.as_os_str(),
        "--base-dir".as_ref(),
        base_dir.as_os_str(),
    ];
    let mut fetch_args: Vec<&std::ffi::OsStr> = vec![fetch_stage.as_ref()];
    fetch_args.extend(common.iter().copied());
    let config_env = config.to_str().expect("utf-8 config path");
    let mut fetch_env = vec![("KINDLING_CONFIG_FILE", config_env)];
    fetch_env.extend_from_slice(env);
    let fetch = run_with_env(&kindling(), &fetch_args, &fetch_env);
    if !fetch.succeeded() {
        return (fetch, None);
    }
    let mut files_args: Vec<&std::ffi::OsStr> = vec!["files".as_ref()];
    files_args.extend(common.iter().copied());
    files_args.extend(["--root".as_ref(), root.as_os_str()]);
    let files = run_with_env(&kindling(), &files_args, env);
    (fetch, Some(files))
}

/// One node of a tree snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// `file`, `dir`, `link` or `other`.
    pub kind: &'static str,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    /// File contents, or a link's target.
    pub data: Vec<u8>,
}

impl fmt::Display for TreeNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04o} {}:{} nlink={} {:?}",
            self.kind,
            self.mode,
            self.uid,
            self.gid,
            self.nlink,
            String::from_utf8_lossy(&self.data)
        )
    }
}

/// Every node under `root` (links not followed), by path relative to the root.
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, TreeNode> {
    use std::os::unix::fs::MetadataExt;
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let ft = meta.file_type();
            let (kind, data) = if ft.is_symlink() {
                let target = fs::read_link(&path).unwrap_or_default();
                ("link", target.into_os_string().into_encoded_bytes())
            } else if ft.is_dir() {
                todo.push(path.clone());
                ("dir", Vec::new())
            } else if ft.is_file() {
                ("file", fs::read(&path).unwrap_or_default())
            } else {
                ("other", Vec::new())
            };
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            out.insert(
                rel,
                TreeNode {
                    kind,
                    mode: meta.mode() & 0o7777,
                    uid: meta.uid(),
                    gid: meta.gid(),
                    nlink: if ft.is_dir() { 0 } else { meta.nlink() },
                    data,
                },
            );
        }
    }
    out
}
