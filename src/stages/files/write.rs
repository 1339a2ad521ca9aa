//! Atomic writes inside the root: a temporary file in the target's own directory, filled,
//! given its final owner and mode, then renamed over the target. Readers see the old file or
//! the new one, never half of either. Durability comes from one `sync` when the stage ends
//! (see `mod.rs`), which keeps thousands of small files fast.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::sys::stat::{self, Mode};
use nix::unistd::{self, Gid, Uid, UnlinkatFlags};

use super::root::{Leaf, RootError};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The final owner and mode of a written file; `None` keeps what the creator gets.
#[derive(Debug, Clone, Copy)]
pub struct Attrs {
    pub owner: Option<(u32, u32)>,
    pub mode: u32,
}

/// Why an atomic write failed: the content could not be produced, or the filesystem refused.
#[derive(Debug)]
pub enum WriteError<E> {
    Fill(E),
    Fs(RootError),
}

impl<E> From<RootError> for WriteError<E> {
    fn from(e: RootError) -> Self {
        Self::Fs(e)
    }
}

/// Writes `leaf` atomically with the bytes `fill` produces.
pub fn atomic<E>(
    leaf: &Leaf,
    attrs: Attrs,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    let tmp = format!(
        ".kindling.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let fd = fcntl::openat(
        &leaf.dir,
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| RootError::io("creating a temporary file for", &leaf.shown, e))?;
    let result = finish(leaf, fd, &tmp, attrs, fill);
    if result.is_err() {
        let _ = unistd::unlinkat(&leaf.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    result
}

fn finish<E>(
    leaf: &Leaf,
    fd: OwnedFd,
    tmp: &str,
    attrs: Attrs,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    let io_err = |op: &'static str| {
        let shown = leaf.shown.clone();
        move |source: io::Error| RootError::Io {
            op,
            path: shown,
            source,
        }
    };
    let mut out = BufWriter::with_capacity(64 * 1024, File::from(fd));
    fill(&mut out).map_err(WriteError::Fill)?;
    let file = out
        .into_inner()
        .map_err(|e| io_err("writing")(e.into_error()))?;
    // Owner first: chown clears setuid and setgid, so the mode must come after it.
    if let Some((uid, gid)) = attrs.owner {
        unistd::fchown(
            file.as_fd(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
        )
        .map_err(|e| RootError::io("changing the owner of", &leaf.shown, e))?;
    }
    stat::fchmod(file.as_fd(), Mode::from_bits_truncate(attrs.mode))
        .map_err(|e| RootError::io("setting the mode of", &leaf.shown, e))?;
    drop(file);
    fcntl::renameat(&leaf.dir, tmp, &leaf.dir, leaf.name.as_os_str()).map_err(|e| match e {
        Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST => RootError::Io {
            op: "replacing",
            path: leaf.shown.clone(),
            source: io::Error::other("a directory is in the way"),
        },
        e => RootError::io("renaming into place", &leaf.shown, e),
    })?;
    Ok(())
}
