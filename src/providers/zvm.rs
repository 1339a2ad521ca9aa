//! Platform `zvm`: on IBM z/VM the config is a spool file of type `ign` in the guest's
//! virtual reader (device 000c), read with s390-tools' `vmur`.

use std::path::PathBuf;

use super::host;
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::command::Cmd;

const PLATFORM: &str = "zvm";
const READER: &str = "000c";
const MISSING: &str = "Kindling reads the z/VM reader with s390-tools (vmur, chccwdev, \
    cio_ignore): install s390-tools on the host that builds the initramfs and rebuild the \
    initramfs (the kindling dracut module includes them when the host has them)";

/// The most `vmur li` may print: a reader listing is a line per spool file.
const LISTING_LIMIT: u64 = 1 << 20;

#[derive(Debug)]
pub struct ZvmProvider;

impl Provider for ZvmProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        host::modprobe(PLATFORM, "vmur")?;
        bring_reader_online()?;
        host::run_or_fail(
            PLATFORM,
            Cmd::new("waiting for the reader's device", "udevadm").arg("settle"),
            MISSING,
        )?;
        let list = host::run_or_fail(
            PLATFORM,
            Cmd::new("listing the z/VM reader", "vmur")
                .arg("li")
                .max_stdout(LISTING_LIMIT),
            MISSING,
        )?;
        let Some(file) = first_ign(&String::from_utf8_lossy(&list.stdout)) else {
            log::info!("the z/VM reader holds no spool file of type ign");
            return Ok(Acquired::NoConfig);
        };
        let dir = PrivateDir::new()?;
        let target = dir.0.join(format!("{}.ign", file.name));
        let read = host::run_or_fail(
            PLATFORM,
            Cmd::new(format!("reading spool file {}", file.spoolid), "vmur")
                .args(["re", "-f", &file.spoolid])
                .arg(&target),
            MISSING,
        )
        .and_then(|_| super::read_limited(&target, cx.limit));
        match read {
            Ok(bytes) => {
                let bytes = host::trim_nuls(&bytes).to_vec();
                if bytes.is_empty() {
                    return Ok(Acquired::NoConfig);
                }
                Ok(Acquired::Config {
                    bytes,
                    detached_signature: None,
                })
            }
            Err(e @ ProviderError::TooLarge { .. }) => Err(e),
            // A spool file that cannot be received is no config, as in Ignition.
            Err(e) => {
                log::warn!("{e}; continuing without a config");
                Ok(Acquired::NoConfig)
            }
        }
    }

    fn describe(&self) -> String {
        format!("the z/VM reader {READER} (spool file of type ign)")
    }
}

/// `chccwdev -e`; a reader on the I/O ignore list must be freed first.
fn bring_reader_online() -> Result<(), ProviderError> {
    let online = || {
        host::run_or_fail(
            PLATFORM,
            Cmd::new("setting the z/VM reader online", "chccwdev").args(["-e", READER]),
            MISSING,
        )
    };
    if let Err(first) = online() {
        log::info!("{first}; removing {READER} from the I/O ignore list and retrying");
        host::run_or_fail(
            PLATFORM,
            Cmd::new("freeing the z/VM reader", "cio_ignore").args(["-r", READER]),
            MISSING,
        )?;
        online()?;
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
struct SpoolFile {
    spoolid: String,
    name: String,
}

/// The first spool file of type `ign` in `vmur li` output (columns: origin id, spool id,
/// class, records, copies, hold, date, time, name, type, distribution).
fn first_ign(listing: &str) -> Option<SpoolFile> {
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() <= 1 {
            break;
        }
        if fields.len() < 11 || fields[10] != "ign" {
            continue;
        }
        let name = fields[9];
        // The name becomes a file name in a private directory: no path in it.
        if name.contains('/') || name == "." || name == ".." {
            log::warn!(
                "skipping spool file {}: its name {name:?} is not a file name",
                fields[1]
            );
            continue;
        }
        return Some(SpoolFile {
            spoolid: fields[1].to_owned(),
            name: name.to_owned(),
        });
    }
    None
}

/// A directory only its owner can read (mode 0700), removed with what is in it.
#[derive(Debug)]
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<Self, ProviderError> {
        let template = std::env::temp_dir().join("kindling-zvm.XXXXXX");
        nix::unistd::mkdtemp(&template)
            .map(Self)
            .map_err(|e| ProviderError::Read {
                path: template,
                source: e.into(),
            })
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            log::warn!("removing {}: {e}", self.0.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST
T6360025 0463 V DMP 00020222 001 NONE 06/11 15:07:42 VMDUMP    FILE     T6360025
T6360025 0464 A PUN 00000003 001 NONE 06/11 15:08:00 CONFIG    ign      T6360025
T6360025 0465 A PUN 00000003 001 NONE 06/11 15:08:00 OTHER     ign      T6360025
";

    #[test]
    fn the_first_ign_file_is_chosen() {
        assert_eq!(
            first_ign(LISTING),
            Some(SpoolFile {
                spoolid: "0464".into(),
                name: "CONFIG".into()
            })
        );
    }

    #[test]
    fn the_type_is_case_sensitive_and_a_blank_line_ends_the_list() {
        assert_eq!(first_ign(&LISTING.replace(" ign ", " IGN ")), None);
        let blank = LISTING.replacen("T6360025 0464", "\nT6360025 0464", 1);
        assert_eq!(first_ign(&blank), None);
    }

    #[test]
    fn names_with_paths_are_skipped() {
        let listing = "X 1 A PUN 3 001 NONE 06/11 15:08:00 ../x ign X\nX 2 A PUN 3 001 NONE 06/11 15:08:00 OK ign X\n";
        assert_eq!(first_ign(listing).map(|f| f.spoolid), Some("2".into()));
    }
}
