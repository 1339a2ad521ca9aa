//! Stage `files`: writes users, groups, files, directories, links and systemd units into the
//! target root, in Ignition's order and with Ignition's semantics, then the result report.
//!
//! Order, as in Ignition: groups and users (`passwd`), then files, directories and links
//! (`nodes`), then units and presets (`units`), then the report (`result`). Every path goes
//! through `root`, which keeps it inside the target root; every file is written atomically
//! (`write`). When everything is written, one sync of the root's filesystems makes it durable
//! before the report is written, so a report on disk always describes data that is on disk.
//!
//! Nothing here logs or returns file contents, password hashes or key material: log lines
//! name paths, sizes, modes and owners; commands get hashes as unprinted arguments; URLs go
//! through the fetch layer's redaction.

mod attempt;
mod crypttab;
mod nodes;
mod owners;
mod passwd;
mod result;
use crate::root;
mod units;
mod write;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::report::{Report, PREVIOUS_PATH, REPORT_PATH};
pub use passwd::{SshKeyLayout, LAYOUT_ENV, LAYOUT_KARG};
pub use units::PRESET_PATH;

use super::runtime::{self, RuntimeError};
use super::StageContext;
use crate::command::CommandError;
use crate::fetch::FetchError;
use crate::pipeline::render::{self as chain, ChainError, Network};
use owners::{OwnerError, Owners};
use root::{Root, RootError};

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Root(#[from] RootError),
    #[error(transparent)]
    Owner(#[from] OwnerError),
    #[error("fetching the contents of {path} failed: {source}")]
    Fetch { path: String, source: FetchError },
    #[error("{path}: {problem}")]
    Conflict { path: String, problem: String },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("writing the SSH keys of {user} failed: {source}")]
    Keys {
        user: String,
        source: Box<FilesError>,
    },
    #[error("{name}: {problem}")]
    Setting { name: String, problem: String },
    /// A failure after an earlier attempt of the stage was interrupted: what it left in the
    /// root may be what stops this one.
    #[error("attempt {attempt} of the files stage failed; before it, {earlier} (its marker is {marker} in the root), and what that attempt left behind may be what is refused: check the path named below, or restore the root from the image and boot again")]
    AfterUnfinished {
        attempt: u32,
        earlier: crate::attempt::Interrupted,
        marker: &'static str,
        #[source]
        source: Box<FilesError>,
    },
    /// A failure on a root where provisioning had finished before: the first boot ran again.
    #[error("the files stage failed on a root where provisioning already finished ({when}, see {report}): this first boot ran again over what the earlier one wrote, likely because the first-boot stamp was not removed after it (a power cut or a kill before kindling-firstboot-complete.service ran). If that provisioning is complete, remove the stamp and boot again; otherwise restore the root from the image and boot again")]
    AfterProvisioned {
        when: String,
        report: &'static str,
        #[source]
        source: Box<FilesError>,
    },
    /// An interrupted attempt may have made appends that a new one would make twice.
    #[error("in the files stage, {earlier}, after it began to append to files ({paths}); Kindling cannot tell which appends it made, and appending again could add the same lines twice. Restore the root from the image and boot again; or check those files, then remove {marker} from the root to let the next attempt append again")]
    InterruptedAppend {
        earlier: crate::attempt::Interrupted,
        paths: String,
        marker: &'static str,
    },
    #[error("the target root {root} has no {file}, which shadow-utils needs to add the config's users and groups (useradd and groupadd --root {root}); is --root the installed system's root (normally /sysroot), and is it mounted?")]
    NoAccountFiles { root: String, file: &'static str },
}

/// What the stage did, for the log and the result report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesSummary {
    /// Regular files written, replaced or appended to.
    pub files: u64,
    /// `append` resources added to those files.
    pub appends: u64,
    pub directories: u64,
    /// Symbolic links created.
    pub links: u64,
    pub hard_links: u64,
    pub groups_created: u64,
    /// Existing groups changed with groupmod (older reports lack it).
    #[serde(default)]
    pub groups_modified: u64,
    pub groups_deleted: u64,
    pub users_created: u64,
    pub users_modified: u64,
    pub users_deleted: u64,
    /// Users whose SSH keys file was written.
    pub ssh_key_files: u64,
    /// Unit files written.
    pub units: u64,
    pub dropins: u64,
    /// Preset lines written.
    pub enabled: u64,
    pub disabled: u64,
    pub masked: u64,
    pub unmasked: u64,
}

impl fmt::Display for FilesSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files, {} directories, {} links, {} hard links, {} users (+{} ~{} -{}), {} groups (+{} ~{} -{}), {} units, {} drop-ins, {} enabled, {} disabled, {} masked, {} unmasked",
            self.files,
            self.directories,
            self.links,
            self.hard_links,
            self.users_created + self.users_modified + self.users_deleted,
            self.users_created,
            self.users_modified,
            self.users_deleted,
            self.groups_created + self.groups_modified + self.groups_deleted,
            self.groups_created,
            self.groups_modified,
            self.groups_deleted,
            self.units,
            self.dropins,
            self.enabled,
            self.disabled,
            self.masked,
            self.unmasked,
        )
    }
}

pub fn run(ctx: &StageContext) -> Result<(), FilesError> {
    let config = runtime::read_config(&ctx.run_dir)?;
    // Unit names become paths; a bad one must stop the stage before anything is written.
    units::check_names(&config.systemd)?;
    let state = runtime::read_state(&ctx.run_dir)?;
    let layout = SshKeyLayout::from_context(ctx)?;
    let root = Root::open(&ctx.root)?;
    // Before anything is written into the root: who came before this attempt.
    let mut attempt = attempt::Attempt::begin(&root, &config.storage)?;
    match apply(ctx, &root, &config, &state, layout, &mut attempt) {
        Ok(()) => Ok(()),
        Err(e) => {
            let marker = attempt.failed(&root).clone();
            Err(match marker.previous() {
                Some(earlier) => FilesError::AfterUnfinished {
                    attempt: marker.attempt,
                    earlier: earlier.clone(),
                    marker: attempt::MARKER_PATH,
                    source: Box::new(e),
                },
                None => match attempt.provisioned.clone() {
                    Some(when) => FilesError::AfterProvisioned {
                        when,
                        report: REPORT_PATH,
                        source: Box::new(e),
                    },
                    None => e,
                },
            })
        }
    }
}

fn apply(
    ctx: &StageContext,
    root: &Root,
    config: &kindling_spec::types::Config,
    state: &runtime::State,
    layout: SshKeyLayout,
    attempt: &mut attempt::Attempt,
) -> Result<(), FilesError> {
    log::info!(
        "files: provisioning {} from {}",
        root.path().display(),
        state.source
    );
    let mut fetched = Vec::new();
    let fetcher = chain::fetcher_for(
        &config.ignition,
        &[],
        Network::Online,
        &ctx.fetch_settings(),
        &mut fetched,
    )?;

    let mut summary = FilesSummary::default();
    let resumed = attempt.marker.previous().is_some();
    passwd::apply(root, &config.passwd, layout, resumed, &mut summary)?;
    let owners = Owners::load(root)?;
    // Writing back while the nodes are created makes the final sync below short.
    let early = root.sync_early();
    nodes::apply(
        root,
        &config.storage,
        &owners,
        &fetcher,
        attempt,
        &mut summary,
    )?;
    units::apply(root, &config.systemd, &mut summary)?;
    crypttab::apply(root, &ctx.run_dir, config.storage.luks.len())?;
    drop(early);
    // Per-file fsyncs would cost seconds on thousands of small files; one sync before the
    // report gives the same guarantee where it matters: a report means the data is on disk.
    // It covers the filesystems under the root, not the whole host (see Root::sync).
    root.sync();
    log::info!("files: {summary}");

    let report = Report::new(state, &ctx.run_dir, summary, attempt.marker.record());
    result::write(root, &report)?;
    root.sync();
    // Last: a marker still in the root means this attempt did not finish.
    attempt.finish(root)?;
    root.sync();
    crypttab::forget_keys(&ctx.run_dir);
    Ok(())
}
