//! Local files under `--files-dir`. A local path is joined to the directory as Butane joins
//! it (an absolute path stays inside the directory), refused if it climbs out with `..`,
//! and then resolved for real: a symlink inside the directory that leads outside it is
//! refused too, where Butane would follow it.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a local file cannot be used. The first three texts follow Butane's.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("local file paths are relative to a files directory that must be specified with -d/--files-dir")]
    NoFilesDir,
    #[error("local file path traverses outside the files directory")]
    Escape,
    #[error("local file path traverses outside the files directory: {0} resolves to {1} through a symlink")]
    SymlinkEscape(String, String),
    #[error("files directory {0}: {1}")]
    Unusable(String, String),
    #[error("reading {0}: {1}")]
    Io(String, #[source] io::Error),
}

/// The `--files-dir` directory, resolved once.
/// If the directory cannot be used, the reason is given when a local file is first needed
/// (a config without local files does not need it, as with Butane).
#[derive(Debug)]
pub struct FilesDir {
    given: PathBuf,
    lexical: PathBuf,
    real: PathBuf,
    broken: Option<String>,
}

impl FilesDir {
    pub fn open(dir: &Path) -> Self {
        let checked = absolute_clean(dir).and_then(|lexical| {
            let real = std::fs::canonicalize(dir)?;
            if !real.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "not a directory",
                ));
            }
            Ok((lexical, real))
        });
        match checked {
            Ok((lexical, real)) => FilesDir {
                given: dir.to_path_buf(),
                lexical,
                real,
                broken: None,
            },
            Err(e) => FilesDir {
                given: dir.to_path_buf(),
                lexical: PathBuf::new(),
                real: PathBuf::new(),
                broken: Some(e.to_string()),
            },
        }
    }

    /// The checked, real path of `local` inside the directory.
    pub fn resolve(&self, local: &str) -> Result<PathBuf, LocalError> {
        if let Some(e) = &self.broken {
            return Err(LocalError::Unusable(
                self.given.display().to_string(),
                e.clone(),
            ));
        }
        let joined = clean(&self.lexical.join(strip_root(local)));
        if !joined.starts_with(&self.lexical) {
            return Err(LocalError::Escape);
        }
        let real = std::fs::canonicalize(&joined)
            .map_err(|e| LocalError::Io(joined.display().to_string(), e))?;
        if !real.starts_with(&self.real) {
            return Err(LocalError::SymlinkEscape(
                local.to_owned(),
                real.display().to_string(),
            ));
        }
        Ok(real)
    }

    /// Reads a local file.
    pub fn read(&self, local: &str) -> Result<Vec<u8>, LocalError> {
        let path = self.resolve(local)?;
        std::fs::read(&path).map_err(|e| LocalError::Io(path.display().to_string(), e))
    }
}

/// Reads a local file, or explains why there is no files directory to read it from.
pub fn read(dir: Option<&FilesDir>, local: &str) -> Result<Vec<u8>, LocalError> {
    dir.ok_or(LocalError::NoFilesDir)?.read(local)
}

/// Go's `filepath.Join(dir, p)` keeps an absolute `p` inside `dir`.
fn strip_root(p: &str) -> &Path {
    Path::new(p.trim_start_matches('/'))
}

fn absolute_clean(p: &Path) -> io::Result<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()?.join(p)
    };
    Ok(clean(&abs))
}

/// Lexical clean-up: drops `.`, resolves `..` against the preceding component.
fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_and_symlinks_out_are_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let files = root.path().join("files");
        std::fs::create_dir(&files).expect("mkdir");
        std::fs::write(files.join("a"), "A").expect("write");
        std::fs::write(root.path().join("secret"), "S").expect("write");
        std::os::unix::fs::symlink(root.path().join("secret"), files.join("leak"))
            .expect("symlink");
        let dir = FilesDir::open(&files);
        assert_eq!(dir.read("a").expect("read"), b"A");
        assert_eq!(dir.read("/a").expect("absolute stays inside"), b"A");
        assert!(matches!(dir.read("../secret"), Err(LocalError::Escape)));
        assert!(matches!(
            dir.read("leak"),
            Err(LocalError::SymlinkEscape(..))
        ));
        assert!(matches!(dir.read("missing"), Err(LocalError::Io(..))));
        assert!(matches!(read(None, "a"), Err(LocalError::NoFilesDir)));
    }
}
