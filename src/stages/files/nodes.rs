//! `storage.files`, `storage.directories` and `storage.links`, with Ignition's order and
//! semantics:
//! - entries are created shallowest first (directories, then files, then symbolic links, in
//!   config order at equal depth), and hard links last so they can point at files created
//!   deeper down;
//! - `overwrite: true` replaces whatever is at the path (a directory with everything in
//!   it). A file's new content is fetched, verified and written beside the path first, and
//!   only then renamed over it, so a failure leaves the old node as it was; directories and
//!   links, which fetch nothing, remove the old node first;
//! - a kept file that has other hard links is never changed in place (appends, mode,
//!   owner): another name of it may be outside the root;
//! - a file whose path holds a regular file is kept when the config gives no `contents`
//!   (appends and the mode and owner still apply), and is an error when it does;
//! - missing parent directories are created 0755, owned by root;
//! - an unset mode means 0644 for new files and 0755 for new directories, and the current
//!   mode for kept ones; an unset owner means root for new nodes and the current owner for
//!   kept ones.
//!
//! Remote contents are fetched ahead (`fetch::ahead`): the next files download, decompress
//! and hash in the background while this one is written, but every node is still created,
//! checked and kept in the order above, and a file is kept only when its fetch succeeded.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use kindling_spec::types::{Directory, File as FileEntry, Link, Resource, Storage};
use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag};
use nix::sys::stat::{self, FileStat, Mode};
use nix::unistd;

use super::attempt::Attempt;
use super::owners::Owners;
use super::root::{self, Kind, Leaf, Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::{FilesError, FilesSummary};
use crate::fetch::ahead::Ahead;
use crate::fetch::{FetchError, Fetcher};

/// Mode of directories Kindling creates on the way to a node.
pub const PARENT_MODE: u32 = 0o755;
const DEFAULT_FILE_MODE: u32 = 0o644;
const DEFAULT_DIR_MODE: u32 = 0o755;

enum Entry<'a> {
    Dir(&'a Directory),
    File(&'a FileEntry),
    Link(&'a Link),
}

impl<'a> Entry<'a> {
    fn what(&self) -> &'static str {
        match self {
            Entry::Dir(_) => "directory",
            Entry::File(_) => "file",
            Entry::Link(_) => "link",
        }
    }

    fn path(&self) -> &'a str {
        match self {
            Entry::Dir(d) => &d.path,
            Entry::File(f) => &f.path,
            Entry::Link(l) => &l.path,
        }
    }
}

fn depth(path: &str) -> usize {
    path.split('/').filter(|c| !c.is_empty()).count()
}

/// The order Ignition creates nodes in: by the depth of the path each entry resolves to
/// (links among its directories followed inside the root, as Ignition 2.26's `JoinPath`
/// does), hard links last. Two entries that resolve to the same node are refused, as
/// Ignition refuses them: the second would silently replace the first.
fn ordered<'a>(
    storage: &'a Storage,
    resolve: impl Fn(&str) -> Result<String, RootError>,
) -> Result<Vec<Entry<'a>>, FilesError> {
    let all = storage
        .directories
        .iter()
        .map(Entry::Dir)
        .chain(storage.files.iter().map(Entry::File))
        .chain(storage.links.iter().map(Entry::Link));
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut entries = Vec::new();
    let mut hard = Vec::new();
    for entry in all {
        let resolved = resolve(entry.path())?;
        if let Some(other) = seen.get(resolved.as_str()) {
            return Err(FilesError::Conflict {
                path: entry.path().to_owned(),
                problem: format!(
                    "the {} resolves to {resolved} once links in the root are followed, where the entry {other} also resolves; give each node one path",
                    entry.what()
                ),
            });
        }
        seen.insert(resolved.clone(), entry.path());
        match entry {
            Entry::Link(l) if l.hard == Some(true) => hard.push(entry),
            _ => entries.push((depth(&resolved), entry)),
        }
    }
    // A stable sort: config order (directories, files, links) at equal depth.
    entries.sort_by_key(|(d, _)| *d);
    Ok(entries.into_iter().map(|(_, e)| e).chain(hard).collect())
}

pub fn apply(
    root: &Root,
    storage: &Storage,
    owners: &Owners,
    fetcher: &Fetcher,
    attempt: &mut Attempt,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    // Many entries share a directory: resolve each directory once.
    let parents = std::cell::RefCell::new(std::collections::HashMap::<String, String>::new());
    let resolve = |p: &str| -> Result<String, RootError> {
        let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
        if name.is_empty() || name == "." || name == ".." {
            return root.resolve(p);
        }
        let cached = parents.borrow().get(dir).cloned();
        let real = match cached {
            Some(real) => real,
            None => {
                let real = root.resolve_dir(dir)?;
                parents.borrow_mut().insert(dir.to_owned(), real.clone());
                real
            }
        };
        Ok(format!("{}/{name}", real.trim_end_matches('/')))
    };
    let entries = ordered(storage, resolve)?;
    // What `file` fetches, in the order it fetches it: the contents when they have a
    // source, then the appends. That holds for every plan: a file kept in place has no
    // contents source, and one that has is replaced (overwrite) or stops the stage.
    let resources = entries.iter().flat_map(|e| match e {
        Entry::File(f) => f
            .contents
            .source
            .is_some()
            .then_some(&f.contents)
            .into_iter()
            .chain(f.append.iter())
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    let mut fetcher = Ahead::new(fetcher, resources);
    let _dirs = root.cache_dirs();
    for entry in entries {
        match entry {
            Entry::Dir(d) => directory(root, d, owners, summary)?,
            Entry::File(f) => file(root, f, owners, &mut fetcher, attempt, summary)?,
            Entry::Link(l) => link(root, l, owners, summary)?,
        }
    }
    Ok(())
}

fn conflict(path: &str, st: &FileStat, wanted: &str) -> FilesError {
    let found = match root::kind(st) {
        Kind::File => "a file",
        Kind::Dir => "a directory",
        Kind::Symlink => "a symbolic link",
        Kind::Other => "a special file",
    };
    FilesError::Conflict {
        path: path.to_owned(),
        problem: format!(
            "{found} already exists where the config wants {wanted}, and overwrite is false; set overwrite: true to replace it"
        ),
    }
}

/// Removes the node at the path when the config says `overwrite: true`.
fn clear_for_overwrite(
    root: &Root,
    leaf: &Leaf,
    overwrite: Option<bool>,
) -> Result<(), FilesError> {
    if overwrite == Some(true) && root.remove_all(leaf)? {
        log::info!("removed the existing {} (overwrite: true)", leaf.shown);
    }
    Ok(())
}

fn directory(
    root: &Root,
    d: &Directory,
    owners: &Owners,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let leaf = root.leaf(&d.path, Missing::Create(PARENT_MODE))?;
    let overwrite = d.overwrite == Some(true);
    // What overwrite will remove counts as absent.
    let existing = root::lstat(&leaf)?.filter(|_| !overwrite);
    let (default_owner, default_mode) = match &existing {
        None => ((0, 0), DEFAULT_DIR_MODE),
        Some(st) if root::kind(st) == Kind::Dir => ((st.st_uid, st.st_gid), st.st_mode & 0o7777),
        Some(st) => return Err(conflict(&d.path, st, "a directory")),
    };
    // Resolve the owner before removing or creating anything, so an unknown name leaves
    // no trace.
    let (uid, gid) = owners.resolve(&d.user, &d.group, default_owner, &d.path)?;
    clear_for_overwrite(root, &leaf, d.overwrite)?;
    let created = existing.is_none();
    if created {
        stat::mkdirat(
            &leaf.dir,
            leaf.name.as_os_str(),
            Mode::from_bits_truncate(0o700),
        )
        .map_err(|e| RootError::io("creating the directory", &leaf.shown, e))?;
    }
    let mode = mode_of(d.mode, default_mode);
    root::set_dir_owner_mode(&leaf, uid, gid, mode)?;
    log::info!(
        "{} directory {} (mode {mode:04o}, owner {uid}:{gid})",
        if created { "created" } else { "updated" },
        d.path
    );
    summary.directories += 1;
    Ok(())
}

fn mode_of(mode: Option<i64>, default: u32) -> u32 {
    mode.and_then(|m| u32::try_from(m).ok())
        .map_or(default, |m| m & 0o7777)
}

/// What to do with a file path.
enum Plan {
    /// Nothing there: write `contents` (then the appends) to a new file.
    New,
    /// Something there and `overwrite: true`: write the new file beside it, then rename it
    /// over whatever is there (a directory is swapped out and then removed).
    Replace,
    /// A file there and no `contents`: keep it, add the appends, set mode and owner.
    Keep(FileStat),
}

fn file(
    root: &Root,
    f: &FileEntry,
    owners: &Owners,
    fetcher: &mut Ahead<'_>,
    attempt: &mut Attempt,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let leaf = root.leaf(&f.path, Missing::Create(PARENT_MODE))?;
    let resumed = attempt.marker.previous().is_some();
    // Nothing at the path is removed here: a replaced node goes only once its successor
    // is complete (see `write::replace`).
    let plan = match root::lstat(&leaf)? {
        None => Plan::New,
        Some(_) if f.overwrite == Some(true) => Plan::Replace,
        Some(st) if root::kind(&st) == Kind::File && f.contents.source.is_none() => Plan::Keep(st),
        // An interrupted attempt may have written it: the same content is that file.
        Some(st) if root::kind(&st) == Kind::File && resumed => {
            return written_before(&leaf, f, owners, fetcher, summary);
        }
        Some(st) if root::kind(&st) == Kind::File => {
            return Err(FilesError::Conflict {
                path: f.path.clone(),
                problem: "a file already exists there, and overwrite is false; set overwrite: true to replace it, or leave contents unset to keep it".into(),
            })
        }
        Some(st) => return Err(conflict(&f.path, &st, "a file")),
    };
    let (default_owner, default_mode) = match &plan {
        Plan::New | Plan::Replace => ((0, 0), DEFAULT_FILE_MODE),
        Plan::Keep(st) => ((st.st_uid, st.st_gid), st.st_mode & 0o7777),
    };
    let (uid, gid) = owners.resolve(&f.user, &f.group, default_owner, &f.path)?;
    let mode = mode_of(f.mode, default_mode);
    let attrs = Attrs {
        owner: Some((uid, gid)),
        mode,
    };
    if let Plan::Keep(st) = &plan {
        if f.append.is_empty() {
            keep(&leaf, attrs)?;
            log::info!("kept file {} (mode {mode:04o}, owner {uid}:{gid})", f.path);
            summary.files += 1;
            return Ok(());
        }
        // The appended file replaces this one by rename, which would part it from its other
        // names; appending in place would change them all. Neither is what the config says.
        refuse_shared(&leaf, st, "append to")?;
        attempt.before_append(root)?;
    }
    let keep = matches!(plan, Plan::Keep(_));
    let mut size = 0u64;
    let fill = |out: &mut dyn Write| {
        if keep {
            size += copy_existing(&leaf, out)?;
        }
        if f.contents.source.is_some() {
            size += fetch(fetcher, &f.contents, out)?;
        }
        for extra in &f.append {
            size += fetch(fetcher, extra, out)?;
        }
        Ok::<_, FetchFailure>(())
    };
    let written = match plan {
        Plan::Replace => write::replace(root, &leaf, attrs, fill),
        Plan::New | Plan::Keep(_) => write::atomic(&leaf, attrs, fill),
    };
    if keep && written.is_ok() {
        attempt.appended();
    }
    written.map_err(|e| match e {
        // The temporary file could not take the bytes (a full disk): a fault of the
        // target, not of the fetch.
        WriteError::Fill(
            FetchFailure::Fetch(FetchError::Write { source, .. }) | FetchFailure::Output(source),
        ) => FilesError::from(RootError::Io {
            op: if keep { "appending to" } else { "writing" },
            path: f.path.clone(),
            source,
        }),
        WriteError::Fill(FetchFailure::Existing(source)) => FilesError::from(RootError::Io {
            op: "reading",
            path: f.path.clone(),
            source,
        }),
        WriteError::Fill(FetchFailure::Fetch(source)) => FilesError::Fetch {
            path: f.path.clone(),
            source,
        },
        WriteError::Fs(e) => e.into(),
    })?;
    let what = match plan {
        Plan::New => "wrote",
        Plan::Replace => "replaced",
        Plan::Keep(_) => "kept and appended to",
    };
    log::info!(
        "{what} file {} ({size} bytes, mode {mode:04o}, owner {uid}:{gid})",
        f.path
    );
    summary.files += 1;
    summary.appends += f.append.len() as u64;
    Ok(())
}

/// A file the config creates (`contents`, no `overwrite`) is already there, and an earlier
/// attempt was interrupted. It is the file that attempt wrote when it holds exactly the new
/// content (the contents, then the appends): then it is kept, with the owner and mode of a
/// new file. Anything else at the path is the usual conflict.
fn written_before(
    leaf: &Leaf,
    f: &FileEntry,
    owners: &Owners,
    fetcher: &mut Ahead<'_>,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let (uid, gid) = owners.resolve(&f.user, &f.group, (0, 0), &f.path)?;
    let mode = mode_of(f.mode, DEFAULT_FILE_MODE);
    let mut new = Digester::default();
    for res in std::iter::once(&f.contents).chain(f.append.iter()) {
        fetch(fetcher, res, &mut new).map_err(|source| FilesError::Fetch {
            path: f.path.clone(),
            source,
        })?;
    }
    let mut old = Digester::default();
    copy_existing(leaf, &mut old).map_err(|e| match e {
        FetchFailure::Existing(source) | FetchFailure::Output(source) => {
            FilesError::from(RootError::Io {
                op: "reading",
                path: f.path.clone(),
                source,
            })
        }
        FetchFailure::Fetch(source) => FilesError::Fetch {
            path: f.path.clone(),
            source,
        },
    })?;
    if old.0.finish() != new.0.finish() {
        return Err(FilesError::Conflict {
            path: f.path.clone(),
            problem: "a file with other content already exists there, and overwrite is false; set overwrite: true to replace it, or leave contents unset to keep it".into(),
        });
    }
    keep(
        leaf,
        Attrs {
            owner: Some((uid, gid)),
            mode,
        },
    )?;
    log::info!(
        "kept file {}: it already holds the content the config gives, as the interrupted attempt wrote it (mode {mode:04o}, owner {uid}:{gid})",
        f.path
    );
    summary.files += 1;
    summary.appends += f.append.len() as u64;
    Ok(())
}

/// A writer that only hashes (SHA-512).
#[derive(Default)]
struct Digester(openssl::sha::Sha512);

impl Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A kept file without appends: only its owner and mode, set where they differ.
fn keep(leaf: &Leaf, attrs: Attrs) -> Result<(), FilesError> {
    let file = open_file(leaf, OFlag::O_RDONLY)?;
    // Looked at through the descriptor that is changed, so nothing can swap the file between.
    let st = stat::fstat(&file).map_err(|e| RootError::io("looking up", &leaf.shown, e))?;
    let owner_changes = attrs.owner.is_some_and(|o| o != (st.st_uid, st.st_gid));
    let mode_changes = st.st_mode & 0o7777 != attrs.mode;
    match (owner_changes, mode_changes) {
        (false, false) => return Ok(()),
        (true, _) => refuse_shared(leaf, &st, "change the owner of")?,
        (false, true) => refuse_shared(leaf, &st, "change the mode of")?,
    }
    Ok(set_owner_mode(&file, leaf, attrs)?)
}

/// Refuses to change a file in place when other names share it: another hard link may sit
/// outside the target root, where Kindling never changes anything, and nothing short of
/// searching the whole filesystem tells where the other names are.
fn refuse_shared(leaf: &Leaf, st: &FileStat, change: &str) -> Result<(), FilesError> {
    if st.st_nlink <= 1 {
        return Ok(());
    }
    Err(FilesError::Conflict {
        path: leaf.shown.clone(),
        problem: format!(
            "it has {} hard links, so Kindling will not {change} it in place: the change would reach every other name of the file, and one of them may be outside the target root; set overwrite: true with contents to replace it (its other names keep the old file), or remove the other links from the image",
            st.st_nlink
        ),
    })
}

/// Why the new content of a file could not be produced.
enum FetchFailure {
    Fetch(FetchError),
    /// Reading the kept file failed.
    Existing(io::Error),
    /// The temporary file could not take the kept file's bytes.
    Output(io::Error),
}

impl From<FetchError> for FetchFailure {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

fn fetch(fetcher: &mut Ahead<'_>, res: &Resource, out: &mut dyn Write) -> Result<u64, FetchError> {
    Ok(fetcher.fetch(res, out)?.size)
}

fn open_file(leaf: &Leaf, flags: OFlag) -> Result<File, RootError> {
    let fd = fcntl::openat(
        &leaf.dir,
        leaf.name.as_os_str(),
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
    .map_err(|e| RootError::io("opening", &leaf.shown, e))?;
    Ok(File::from(fd))
}

/// Copies the kept file into the new one; a failed read and a failed write stay apart.
fn copy_existing(leaf: &Leaf, out: &mut dyn Write) -> Result<u64, FetchFailure> {
    let mut existing = open_file(leaf, OFlag::O_RDONLY)
        .map_err(|e| FetchFailure::Existing(io::Error::other(e)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match existing.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FetchFailure::Existing(e)),
        };
        out.write_all(&buf[..n]).map_err(FetchFailure::Output)?;
        total += n as u64;
    }
}

/// Owner first, then mode: chown clears setuid and setgid.
fn set_owner_mode(file: &File, leaf: &Leaf, attrs: Attrs) -> Result<(), RootError> {
    if let Some((uid, gid)) = attrs.owner {
        unistd::fchown(
            file.as_fd(),
            Some(unistd::Uid::from_raw(uid)),
            Some(unistd::Gid::from_raw(gid)),
        )
        .map_err(|e| RootError::io("changing the owner of", &leaf.shown, e))?;
    }
    stat::fchmod(file.as_fd(), Mode::from_bits_truncate(attrs.mode))
        .map_err(|e| RootError::io("setting the mode of", &leaf.shown, e))
}

fn link(
    root: &Root,
    l: &Link,
    owners: &Owners,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let target = l.target.as_deref().unwrap_or("");
    let hard = l.hard == Some(true);
    let leaf = root.leaf(&l.path, Missing::Create(PARENT_MODE))?;
    clear_for_overwrite(root, &leaf, l.overwrite)?;
    if let Some(st) = root::lstat(&leaf)? {
        return existing_link(root, l, &leaf, &st, target, hard);
    }
    if hard {
        let source = root
            .leaf(target, Missing::Fail)
            .map_err(|e| hard_target(l, e))?;
        match root::lstat(&source)? {
            Some(st) if root::kind(&st) == Kind::Dir => {
                return Err(FilesError::Conflict {
                    path: l.path.clone(),
                    problem: format!("the hard link target {target} is a directory"),
                })
            }
            Some(_) => {}
            None => {
                return Err(hard_target(
                    l,
                    RootError::io("looking up", target, Errno::ENOENT),
                ))
            }
        }
        unistd::linkat(
            &source.dir,
            source.name.as_os_str(),
            &leaf.dir,
            leaf.name.as_os_str(),
            AtFlags::empty(),
        )
        .map_err(|e| RootError::io("creating the hard link", &l.path, e))?;
        log::info!("created hard link {} => {target}", l.path);
        summary.hard_links += 1;
        return Ok(());
    }
    unistd::symlinkat(target, &leaf.dir, leaf.name.as_os_str())
        .map_err(|e| RootError::io("creating the symbolic link", &l.path, e))?;
    // Ignition's default owner is that of whatever the new link points to.
    let default = root
        .follow(&l.path)
        .ok()
        .flatten()
        .map_or((0, 0), |(_, st)| (st.st_uid, st.st_gid));
    let (uid, gid) = owners.resolve(&l.user, &l.group, default, &l.path)?;
    root::chown(&leaf, uid, gid)?;
    log::info!(
        "created symbolic link {} -> {target} (owner {uid}:{gid})",
        l.path
    );
    summary.links += 1;
    Ok(())
}

fn hard_target(l: &Link, e: RootError) -> FilesError {
    FilesError::Conflict {
        path: l.path.clone(),
        problem: format!(
            "the hard link target {} cannot be used: {e}",
            l.target.as_deref().unwrap_or("")
        ),
    }
}

/// A node already sits at a link's path (and overwrite is false): fine when it already is
/// that link, an error otherwise.
fn existing_link(
    root: &Root,
    l: &Link,
    leaf: &Leaf,
    st: &FileStat,
    target: &str,
    hard: bool,
) -> Result<(), FilesError> {
    if hard {
        let source = root
            .leaf(target, Missing::Fail)
            .map_err(|e| hard_target(l, e))?;
        let same =
            root::lstat(&source)?.is_some_and(|t| t.st_dev == st.st_dev && t.st_ino == st.st_ino);
        if same {
            log::info!("hard link {} => {target} already exists", l.path);
            return Ok(());
        }
        return Err(FilesError::Conflict {
            path: l.path.clone(),
            problem: format!("a file that is not {target} already exists there, and overwrite is false; set overwrite: true to replace it"),
        });
    }
    if root::kind(st) != Kind::Symlink {
        return Err(conflict(&l.path, st, "a symbolic link"));
    }
    let existing = root::readlink(leaf)?;
    let existing = existing.to_string_lossy();
    if root::clean(&existing) == root::clean(target) {
        log::info!("symbolic link {} -> {target} already exists", l.path);
        return Ok(());
    }
    Err(FilesError::Conflict {
        path: l.path.clone(),
        problem: format!("a symbolic link to {existing} (not {target}) already exists there, and overwrite is false; set overwrite: true to replace it"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_ordered_by_depth_with_hard_links_last() {
        let storage: Storage = serde_json::from_str(
            r#"{"files":[{"path":"/a/b/c"},{"path":"/z"}],
                "directories":[{"path":"/a/b"}],
                "links":[{"path":"/h","target":"/a/b/c","hard":true},{"path":"/a/s","target":"x"}]}"#,
        )
        .expect("storage");
        let order: Vec<&str> = ordered(&storage, |p| Ok(p.to_owned()))
            .expect("ordered")
            .iter()
            .map(|e| e.path())
            .collect();
        assert_eq!(order, ["/z", "/a/b", "/a/s", "/a/b/c", "/h"]);
    }

    // Ignition 2.26 orders by the resolved path: with /foo/bar -> /, the directory
    // /foo/bar/baz is /baz and comes before /baz/quux.
    #[test]
    fn nodes_are_ordered_by_the_depth_they_resolve_to() {
        let storage: Storage = serde_json::from_str(
            r#"{"directories":[{"path":"/baz/quux"},{"path":"/foo/bar/baz"}]}"#,
        )
        .expect("storage");
        let resolve = |p: &str| Ok(p.replace("/foo/bar/", "/"));
        let order: Vec<&str> = ordered(&storage, resolve)
            .expect("ordered")
            .iter()
            .map(|e| e.path())
            .collect();
        assert_eq!(order, ["/foo/bar/baz", "/baz/quux"]);
    }

    #[test]
    fn entries_that_resolve_to_one_node_are_refused() {
        let storage: Storage =
            serde_json::from_str(r#"{"files":[{"path":"/foo/bar/baz"},{"path":"/bar/baz"}]}"#)
                .expect("storage");
        let resolve = |p: &str| Ok(p.replace("/foo/", "/"));
        let err = ordered(&storage, resolve).err().expect("refused");
        assert!(
            err.to_string().starts_with(
                "/bar/baz: the file resolves to /bar/baz once links in the root are followed, where the entry /foo/bar/baz also resolves"
            ),
            "{err}"
        );
    }

    #[test]
    fn modes_keep_special_bits_only_as_given() {
        assert_eq!(mode_of(None, 0o644), 0o644);
        assert_eq!(mode_of(Some(0o4755), 0o644), 0o4755);
        assert_eq!(mode_of(Some(0o600), 0o644), 0o600);
    }
}
