//! Running stages the way the dracut units run them, in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
    /// `--config-timeout` for the stages (20 s unless a test needs a shorter budget).
    pub config_timeout: u32,
}

impl Env {
    pub fn new(cmdline: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("cmdline"), cmdline).expect("cmdline");
        Env {
            dir,
            config_timeout: 20,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `<trust-dir>`: write policy.json and trust/*.asc here.
    pub fn trust(&self, policy: Option<&str>, certs: &[(&str, &[u8])]) {
        let dir = self.path("trust");
        std::fs::create_dir_all(dir.join("trust")).expect("trust dir");
        if let Some(p) = policy {
            std::fs::write(dir.join("policy.json"), p).expect("policy");
        }
        for (name, bytes) in certs {
            std::fs::write(dir.join("trust").join(name), bytes).expect("cert");
        }
    }

    /// The system config directories the stages search, highest priority first: "run"
    /// stands for /run/kindling, "usr" for /usr/lib/kindling (user.ign, base.d/, …).
    pub fn config_dir(&self, level: &str) -> PathBuf {
        self.path("sysconf").join(level)
    }

    pub fn run_dir(&self) -> PathBuf {
        self.path("run")
    }

    pub fn stage(&self, stage: &str, extra_env: &[(&str, &Path)]) -> Output {
        self.stage_with(stage, &[], extra_env)
    }

    /// [`Env::stage`] with more flags (`--root DIR`, say).
    pub fn stage_with(
        &self,
        stage: &str,
        extra_args: &[&std::ffi::OsStr],
        extra_env: &[(&str, &Path)],
    ) -> Output {
        self.command(stage, extra_args, extra_env)
            .output()
            .expect("kindling runs")
    }

    /// The command [`Env::stage_with`] runs, to run another way (under `/usr/bin/time`, say).
    pub fn command(
        &self,
        stage: &str,
        extra_args: &[&std::ffi::OsStr],
        extra_env: &[(&str, &Path)],
    ) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
        cmd.arg(stage)
            .args(extra_args)
            .arg("--run-dir")
            .arg(self.run_dir())
            .arg("--cmdline-file")
            .arg(self.path("cmdline"))
            .arg("--trust-dir")
            .arg(self.path("trust"))
            .arg("--config-dir")
            .arg(self.config_dir("run"))
            .arg("--config-dir")
            .arg(self.config_dir("usr"))
            .arg("--config-timeout")
            .arg(self.config_timeout.to_string())
            .arg("--device-timeout")
            .arg("3")
            .env_remove("KINDLING_CONFIG_FILE")
            .env_remove("IGNITION_CONFIG_FILE")
            .env("KINDLING_SYSFS", self.path("sys"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn config(&self) -> serde_json::Value {
        let bytes = std::fs::read(self.run_dir().join("config.json")).expect("config.json written");
        serde_json::from_slice(&bytes).expect("config.json is JSON")
    }
}

/// Runs `cmd` under GNU time and returns its output and its peak resident set size in bytes.
/// Without /usr/bin/time the test fails: a memory bound that is not measured is not checked.
pub fn with_peak_rss(cmd: &Command) -> (Output, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time (GNU time, Debian package `time`) is needed to measure peak memory"
    );
    let report = tempfile::NamedTempFile::new().expect("tempfile");
    let mut timed = Command::new(time);
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let out = timed.output().expect("/usr/bin/time runs");
    let text = std::fs::read_to_string(report.path()).expect("time's report");
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    let kib: u64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in time's report: {text:?}"));
    (out, kib * 1024)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

#[track_caller]
pub fn assert_fails(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "expected {needle:?} in:\n{}",
        stderr(o)
    );
}
