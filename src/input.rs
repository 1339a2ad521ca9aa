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
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        bail!("{} is a directory: pass a config file", path.display());
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
