//! Which later stages have nothing to do for a config, noted by the fetch stages so that their
//! units are skipped instead of started.
//!
//! Starting a process is most of what an idle stage costs at boot (under emulation, hundreds of
//! milliseconds each), so the fetch stage that wrote `config.json` also writes
//! `<run-dir>/idle/<stage>` for every stage whose part of the config is empty, with the reason
//! as its text. The units carry `ConditionPathExists=!/run/kindling/idle/<stage>`, and systemd
//! logs the skip. The marker says "skip", not "run": a missing marker (an older engine, a
//! failed write) makes the stage run and decide for itself, through the same test here.

use std::path::Path;

use kindling_spec::Config;

use super::runtime::RuntimeError;
use crate::atomic;

/// A stage whose unit may be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Kargs,
    Disks,
    Mount,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Kargs, Stage::Disks, Stage::Mount];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Kargs => "kargs",
            Stage::Disks => "disks",
            Stage::Mount => "mount",
        }
    }

    /// Why the stage has nothing to do for this config, or `None` when it has work.
    pub fn idle_reason(self, config: &Config) -> Option<&'static str> {
        match self {
            Stage::Kargs => {
                let k = &config.kernel_arguments;
                (k.should_exist.is_empty() && k.should_not_exist.is_empty())
                    .then_some("the config has no kernelArguments")
            }
            Stage::Disks => {
                let s = &config.storage;
                (s.disks.is_empty()
                    && s.raid.is_empty()
                    && s.luks.is_empty()
                    && s.filesystems.is_empty())
                .then_some("the config has no storage.disks, raid, luks or filesystems")
            }
            Stage::Mount => super::mounts::mounts(&config.storage.filesystems)
                .is_empty()
                .then_some("the config has no storage.filesystems with a path"),
        }
    }
}

pub use crate::rundir::idle_dir;

/// Writes a marker for each idle stage and removes stale ones (a second fetch of a changed
/// config must not keep a skip the new config does not allow).
pub fn write(run_dir: &Path, config: &Config) -> Result<(), RuntimeError> {
    let dir = idle_dir(run_dir);
    std::fs::create_dir_all(&dir).map_err(|source| RuntimeError::Write {
        path: dir.clone(),
        source,
    })?;
    for stage in Stage::ALL {
        let path = dir.join(stage.name());
        match stage.idle_reason(config) {
            Some(reason) => {
                let text = format!("{reason}\n");
                atomic::write(&path, text.as_bytes(), 0o644)
                    .map_err(|source| RuntimeError::Write { path, source })?;
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(RuntimeError::Write { path, source }),
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        kindling_spec::parse(json.as_bytes(), kindling_spec::Options::default())
            .expect("valid config")
            .config
    }

    #[test]
    fn an_empty_config_leaves_every_skippable_stage_idle() {
        let c = config(r#"{"ignition":{"version":"3.4.0"}}"#);
        for stage in Stage::ALL {
            assert!(stage.idle_reason(&c).is_some(), "{}", stage.name());
        }
    }

    #[test]
    fn each_section_gives_its_stage_work() {
        let c = config(
            r#"{"ignition":{"version":"3.4.0"},"kernelArguments":{"shouldExist":["quiet"]}}"#,
        );
        assert_eq!(Stage::Kargs.idle_reason(&c), None);
        assert!(Stage::Disks.idle_reason(&c).is_some());

        // A filesystem without a path is work for disks (format) but not for mount.
        let c = config(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"filesystems":[{"device":"/dev/vdb","format":"ext4"}]}}"#,
        );
        assert_eq!(Stage::Disks.idle_reason(&c), None);
        assert!(Stage::Mount.idle_reason(&c).is_some());

        let c = config(
            r#"{"ignition":{"version":"3.4.0"},"storage":{"filesystems":[{"device":"/dev/vdb","format":"ext4","path":"/var"}]}}"#,
        );
        assert_eq!(Stage::Mount.idle_reason(&c), None);
    }

    #[test]
    fn markers_follow_the_config_and_stale_ones_go() {
        let run = tempfile::tempdir().unwrap();
        write(run.path(), &config(r#"{"ignition":{"version":"3.4.0"}}"#)).unwrap();
        let kargs = idle_dir(run.path()).join("kargs");
        assert_eq!(
            std::fs::read_to_string(&kargs).unwrap(),
            "the config has no kernelArguments\n"
        );
        write(
            run.path(),
            &config(
                r#"{"ignition":{"version":"3.4.0"},"kernelArguments":{"shouldNotExist":["quiet"]}}"#,
            ),
        )
        .unwrap();
        assert!(!kargs.exists());
        assert!(idle_dir(run.path()).join("disks").exists());
    }
}
