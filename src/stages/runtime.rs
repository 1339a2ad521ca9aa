//! Files handed from one stage to the next under the run dir.

use std::path::{Path, PathBuf};

use kindling_spec::Config;
use serde::{Deserialize, Serialize};

use crate::atomic;

/// Where the config came from, carried into the result report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Where the root config came from (redacted URL, provider description), or "none".
    pub source: String,
    /// sha512 of the root config bytes as delivered, when there was one.
    pub config_digest: Option<String>,
    /// Every resource fetched to build the config: (redacted URL, digest).
    pub fetched: Vec<(String, String)>,
    /// How the root config was verified: "hash", "signature", both, or neither.
    #[serde(default)]
    pub verified_by: Vec<String>,
    /// The fingerprint of the certificate that signed the root config.
    #[serde(default)]
    pub signer: Option<String>,
    /// The trust policy in force, e.g. `require signature, strictChain`.
    #[serde(default)]
    pub policy: String,
    /// The root config's TPM measurement, when there was a TPM.
    #[serde(default)]
    pub measurement: Option<crate::verify::measure::Measurement>,
}

pub use crate::rundir::{config as config_path, neednet as neednet_path, state as state_path};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("writing {path} failed: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path} failed: {source}; did the fetch stages run?")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is damaged: it is not UTF-8 text; it is written only by the fetch stages, \
         so reboot to run them again"
    )]
    NotText { path: PathBuf },
    #[error("{path} is damaged: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn write_json(path: PathBuf, value: &impl Serialize) -> Result<(), RuntimeError> {
    let bytes = serde_json::to_vec(value).map_err(|source| RuntimeError::Parse {
        path: path.clone(),
        source,
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| RuntimeError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    atomic::write(&path, &bytes, 0o600).map_err(|source| RuntimeError::Write { path, source })
}

fn read_json<T>(
    path: PathBuf,
    parse: impl FnOnce(&str) -> serde_json::Result<T>,
) -> Result<T, RuntimeError> {
    let bytes = std::fs::read(&path).map_err(|source| RuntimeError::Read {
        path: path.clone(),
        source,
    })?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Err(RuntimeError::NotText { path });
    };
    parse(text).map_err(|source| RuntimeError::Parse { path, source })
}

pub fn write_config(run_dir: &Path, config: &Config, state: &State) -> Result<(), RuntimeError> {
    write_json(state_path(run_dir), state)?;
    write_json(config_path(run_dir), config)
}

pub fn read_config(run_dir: &Path) -> Result<Config, RuntimeError> {
    // Config::from_json shares the parser's compiled deserializer; see there.
    read_json(config_path(run_dir), Config::from_json)
}

pub fn read_state(run_dir: &Path) -> Result<State, RuntimeError> {
    read_json(state_path(run_dir), |text| serde_json::from_str(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_written_by_one_stage_reads_back_in_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_json(
            r#"{"ignition":{"version":"3.6.0"},"storage":{"files":[{"path":"/etc/a"}]}}"#,
        )
        .unwrap();
        write_config(dir.path(), &config, &State::default()).unwrap();
        assert_eq!(read_config(dir.path()).unwrap(), config);
        assert_eq!(read_state(dir.path()).unwrap(), State::default());
    }

    #[test]
    fn a_damaged_run_dir_config_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(config_path(dir.path()), b"{\"ignition\": ").unwrap();
        let err = read_config(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json is damaged"), "{err}");
        assert!(err.contains("EOF"), "{err}");

        std::fs::write(config_path(dir.path()), b"{\"a\": \"\xff\"}").unwrap();
        let err = read_config(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("config.json is damaged: it is not UTF-8 text"),
            "{err}"
        );
        assert!(err.contains("reboot to run them again"), "{err}");
    }

    #[test]
    fn a_missing_run_dir_config_asks_whether_the_fetch_stages_ran() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_config(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json failed"), "{err}");
        assert!(err.contains("did the fetch stages run?"), "{err}");
    }
}
