//! Atomic writes inside the root. Readers see the old file or the new one, never half of
//! either, and a failed write leaves nothing behind:
//! - where the filesystem has them, an unnamed temporary file (`O_TMPFILE`) in the target's
//!   own directory is filled, given its final owner and mode, then linked in under the
//!   target's name (when that name is taken, it is linked under a temporary name and renamed
//!   over it). Nobody can open an unnamed file, so it is created with its final permissions,
//!   and the owner and mode are only changed where they came out different; no directory
//!   entry is added and removed again. That is most of what a file costs when there are
//!   thousands of small ones;
//! - elsewhere, a named temporary file (mode 0600 while it fills) is renamed over the target.
//!
//! Nothing at the target's name is touched before the new content is complete: fetched,
//! verified and written. Only then does one rename replace it. With [`replace`]
//! (`overwrite: true`) a directory in the way is swapped out by one `RENAME_EXCHANGE` and
//! removed afterwards, so a failed fetch, a hash mismatch or a full disk leaves the old file
//! or directory exactly as it was.
//!
//! Durability comes from one `sync` when the stage ends (see `mod.rs`), which keeps thousands
//! of small files fast. Big files start their writeback while they are written, so that sync
//! finds little left to do.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag};
use nix::sys::stat::{self, Mode};
use nix::unistd::{self, Gid, Uid, UnlinkatFlags};

use std::rc::Rc;

use nix::fcntl::RenameFlags;

use super::root::{Leaf, Root, RootError};

/// Files at least this big start their writeback before the stage's final sync.
const WRITEBACK_MIN: u64 = 1 << 20;
/// How much of a big file is written before its writeback is started.
const WRITEBACK_STEP: u64 = 8 << 20;

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

/// What may stand at the target's name when the new file takes it.
#[derive(Debug, Clone, Copy)]
enum InTheWay<'r> {
    /// A file, link or special file is replaced; a directory is an error.
    NoDirectory,
    /// A directory is replaced too, with everything in it.
    Anything(&'r Root),
}

/// Writes `leaf` atomically with the bytes `fill` produces. A directory at its name is an
/// error (and stays).
pub fn atomic<E>(
    leaf: &Leaf,
    attrs: Attrs,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    write(leaf, attrs, InTheWay::NoDirectory, fill)
}

/// [`atomic`], replacing whatever is at the name, a directory included (`overwrite: true`).
/// The old node stays until the new file is complete, then goes in one rename.
pub fn replace<E>(
    root: &Root,
    leaf: &Leaf,
    attrs: Attrs,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    write(leaf, attrs, InTheWay::Anything(root), fill)
}

fn write<E>(
    leaf: &Leaf,
    attrs: Attrs,
    way: InTheWay<'_>,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    if !NAMED_ONLY.load(Ordering::Relaxed) {
        // Not every filesystem has unnamed files (EOPNOTSUPP, EISDIR); any failure here
        // means the named way, which reports its own errors.
        if let Ok(fd) = fcntl::openat(
            &leaf.dir,
            ".",
            OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(attrs.mode & 0o777),
        ) {
            return unnamed(leaf, fd, attrs, way, fill);
        }
    }
    named(leaf, attrs, way, fill)
}

/// Set once linking an unnamed file turned out not to be allowed (it takes
/// CAP_DAC_READ_SEARCH): from then on every write uses a named temporary file.
static NAMED_ONLY: AtomicBool = AtomicBool::new(false);

/// The temporary name beside `leaf`: the same for the same target in every attempt, so
/// that one an interrupted attempt left (linked in whole, not yet renamed) is found and
/// replaced by the next attempt instead of staying in the root for good.
fn tmp_name(leaf: &Leaf, suffix: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(leaf.name.as_encoded_bytes());
    format!(".kindling.{}.{suffix}", hex::encode(&digest[..8]))
}

/// Links `file` in as `tmp`, replacing what an interrupted attempt left there.
fn link_tmp(file: &File, leaf: &Leaf, tmp: &str, way: InTheWay<'_>) -> Result<(), RootError> {
    at_fresh_tmp(leaf, tmp, way, || {
        unistd::linkat(file, "", &leaf.dir, tmp, AtFlags::AT_EMPTY_PATH)
    })?
    .map_err(|e| RootError::io("linking a temporary file for", &leaf.shown, e))
}

/// Runs `make` to create the temporary name `tmp`; when an interrupted attempt left
/// something there, clears it ([`clear_stale`]) and runs `make` once more.
fn at_fresh_tmp<T>(
    leaf: &Leaf,
    tmp: &str,
    way: InTheWay<'_>,
    make: impl Fn() -> nix::Result<T>,
) -> Result<nix::Result<T>, RootError> {
    Ok(match make() {
        Err(Errno::EEXIST) => {
            clear_stale(leaf, tmp, way)?;
            make()
        }
        other => other,
    })
}

/// Removes what an interrupted attempt left at the temporary name `tmp`: a file (maybe
/// half-written), or, for a replace, the replaced directory it had not finished removing.
fn clear_stale(leaf: &Leaf, tmp: &str, way: InTheWay<'_>) -> Result<(), RootError> {
    match (
        unistd::unlinkat(&leaf.dir, tmp, UnlinkatFlags::NoRemoveDir),
        way,
    ) {
        (Err(Errno::EISDIR), InTheWay::Anything(root)) => {
            let parent = leaf.shown.rsplit_once('/').map_or("", |(d, _)| d);
            root.remove_all(&Leaf {
                dir: Rc::clone(&leaf.dir),
                shown: format!("{parent}/{tmp}"),
                name: tmp.into(),
            })?;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn io_err(op: &'static str, leaf: &Leaf) -> impl FnOnce(io::Error) -> RootError {
    let shown = leaf.shown.clone();
    move |source| RootError::Io {
        op,
        path: shown,
        source,
    }
}

/// Fills the buffered file and hands back the file.
fn fill_file<E>(
    file: File,
    leaf: &Leaf,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<File, WriteError<E>> {
    let mut out = BufWriter::with_capacity(64 * 1024, Writeback::new(file));
    fill(&mut out).map_err(WriteError::Fill)?;
    Ok(out
        .into_inner()
        .map_err(|e| io_err("writing", leaf)(e.into_error()))?
        .finish())
}

fn unnamed<E>(
    leaf: &Leaf,
    fd: OwnedFd,
    attrs: Attrs,
    way: InTheWay<'_>,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    let mut file = fill_file(File::from(fd), leaf, fill)?;
    let st = stat::fstat(&file).map_err(|e| RootError::io("looking up", &leaf.shown, e))?;
    let chown = attrs
        .owner
        .filter(|&(uid, gid)| (st.st_uid, st.st_gid) != (uid, gid));
    if chown.is_some() || st.st_mode & 0o7777 != attrs.mode {
        set_owner_mode(
            &file,
            leaf,
            Attrs {
                owner: chown,
                ..attrs
            },
        )?;
    }
    match unistd::linkat(
        &file,
        "",
        &leaf.dir,
        leaf.name.as_os_str(),
        AtFlags::AT_EMPTY_PATH,
    ) {
        Ok(()) => Ok(()),
        // The name is taken (a file being replaced): link under a temporary name, rename over.
        Err(Errno::EEXIST) => {
            let tmp = tmp_name(leaf, "tmp");
            link_tmp(&file, leaf, &tmp, way)?;
            rename_into_place(leaf, &tmp, way).inspect_err(|_| {
                let _ = unistd::unlinkat(&leaf.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
            })?;
            Ok(())
        }
        // Not allowed to link by descriptor: copy what was written into a named file.
        Err(Errno::ENOENT | Errno::EPERM) => {
            NAMED_ONLY.store(true, Ordering::Relaxed);
            log::debug!("cannot link unnamed temporary files here; using named ones");
            named(leaf, attrs, way, |out| {
                io::Seek::rewind(&mut file)?;
                io::copy(&mut file, out).map(drop)
            })
            .map_err(|e| match e {
                WriteError::Fill(source) => RootError::Io {
                    op: "writing",
                    path: leaf.shown.clone(),
                    source,
                },
                WriteError::Fs(e) => e,
            })?;
            Ok(())
        }
        Err(e) => Err(RootError::io("linking into place", &leaf.shown, e).into()),
    }
}

fn named<E>(
    leaf: &Leaf,
    attrs: Attrs,
    way: InTheWay<'_>,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    let tmp = tmp_name(leaf, "tmp");
    let create = || {
        fcntl::openat(
            &leaf.dir,
            tmp.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
    };
    // A stale temporary file of an interrupted attempt (maybe half-written) goes first.
    let fd = at_fresh_tmp(leaf, &tmp, way, create)?
        .map_err(|e| RootError::io("creating a temporary file for", &leaf.shown, e))?;
    let result = fill_file(File::from(fd), leaf, fill).and_then(|file| {
        set_owner_mode(&file, leaf, attrs)?;
        drop(file);
        Ok(rename_into_place(leaf, &tmp, way)?)
    });
    if result.is_err() {
        let _ = unistd::unlinkat(&leaf.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    }
    result
}

/// Owner first, then mode: chown clears setuid and setgid, so the mode must come after it.
fn set_owner_mode(file: &File, leaf: &Leaf, attrs: Attrs) -> Result<(), RootError> {
    if let Some((uid, gid)) = attrs.owner {
        unistd::fchown(
            file.as_fd(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
        )
        .map_err(|e| RootError::io("changing the owner of", &leaf.shown, e))?;
    }
    stat::fchmod(file.as_fd(), Mode::from_bits_truncate(attrs.mode))
        .map_err(|e| RootError::io("setting the mode of", &leaf.shown, e))
}

fn rename_into_place(leaf: &Leaf, tmp: &str, way: InTheWay<'_>) -> Result<(), RootError> {
    match fcntl::renameat(&leaf.dir, tmp, &leaf.dir, leaf.name.as_os_str()) {
        Ok(()) => Ok(()),
        Err(Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST) => match way {
            InTheWay::Anything(root) => swap_out_directory(root, leaf, tmp),
            InTheWay::NoDirectory => Err(RootError::Io {
                op: "replacing",
                path: leaf.shown.clone(),
                source: io::Error::other("a directory is in the way"),
            }),
        },
        Err(e) => Err(RootError::io("renaming into place", &leaf.shown, e)),
    }
}

/// Puts the complete file at `tmp` in place of the directory at the leaf's name, then
/// removes that directory with everything in it. One `RENAME_EXCHANGE` swaps the two, so
/// the name always holds one or the other. Where the filesystem cannot exchange, the
/// directory is renamed aside first and put back if the file cannot take its place.
fn swap_out_directory(root: &Root, leaf: &Leaf, tmp: &str) -> Result<(), RootError> {
    let old = match fcntl::renameat2(
        &leaf.dir,
        tmp,
        &leaf.dir,
        leaf.name.as_os_str(),
        RenameFlags::RENAME_EXCHANGE,
    ) {
        Ok(()) => tmp.to_owned(),
        Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {
            let aside = tmp_name(leaf, "old");
            fcntl::renameat(&leaf.dir, leaf.name.as_os_str(), &leaf.dir, aside.as_str())
                .map_err(|e| RootError::io("moving aside the directory at", &leaf.shown, e))?;
            if let Err(e) = fcntl::renameat(&leaf.dir, tmp, &leaf.dir, leaf.name.as_os_str()) {
                let _ =
                    fcntl::renameat(&leaf.dir, aside.as_str(), &leaf.dir, leaf.name.as_os_str());
                return Err(RootError::io("renaming into place", &leaf.shown, e));
            }
            aside
        }
        Err(e) => return Err(RootError::io("replacing the directory", &leaf.shown, e)),
    };
    let parent = leaf.shown.rsplit_once('/').map_or("", |(d, _)| d);
    let replaced = Leaf {
        dir: Rc::clone(&leaf.dir),
        shown: format!("{parent}/{old}"),
        name: old.into(),
    };
    // The directory's subtree moved: Root::remove_all also forgets cached directories.
    root.remove_all(&replaced)?;
    log::info!(
        "removed the directory that was at {} (overwrite: true)",
        leaf.shown
    );
    Ok(())
}

/// A file being written that hands big stretches to the disk as it goes: the kernel starts
/// writing them back at once (`POSIX_FADV_DONTNEED` starts writeback of dirty pages, and
/// drops a range only once it is clean), instead of all at the final sync, which then
/// overlaps with fetching. Small files are left alone.
struct Writeback {
    file: File,
    written: u64,
    started: u64,
}

impl Writeback {
    fn new(file: File) -> Self {
        Self {
            file,
            written: 0,
            started: 0,
        }
    }

    fn start(&mut self) {
        let (Ok(offset), Ok(len)) = (
            i64::try_from(self.started),
            i64::try_from(self.written - self.started),
        ) else {
            return;
        };
        // Only a hint: durability still comes from the stage's sync.
        let _ = fcntl::posix_fadvise(
            self.file.as_fd(),
            offset,
            len,
            fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        );
        self.started = self.written;
    }

    fn finish(mut self) -> File {
        if self.written >= WRITEBACK_MIN && self.written > self.started {
            self.start();
        }
        self.file
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_STEP {
            self.start();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::root::Missing;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    // The crash campaign (tests/integration/crash_campaign.rs): an attempt killed between linking the new
    // file under its temporary name and the rename left that file in the root for good,
    // since every attempt picked a new temporary name.
    #[test]
    fn a_temporary_file_an_interrupted_attempt_left_is_replaced() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("etc")).expect("mkdir");
        std::fs::write(tmp.path().join("etc/hostname"), "old\n").expect("write");
        let root = Root::open(tmp.path()).expect("root");
        let leaf = root.leaf("/etc/hostname", Missing::Fail).expect("leaf");
        let stale = tmp_name(&leaf, "tmp");
        assert!(
            stale.starts_with(".kindling.") && stale.ends_with(".tmp"),
            "{stale}"
        );
        let attrs = Attrs {
            owner: None,
            mode: 0o644,
        };
        for way in ["unnamed", "named"] {
            std::fs::write(tmp.path().join("etc").join(&stale), "half").expect("stale");
            let written = if way == "named" {
                named(&leaf, attrs, InTheWay::NoDirectory, |out| {
                    out.write_all(b"new\n")
                })
            } else {
                atomic(&leaf, attrs, |out| out.write_all(b"new\n"))
            };
            assert!(written.is_ok(), "{way}");
            assert_eq!(names(&tmp.path().join("etc")), ["hostname"], "{way}");
            assert_eq!(
                std::fs::read_to_string(tmp.path().join("etc/hostname")).expect("read"),
                "new\n"
            );
        }
        // A directory that an interrupted replace (overwrite: true) had swapped out and not
        // yet removed goes too.
        std::fs::create_dir_all(tmp.path().join("etc").join(&stale).join("d")).expect("mkdir");
        std::fs::write(tmp.path().join("etc").join(&stale).join("d/f"), "x").expect("write");
        replace(&root, &leaf, attrs, |out| out.write_all(b"newer\n")).expect("replaced");
        assert_eq!(names(&tmp.path().join("etc")), ["hostname"]);
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("etc/hostname")).expect("read"),
            "newer\n"
        );
    }

    // Issue 15, item 3: the old node must stay until the new file is complete.
    #[test]
    fn a_directory_is_replaced_only_by_a_complete_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("etc/ssh/d")).expect("mkdir");
        std::fs::write(tmp.path().join("etc/ssh/d/f"), "old").expect("write");
        let root = Root::open(tmp.path()).expect("root");
        let leaf = root.leaf("/etc/ssh", Missing::Fail).expect("leaf");
        let attrs = Attrs {
            owner: None,
            mode: 0o644,
        };
        let failed = replace(&root, &leaf, attrs, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("the fetch failed"))
        });
        assert!(matches!(failed, Err(WriteError::Fill(_))));
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("etc/ssh/d/f")).expect("kept"),
            "old"
        );
        assert_eq!(names(&tmp.path().join("etc")), ["ssh"], "no temporary left");

        // Without replace, a directory in the way is an error and stays.
        let refused = atomic(&leaf, attrs, |out| out.write_all(b"new"));
        assert!(
            matches!(&refused, Err(WriteError::Fs(e)) if e.to_string().contains("a directory is in the way")),
            "{refused:?}"
        );
        assert!(tmp.path().join("etc/ssh/d/f").is_file());

        replace(&root, &leaf, attrs, |out| out.write_all(b"new")).expect("replaced");
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("etc/ssh")).expect("file"),
            "new"
        );
        assert_eq!(
            names(&tmp.path().join("etc")),
            ["ssh"],
            "the old tree is gone"
        );
    }
}
