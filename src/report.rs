//! The result report, `<root>/etc/.kindling-result.json` (0600, root only): what was
//! provisioned, when, on which boot, from which config under which policy, and what each
//! stage did. It plays the part of Ignition's `/etc/.ignition-result.json`.
//!
//! Each stage records its own summary in the run directory as it finishes ([`record`]); the
//! files stage, the last to write into the root, gathers them into the report and writes it
//! (`stages::files::result`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::stages::files::FilesSummary;
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

/// What each stage did. A stage that had nothing to do (its unit was skipped) says why; one
/// that did not run on this boot (a stage after a reboot the kargs stage asked for) is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stages {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kargs: Option<StageOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disks: Option<StageOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<StageOutcome>,
    pub files: FilesSummary,
}

/// A stage's own summary (counts of what it did), or why it had nothing to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StageOutcome {
    Ran(serde_json::Value),
    Skipped(String),
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
    /// Which attempt of each stage that keeps attempt markers (`files`, `disks`) finished,
    /// and which earlier attempts did not (`crate::attempt`). Older reports lack it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attempts: BTreeMap<String, crate::attempt::Record>,
}

impl Report {
    /// The report of this boot: the fetch stages' state, the summaries the earlier stages
    /// left in the run directory, and the files stage's own.
    pub fn new(
        state: &State,
        run_dir: &Path,
        files: FilesSummary,
        files_attempt: crate::attempt::Record,
    ) -> Self {
        let mut attempts = BTreeMap::new();
        if let Some(disks) = std::fs::read(crate::rundir::attempt_record(run_dir, "disks"))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
        {
            attempts.insert("disks".to_owned(), disks);
        }
        attempts.insert("files".to_owned(), files_attempt);
        Self {
            report_version: 1,
            provisioned_by: format!("Kindling {}", env!("CARGO_PKG_VERSION")),
            provisioning_date: rfc3339(SystemTime::now()),
            provisioning_boot_id: boot_id(),
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
            stages: Stages {
                kargs: outcome(run_dir, "kargs"),
                disks: outcome(run_dir, "disks"),
                mount: outcome(run_dir, "mount"),
                files,
            },
            attempts,
        }
    }
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), or an empty string.
pub fn boot_id() -> String {
    std::fs::read_to_string(BOOT_ID)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Leaves a stage's summary for the report. Best effort: a summary that cannot be written
/// costs the report a line, never the boot. Written atomically: a stage killed while writing
/// it leaves the old summary or none, never half of one.
pub fn record(run_dir: &Path, stage: &str, summary: &impl Serialize) {
    record_at(
        run_dir,
        stage,
        &crate::rundir::summary(run_dir, stage),
        summary,
    );
}

/// Leaves the record of which attempt of a stage finished, for the report's `attempts`.
pub fn record_attempt(run_dir: &Path, stage: &str, record: &crate::attempt::Record) {
    record_at(
        run_dir,
        stage,
        &crate::rundir::attempt_record(run_dir, stage),
        record,
    );
}

fn record_at(run_dir: &Path, stage: &str, path: &Path, summary: &impl Serialize) {
    let written = serde_json::to_vec(summary)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            std::fs::create_dir_all(path.parent().unwrap_or(run_dir))?;
            crate::atomic::write(path, &json, 0o600)
        });
    if let Err(e) = written {
        log::warn!(
            "{stage}: could not record its summary in {}: {e}",
            path.display()
        );
    }
}

fn outcome(run_dir: &Path, stage: &str) -> Option<StageOutcome> {
    if let Ok(json) = std::fs::read(crate::rundir::summary(run_dir, stage)) {
        if let Ok(value) = serde_json::from_slice(&json) {
            return Some(StageOutcome::Ran(value));
        }
    }
    std::fs::read_to_string(crate::rundir::idle_dir(run_dir).join(stage))
        .ok()
        .map(|why| StageOutcome::Skipped(why.trim().to_owned()))
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
