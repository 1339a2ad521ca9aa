//! Platforms with more than one place the config may be (OpenStack's config drive under two
//! labels and its metadata service, KubeVirt's two drive formats) ask them all at once. As in
//! Ignition, the first source that answers without an error wins, even when its answer is
//! "no config".
//!
//! Unlike Ignition, a race where every source failed ends with an error naming each source
//! and its failure (Ignition continues without a config, or waits forever for a drive).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use super::drive::{self, DriveError, Mounted, Wait};
use super::{Acquired, ProviderContext, ProviderError};
use crate::cmdline::Cmdline;
use crate::pipeline::render::Network;
use crate::providers::Environment;
use crate::verify::policy::Policy;

/// What a source returns: the config, or its failure.
pub type Outcome = Result<Acquired, ProviderError>;

/// A source that runs on its own thread; it should give up when the flag is set.
pub type Source = Box<dyn FnOnce(&AtomicBool) -> Outcome + Send>;

/// One contender: its name for logs and errors, and whether the race must wait for it to
/// finish once another has won (a drive may be mounted: it must be unmounted before the
/// process ends; an HTTP request holds nothing and is left to the process's end).
pub struct Contender {
    pub name: String,
    pub source: Source,
    pub must_finish: bool,
}

impl std::fmt::Debug for Contender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .field("must_finish", &self.must_finish)
            .finish()
    }
}

/// Runs the contenders at once; the first `Ok` wins.
pub fn first_success(platform: &str, contenders: Vec<Contender>) -> Outcome {
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let total = contenders.len();
    let mut joins: Vec<JoinHandle<()>> = Vec::new();
    for c in contenders {
        let (tx, cancel) = (tx.clone(), cancel.clone());
        let name = c.name.clone();
        let source = c.source;
        let handle = std::thread::spawn(move || {
            let outcome = source(&cancel);
            let _ = tx.send((name, outcome));
        });
        if c.must_finish {
            joins.push(handle);
        }
    }
    drop(tx);
    let mut failures = Vec::new();
    let mut winner = None;
    for (name, outcome) in rx.iter().take(total) {
        match outcome {
            Ok(found) => {
                log::info!("{platform}: the config comes from {name}");
                winner = Some(found);
                break;
            }
            Err(e) => {
                let e = drive::chain(&e);
                log::warn!("{platform}: {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    cancel.store(true, Ordering::SeqCst);
    // A drive contender waiting for its label sleeps parked: wake it to hear the news.
    for j in &joins {
        j.thread().unpark();
    }
    for j in joins {
        let _ = j.join();
    }
    winner.ok_or_else(|| ProviderError::NoSource {
        platform: platform.to_owned(),
        failures: failures.join("\n"),
    })
}

/// What a source on its own thread needs of the provider context, owned.
#[derive(Debug, Clone)]
pub struct OwnedContext {
    pub network: Network,
    pub env: Environment,
    pub cmdline: Cmdline,
    pub policy: Policy,
    pub limit: u64,
    pub timeout: std::time::Duration,
    pub cloud: crate::fetch::cloud::Cloud,
}

impl OwnedContext {
    pub fn new(cx: &ProviderContext<'_>) -> Self {
        Self {
            network: cx.network,
            env: cx.env.clone(),
            cmdline: cx.cmdline.clone(),
            policy: cx.policy.clone(),
            limit: cx.limit,
            timeout: cx.timeout,
            cloud: cx.cloud.clone(),
        }
    }

    pub fn context(&self) -> ProviderContext<'_> {
        ProviderContext {
            network: self.network,
            env: &self.env,
            cmdline: &self.cmdline,
            policy: &self.policy,
            limit: self.limit,
            timeout: self.timeout,
            cloud: self.cloud.clone(),
        }
    }
}

/// A config drive as a contender: wait for `label` (until the budget is spent), mount it and
/// read `file`; a drive without the file is "no config", as in Ignition.
pub fn drive_contender(
    cx: &ProviderContext<'_>,
    label: &'static str,
    file: &'static str,
) -> Contender {
    let by_label = cx.env.by_label_dir();
    let limit = cx.limit;
    let wait = drive::wait_limit(None, cx.timeout);
    let until = std::time::Instant::now() + wait;
    Contender {
        name: format!("the config drive labelled {label:?}"),
        must_finish: true,
        source: Box::new(move |cancel| {
            let device = match drive::wait_for_label(&by_label, label, until, Some(cancel)) {
                Wait::Appeared(device) => device,
                Wait::Cancelled => return Ok(Acquired::NoConfig),
                Wait::TimedOut => {
                    return Err(DriveError::Absent {
                        drive: drive::labelled(label),
                        link: by_label.join(label),
                        secs: wait.as_secs(),
                    }
                    .into())
                }
            };
            let mounted = Mounted::mount(&device, &drive::labelled(label), None)?;
            Ok(super::metadata::found(mounted.read(file, limit)?))
        }),
    }
}
