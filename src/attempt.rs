//! Attempt markers: how a stage tells that an earlier attempt of it started and never
//! finished (the machine lost power, was reset, or the engine or a program it ran was killed),
//! or stopped on an error part way.
//!
//! A stage writes its marker before it changes anything and removes it as its last step; a
//! stage that fails marks it `failed` on the way out. A marker found when the stage starts is
//! an earlier attempt that did not finish: the new attempt counts on from it, logs a warning,
//! and the result report says which attempt finished and which ones did not.
//!
//! Where the marker lives decides what it survives: the files stage keeps it in the target
//! root (`/etc/.kindling-attempt.json`), so the next boot sees it; the disks stage has no root
//! yet and keeps it in the run directory, which a reboot clears (see
//! `docs/src/debugging-first-boot.md`).
//!
//! A marker holds a date, a boot id and counters, never anything from the config.

use serde::{Deserialize, Serialize};

use crate::report::{boot_id, rfc3339};

/// An earlier attempt that never finished: interrupted, or `failed` on an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interrupted {
    /// 0 when its marker could not be read.
    pub attempt: u32,
    /// When it started (UTC, RFC 3339), or `unknown`.
    pub started: String,
    /// The boot it ran in, or `unknown`.
    pub boot_id: String,
    /// It stopped on an error (it was not interrupted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// It may have appended to files (see [`Marker::appending`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub appending: bool,
}

/// Which attempt of a stage finished, for the result report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// 1 when no earlier attempt was interrupted.
    pub attempt: u32,
    /// The attempts before this one that did not finish, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interrupted: Vec<Interrupted>,
}

/// What a marker file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    pub attempt: u32,
    pub started: String,
    pub boot_id: String,
    /// The interrupted attempts before this one, oldest first.
    #[serde(default)]
    pub interrupted: Vec<Interrupted>,
    /// An append of this attempt may have landed: a later attempt cannot tell what is
    /// there already, so it cannot append again safely.
    #[serde(default)]
    pub appending: bool,
    /// This attempt stopped on an error.
    #[serde(default)]
    pub failed: bool,
    /// Devices (as the config names them) on which this attempt, or an earlier one that did
    /// not finish, began to make a filesystem and has not finished: a signature found there
    /// may belong to a filesystem that mkfs left half-made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub making: Vec<String>,
}

impl Marker {
    /// The marker of a new attempt, after the bytes of the marker found (if any).
    pub fn after(found: Option<&[u8]>) -> Self {
        let mut interrupted = Vec::new();
        let mut attempt = 1;
        let mut making = Vec::new();
        if let Some(bytes) = found {
            match serde_json::from_slice::<Marker>(bytes) {
                Ok(earlier) => {
                    attempt = earlier.attempt.saturating_add(1);
                    interrupted = earlier.interrupted.clone();
                    interrupted.push(earlier.as_interrupted());
                    making = earlier.making;
                }
                // Markers are written whole (atomically); one that cannot be read still
                // says that something started and never finished.
                Err(_) => {
                    attempt = 2;
                    interrupted.push(Interrupted {
                        attempt: 0,
                        started: "unknown".into(),
                        boot_id: "unknown".into(),
                        failed: false,
                        // Nothing tells; assume the worst.
                        appending: true,
                    });
                }
            }
        }
        Self {
            attempt,
            started: rfc3339(std::time::SystemTime::now()),
            boot_id: boot_id(),
            interrupted,
            appending: false,
            failed: false,
            making,
        }
    }

    fn as_interrupted(&self) -> Interrupted {
        Interrupted {
            attempt: self.attempt,
            started: self.started.clone(),
            boot_id: self.boot_id.clone(),
            failed: self.failed,
            appending: self.appending,
        }
    }

    /// The attempt just before this one, when it did not finish.
    pub fn previous(&self) -> Option<&Interrupted> {
        self.interrupted.last()
    }

    pub fn record(&self) -> Record {
        Record {
            attempt: self.attempt,
            interrupted: self.interrupted.clone(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and numbers always encodes.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Logs that an earlier attempt did not finish, if one did not.
    pub fn warn(&self, stage: &str, marker: &str) {
        if let Some(p) = self.previous() {
            log::warn!(
                "{stage}: {p} (see {marker}); this is attempt {}, and it goes on from what that attempt left",
                self.attempt
            );
        }
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attempt {} (started {}, boot {}) stopped part way: it {}",
            self.attempt,
            self.started,
            self.boot_id,
            if self.failed {
                "failed"
            } else {
                "was interrupted (killed, or the machine stopped)"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_on_from_the_marker_found() {
        let first = Marker::after(None);
        assert_eq!(first.record().attempt, 1);
        assert!(first.previous().is_none());
        let second = Marker::after(Some(&first.to_json()));
        assert_eq!(second.attempt, 2);
        assert_eq!(second.previous().map(|p| p.attempt), Some(1));
        let third = Marker::after(Some(&second.to_json()));
        let record = third.record();
        assert_eq!(record.attempt, 3);
        assert_eq!(
            record
                .interrupted
                .iter()
                .map(|i| i.attempt)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        let mut failed = Marker::after(None);
        failed.failed = true;
        let next = Marker::after(Some(&failed.to_json()));
        assert!(next.previous().is_some_and(|p| p.failed));
        assert!(next
            .previous()
            .is_some_and(|p| p.to_string().ends_with("it failed")));
        let mut making = Marker::after(None);
        making.making.push("/dev/vdb1".into());
        let next = Marker::after(Some(&making.to_json()));
        assert_eq!(next.making, ["/dev/vdb1"], "carried over until it is made");
        let unreadable = Marker::after(Some(b"{half"));
        assert_eq!(unreadable.attempt, 2);
        assert_eq!(unreadable.interrupted[0].started, "unknown");
    }
}
