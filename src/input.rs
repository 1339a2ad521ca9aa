//! Reading a config from a file or standard input without unbounded memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};
use kindling_spec::source::MAX_CONFIG_BYTES;

/// Reads at most `MAX_CONFIG_BYTES`; anything larger is refused without reading the rest.
pub fn read_config(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        return read_bounded(io::stdin().lock(), "standard input");
    }
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory: pass a config file", path.display());
    }
    if meta.len() > MAX_CONFIG_BYTES as u64 {
        bail!(
            "{} is {} bytes, larger than the {MAX_CONFIG_BYTES}-byte config limit: move large contents to remote resources referenced by URL",
            path.display(),
            meta.len()
        );
    }
    read_bounded(file, &path.display().to_string())
}

fn read_bounded(reader: impl Read, name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {name}"))?;
    Ok(buf)
}
