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

pub fn config_path(run_dir: &Path) -> PathBuf {
    run_dir.join("config.json")
}

pub fn state_path(run_dir: &Path) -> PathBuf {
    run_dir.join("state.json")
}

pub fn neednet_path(run_dir: &Path) -> PathBuf {
    run_dir.join("neednet")
}

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

fn read_json<T: for<'de> Deserialize<'de>>(path: PathBuf) -> Result<T, RuntimeError> {
    let bytes = std::fs::read(&path).map_err(|source| RuntimeError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| RuntimeError::Parse { path, source })
}

pub fn write_config(run_dir: &Path, config: &Config, state: &State) -> Result<(), RuntimeError> {
    write_json(state_path(run_dir), state)?;
    write_json(config_path(run_dir), config)
}

pub fn read_config(run_dir: &Path) -> Result<Config, RuntimeError> {
    read_json(config_path(run_dir))
}

pub fn read_state(run_dir: &Path) -> Result<State, RuntimeError> {
    read_json(state_path(run_dir))
}
