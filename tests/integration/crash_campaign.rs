//! The SIGKILL crash campaign (issue 15, "Crash"): the real `kindling` binary is killed at
//! points of the `files` and `disks` stages drawn by a seeded RNG, then the stage runs again.
//!
//! How a point is hit: `strace -f -e inject=SYSCALL:signal=SIGKILL:when=N` sends SIGKILL to
//! whichever traced thread (the engine, one of its threads, or a program it runs: useradd,
//! sgdisk, mkfs…) first enters its own N-th SYSCALL; strace counts per thread and per
//! system call. An uninterrupted run under `strace -f` first lists every (SYSCALL, N) that
//! occurs among the calls that change files or devices ([`SET`]); the campaign draws its points
//! from that list. No hook inside the engine is needed.
//!
//! After each kill:
//! - no file is half-written: every regular file in the root holds its content from before
//!   the stage or the content of an uninterrupted run (the account files, which several
//!   shadow-utils commands rewrite in turn, must be complete, well-formed versions). The
//!   exceptions are the working files of a killed shadow-utils command (`passwd.lock`,
//!   `passwd+`, `passwd-`…), which shadow-utils itself does not write atomically: the rerun
//!   must clear the locks and the unfinished databases, and leave whole backups. For the
//!   disks stage, every summary and marker the stage keeps in the run directory is whole JSON
//!   (an atomic write's temporary file aside);
//! - anything the killed attempt changed in the root comes after its attempt marker (or, when
//!   the kill came after its last step in the root, the report is there);
//! - the rerun either ends with the tree (or the partition table and filesystems) of an
//!   uninterrupted run, or fails with an error that says what it found (an earlier attempt
//!   that stopped part way, or a root where provisioning had finished) and what to do;
//! - the result report says which attempt finished and which ones did not.
//!
//! The seed is printed; `KINDLING_CRASH_SEED=N` replays a campaign, `KINDLING_CRASH_SEED=random`
//! draws a new one from the clock. The default split is 35 points in the files stage and 15 in
//! the disks stage: a files point costs about 0.3 s, a disks point about 2.5 s (it resets the
//! loop device, makes two filesystems and waits for udev), and the whole file takes 30 to 45 s
//! in a debug build on 2 cores. `KINDLING_CRASH_POINTS=FILES,DISKS` changes the split.
//!
//! Needs root and strace (Debian package `strace`); without them the tests skip, unless CI is
//! set, in which case they fail.

use crate::common;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::TreeNode;
use serde_json::{json, Value};
use support::loopdev::{self, LoopDisk, Probe};

/// The system calls that create, change, rename or remove files and devices, or start
/// programs: the places where a crash can leave something behind.
const SET: &str = "openat,write,pwrite64,writev,ftruncate,rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,symlink,symlinkat,fchown,fchownat,fchmod,fchmodat,fsync,fdatasync,syncfs,ioctl,execve";

const ATTEMPT_MARKER: &str = "etc/.kindling-attempt.json";
const REPORT: &str = "etc/.kindling-result.json";
const REPORT_PREV: &str = "etc/.kindling-result.json.prev";

/// splitmix64: small, and the same sequence everywhere for one seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `k` distinct indexes below `n`, ascending.
    fn choose(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut picked = BTreeSet::new();
        while picked.len() < k.min(n) {
            picked.insert((self.next() % n as u64) as usize);
        }
        picked.into_iter().collect()
    }
}

fn seed() -> u64 {
    match std::env::var("KINDLING_CRASH_SEED").ok().as_deref() {
        None | Some("") => 15,
        Some("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(15, |d| d.as_nanos() as u64),
        Some(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("KINDLING_CRASH_SEED={s:?} is not a number or `random`")),
    }
}

/// How many points each stage gets.
fn points_per_stage() -> (usize, usize) {
    let Ok(s) = std::env::var("KINDLING_CRASH_POINTS") else {
        return (35, 15);
    };
    let parse = |v: &str| -> usize {
        v.trim().parse().unwrap_or_else(|_| {
            panic!("KINDLING_CRASH_POINTS={s:?}: expected FILES,DISKS (two numbers)")
        })
    };
    let (f, d) = s
        .split_once(',')
        .unwrap_or_else(|| panic!("KINDLING_CRASH_POINTS={s:?}: expected FILES,DISKS"));
    (parse(f), parse(d))
}

/// Root and strace, or a skip (a failure under CI).
fn prerequisites(test: &str) -> bool {
    if !common::require_root(test) {
        return false;
    }
    if common::find_on_path("strace").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: strace is not installed, and CI is set, so the crash campaign cannot be skipped (apt-get install strace)"
        );
        common::skip(test, "strace is not installed (apt-get install strace)");
        return false;
    }
    true
}

/// One place to crash: the `nth` call of `syscall` in whichever thread reaches it first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Point {
    syscall: String,
    nth: u32,
    /// Where it fell among all [`SET`] calls of the uninterrupted run (1-based), for the log.
    at: usize,
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{} (call {})", self.syscall, self.nth, self.at)
    }
}

/// Runs `cmd` to completion under `strace -f`, and lists every point it went through.
fn trace_points(cmd: &Command, work: &Path) -> (Output, Vec<Point>) {
    let log = work.join("strace.log");
    let mut traced = Command::new("strace");
    traced
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .arg(format!("--trace={SET}"));
    let out = wrap(traced, cmd).output().expect("strace runs");
    let text = fs::read_to_string(&log).expect("strace's log");
    let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut points = Vec::new();
    let mut calls = 0;
    for line in text.lines() {
        // "PID name(args…" starts a call; "<… name resumed>", "+++" and "---" lines do not.
        let mut words = line.splitn(2, ' ');
        let (Some(tid), Some(rest)) = (words.next(), words.next()) else {
            continue;
        };
        let rest = rest.trim_start();
        let Some((name, _)) = rest.split_once('(') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        calls += 1;
        let n = counts
            .entry((tid.to_owned(), name.to_owned()))
            .and_modify(|n| *n += 1)
            .or_insert(1);
        if seen.insert((name.to_owned(), *n)) {
            points.push(Point {
                syscall: name.to_owned(),
                nth: *n,
                at: calls,
            });
        }
    }
    (out, points)
}

/// `cmd` run under `strace -f` and killed at `point`.
fn crash(cmd: &Command, point: &Point) -> Output {
    let mut traced = Command::new("strace");
    traced
        .args(["-f", "-qq", "-o", "/dev/null"])
        .arg(format!("--trace={}", point.syscall))
        .arg(format!(
            "--inject={}:signal=SIGKILL:when={}",
            point.syscall, point.nth
        ));
    wrap(traced, cmd).output().expect("strace runs")
}

/// `strace … PROGRAM ARGS` with `cmd`'s program, arguments and environment.
fn wrap(mut strace: Command, cmd: &Command) -> Command {
    strace.arg("--").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => strace.env(k, v),
            None => strace.env_remove(k),
        };
    }
    strace
}

fn how_it_ended(out: &Output) -> String {
    match (out.status.code(), out.status.signal()) {
        (_, Some(9)) => "killed".to_owned(),
        (Some(0), _) => "finished (the point was not reached)".to_owned(),
        (Some(c), _) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let why = err
                .lines()
                .rfind(|l| l.starts_with("  caused by: "))
                .unwrap_or_else(|| last_line(&err))
                .trim_start()
                .to_owned();
            format!("exited {c} (a program it ran was killed): {why}")
        }
        (None, s) => format!("ended by signal {s:?}"),
    }
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// `cp -a`: owners, modes and links as they are.
fn copy_tree(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    loopdev::run_ok(
        "cp",
        &[
            "-a",
            from.to_str().expect("utf-8"),
            to.to_str().expect("utf-8"),
        ],
    );
}

/// What a campaign found, point by point: the failures, how each point ended, and a log
/// printed in one piece at the end.
struct Tally {
    stage: &'static str,
    seed: u64,
    failures: common::Failures,
    outcomes: BTreeMap<&'static str, usize>,
    log: String,
}

impl Tally {
    fn start(stage: &'static str, seed: u64, points: usize, all: usize) -> Self {
        shown(&format!(
            "{stage} crash campaign: seed {seed} (KINDLING_CRASH_SEED={seed} replays it), {points} of {all} points:"
        ));
        Self {
            stage,
            seed,
            failures: common::Failures::new(),
            outcomes: BTreeMap::new(),
            log: String::new(),
        }
    }

    /// The rerun after a kill at `point` refused: judged, and logged.
    fn refused(&mut self, point: &Point, rerun: &Output) -> &'static str {
        judge_refusal(self.stage, point, rerun, &mut self.failures);
        self.log
            .push_str(&format!("    refused: {}\n", refusal(rerun)));
        "rerun refused"
    }

    fn note(&mut self, point: &Point, ended: &str, verdict: &'static str) {
        *self.outcomes.entry(verdict).or_default() += 1;
        self.log
            .push_str(&format!("  {point}: {ended}; {verdict}\n"));
    }

    fn finish(self, points: usize) {
        let (stage, seed) = (self.stage, self.seed);
        // One write, so that the other campaign's lines do not interleave.
        shown(&format!(
            "{stage} crash campaign, seed {seed}:\n{}outcomes: {:?}",
            self.log, self.outcomes
        ));
        self.failures
            .finish(points, &format!("{stage} crash points (seed {seed})"));
    }
}

/// The refusal of a rerun must say what it found (an earlier attempt that stopped part way,
/// or a root where provisioning had finished) and what to do.
fn judge_refusal(stage: &str, point: &Point, out: &Output, failures: &mut common::Failures) {
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.contains(&format!("error: {stage} stage failed\n  caused by: "))
        || !(err.contains("stopped part way") || err.contains("provisioning already finished"))
        || !err.contains("boot again")
    {
        failures.push(format!(
            "{stage} {point}: the rerun failed without saying that an earlier attempt stopped part way, and what to do:\n{err}"
        ));
    }
}

/// Writes to stderr directly: the test harness captures `eprintln!` and shows it only for
/// failing tests, and the seed and the points must be in every run's output.
fn shown(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// The causes of a refusal, on one line.
fn refusal(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("  caused by: "))
        .collect::<Vec<_>>()
        .join(" / ")
}

// ---- files ----

/// A config that touches every kind of node: a group, a user with SSH keys, a replaced file,
/// a directory replaced by a file, a new file owned by that user, an append, a directory, links, a unit with a drop-in and a
/// preset.
fn files_config() -> Value {
    json!({
        "ignition": { "version": "3.4.0" },
        "passwd": {
            "groups": [{ "name": "ops", "gid": 4000 }],
            "users": [{
                "name": "core", "uid": 1500, "groups": ["ops"],
                "sshAuthorizedKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl core@crash"]
            }]
        },
        "storage": {
            "directories": [{ "path": "/var/lib/app", "mode": 0o750, "user": { "name": "core" } }],
            "files": [
                { "path": "/etc/hostname", "overwrite": true, "mode": 0o644,
                  "contents": { "source": "data:,node-1%0A" } },
                { "path": "/etc/issue.d", "overwrite": true,
                  "contents": { "source": "data:,a%20file%20where%20a%20directory%20was%0A" } },
                { "path": "/etc/app/config.toml", "mode": 0o600, "user": { "name": "core" },
                  "contents": { "source": "data:;base64,a2V5ID0gMQpvdGhlciA9ICJ2YWx1ZSIK" } },
                { "path": "/usr/share/app/conf.d/notes", "append": [{ "source": "data:,appended%20line%0A" }] },
                { "path": "/var/lib/app/big", "mode": 0o644,
                  "contents": { "source": format!("data:,{}", "0123456789abcdef".repeat(8192)) } }
            ],
            "links": [
                { "path": "/etc/localtime", "target": "/usr/share/zoneinfo/UTC" },
                { "path": "/etc/app/config.hard", "target": "/etc/app/config.toml", "hard": true }
            ]
        },
        "systemd": { "units": [{
            "name": "app.service", "enabled": true,
            "contents": "[Unit]\nDescription=app\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
            "dropins": [{ "name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n" }]
        }] }
    })
}

struct FilesBench {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    base: PathBuf,
    run_template: PathBuf,
}

impl FilesBench {
    fn new() -> Self {
        let (tmp, dir, base) = common::dir_with_root("base");
        fs::write(base.join("etc/hostname"), "old-name\n").expect("hostname");
        // A directory that a file replaces (overwrite: true).
        fs::create_dir_all(base.join("etc/issue.d/sub")).expect("issue.d");
        fs::write(base.join("etc/issue.d/sub/10-old"), "old\n").expect("issue.d file");
        // Deep, so that the append comes after most other nodes.
        fs::create_dir_all(base.join("usr/share/app/conf.d")).expect("conf.d");
        fs::write(base.join("usr/share/app/conf.d/notes"), "welcome\n").expect("notes");
        fs::create_dir_all(base.join("home")).expect("home");
        let work = dir.join("fetch");
        fs::create_dir_all(&work).expect("work dir");
        fs::write(work.join("cmdline"), "").expect("cmdline");
        let config = dir.join("config.ign");
        fs::write(&config, serde_json::to_vec(&files_config()).expect("json")).expect("config");
        let run = work.join("run");
        let base_dir = work.join("base.d");
        let fetch = common::run_with_env(
            &common::kindling(),
            &[
                "fetch-offline".as_ref(),
                "--platform".as_ref(),
                "file".as_ref(),
                "--run-dir".as_ref(),
                run.as_os_str(),
                "--cmdline-file".as_ref(),
                work.join("cmdline").as_os_str(),
                "--base-dir".as_ref(),
                base_dir.as_os_str(),
            ],
            &[("KINDLING_CONFIG_FILE", config.to_str().expect("utf-8"))],
        );
        assert!(fetch.succeeded(), "fetch-offline failed:\n{fetch}");
        let run_template = work.join("run");
        assert!(
            run_template.join("config.json").is_file(),
            "fetch-offline left no config.json"
        );
        Self {
            _tmp: tmp,
            dir,
            base,
            run_template,
        }
    }

    /// `kindling files` on `root` with the run directory `run`.
    fn command(&self, root: &Path, run: &Path) -> Command {
        let mut cmd = Command::new(common::kindling());
        cmd.arg("files")
            .args(["--platform", "file", "--run-dir"])
            .arg(run)
            .arg("--cmdline-file")
            .arg(self.dir.join("fetch/cmdline"))
            .arg("--base-dir")
            .arg(self.dir.join("fetch/base.d"))
            .arg("--root")
            .arg(root);
        cmd
    }
}

/// The account databases shadow-utils rewrites.
const SHADOW_DBS: [&str; 4] = ["passwd", "group", "shadow", "gshadow"];

/// shadow-utils' own working files in /etc: `passwd.lock`, `passwd.<pid>` (on the way to a
/// lock), `passwd+` (the new database before its rename) and `passwd-` (the backup).
/// shadow-utils writes none of them atomically, so a killed useradd leaves them anyhow; a
/// rerun must clear the first three (the tree comparison checks that).
fn shadow_working_file(rel: &str) -> bool {
    let Some(name) = rel.strip_prefix("etc/") else {
        return false;
    };
    SHADOW_DBS.iter().any(|db| {
        name.strip_prefix(db).is_some_and(|rest| {
            matches!(rest, ".lock" | "+" | "-")
                || rest
                    .strip_prefix('.')
                    .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// What two roots are compared on: everything but the report, which holds dates. A backup
/// `passwd-` holds the version before the last change, which depends on the order of the
/// changes; it is compared on being a whole, well-formed version instead.
fn comparable(tree: BTreeMap<String, TreeNode>) -> BTreeMap<String, TreeNode> {
    tree.into_iter()
        .filter(|(rel, _)| rel != REPORT && rel != REPORT_PREV)
        .map(|(rel, mut node)| {
            if rel.ends_with('-') && shadow_working_file(&rel) && node.kind == "file" {
                node.data = if account_file_is_well_formed(&rel, &node.data) {
                    b"(a well-formed backup)".to_vec()
                } else {
                    b"(a broken backup)".to_vec()
                };
            }
            (rel, node)
        })
        .collect()
}

fn account_file_is_well_formed(rel: &str, data: &[u8]) -> bool {
    let fields = match rel {
        "etc/passwd" | "etc/passwd-" => 7,
        "etc/group" | "etc/group-" | "etc/gshadow" | "etc/gshadow-" => 4,
        "etc/shadow" | "etc/shadow-" => 9,
        _ => return false,
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    text.ends_with('\n') && text.lines().all(|l| l.split(':').count() == fields)
}

/// Every regular file in the crashed root is whole: as before the stage, as after an
/// uninterrupted one, or (account files) a complete version. Returns the problems.
fn half_written(
    crashed: &BTreeMap<String, TreeNode>,
    before: &BTreeMap<String, TreeNode>,
    after: &BTreeMap<String, TreeNode>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (rel, node) in crashed {
        if node.kind != "file" {
            continue;
        }
        let known = [before.get(rel), after.get(rel)];
        if known.iter().flatten().any(|k| k.data == node.data) {
            continue;
        }
        if account_file_is_well_formed(rel, &node.data) || shadow_working_file(rel) {
            continue;
        }
        if rel == REPORT || rel == ATTEMPT_MARKER {
            if serde_json::from_slice::<Value>(&node.data).is_err() {
                problems.push(format!("{rel} is not whole JSON"));
            }
            continue;
        }
        // Under the engine's temporary name: a new file linked in whole and not yet renamed,
        // or a directory that overwrite swapped out and had not finished removing (its files
        // are the old ones). The rerun must clear them (checked by the tree comparison).
        if rel
            .split('/')
            .any(|c| c.starts_with(".kindling.") && c.ends_with(".tmp"))
        {
            continue;
        }
        problems.push(format!(
            "{rel} holds neither its old nor its new content ({} bytes)",
            node.data.len()
        ));
    }
    problems
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

#[test]
fn files_stage_survives_sigkill_at_random_points() {
    if !prerequisites("files_stage_survives_sigkill_at_random_points") {
        return;
    }
    let seed = seed();
    let (want, _) = points_per_stage();
    let bench = FilesBench::new();
    let before = common::tree(&bench.base);

    // The uninterrupted run, traced: its tree is the reference, its calls the points.
    let reference = bench.dir.join("reference");
    copy_tree(&bench.base, &reference);
    let run = bench.dir.join("run-reference");
    copy_tree(&bench.run_template, &run);
    let (out, all) = trace_points(&bench.command(&reference, &run), &bench.dir);
    assert!(
        out.status.success(),
        "the uninterrupted files stage failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = common::tree(&reference);
    assert!(
        !after.contains_key(ATTEMPT_MARKER),
        "a finished files stage leaves no attempt marker"
    );
    let report = read_json(&reference.join(REPORT)).expect("the reference report");
    assert_eq!(report["attempts"]["files"]["attempt"], 1, "{report:#}");

    let mut rng = Rng(seed);
    let points: Vec<Point> = rng
        .choose(all.len(), want)
        .into_iter()
        .map(|i| all[i].clone())
        .collect();
    let mut tally = Tally::start("files", seed, points.len(), all.len());
    for point in &points {
        let root = bench.dir.join("root");
        copy_tree(&bench.base, &root);
        let run = bench.dir.join("run");
        copy_tree(&bench.run_template, &run);
        let crashed = crash(&bench.command(&root, &run), point);
        let ended = how_it_ended(&crashed);
        let snapshot = common::tree(&root);
        for p in half_written(&snapshot, &before, &after) {
            tally
                .failures
                .push(format!("files {point}: after the kill, {p}"));
        }
        let marker = snapshot.contains_key(ATTEMPT_MARKER);
        let changed = comparable(snapshot.clone())
            .into_iter()
            .filter(|(rel, node)| before.get(rel) != Some(node))
            .map(|(rel, _)| rel)
            .chain(
                before
                    .keys()
                    .filter(|k| !snapshot.contains_key(*k))
                    .cloned(),
            )
            .filter(|rel| rel != ATTEMPT_MARKER)
            .collect::<Vec<_>>();
        if crashed.status.success() {
            // Threads and programs do not always make their calls in one order.
            tally.note(point, &ended, "point not reached");
            continue;
        }
        // Killed after its last step in the root (the marker removed, the report there): the
        // stage had finished, and a rerun is a first boot run again over a provisioned root.
        let reported = !marker && snapshot.contains_key(REPORT);
        if !marker && !reported && !changed.is_empty() {
            tally.failures.push(format!(
                "files {point}: the killed attempt changed {changed:?} but left no attempt marker"
            ));
        }

        let rerun = bench.command(&root, &run).output().expect("kindling runs");
        let verdict = if rerun.status.success() {
            let got = comparable(common::tree(&root));
            let wanted = comparable(after.clone());
            if got != wanted {
                let mut diff = String::new();
                for k in got.keys().chain(wanted.keys()).collect::<BTreeSet<_>>() {
                    if got.get(k) != wanted.get(k) {
                        diff.push_str(&format!(
                            "  {k}: got {}, want {}\n",
                            got.get(k).map_or("nothing".into(), |n| n.to_string()),
                            wanted.get(k).map_or("nothing".into(), |n| n.to_string())
                        ));
                    }
                }
                tally.failures.push(format!(
                    "files {point}: the rerun succeeded with another tree:\n{diff}"
                ));
            }
            let report = read_json(&root.join(REPORT)).unwrap_or_default();
            let record = &report["attempts"]["files"];
            let expected = u64::from(marker) + 1;
            if reported && !root.join(REPORT_PREV).exists() {
                tally.failures.push(format!(
                    "files {point}: the rerun over a provisioned root kept no previous report"
                ));
            }
            if record["attempt"] != expected || (marker && record["interrupted"][0]["attempt"] != 1)
            {
                tally.failures.push(format!(
                    "files {point}: the report says {record} (the killed attempt {} a marker)",
                    if marker { "left" } else { "left no" }
                ));
            }
            "rerun completed"
        } else {
            tally.refused(point, &rerun)
        };
        tally.note(point, &ended, verdict);
    }
    tally.finish(points.len());
}

// ---- disks ----

/// The size of the campaign's disk.
const DISK_MIB: u64 = 64;
/// Which attempt of the disks stage finished, for the report.
const DISKS_RECORD: &str = "summary/disks.attempt.json";
const LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
/// The partition GUIDs of one test's disk. The filesystems name their partitions by GUID
/// (`/dev/disk/by-partuuid/…`), so tests that run side by side need their own.
struct Guids {
    g1: String,
    g2: String,
}

impl Guids {
    fn new(test: u8) -> Self {
        Self {
            g1: format!("C4A5E0B1-0001-4000-8000-0000000C0A{test:X}1"),
            g2: format!("C4A5E0B1-0002-4000-8000-0000000C0A{test:X}2"),
        }
    }

    fn by_partuuid(guid: &str) -> String {
        format!("/dev/disk/by-partuuid/{}", guid.to_lowercase())
    }
}
const U1: &str = "7e3f2a10-0001-4c2b-9d3e-0000000c0a51";
const U2: &str = "7E3F-0A52";

fn disks_config(disk: &LoopDisk, guids: &Guids) -> Value {
    json!({
        "ignition": { "version": "3.4.0" },
        "storage": {
            "disks": [{
                "device": disk.path_str(),
                "partitions": [
                    { "number": 1, "label": "crash-data", "sizeMiB": 24, "typeGuid": LINUX, "guid": guids.g1 },
                    { "number": 2, "label": "crash-efi", "sizeMiB": 16, "guid": guids.g2 }
                ]
            }],
            "filesystems": [
                { "device": Guids::by_partuuid(&guids.g1),
                  "format": "ext4", "label": "crash-data", "uuid": U1 },
                { "device": Guids::by_partuuid(&guids.g2),
                  "format": "vfat", "label": "CRASHEFI", "uuid": U2 }
            ]
        }
    })
}

/// The table and the two filesystems' signatures.
fn disk_state(disk: &LoopDisk) -> (String, Probe, Probe) {
    let _ = loopdev::try_sync_partitions(disk.path());
    let table = loopdev::sgdisk_table(disk.path());
    let p1 = if table == "no GPT" {
        Probe::default()
    } else {
        loopdev::blkid_probe(&disk.part(1))
    };
    let p2 = if table == "no GPT" {
        Probe::default()
    } else {
        loopdev::blkid_probe(&disk.part(2))
    };
    (table, p1, p2)
}

/// Back to a blank disk, every byte zero, with the kernel and udev told: what an earlier
/// point's mkfs wrote must not make a half-made filesystem look whole.
fn blank(disk: &LoopDisk) {
    let dev = disk.path_str();
    loopdev::run_ok(
        "dd",
        &[
            "if=/dev/zero",
            &format!("of={dev}"),
            "bs=1M",
            &format!("count={DISK_MIB}"),
            "conv=fsync",
            "status=none",
        ],
    );
    loopdev::sync_partitions(disk.path());
}

/// The filesystems are whole: `e2fsck -fn` and `fsck.vfat -n` find nothing to repair.
fn fsck_problems(disk: &LoopDisk) -> Vec<String> {
    let mut problems = Vec::new();
    for (program, args, part) in [("e2fsck", ["-f", "-n"], 1), ("fsck.vfat", ["-n", "-V"], 2)] {
        let dev = disk.part(part);
        let dev = dev.to_str().expect("utf-8");
        let out = loopdev::run(program, &[args[0], args[1], dev]);
        if !out.status.success() {
            problems.push(format!(
                "{program} {} {dev} found damage ({:?}):\n{}{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    problems
}

#[test]
fn disks_stage_survives_sigkill_at_random_points() {
    if !prerequisites("disks_stage_survives_sigkill_at_random_points") {
        return;
    }
    let seed = seed();
    let (_, want) = points_per_stage();
    let disk = LoopDisk::new(DISK_MIB);
    let guids = Guids::new(1);
    let env = support::stage::Env::new("kindling.platform.id=file");
    let config = env.path("config.ign");
    fs::write(
        &config,
        serde_json::to_vec(&disks_config(&disk, &guids)).expect("json"),
    )
    .expect("config");
    let fetch = env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &config)]);
    support::stage::assert_ok(&fetch);
    let template = env.path("run-template");
    copy_tree(&env.run_dir(), &template);
    let fresh_run = || copy_tree(&template, &env.run_dir());
    let disks = || env.command("disks", &[], &[]);

    loopdev::settle();
    let (out, all) = trace_points(&disks(), env.dir.path());
    support::stage::assert_ok(&out);
    let reference = disk_state(&disk);
    assert_eq!(
        reference.1,
        Probe::new("ext4", "crash-data", U1),
        "the uninterrupted run's ext4"
    );
    assert_eq!(fsck_problems(&disk), Vec::<String>::new());
    let record = read_json(&env.run_dir().join(DISKS_RECORD)).expect("disks attempt record");
    assert_eq!(record["attempt"], 1, "{record:#}");

    // The same seed as the files campaign, on another stream.
    let mut rng = Rng(seed ^ 0xD15C);
    let points: Vec<Point> = rng
        .choose(all.len(), want)
        .into_iter()
        .map(|i| all[i].clone())
        .collect();
    let mut tally = Tally::start("disks", seed, points.len(), all.len());
    for point in &points {
        blank(&disk);
        fresh_run();
        let crashed = crash(&disks(), point);
        let ended = how_it_ended(&crashed);
        if crashed.status.success() {
            tally.note(point, &ended, "point not reached");
            continue;
        }
        let marker = env.run_dir().join("attempt/disks.json").exists();
        for dir in ["summary", "attempt"] {
            for entry in fs::read_dir(env.run_dir().join(dir))
                .into_iter()
                .flatten()
                .flatten()
            {
                // `.NAME.kindling-tmp-PID`: an atomic write's temporary file, which nothing
                // reads; the run directory is gone at the next boot.
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                if read_json(&entry.path()).is_none() {
                    tally.failures.push(format!(
                        "disks {point}: after the kill, {} is not whole JSON",
                        entry.path().display()
                    ));
                }
            }
        }
        loopdev::settle();
        let rerun = disks().output().expect("kindling runs");
        let verdict = if rerun.status.success() {
            let got = disk_state(&disk);
            if got != reference {
                tally.failures.push(format!(
                    "disks {point}: the rerun succeeded with another disk:\ngot {got:#?}\nwant {reference:#?}"
                ));
            }
            for p in fsck_problems(&disk) {
                tally
                    .failures
                    .push(format!("disks {point}: after the rerun, {p}"));
            }
            let record = read_json(&env.run_dir().join(DISKS_RECORD)).unwrap_or_default();
            let expected = u64::from(marker) + 1;
            if record["attempt"] != expected {
                tally.failures.push(format!(
                    "disks {point}: the summary says {record} (the killed attempt {} a marker)",
                    if marker { "left" } else { "left no" }
                ));
            }
            "rerun completed"
        } else {
            tally.refused(point, &rerun)
        };
        tally.note(point, &ended, verdict);
    }
    tally.finish(points.len());
}

// An attempt killed after sgdisk wrote the table and before the kernel was told left a table
// that matches the config but partitions the kernel does not know: the rerun kept the table
// and then waited in vain for /dev/disk/by-partuuid/… (found by the campaign above).
#[test]
fn a_matching_table_the_kernel_was_never_told_about_is_announced() {
    if !common::require_root("a_matching_table_the_kernel_was_never_told_about_is_announced") {
        return;
    }
    let disk = LoopDisk::new(DISK_MIB);
    let guids = Guids::new(2);
    let env = support::stage::Env::new("kindling.platform.id=file");
    let config = env.path("config.ign");
    fs::write(
        &config,
        serde_json::to_vec(&disks_config(&disk, &guids)).expect("json"),
    )
    .expect("config");
    support::stage::assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &config)]));
    // The table an interrupted attempt wrote, without partx: the kernel knows nothing of it.
    loopdev::run_ok(
        "sgdisk",
        &[
            "--new=1:0:+24M",
            "--change-name=1:crash-data",
            &format!("--typecode=1:{LINUX}"),
            &format!("--partition-guid=1:{}", guids.g1),
            "--new=2:0:+16M",
            "--change-name=2:crash-efi",
            &format!("--partition-guid=2:{}", guids.g2),
            disk.path_str(),
        ],
    );
    assert!(
        loopdev::kernel_partitions(disk.path()).is_empty(),
        "the kernel must not know the partitions yet"
    );
    loopdev::settle();
    let out = env.stage("disks", &[]);
    support::stage::assert_ok(&out);
    assert_eq!(
        loopdev::blkid_probe(&disk.part(1)),
        Probe::new("ext4", "crash-data", U1)
    );
}

// ---- What a rerun finds after an interrupted files stage, set up exactly ----

/// The marker an attempt killed part way leaves: attempt 1, `appending` as given.
fn interrupted_marker(root: &Path, appending: bool) {
    let marker = json!({
        "attempt": 1, "started": "2026-01-01T00:00:00Z", "bootId": "0b0b0b0b",
        "interrupted": [], "appending": appending, "failed": false
    });
    fs::write(
        root.join(ATTEMPT_MARKER),
        serde_json::to_vec(&marker).expect("json"),
    )
    .expect("marker");
}

/// A fresh root prepared by `prepare`, then fetch-offline and files with `config`.
fn files_after(
    config: &Value,
    prepare: impl FnOnce(&Path),
) -> (tempfile::TempDir, common::Outcome) {
    let tmp = tempfile::tempdir().expect("tempdir");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = tmp.path().join("root");
    fs::create_dir(&root).expect("root");
    common::make_files_root(&root);
    fs::create_dir_all(root.join("home")).expect("home");
    prepare(&root);
    let file = tmp.path().join("config.ign");
    fs::write(&file, serde_json::to_vec(config).expect("json")).expect("config");
    let (fetch, files) = common::kindling_files(&file, &root, &tmp.path().join("work"), "", &[]);
    let files = files.unwrap_or_else(|| panic!("fetch-offline failed:\n{fetch}"));
    (tmp, files)
}

fn report_of(tmp: &tempfile::TempDir) -> Value {
    read_json(&tmp.path().join("root").join(REPORT)).expect("a report")
}

#[test]
fn a_stale_shadow_lock_of_a_killed_useradd_is_cleared_on_the_rerun() {
    if !common::require_root("a_stale_shadow_lock_of_a_killed_useradd_is_cleared_on_the_rerun") {
        return;
    }
    let config = json!({ "ignition": { "version": "3.4.0" },
                         "passwd": { "users": [{ "name": "core" }] } });
    // A killed useradd held the lock; its pid now names a live process (pid 1), as it can
    // after a reboot, so shadow-utils cannot tell the lock is stale.
    let (tmp, out) = files_after(&config, |root| {
        interrupted_marker(root, false);
        fs::write(root.join("etc/passwd.lock"), "1").expect("lock");
        fs::write(root.join("etc/passwd.1"), "1").expect("lock on the way");
        fs::write(root.join("etc/shadow+"), "root:*:").expect("half a new shadow");
    });
    assert!(out.succeeded(), "{out}");
    let root = tmp.path().join("root");
    for left in ["etc/passwd.lock", "etc/passwd.1", "etc/shadow+"] {
        assert!(!root.join(left).exists(), "{left} is still there");
    }
    assert!(fs::read_to_string(root.join("etc/passwd"))
        .expect("passwd")
        .contains("core:"));
    assert!(out.stderr.contains("removed /etc/passwd.lock"), "{out}");
    let record = &report_of(&tmp)["attempts"]["files"];
    assert_eq!(record["attempt"], 2, "{record}");
    assert_eq!(record["interrupted"][0]["bootId"], "0b0b0b0b", "{record}");
    assert!(
        !root.join(ATTEMPT_MARKER).exists(),
        "the marker stays after success"
    );
}

#[test]
fn a_user_half_made_by_a_killed_useradd_is_refused_with_the_fix() {
    if !common::require_root("a_user_half_made_by_a_killed_useradd_is_refused_with_the_fix") {
        return;
    }
    let config = json!({ "ignition": { "version": "3.4.0" },
                         "passwd": { "users": [{ "name": "core" }] } });
    let (_tmp, out) = files_after(&config, |root| {
        interrupted_marker(root, false);
        let mut passwd = fs::read_to_string(root.join("etc/passwd")).expect("passwd");
        passwd.push_str("core:x:1000:1000::/home/core:/bin/sh\n");
        fs::write(root.join("etc/passwd"), passwd).expect("passwd");
    });
    assert!(!out.succeeded(), "{out}");
    for needle in [
        "attempt 1 (started 2026-01-01T00:00:00Z, boot 0b0b0b0b) stopped part way",
        "the user core is in /etc/passwd but not in /etc/shadow",
        "userdel --remove",
    ] {
        assert!(out.stderr.contains(needle), "no {needle:?} in:\n{out}");
    }
    // Without an interrupted attempt the same root is not checked: usermod runs as before.
    let (_tmp, out) = files_after(&config, |root| {
        let mut passwd = fs::read_to_string(root.join("etc/passwd")).expect("passwd");
        passwd.push_str("core:x:1000:1000::/home/core:/bin/sh\n");
        fs::write(root.join("etc/passwd"), passwd).expect("passwd");
    });
    assert!(!out.stderr.contains("stopped part way"), "{out}");
}

#[test]
fn a_file_the_interrupted_attempt_wrote_is_kept_and_other_content_is_refused() {
    if !common::require_root(
        "a_file_the_interrupted_attempt_wrote_is_kept_and_other_content_is_refused",
    ) {
        return;
    }
    let config = json!({ "ignition": { "version": "3.4.0" }, "storage": { "files": [
        { "path": "/etc/app.conf", "mode": 0o640, "contents": { "source": "data:,new%0A" } }
    ] } });
    let (tmp, out) = files_after(&config, |root| {
        interrupted_marker(root, false);
        fs::write(root.join("etc/app.conf"), "new\n").expect("written before");
    });
    assert!(out.succeeded(), "{out}");
    let node = common::tree(&tmp.path().join("root"))
        .remove("etc/app.conf")
        .expect("app.conf");
    assert_eq!((node.data.as_slice(), node.mode), (&b"new\n"[..], 0o640));
    assert!(
        out.stderr.contains("as the interrupted attempt wrote it"),
        "{out}"
    );

    let (_tmp, out) = files_after(&config, |root| {
        interrupted_marker(root, false);
        fs::write(root.join("etc/app.conf"), "the image's\n").expect("in the image");
    });
    assert!(!out.succeeded(), "{out}");
    for needle in [
        "stopped part way",
        "/etc/app.conf: a file with other content already exists there",
    ] {
        assert!(out.stderr.contains(needle), "no {needle:?} in:\n{out}");
    }
}

#[test]
fn appends_are_refused_only_after_an_attempt_that_may_have_appended() {
    if !common::require_root("appends_are_refused_only_after_an_attempt_that_may_have_appended") {
        return;
    }
    let config = json!({ "ignition": { "version": "3.4.0" }, "storage": { "files": [
        { "path": "/etc/profile", "append": [{ "source": "data:,more%0A" }] }
    ] } });
    let prepare = |appending: bool| {
        move |root: &Path| {
            interrupted_marker(root, appending);
            fs::write(root.join("etc/profile"), "old\n").expect("profile");
        }
    };
    let (tmp, out) = files_after(&config, prepare(true));
    assert!(!out.succeeded(), "{out}");
    for needle in [
        "after it began to append to files (/etc/profile)",
        "remove /etc/.kindling-attempt.json",
    ] {
        assert!(out.stderr.contains(needle), "no {needle:?} in:\n{out}");
    }
    let root = tmp.path().join("root");
    assert_eq!(
        fs::read_to_string(root.join("etc/profile")).expect("profile"),
        "old\n"
    );
    assert!(
        root.join(ATTEMPT_MARKER).exists(),
        "the refusal keeps the marker"
    );

    let (tmp, out) = files_after(&config, prepare(false));
    assert!(out.succeeded(), "{out}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("root/etc/profile")).expect("profile"),
        "old\nmore\n"
    );
}

#[test]
fn a_failed_attempt_is_named_as_failed_and_its_failed_append_does_not_block_the_next() {
    if !common::require_root(
        "a_failed_attempt_is_named_as_failed_and_its_failed_append_does_not_block_the_next",
    ) {
        return;
    }
    // The append's hash is wrong: the first attempt fails with nothing appended.
    let bad = json!({ "ignition": { "version": "3.4.0" }, "storage": { "files": [
        { "path": "/etc/profile", "append": [{ "source": "data:,more%0A",
          "verification": { "hash": format!("sha512-{}", "0".repeat(128)) } }] }
    ] } });
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    fs::create_dir(&root).expect("root");
    common::make_files_root(&root);
    fs::write(root.join("etc/profile"), "old\n").expect("profile");
    let run = |config: &Value, n: usize| {
        let file = tmp.path().join(format!("config{n}.ign"));
        fs::write(&file, serde_json::to_vec(config).expect("json")).expect("config");
        let (fetch, files) =
            common::kindling_files(&file, &root, &tmp.path().join(format!("work{n}")), "", &[]);
        files.unwrap_or_else(|| panic!("fetch-offline failed:\n{fetch}"))
    };
    let first = run(&bad, 1);
    assert!(!first.succeeded(), "{first}");
    let marker = read_json(&root.join(ATTEMPT_MARKER)).expect("the marker stays");
    assert_eq!(
        (marker["failed"].clone(), marker["appending"].clone()),
        (json!(true), json!(false))
    );

    let good = json!({ "ignition": { "version": "3.4.0" }, "storage": { "files": [
        { "path": "/etc/profile", "append": [{ "source": "data:,more%0A" }] }
    ] } });
    let second = run(&good, 2);
    assert!(second.succeeded(), "{second}");
    assert!(
        second.stderr.contains("stopped part way: it failed"),
        "{second}"
    );
    let report = read_json(&root.join(REPORT)).expect("report");
    assert_eq!(report["attempts"]["files"]["attempt"], 2);
    assert_eq!(
        report["attempts"]["files"]["interrupted"][0]["failed"],
        true
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/profile")).expect("profile"),
        "old\nmore\n"
    );
}

#[test]
fn a_first_boot_run_again_over_a_provisioned_root_says_so_when_it_fails() {
    if !common::require_root("a_first_boot_run_again_over_a_provisioned_root_says_so_when_it_fails")
    {
        return;
    }
    // The stage finished (report written, marker removed), then was killed or the power went
    // before the first-boot stamp was removed: the next boot meets its own files.
    let config = json!({ "ignition": { "version": "3.4.0" }, "storage": { "files": [
        { "path": "/etc/app.conf", "contents": { "source": "data:,new%0A" } }
    ] } });
    let (tmp, out) = files_after(&config, |root| {
        fs::write(root.join("etc/app.conf"), "new\n").expect("written before");
        let report = json!({ "provisioningDate": "2026-01-01T00:00:00Z",
                             "provisioningBootId": "0c0c0c0c" });
        fs::write(root.join(REPORT), report.to_string()).expect("report");
    });
    assert!(!out.succeeded(), "{out}");
    for needle in [
        "provisioning already finished (on 2026-01-01T00:00:00Z, boot 0c0c0c0c",
        "remove the stamp and boot again",
        "/etc/app.conf: a file already exists there",
    ] {
        assert!(out.stderr.contains(needle), "no {needle:?} in:\n{out}");
    }
    // The failed attempt leaves its marker, so the boot after that says it stopped part way.
    let marker = read_json(&tmp.path().join("root").join(ATTEMPT_MARKER)).expect("marker");
    assert_eq!(marker["failed"], true, "{marker}");
}

// mkfs.vfat writes its boot sector (the volume id) first and the root directory (the label
// blkid reads) last: killed in between, it leaves a vfat with the config's volume id and
// broken FATs. The rerun kept it when the config gives no label, and refused it ("holds vfat
// …") when it does (found by the campaign once the disk was zeroed between points).
#[test]
fn a_filesystem_an_interrupted_attempt_began_to_make_is_made_again() {
    if !prerequisites("a_filesystem_an_interrupted_attempt_began_to_make_is_made_again") {
        return;
    }
    let disk = LoopDisk::new(DISK_MIB);
    let guids = Guids::new(3);
    let env = support::stage::Env::new("kindling.platform.id=file");
    let config = env.path("config.ign");
    fs::write(
        &config,
        serde_json::to_vec(&disks_config(&disk, &guids)).expect("json"),
    )
    .expect("config");
    support::stage::assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &config)]));
    support::stage::assert_ok(&env.stage("disks", &[]));
    // Zero the FAT partition, then let mkfs.vfat die after its 6th write.
    let p2 = disk.part(2);
    let p2s = p2.to_str().expect("utf-8");
    loopdev::run_ok(
        "dd",
        &[
            "if=/dev/zero",
            &format!("of={p2s}"),
            "bs=1M",
            "count=16",
            "status=none",
        ],
    );
    let mkfs = loopdev::run(
        "strace",
        &[
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "--trace=write",
            "--inject=write:signal=SIGKILL:when=6",
            "mkfs.vfat",
            "-i",
            "7e3f0a52",
            "-n",
            "CRASHEFI",
            p2s,
        ],
    );
    assert_eq!(
        mkfs.status.signal(),
        Some(9),
        "mkfs.vfat was not killed ({:?}): {}",
        mkfs.status.code(),
        String::from_utf8_lossy(&mkfs.stderr)
    );
    assert_eq!(
        loopdev::blkid_probe(&p2),
        Probe::new("vfat", "", U2),
        "the half-made filesystem has the config's volume id"
    );
    assert!(
        !fsck_problems(&disk).is_empty(),
        "the half-made filesystem looks whole"
    );
    // The marker the killed attempt left: it was making that filesystem.
    let device = Guids::by_partuuid(&guids.g2);
    let marker = json!({ "attempt": 1, "started": "2026-01-01T00:00:00Z", "bootId": "0d0d",
                         "interrupted": [], "making": [device] });
    fs::create_dir_all(env.run_dir().join("attempt")).expect("attempt dir");
    fs::write(env.run_dir().join("attempt/disks.json"), marker.to_string()).expect("marker");
    loopdev::settle();
    let out = env.stage("disks", &[]);
    support::stage::assert_ok(&out);
    assert!(
        support::stage::stderr(&out).contains("did not finish; making it again"),
        "{}",
        support::stage::stderr(&out)
    );
    assert_eq!(fsck_problems(&disk), Vec::<String>::new());
    assert_eq!(
        loopdev::blkid_probe(&p2),
        Probe::new("vfat", "CRASHEFI", U2)
    );
    let record = read_json(&env.run_dir().join(DISKS_RECORD)).expect("record");
    assert_eq!(record["attempt"], 2, "{record}");
    assert!(!env.run_dir().join("attempt/disks.json").exists());
}

// sgdisk killed while it wrote the table (the campaign hit it at sgdisk's 30th ioctl) leaves a
// main table that fails its checksum beside an intact backup. gptman read the backup, the
// stage kept "the table", and partx, which reads the main one, failed with "failed to read
// partition table".
#[test]
fn a_table_whose_writing_stopped_part_way_is_refused_with_the_fix() {
    if !common::require_root("a_table_whose_writing_stopped_part_way_is_refused_with_the_fix") {
        return;
    }
    let disk = LoopDisk::new(DISK_MIB);
    let guids = Guids::new(4);
    let env = support::stage::Env::new("kindling.platform.id=file");
    let mut config = disks_config(&disk, &guids);
    config["storage"]["filesystems"] = json!([]);
    let write_config = |config: &Value| {
        let path = env.path("config.ign");
        fs::write(&path, serde_json::to_vec(config).expect("json")).expect("config");
        let _ = fs::remove_dir_all(env.run_dir());
        support::stage::assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &path)]));
    };
    write_config(&config);
    support::stage::assert_ok(&env.stage("disks", &[]));
    // Half of the main partition entries written: their checksum fails, the backup is whole.
    let entry = loopdev::read_at(disk.path(), 1024, 16);
    loopdev::write_at(
        disk.path(),
        1024,
        &entry.iter().map(|b| !b).collect::<Vec<_>>(),
    );
    loopdev::settle();
    let out = env.stage("disks", &[]);
    support::stage::assert_fails(&out, "its main partition table is damaged");
    for needle in ["while the backup table is intact", "set wipeTable: true"] {
        assert!(
            support::stage::stderr(&out).contains(needle),
            "no {needle:?} in:\n{}",
            support::stage::stderr(&out)
        );
    }
    // The fix it names works.
    config["storage"]["disks"][0]["wipeTable"] = json!(true);
    write_config(&config);
    loopdev::settle();
    support::stage::assert_ok(&env.stage("disks", &[]));
    assert_eq!(loopdev::partition_guid(disk.path(), 1), guids.g1);
}
