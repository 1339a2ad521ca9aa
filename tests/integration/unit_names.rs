//! Issue 15, defect 7: unit and drop-in names that are paths (`../../cron.d/evil.service`)
//! were written outside /etc/systemd/system. Validation now refuses them with the JSON path,
//! and the files stage refuses them again, before writing anything, should such a config
//! reach it some other way.
//!
//! The stage runs need root (the files stage chowns); without it they skip, unless CI is set.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn config(systemd: Value) -> Value {
    json!({
        "ignition": {"version": "3.6.0"},
        "storage": {"files": [{"path": "/etc/written-first", "contents": {"source": "data:,x"}}]},
        "systemd": systemd,
    })
}

fn evil_unit() -> Value {
    config(json!({"units": [{"name": "../../cron.d/evil.service",
        "contents": "[Service]\nExecStart=/bin/sh -c 'echo owned'\n"}]}))
}

fn evil_dropin() -> Value {
    config(json!({"units": [{"name": "ok.service",
        "dropins": [{"name": "../../../cron.d/evil.conf", "contents": "[Service]\n"}]}]}))
}

/// A root with an /etc/cron.d to aim at, beside a sentinel directory.
struct Case {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    root: PathBuf,
}

impl Case {
    fn new() -> Self {
        let (tmp, dir, root) = common::dir_with_root("root");
        fs::create_dir_all(root.join("etc/cron.d")).expect("cron.d");
        fs::create_dir_all(root.join("etc/systemd/system")).expect("systemd dir");
        Self {
            _tmp: tmp,
            dir,
            root,
        }
    }

    fn write_config(&self, name: &str, config: &Value) -> PathBuf {
        let file = self.dir.join(name);
        fs::write(&file, serde_json::to_vec_pretty(config).expect("json")).expect("config");
        file
    }

    fn assert_nothing_escaped(&self) {
        for p in ["etc/cron.d/evil.service", "etc/cron.d/evil.conf"] {
            assert!(!self.root.join(p).exists(), "{p} was written");
        }
        assert!(
            !self.dir.join("cron.d").exists() && !self.dir.join("evil.service").exists(),
            "something was written beside the root"
        );
    }
}

#[test]
fn validate_refuses_path_like_unit_and_dropin_names_with_the_json_path() {
    let case = Case::new();
    for (config, path, what) in [
        (
            evil_unit(),
            "$.systemd.units.0.name",
            "invalid systemd unit name",
        ),
        (
            evil_dropin(),
            "$.systemd.units.0.dropins.0.name",
            "invalid systemd drop-in name",
        ),
    ] {
        let file = case.write_config("config.ign", &config);
        let out = common::run_with_env(
            &common::kindling(),
            &["validate".as_ref(), file.as_os_str()],
            &[],
        );
        assert_eq!(out.code, Some(1), "{out}");
        assert!(
            out.stdout.contains(&format!("error at {path}"))
                && out.stdout.contains(what)
                && out.stdout.contains("contains a /"),
            "{out}"
        );
    }
}

#[test]
fn fetch_offline_refuses_them_and_nothing_is_written() {
    if !common::require_root("fetch_offline_refuses_them_and_nothing_is_written") {
        return;
    }
    for (i, config) in [evil_unit(), evil_dropin()].iter().enumerate() {
        let case = Case::new();
        let before = common::tree(&case.root);
        let file = case.write_config("config.ign", config);
        let (fetch, files) = common::kindling_files(
            &file,
            &case.root,
            &case.dir.join(format!("work{i}")),
            "",
            &[],
        );
        assert!(!fetch.succeeded(), "fetch-offline accepted it:\n{fetch}");
        assert!(fetch.stderr.contains("contains a /"), "{fetch}");
        assert!(files.is_none());
        assert_eq!(common::tree(&case.root), before, "the root changed");
        case.assert_nothing_escaped();
    }
}

/// The stage's own check: a run directory whose config.json was changed after validation.
#[test]
fn the_files_stage_refuses_them_before_writing_anything() {
    if !common::require_root("the_files_stage_refuses_them_before_writing_anything") {
        return;
    }
    for (i, evil) in [evil_unit(), evil_dropin()].iter().enumerate() {
        let case = Case::new();
        let work = case.dir.join(format!("work{i}"));
        // A harmless config through fetch-offline, to get a real run directory...
        let good = case.write_config("good.ign", &json!({"ignition": {"version": "3.6.0"}}));
        let (fetch, _) = common::kindling_files(&good, Path::new("/nonexistent"), &work, "", &[]);
        assert!(fetch.succeeded(), "{fetch}");
        // ...whose config.json is then replaced by one that was never validated.
        let run = work.join("run");
        fs::write(
            run.join("config.json"),
            serde_json::to_vec(evil).expect("json"),
        )
        .expect("tamper");
        let out = common::run_with_env(
            &common::kindling(),
            &[
                "files".as_ref(),
                "--platform".as_ref(),
                "file".as_ref(),
                "--run-dir".as_ref(),
                run.as_os_str(),
                "--cmdline-file".as_ref(),
                work.join("cmdline").as_os_str(),
                "--base-dir".as_ref(),
                work.join("base.d").as_os_str(),
                "--root".as_ref(),
                case.root.as_os_str(),
            ],
            &[],
        );
        assert!(!out.succeeded(), "files accepted it:\n{out}");
        assert!(
            out.stderr.contains("refused: it contains a /"),
            "no clear error:\n{out}"
        );
        assert!(
            !case.root.join("etc/written-first").exists(),
            "the stage wrote files before refusing the unit names"
        );
        case.assert_nothing_escaped();
    }
}
