//! `oem:///path` (Flatcar's OEM partition), as Flatcar's Ignition reads it: the file under the
//! lookaside directory `/usr/share/oem` if it is there, else on the partition labelled `OEM`,
//! mounted read-only on a private directory for the read and always unmounted after it. No
//! network is involved, so fetch-offline reads these.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::redact::redact;
use super::FetchError;
use crate::providers::drive::{self, Mounted, Wait};

/// Where Flatcar's initramfs keeps OEM files it already has.
pub const LOOKASIDE_DIR: &str = "/usr/share/oem";
/// The OEM partition's filesystem label.
pub const LABEL: &str = "OEM";
/// How long to wait for udev to link the OEM partition, at most (the fetch's overall
/// timeout, when shorter, bounds it too).
pub const WAIT: Duration = Duration::from_secs(30);

/// Set once a wait for the OEM partition timed out: this process does not wait again.
static ABSENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Waits (at most `wait`, and only once per process if it never comes) for the OEM
/// partition's label link.
fn wait_for_partition(source: &OemSource, wait: Duration) -> Option<PathBuf> {
    use std::sync::atomic::Ordering;
    let wait = if ABSENT.load(Ordering::SeqCst) {
        Duration::ZERO
    } else {
        wait
    };
    match drive::wait_for_label(&source.by_label, LABEL, Instant::now() + wait, None) {
        Wait::Appeared(device) => Some(device),
        Wait::TimedOut | Wait::Cancelled => {
            ABSENT.store(true, Ordering::SeqCst);
            None
        }
    }
}

/// Where `oem:///` files are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OemSource {
    /// `/usr/share/oem`; tests set `$KINDLING_TEST_OEM_DIR`.
    pub lookaside: PathBuf,
    /// `/dev/disk/by-label`; tests set `$KINDLING_TEST_DISK_BY_LABEL`.
    pub by_label: PathBuf,
}

impl OemSource {
    pub fn from_process() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        Self {
            lookaside: var("KINDLING_TEST_OEM_DIR", LOOKASIDE_DIR),
            by_label: var("KINDLING_TEST_DISK_BY_LABEL", drive::BY_LABEL_DIR),
        }
    }

    /// The OEM partition's device link.
    pub fn device(&self) -> PathBuf {
        self.by_label.join(LABEL)
    }
}

impl Default for OemSource {
    fn default() -> Self {
        Self::from_process()
    }
}

/// Whether `url` is an `oem:` URL.
pub fn is_oem(url: &str) -> bool {
    url.split_once(':')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("oem"))
}

/// The path an `oem:` URL names, relative to the OEM partition's root, as Go's URL parser
/// and `filepath.Clean` give it to Flatcar's Ignition: the host (if any), query and fragment
/// are ignored, percent escapes decoded, and `.` and `..` resolved without leaving the root.
pub fn path_of(url: &str) -> Result<PathBuf, String> {
    let rest = &url[url.find(':').map_or(0, |i| i + 1)..];
    let rest = rest.split('#').next().unwrap_or("");
    let rest = rest.split('?').next().unwrap_or("");
    let path = match rest.strip_prefix("//") {
        Some(after) => after.find('/').map_or("", |i| &after[i..]),
        None => rest,
    };
    if !path.starts_with('/') {
        return Err("the path is not absolute: write oem:///path/on/the/oem/partition".to_owned());
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| "the path is not UTF-8 after percent-decoding".to_owned())?;
    let mut parts: Vec<&str> = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("the path names the partition's root, not a file".to_owned());
    }
    Ok(parts.iter().collect())
}

/// A file on the OEM partition; the partition stays mounted until this is dropped (the file
/// is closed first: fields drop in order).
struct OnPartition {
    file: std::fs::File,
    _mounted: Mounted,
}

impl Read for OnPartition {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

pub(super) fn open(
    source: &OemSource,
    url: &str,
    timeout: Option<Duration>,
) -> Result<Box<dyn Read>, FetchError> {
    let failed = |reason: String| FetchError::Oem {
        url: redact(url),
        reason,
    };
    let rel = path_of(url).map_err(&failed)?;
    let lookaside = source.lookaside.join(&rel);
    match std::fs::File::open(&lookaside) {
        Ok(file) => {
            log::info!("reading {} for {}", lookaside.display(), redact(url));
            return Ok(Box::new(file));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(failed(format!(
                "reading {} failed: {e}",
                lookaside.display()
            )))
        }
    }
    let wait = timeout
        .filter(|t| !t.is_zero())
        .map_or(WAIT, |t| t.min(WAIT));
    let device = match wait_for_partition(source, wait) {
        Some(device) => device,
        None => {
            return Err(failed(format!(
                "{} does not exist, and no partition labelled {LABEL:?} appeared at {} within {} s; put the file there, or check that the image has its OEM partition",
                lookaside.display(),
                source.device().display(),
                wait.as_secs()
            )))
        }
    };
    let mounted =
        Mounted::mount(&device, "OEM partition", None).map_err(|e| failed(drive::chain(&e)))?;
    let on_partition = mounted.path().join(&rel);
    let shown = Path::new("/").join(&rel);
    match std::fs::File::open(&on_partition) {
        Ok(file) => Ok(Box::new(OnPartition {
            file,
            _mounted: mounted,
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(failed(format!(
            "not found: neither {} nor {} on the OEM partition ({}) exists",
            lookaside.display(),
            shown.display(),
            device.display()
        ))),
        Err(e) => Err(failed(format!(
            "reading {} on the OEM partition ({}) failed: {e}",
            shown.display(),
            device.display()
        ))),
    }
}

/// A file Flatcar's initramfs copies off the OEM partition (`rel`, e.g. `base/base.ign`): from
/// the lookaside directory if it is there, else from the partition; `None` when neither has
/// it, or when no OEM partition appears within `wait` (an image without one).
pub fn read_optional(
    source: &OemSource,
    rel: &str,
    wait: Duration,
    limit: u64,
) -> Result<Option<Vec<u8>>, FetchError> {
    let url = format!("oem:///{rel}");
    let failed = |reason: String| FetchError::Oem {
        url: url.clone(),
        reason,
    };
    let lookaside = source.lookaside.join(rel);
    match crate::bounded::read(&lookaside, limit) {
        Ok(crate::bounded::Bounded::Cut { .. }) => {
            return Err(FetchError::TooLarge { url, limit });
        }
        Ok(crate::bounded::Bounded::Whole(bytes)) => {
            log::info!("read {}", lookaside.display());
            return Ok(Some(bytes));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && source.lookaside.is_dir() => {
            log::info!("{} has no {rel}", source.lookaside.display());
            return Ok(None);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(failed(format!(
                "reading {} failed: {e}",
                lookaside.display()
            )))
        }
    }
    let device = match wait_for_partition(source, wait) {
        Some(device) => device,
        None => {
            log::info!(
                "no {} and no OEM partition at {}: no {url}",
                lookaside.display(),
                source.device().display()
            );
            return Ok(None);
        }
    };
    let mounted =
        Mounted::mount(&device, "OEM partition", None).map_err(|e| failed(drive::chain(&e)))?;
    mounted
        .read(rel, limit)
        .map_err(|e| failed(drive::chain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_as_flatcars_ignition_reads_them() {
        for (url, want) in [
            ("oem:///base/base.ign", "base/base.ign"),
            ("OEM:///config.ign", "config.ign"),
            ("oem://ignored-host/a/b", "a/b"),
            ("oem:///a/./b/../c?x=1#f", "a/c"),
            ("oem:///../../etc/shadow", "etc/shadow"),
            ("oem:///with%20space", "with space"),
            ("oem:/abs", "abs"),
        ] {
            assert_eq!(path_of(url).expect(url), PathBuf::from(want), "{url}");
        }
        for bad in ["oem:relative", "oem://host", "oem:///", "oem:///a/.."] {
            assert!(path_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_lookaside_directory_is_read_first_and_absence_is_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("oem/base")).expect("dir");
        std::fs::write(dir.path().join("oem/base/base.ign"), b"{}").expect("write");
        let source = OemSource {
            lookaside: dir.path().join("oem"),
            by_label: dir.path().join("by-label"),
        };
        let mut body = String::new();
        open(&source, "oem:///base/base.ign", None)
            .expect("lookaside")
            .read_to_string(&mut body)
            .expect("read");
        assert_eq!(body, "{}");
        let err = open(&source, "oem:///nope", Some(Duration::from_millis(10)))
            .err()
            .expect("absent");
        let msg = err.to_string();
        assert!(msg.contains("oem:///nope"), "{msg}");
        assert!(msg.contains("no partition labelled \"OEM\""), "{msg}");
    }
}
