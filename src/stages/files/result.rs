//! The result report, `<root>/etc/.kindling-result.json` (0600, root only): what was
//! provisioned, when, on which boot, from which config, and what each stage did. It plays the
//! part of Ignition's `/etc/.ignition-result.json`.
//!
//! A report already there means provisioning ran on this root before: it is kept as
//! `/etc/.kindling-result.json.prev` (replacing an older one) and a warning says so.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::root::{self, Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::{FilesError, FilesSummary};
use crate::stages::runtime::State;

pub const REPORT_PATH: &str = "/etc/.kindling-result.json";
pub const PREVIOUS_PATH: &str = "/etc/.kindling-result.json.prev";
const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";

/// One fetched resource in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedResource {
    /// The URL with secrets left out.
    pub url: String,
    pub digest: String,
}

/// What each stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stages {
    pub files: FilesSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Bumped when a field changes meaning.
    pub report_version: u32,
    /// `Kindling <version>`.
    pub provisioned_by: String,
    /// UTC, RFC 3339.
    pub provisioning_date: String,
    /// The boot that provisioned (`/proc/sys/kernel/random/boot_id`).
    pub provisioning_boot_id: String,
    /// Where the root config came from.
    pub source: String,
    /// sha512 of the root config as delivered; absent when there was no user config.
    pub config_digest: Option<String>,
    pub user_config_provided: bool,
    /// How the root config was verified ("hash", "signature"), as the fetch stage recorded.
    pub verified_by: Vec<String>,
    /// The fingerprint of the certificate that signed the root config.
    pub signer: Option<String>,
    /// The trust policy in force when the config was accepted.
    pub policy: String,
    /// Every config and CA bundle fetched to build the config.
    pub fetched: Vec<FetchedResource>,
    /// The TPM measurement of the root config (PCR, bank, digest), when there was a TPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<crate::verify::measure::Measurement>,
    pub stages: Stages,
}

impl Report {
    pub fn new(state: &State, files: FilesSummary) -> Self {
        Self {
            report_version: 1,
            provisioned_by: format!("Kindling {}", env!("CARGO_PKG_VERSION")),
            provisioning_date: rfc3339(SystemTime::now()),
            provisioning_boot_id: std::fs::read_to_string(BOOT_ID)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            source: state.source.clone(),
            config_digest: state.config_digest.clone(),
            user_config_provided: state.config_digest.is_some(),
            verified_by: state.verified_by.clone(),
            signer: state.signer.clone(),
            policy: state.policy.clone(),
            fetched: state
                .fetched
                .iter()
                .map(|(url, digest)| FetchedResource {
                    url: url.clone(),
                    digest: digest.clone(),
                })
                .collect(),
            measurement: state.measurement.clone(),
            stages: Stages { files },
        }
    }
}

/// Writes the report, keeping one found there as `.prev`.
pub fn write(root: &Root, report: &Report) -> Result<(), FilesError> {
    let leaf = root.leaf(REPORT_PATH, Missing::Create(super::nodes::PARENT_MODE))?;
    if let Some(st) = root::lstat(&leaf)? {
        let before = root
            .read(REPORT_PATH)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let when = before
            .as_ref()
            .and_then(|v| v.get("provisioningDate"))
            .and_then(|v| v.as_str())
            .unwrap_or("an unknown date")
            .to_owned();
        let boot = before
            .as_ref()
            .and_then(|v| v.get("provisioningBootId"))
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_owned();
        if root::kind(&st) == root::Kind::Dir {
            return Err(FilesError::Conflict {
                path: REPORT_PATH.into(),
                problem: "a directory is in the way of the result report".into(),
            });
        }
        let prev = root.leaf(PREVIOUS_PATH, Missing::Fail)?;
        nix::fcntl::renameat(
            &leaf.dir,
            leaf.name.as_os_str(),
            &prev.dir,
            prev.name.as_os_str(),
        )
        .map_err(|e| RootError::io("keeping the previous report as", PREVIOUS_PATH, e))?;
        log::warn!(
            "provisioning already ran on this root ({when}, boot {boot}); kept that report as {PREVIOUS_PATH}"
        );
    }
    let json = serde_json::to_vec_pretty(report).map_err(|e| FilesError::Conflict {
        path: REPORT_PATH.into(),
        problem: format!("cannot encode the report: {e}"),
    })?;
    write::atomic(
        &leaf,
        Attrs {
            owner: Some((0, 0)),
            mode: 0o600,
        },
        |out| {
            out.write_all(&json)?;
            out.write_all(b"\n")
        },
    )
    .map_err(|e| match e {
        WriteError::Fill(source) => RootError::Io {
            op: "writing",
            path: REPORT_PATH.into(),
            source,
        }
        .into(),
        WriteError::Fs(e) => FilesError::from(e),
    })?;
    log::info!("wrote the result report {REPORT_PATH}");
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time after 1970.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661)),
            "2000-02-29T01:01:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)),
            "2025-12-31T23:59:59Z"
        );
    }
}
