//! Containment: every path the files stage touches is resolved inside the target root.
//!
//! Paths are walked one component at a time from a directory descriptor of the root, with
//! `O_NOFOLLOW` and `AT_SYMLINK_NOFOLLOW` on every step, so the kernel never follows a link
//! on our behalf. Links met on the way are read and resolved here, chroot-style, as Ignition's
//! `JoinPath` does and as the booted system will see them: an absolute target starts again
//! at the root, a relative one from the link's directory. `..` moves back through the
//! directories actually walked; a `..` of the path itself that would climb above the root
//! is refused and named as such. The last component of a node path is never followed.
//!
//! A link that climbs above the root with `..` is refused outright, because only an escape
//! attempt needs it. Every absolute link works as it will on the booted system:
//! `/var/run -> /run`, and also a link to the root directory itself (`/foo/bar -> /`, so that
//! `/foo/bar/baz` is `/baz`), which Ignition 2.26 resolves the same way.
//!
//! Operations on the final component use the `*at` system calls on the parent's descriptor,
//! so nothing is ever written, chmod-ed or chown-ed outside the root.
//!
//! Walking costs a few system calls per component, which adds up over thousands of files in
//! the same few directories. While a caller holds [`Root::cache_dirs`], a directory resolved
//! once is remembered by the path as written and its descriptor reused. Nothing here follows
//! a cached entry into a different directory: the stage itself is the only writer, creating
//! nodes never changes where an existing path leads, and every removal
//! ([`Root::remove_all`]) forgets the whole cache.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag};
use nix::sys::stat::{self, FileStat, Mode, SFlag};
use nix::unistd::{self, Gid, Uid, UnlinkatFlags};

/// How many links one resolution may follow (the kernel's limit too).
const MAX_LINKS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("refusing {path}: the link {link} -> {target} {why}; links inside the target root must not lead out of it")]
    Escape {
        path: String,
        link: String,
        target: String,
        why: &'static str,
    },
    #[error("refusing {path}: the .. in {at} climbs above the root; a path in the config must stay inside the target root")]
    Climb { path: String, at: String },
    #[error("{path}: too many levels of symbolic links")]
    Loop { path: String },
    #[error("{path}: {component} is not a directory")]
    NotDirectory { path: String, component: String },
    #[error("{op} {path} failed: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
}

impl RootError {
    pub fn io(op: &'static str, path: impl Into<String>, errno: Errno) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source: io::Error::from(errno),
        }
    }

    /// The operating-system error behind this one, if any.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Self::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            _ => None,
        }
    }
}

/// The target root, held open.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
    /// Resolved directories by their path as written (`None`: not caching).
    dirs: RefCell<Option<HashMap<Vec<u8>, Rc<OwnedFd>>>>,
}

/// The pause between two rounds of [`Root::sync_early`].
pub const EARLY_SYNC_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// While alive, a thread writes the root's filesystem back now and then.
#[derive(Debug)]
pub struct EarlySync {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// While alive, [`Root::leaf`] reuses directories it already resolved.
#[derive(Debug)]
pub struct DirCache<'a> {
    root: &'a Root,
}

impl Drop for DirCache<'_> {
    fn drop(&mut self) {
        self.root.dirs.replace(None);
    }
}

/// A resolved node path: the directory that holds it and its name there.
#[derive(Debug)]
pub struct Leaf {
    pub dir: Rc<OwnedFd>,
    pub name: OsString,
    /// The path inside the root, for messages.
    pub shown: String,
}

/// What a walk does with a missing directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Fail,
    /// Create it with exactly this mode, owned by the caller's filesystem ids.
    Create(u32),
}

/// What kind of node a stat describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

pub fn kind(st: &FileStat) -> Kind {
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => Kind::File,
        SFlag::S_IFDIR => Kind::Dir,
        SFlag::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }
}

enum Step {
    Name(OsString),
    /// The end of a link's target: the walk has resolved that link.
    EndOfLink,
}

struct Link {
    at: String,
    target: String,
}

impl Root {
    pub fn open(path: &Path) -> Result<Self, RootError> {
        let shown = path.display().to_string();
        let canonical = std::fs::canonicalize(path).map_err(|source| RootError::Io {
            op: "opening the target root",
            path: shown.clone(),
            source,
        })?;
        let fd = fcntl::open(
            &canonical,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| RootError::io("opening the target root", shown, e))?;
        Ok(Self {
            fd,
            path: canonical,
            dirs: RefCell::new(None),
        })
    }

    /// Remembers resolved directories until the returned guard is dropped. Only for a span
    /// in which this stage is the only thing changing the tree and removes nodes only
    /// through [`Root::remove_all`].
    pub fn cache_dirs(&self) -> DirCache<'_> {
        self.dirs.replace(Some(HashMap::new()));
        DirCache { root: self }
    }

    /// Forgets every cached directory (a removal may have changed where paths lead).
    fn forget_dirs(&self) {
        if let Some(map) = self.dirs.borrow_mut().as_mut() {
            map.clear();
        }
    }

    /// Removes a leaf and, when it is a directory, everything below it (`rm -rf`,
    /// contained). Returns whether there was anything to remove.
    pub fn remove_all(&self, leaf: &Leaf) -> Result<bool, RootError> {
        self.forget_dirs();
        remove_all(leaf)
    }

    /// The root's absolute path on the host.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes back what is written to the root's filesystem in a background thread, a
    /// round every [`EARLY_SYNC_PAUSE`], until the returned guard is dropped, so that the
    /// disk works while the stage does and the final [`Root::sync`] has little left. Only
    /// a head start: durability still comes from that final sync.
    pub fn sync_early(&self) -> EarlySync {
        let fd = fcntl::open(
            &self.path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        );
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = fd.ok().and_then(|fd| {
            std::thread::Builder::new()
                .name("sync-early".into())
                .spawn(move || {
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        stopped.recv_timeout(EARLY_SYNC_PAUSE)
                    {
                        if unistd::syncfs(&fd).is_err() {
                            return;
                        }
                    }
                })
                .ok()
        });
        EarlySync {
            stop: Some(stop),
            thread,
        }
    }

    /// Makes everything written under the root durable: `syncfs` on the root's filesystem
    /// and on every filesystem mounted below it. Unlike `sync`, that does not wait for
    /// whatever else the host has in flight. When the mount table cannot be read, or a
    /// filesystem reports an error, it falls back to `sync`.
    pub fn sync(&self) {
        let Some(mounts) = mounts_below(&self.path) else {
            unistd::sync();
            return;
        };
        for mount in std::iter::once(self.path.clone()).chain(mounts) {
            let synced = fcntl::open(
                &mount,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .and_then(unistd::syncfs);
            if let Err(e) = synced {
                log::warn!(
                    "syncing {} failed ({e}); syncing everything",
                    mount.display()
                );
                unistd::sync();
                return;
            }
        }
    }

    /// The directory holding `path` (absolute, inside the root) and the last component's
    /// name, which is not followed. Missing directories are created or refused per `missing`.
    pub fn leaf(&self, path: &str, missing: Missing) -> Result<Leaf, RootError> {
        let parts = components(path);
        let Some((name, dirs)) = parts.split_last() else {
            return Err(RootError::io("resolving", path, Errno::EISDIR));
        };
        let key = self.dirs.borrow().as_ref().map(|map| {
            let mut key = Vec::with_capacity(path.len());
            for d in dirs {
                key.push(b'/');
                key.extend_from_slice(d.as_bytes());
            }
            (map.get(&key).cloned(), key)
        });
        let dir = match key {
            Some((Some(dir), _)) => dir,
            Some((None, key)) => {
                let dir = Rc::new(self.walk(path, dirs.to_vec(), missing)?);
                if let Some(map) = self.dirs.borrow_mut().as_mut() {
                    map.insert(key, Rc::clone(&dir));
                }
                dir
            }
            None => Rc::new(self.walk(path, dirs.to_vec(), missing)?),
        };
        Ok(Leaf {
            dir,
            name: name.clone(),
            shown: path.to_owned(),
        })
    }

    /// The directory at `path`, every link on the way resolved.
    pub fn dir(&self, path: &str, missing: Missing) -> Result<OwnedFd, RootError> {
        self.walk(path, components(path), missing)
    }

    /// The node that `path` names once every link, the last one included, is followed
    /// inside the root. `Ok(None)` when it does not exist.
    pub fn follow(&self, path: &str) -> Result<Option<(Leaf, FileStat)>, RootError> {
        let mut path = path.to_owned();
        for _ in 0..MAX_LINKS {
            let leaf = match self.leaf(&path, Missing::Fail) {
                Ok(leaf) => leaf,
                Err(e) if e.errno() == Some(Errno::ENOENT) => return Ok(None),
                Err(e) => return Err(e),
            };
            match lstat(&leaf)? {
                None => return Ok(None),
                Some(st) if kind(&st) == Kind::Symlink => {
                    let target = readlink(&leaf)?;
                    path = link_destination(&leaf.shown, &target);
                }
                Some(st) => return Ok(Some((leaf, st))),
            }
        }
        Err(RootError::Loop { path })
    }

    /// Where `path` leads once the links among its directories are followed inside the
    /// root (the last component is not followed), as a path inside the root: what Ignition's
    /// `JoinPath` computes to order nodes and to find two entries that land on the same one.
    /// Missing directories are taken as written, a `..` never climbs above the root here,
    /// and nothing is created; the walk that writes refuses what must be refused.
    pub fn resolve(&self, path: &str) -> Result<String, RootError> {
        let parts = components(path);
        let Some((last, dirs)) = parts.split_last() else {
            return Ok("/".to_owned());
        };
        let mut real = self.resolve_parts(path, dirs)?;
        real.push(last.clone());
        Ok(shown_path(&real))
    }

    /// Like [`Root::resolve`], with the last component followed too: where the directory
    /// `path` leads. `/` for the root.
    pub fn resolve_dir(&self, path: &str) -> Result<String, RootError> {
        let real = self.resolve_parts(path, &components(path))?;
        Ok(if real.is_empty() {
            "/".to_owned()
        } else {
            shown_path(&real)
        })
    }

    fn resolve_parts(&self, path: &str, dirs: &[OsString]) -> Result<Vec<OsString>, RootError> {
        let mut steps: VecDeque<OsString> = dirs.iter().cloned().collect();
        let mut real: Vec<OsString> = Vec::new();
        let mut missing = false;
        let mut followed = 0usize;
        while let Some(name) = steps.pop_front() {
            match name.as_bytes() {
                b"" | b"." => continue,
                b".." => {
                    real.pop();
                    continue;
                }
                _ => real.push(name),
            }
            if missing {
                continue;
            }
            let rel = shown_path(&real);
            let rel = OsStr::new(rel.trim_start_matches('/'));
            let st = match stat::fstatat(&self.fd, rel, AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::ENOENT | Errno::ENOTDIR) => {
                    missing = true;
                    continue;
                }
                Err(e) => return Err(RootError::io("looking up", shown_path(&real), e)),
            };
            if kind(&st) != Kind::Symlink {
                continue;
            }
            followed += 1;
            if followed > MAX_LINKS {
                return Err(RootError::Loop {
                    path: path.to_owned(),
                });
            }
            let target = fcntl::readlinkat(&self.fd, rel)
                .map_err(|e| RootError::io("reading the link", shown_path(&real), e))?;
            real.pop();
            if target.as_bytes().starts_with(b"/") {
                real.clear();
            }
            for part in components_of(&target).into_iter().rev() {
                steps.push_front(part);
            }
        }
        Ok(real)
    }

    /// Reads the file at `path`, following links inside the root. `Ok(None)` when it does
    /// not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, RootError> {
        let Some((file, shown)) = self.open_file(path)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut { file }, &mut bytes).map_err(|source| RootError::Io {
            op: "reading",
            path: shown,
            source,
        })?;
        Ok(Some(bytes))
    }

    /// Opens the node at `path` for reading, following links inside the root, with the path
    /// it resolved to for messages. `Ok(None)` when it does not exist.
    pub fn open_file(&self, path: &str) -> Result<Option<(std::fs::File, String)>, RootError> {
        let Some((leaf, _)) = self.follow(path)? else {
            return Ok(None);
        };
        let fd = fcntl::openat(
            &leaf.dir,
            leaf.name.as_os_str(),
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        )
        .map_err(|e| RootError::io("opening", &leaf.shown, e))?;
        Ok(Some((std::fs::File::from(fd), leaf.shown)))
    }

    fn walk(
        &self,
        path: &str,
        parts: Vec<OsString>,
        missing: Missing,
    ) -> Result<OwnedFd, RootError> {
        let mut steps: VecDeque<Step> = parts.into_iter().map(Step::Name).collect();
        // The directories walked below the root, with their names.
        let mut stack: Vec<(OwnedFd, OsString)> = Vec::new();
        let mut links: Vec<Link> = Vec::new();
        // The components of `path` itself walked so far, as written, for messages. Link
        // targets are walked to their end before the path goes on, so a component met
        // while no link is open is one of the path's own.
        let mut written: Vec<OsString> = Vec::new();
        let mut followed = 0usize;
        let shown_at = |stack: &[(OwnedFd, OsString)], name: &OsStr| {
            let mut s = String::new();
            for (_, n) in stack {
                s.push('/');
                s.push_str(&n.to_string_lossy());
            }
            s.push('/');
            s.push_str(&name.to_string_lossy());
            s
        };
        while let Some(step) = steps.pop_front() {
            let name = match step {
                Step::EndOfLink => {
                    // A link may end at the root directory itself (`foo/bar -> /`): the walk
                    // goes on from the root, as it would on the booted system.
                    links.pop();
                    continue;
                }
                Step::Name(name) => name,
            };
            if links.is_empty() {
                written.push(name.clone());
            }
            match name.as_bytes() {
                b"" | b"." => continue,
                b".." => {
                    if stack.pop().is_none() {
                        return Err(match links.last() {
                            Some(l) => RootError::Escape {
                                path: path.to_owned(),
                                link: l.at.clone(),
                                target: l.target.clone(),
                                why: "climbs above the root with ..",
                            },
                            None => RootError::Climb {
                                path: path.to_owned(),
                                at: shown_path(&written),
                            },
                        });
                    }
                    continue;
                }
                _ => {}
            }
            let cur = stack.last().map_or(self.fd.as_fd(), |(fd, _)| fd.as_fd());
            // Most components are plain directories: open them straight away. O_DIRECTORY
            // and O_NOFOLLOW make that fail for anything else, which the slow path sorts out.
            if let Ok(fd) = fcntl::openat(
                cur,
                name.as_os_str(),
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            ) {
                stack.push((fd, name));
                continue;
            }
            let at = shown_at(&stack, &name);
            let st = match stat::fstatat(cur, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => Some(st),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(RootError::io("looking up", at, e)),
            };
            match st.as_ref().map(kind) {
                Some(Kind::Dir) => {}
                Some(Kind::Symlink) => {
                    followed += 1;
                    if followed > MAX_LINKS {
                        return Err(RootError::Loop {
                            path: path.to_owned(),
                        });
                    }
                    let target = fcntl::readlinkat(cur, name.as_os_str())
                        .map_err(|e| RootError::io("reading the link", &at, e))?;
                    if target.as_bytes().starts_with(b"/") {
                        stack.clear();
                    }
                    steps.push_front(Step::EndOfLink);
                    for part in components_of(&target).into_iter().rev() {
                        steps.push_front(Step::Name(part));
                    }
                    links.push(Link {
                        at,
                        target: target.to_string_lossy().into_owned(),
                    });
                    continue;
                }
                Some(_) => {
                    return Err(RootError::NotDirectory {
                        path: path.to_owned(),
                        component: at,
                    })
                }
                None => match missing {
                    Missing::Fail => return Err(RootError::io("looking up", at, Errno::ENOENT)),
                    Missing::Create(mode) => {
                        match stat::mkdirat(cur, name.as_os_str(), Mode::from_bits_truncate(mode)) {
                            Ok(()) | Err(Errno::EEXIST) => {}
                            Err(e) => return Err(RootError::io("creating the directory", at, e)),
                        }
                        // The umask narrowed the mode; set it exactly.
                        let fd = open_dir(cur, &name, &at)?;
                        stat::fchmod(&fd, Mode::from_bits_truncate(mode))
                            .map_err(|e| RootError::io("setting the mode of", &at, e))?;
                        log::info!("created parent directory {at} (mode {mode:04o})");
                    }
                },
            }
            let fd = fcntl::openat(
                cur,
                name.as_os_str(),
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                Errno::ENOTDIR | Errno::ELOOP => RootError::NotDirectory {
                    path: path.to_owned(),
                    component: at.clone(),
                },
                e => RootError::io("opening", &at, e),
            })?;
            stack.push((fd, name));
        }
        match stack.pop() {
            Some((fd, _)) => Ok(fd),
            None => self.fd.try_clone().map_err(|source| RootError::Io {
                op: "opening",
                path: "/".into(),
                source,
            }),
        }
    }
}

/// Components as an absolute path, for messages.
fn shown_path(parts: &[OsString]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push('/');
        s.push_str(&p.to_string_lossy());
    }
    s
}

/// A readable descriptor of the directory `name` in `dir` (not following a link).
pub fn open_dir(dir: BorrowedFd<'_>, name: &OsStr, shown: &str) -> Result<OwnedFd, RootError> {
    fcntl::openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| RootError::io("opening", shown, e))
}

/// `lstat` of a leaf; `None` when it does not exist.
pub fn lstat(leaf: &Leaf) -> Result<Option<FileStat>, RootError> {
    match stat::fstatat(
        &leaf.dir,
        leaf.name.as_os_str(),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(RootError::io("looking up", &leaf.shown, e)),
    }
}

pub fn readlink(leaf: &Leaf) -> Result<OsString, RootError> {
    fcntl::readlinkat(&leaf.dir, leaf.name.as_os_str())
        .map_err(|e| RootError::io("reading the link", &leaf.shown, e))
}

/// Sets the owner of a leaf without following it (lchown).
pub fn chown(leaf: &Leaf, uid: u32, gid: u32) -> Result<(), RootError> {
    unistd::fchownat(
        &leaf.dir,
        leaf.name.as_os_str(),
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| RootError::io("changing the owner of", &leaf.shown, e))
}

/// Sets owner, then mode (so setuid and setgid bits survive the chown) of a directory leaf.
pub fn set_dir_owner_mode(leaf: &Leaf, uid: u32, gid: u32, mode: u32) -> Result<(), RootError> {
    let fd = open_dir(leaf.dir.as_fd(), &leaf.name, &leaf.shown)?;
    unistd::fchown(&fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
        .map_err(|e| RootError::io("changing the owner of", &leaf.shown, e))?;
    stat::fchmod(&fd, Mode::from_bits_truncate(mode))
        .map_err(|e| RootError::io("setting the mode of", &leaf.shown, e))
}

/// Removes a leaf and, when it is a directory, everything below it (`rm -rf`, contained).
/// Callers go through [`Root::remove_all`], which keeps the directory cache honest.
fn remove_all(leaf: &Leaf) -> Result<bool, RootError> {
    let Some(st) = lstat(leaf)? else {
        return Ok(false);
    };
    if kind(&st) == Kind::Dir {
        let fd = open_dir(leaf.dir.as_fd(), &leaf.name, &leaf.shown)?;
        empty_dir(fd, &leaf.shown)?;
        unistd::unlinkat(&leaf.dir, leaf.name.as_os_str(), UnlinkatFlags::RemoveDir)
            .map_err(|e| RootError::io("removing", &leaf.shown, e))?;
    } else {
        unistd::unlinkat(&leaf.dir, leaf.name.as_os_str(), UnlinkatFlags::NoRemoveDir)
            .map_err(|e| RootError::io("removing", &leaf.shown, e))?;
    }
    Ok(true)
}

fn empty_dir(fd: OwnedFd, shown: &str) -> Result<(), RootError> {
    let walk_fd = fd.try_clone().map_err(|source| RootError::Io {
        op: "reading",
        path: shown.to_owned(),
        source,
    })?;
    let names = list_dir(walk_fd, shown)?;
    for name in names {
        let child = Leaf {
            dir: Rc::new(fd.try_clone().map_err(|source| RootError::Io {
                op: "reading",
                path: shown.to_owned(),
                source,
            })?),
            shown: format!("{}/{}", shown.trim_end_matches('/'), name.to_string_lossy()),
            name,
        };
        remove_all(&child)?;
    }
    Ok(())
}

/// The names in a directory, without `.` and `..`, sorted.
pub fn list_dir(fd: OwnedFd, shown: &str) -> Result<Vec<OsString>, RootError> {
    let mut dir =
        nix::dir::Dir::from_fd(fd).map_err(|e| RootError::io("reading the directory", shown, e))?;
    let mut names = Vec::new();
    for entry in dir.iter() {
        let entry = entry.map_err(|e| RootError::io("reading the directory", shown, e))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The mount points strictly below `root`, from `/proc/self/mountinfo`.
fn mounts_below(root: &Path) -> Option<Vec<PathBuf>> {
    let table = std::fs::read(Path::new("/proc/self/mountinfo")).ok()?;
    let mut found = Vec::new();
    for line in table.split(|b| *b == b'\n') {
        // Field 5 is the mount point, with space, tab, newline and backslash escaped as \ooo.
        let Some(field) = line.split(|b| *b == b' ').nth(4) else {
            continue;
        };
        let point = PathBuf::from(OsStr::from_bytes(&unescape_octal(field)));
        if point != root && point.starts_with(root) {
            found.push(point);
        }
    }
    Some(found)
}

fn unescape_octal(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let code = field.get(i + 1..i + 4).and_then(|d| {
            d.iter()
                .all(|c| (b'0'..=b'7').contains(c))
                .then(|| d.iter().fold(0u32, |n, c| n * 8 + u32::from(c - b'0')))
        });
        match (field[i], code.and_then(|c| u8::try_from(c).ok())) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn components(path: &str) -> Vec<OsString> {
    components_of(OsStr::new(path))
}

fn components_of(path: &OsStr) -> Vec<OsString> {
    path.as_bytes()
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| OsStr::from_bytes(c).to_owned())
        .collect()
}

/// Where a link at `at` (a path inside the root) with `target` points, as a lexical path
/// inside the root. Used only to re-walk from the root, which resolves it properly.
fn link_destination(at: &str, target: &OsStr) -> String {
    let target = target.to_string_lossy();
    if target.starts_with('/') {
        target.into_owned()
    } else {
        let dir = at.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{target}")
    }
}

/// Go's `filepath.Clean` for the absolute or relative paths found in link targets.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Root::open(dir.path()).expect("open root");
        (dir, root)
    }

    #[test]
    fn creates_missing_directories_inside_the_root() {
        let (dir, root) = root();
        let leaf = root.leaf("/a/b/c", Missing::Create(0o755)).expect("leaf");
        assert_eq!(leaf.name, "c");
        assert!(dir.path().join("a/b").is_dir());
    }

    #[test]
    fn absolute_links_resolve_from_the_root() {
        let (dir, root) = root();
        std::fs::create_dir(dir.path().join("run")).expect("mkdir");
        std::fs::create_dir(dir.path().join("var")).expect("mkdir");
        symlink("/run", dir.path().join("var/run")).expect("symlink");
        let leaf = root.leaf("/var/run/x", Missing::Fail).expect("leaf");
        let st = stat::fstat(&leaf.dir).expect("fstat");
        let run = std::fs::metadata(dir.path().join("run")).expect("meta");
        assert_eq!(st.st_ino, std::os::unix::fs::MetadataExt::ino(&run));
    }

    // Ignition 2.26 resolves a link to the root directory inside the root: /foo/bar -> /
    // makes /foo/bar/baz the root's /baz.
    #[test]
    fn a_link_to_the_root_resolves_to_the_root() {
        let (dir, root) = root();
        std::fs::create_dir(dir.path().join("foo")).expect("mkdir");
        symlink("/", dir.path().join("foo/bar")).expect("symlink");
        let leaf = root
            .leaf("/foo/bar/baz", Missing::Create(0o755))
            .expect("resolved inside the root");
        assert_eq!(leaf.name, "baz");
        let st = stat::fstat(&leaf.dir).expect("fstat");
        let top = std::fs::metadata(dir.path()).expect("meta");
        assert_eq!(st.st_ino, std::os::unix::fs::MetadataExt::ino(&top));
        assert_eq!(root.resolve("/foo/bar/baz").expect("resolve"), "/baz");
        assert_eq!(
            root.resolve("/foo/bar/foo/bar/x/y").expect("resolve"),
            "/x/y"
        );
        assert_eq!(root.resolve("/missing/a").expect("resolve"), "/missing/a");
        assert_eq!(root.resolve("/foo/bar").expect("resolve"), "/foo/bar");
        assert_eq!(root.resolve_dir("/foo/bar").expect("resolve"), "/");
        assert_eq!(root.resolve_dir("/foo").expect("resolve"), "/foo");
    }

    #[test]
    fn a_link_climbing_above_the_root_is_refused() {
        let (dir, root) = root();
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        symlink("../../..", dir.path().join("a/up")).expect("symlink");
        let err = root
            .leaf("/a/up/x", Missing::Create(0o755))
            .expect_err("refused");
        assert!(err.to_string().contains("climbs above the root"), "{err}");
    }

    // Issue 15, item 13: a plain `..` was reported as a link named after the whole path.
    #[test]
    fn a_plain_dot_dot_climbing_above_the_root_names_the_component() {
        let (_dir, root) = root();
        let err = root
            .leaf("/etc/../../x", Missing::Create(0o755))
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "refusing /etc/../../x: the .. in /etc/../.. climbs above the root; a path in the config must stay inside the target root"
        );
        let err = root.dir("/..", Missing::Fail).expect_err("refused");
        assert!(err.to_string().contains("the .. in /.. climbs"), "{err}");
        // A `..` that stays inside is walked as the kernel would.
        let leaf = root
            .leaf("/a/../b/c", Missing::Create(0o755))
            .expect("leaf");
        assert_eq!(leaf.name, "c");
    }

    #[test]
    fn link_loops_stop() {
        let (dir, root) = root();
        symlink("b", dir.path().join("a")).expect("symlink");
        symlink("a", dir.path().join("b")).expect("symlink");
        let err = root.leaf("/a/x", Missing::Fail).expect_err("loop");
        assert!(matches!(err, RootError::Loop { .. }), "{err}");
    }

    #[test]
    fn reading_follows_links_inside_the_root() {
        let (dir, root) = root();
        std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
        std::fs::write(dir.path().join("etc/real"), b"x").expect("write");
        symlink("real", dir.path().join("etc/passwd")).expect("symlink");
        assert_eq!(root.read("/etc/passwd").expect("read"), Some(b"x".to_vec()));
        assert_eq!(root.read("/etc/none").expect("read"), None);
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_octal(br"/a\040b/c\134d"), b"/a b/c\\d");
        assert_eq!(unescape_octal(br"/plain\04"), br"/plain\04");
    }

    #[test]
    fn cached_directories_are_reused_and_forgotten_on_removal() {
        let (dir, root) = root();
        let cache = root.cache_dirs();
        let a = root.leaf("/x/y/one", Missing::Create(0o755)).expect("leaf");
        let b = root.leaf("/x/y/two", Missing::Fail).expect("leaf");
        assert!(
            Rc::ptr_eq(&a.dir, &b.dir),
            "the second lookup reuses the first"
        );
        let y = root.leaf("/x/y", Missing::Fail).expect("leaf");
        assert!(root.remove_all(&y).expect("remove"));
        std::fs::create_dir(dir.path().join("x/y")).expect("mkdir");
        let c = root.leaf("/x/y/three", Missing::Fail).expect("leaf");
        let st = stat::fstat(&c.dir).expect("fstat");
        let now = std::fs::metadata(dir.path().join("x/y")).expect("meta");
        assert_eq!(st.st_ino, std::os::unix::fs::MetadataExt::ino(&now));
        drop(cache);
        let d = root.leaf("/x/y/four", Missing::Fail).expect("leaf");
        assert!(!Rc::ptr_eq(&c.dir, &d.dir), "no caching without the guard");
    }

    #[test]
    fn clean_matches_go() {
        assert_eq!(clean("/x/../keep"), "/keep");
        assert_eq!(clean("a//b/./c/"), "a/b/c");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("/.."), "/");
        assert_eq!(clean(""), ".");
    }
}
