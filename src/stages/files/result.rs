//! Writing the result report (`crate::report`) into the root, contained like every other
//! write. A report already there means provisioning ran on this root before: it is kept as
//! `/etc/.kindling-result.json.prev` (replacing an older one) and a warning says so.

use super::root::{self, Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::FilesError;
use crate::report::{Report, PREVIOUS_PATH, REPORT_PATH};

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
