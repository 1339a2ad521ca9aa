//! LUKS2 volumes with cryptsetup: formatted (or reused when the key opens them), then opened
//! as /dev/mapper/<name> for the filesystems on top.
//!
//! The key is the config's `keyFile` resource, fetched and verified like any other resource,
//! or 32 random bytes (as 64 hex digits) when there is none. It reaches cryptsetup on standard
//! input, never on a command line or in a log. The files stage installs it as /etc/luks/<name> with an
//! /etc/crypttab line, so the booted system unlocks the volume by itself; until then it waits
//! in the run dir (0700), described by `crate::rundir::luks_handoff`. A volume with a clevis binding whose key
//! was generated keeps no key at all: the binding unlocks it ([`super::clevis`]).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kindling_spec::types::Luks;
use serde::{Deserialize, Serialize};

use super::signatures;
use super::{clevis, devices, DiskError};
use crate::command::Cmd;
use crate::fetch::Fetcher;

/// Largest key file accepted (cryptsetup's own default limit is 8 MiB).
const KEY_LIMIT: u64 = 8 << 20;

/// One opened volume, as the files stage needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    /// The LUKS header's UUID.
    pub uuid: String,
    pub discard: bool,
    pub open_options: Vec<String>,
    /// A key file goes to /etc/luks/<name>; without one, the crypttab line says `none` and a
    /// clevis binding unlocks the volume.
    #[serde(default = "yes")]
    pub key_file: bool,
    /// Unlocking needs the network (a Tang binding): crypttab gets `_netdev`.
    #[serde(default)]
    pub netdev: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Reused,
}

fn has_key_file(luks: &Luks) -> bool {
    luks.key_file
        .source
        .as_deref()
        .is_some_and(|s| !s.is_empty())
}

fn key(luks: &Luks, at: &str, fetcher: &Fetcher) -> Result<Vec<u8>, DiskError> {
    if has_key_file(luks) {
        let (bytes, _) = fetcher
            .fetch_to_vec(&luks.key_file, KEY_LIMIT)
            .map_err(|e| {
                DiskError::at(
                    &format!("{at}.keyFile"),
                    format!("fetching the key failed: {e}"),
                )
            })?;
        if bytes.is_empty() {
            return Err(DiskError::at(
                &format!("{at}.keyFile"),
                "the key file is empty".to_owned(),
            ));
        }
        return Ok(bytes);
    }
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| DiskError::at(at, format!("generating a random key failed: {e}")))?;
    // Hex text, as Ignition generates: clevis's shell scripts handle text keys, not arbitrary
    // bytes. 64 hex digits still carry 256 random bits.
    Ok(hex::encode(bytes).into_bytes())
}

fn unsupported(luks: &Luks) -> Option<&'static str> {
    (luks.cex.enabled == Some(true)).then_some("IBM CEX secure keys")
}

fn cryptsetup(what: String) -> Cmd {
    Cmd::new(what, "cryptsetup")
}

fn header_uuid(dev: &Path) -> Result<String, DiskError> {
    let out = cryptsetup(format!("reading the LUKS UUID of {}", dev.display()))
        .arg("luksUUID")
        .arg(dev)
        .run()
        .map_err(|e| DiskError::command(dev, e))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Formats (or reuses) and opens the volume at `$.storage.luks.<index>`.
pub fn apply(
    luks: &Luks,
    index: usize,
    fetcher: &Fetcher,
    run_dir: &Path,
    timeout: Duration,
) -> Result<(Outcome, Volume), DiskError> {
    let at = format!("$.storage.luks.{index}");
    if let Some(what) = unsupported(luks) {
        // Provisioning without the binding would leave a volume the booted system cannot
        // unlock the way the config intends.
        return Err(DiskError::at(
            &at,
            format!("{what} are not supported by this version of Kindling (they need s390x hardware); use keyFile or a clevis binding"),
        ));
    }
    let binding = clevis::binding(luks, &at)?;
    // The key first: a key that cannot be had stops the stage before the device is touched.
    let key = key(luks, &at, fetcher)?;
    if let Some(b) = &binding {
        clevis::contact_tang(b, &clevis::tang_fetcher(fetcher), &at)?;
    }
    let dev = PathBuf::from(luks.device.as_deref().unwrap_or_default());
    devices::wait_for(&dev, &format!("{at}.device"), timeout)?;

    let found = if luks.wipe_volume == Some(true) {
        log::info!("disks: erasing the signatures on {}", dev.display());
        Cmd::new(
            format!("erasing the signatures on {}", dev.display()),
            "wipefs",
        )
        .arg("-a")
        .arg(&dev)
        .run()
        .map_err(|e| DiskError::command(&dev, e))?;
        signatures::Found::default()
    } else {
        signatures::probe(&dev)?
    };

    let outcome = if found.fstype == "crypto_LUKS" && binding.is_some() {
        // What clevis stored in the header cannot be compared with the config.
        return Err(DiskError::at(
            &at,
            format!(
                "{} already holds a LUKS volume ({}); a volume with a clevis binding is never reused, because its binding cannot be compared with the config; set wipeVolume: true to re-create it (its data is lost)",
                dev.display(),
                found.describe()
            ),
        ));
    } else if found.fstype == "crypto_LUKS" {
        let uuid_ok = luks
            .uuid
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(&found.uuid));
        let label_ok = luks.label.as_deref().is_none_or(|l| l == found.label);
        let opens = uuid_ok
            && label_ok
            && cryptsetup(format!("testing the key of {}", dev.display()))
                .args(["open", "--test-passphrase", "--key-file=-"])
                .arg(&dev)
                .run_with_input(Some(&key))
                .is_ok();
        if !opens {
            return Err(DiskError::at(
                &at,
                format!(
                    "{} already holds a LUKS volume ({}) that {}; set wipeVolume: true to re-create it (its data is lost)",
                    dev.display(),
                    found.describe(),
                    if uuid_ok && label_ok { "the key does not open" } else { "does not match the config's label or uuid" }
                ),
            ));
        }
        log::info!(
            "disks: {} is already the LUKS volume the config describes; keeping it",
            dev.display()
        );
        Outcome::Reused
    } else if !found.is_empty() {
        return Err(DiskError::at(
            &at,
            format!(
                "{} holds {}; set wipeVolume: true to encrypt it anyway (its data is lost)",
                dev.display(),
                found.describe()
            ),
        ));
    } else {
        let mut cmd = cryptsetup(format!("formatting {} as LUKS2", dev.display())).args([
            "luksFormat",
            "--type",
            "luks2",
            "--batch-mode",
            "--key-file=-",
        ]);
        if let Some(label) = &luks.label {
            cmd = cmd.arg("--label").arg(label);
        }
        if let Some(uuid) = &luks.uuid {
            cmd = cmd.arg("--uuid").arg(uuid);
        }
        log::info!("disks: formatting {} as LUKS2", dev.display());
        cmd.args(&luks.options)
            .arg(&dev)
            .run_with_input(Some(&key))
            .map_err(|e| DiskError::command(&dev, e))?;
        Outcome::Created
    };

    let mapped = Path::new("/dev/mapper").join(&luks.name);
    if !mapped.exists() {
        let mut cmd = cryptsetup(format!("opening {} as {}", dev.display(), mapped.display()))
            .args(["luksOpen", "--key-file=-"]);
        if luks.discard == Some(true) {
            cmd = cmd.arg("--allow-discards");
        }
        cmd.args(&luks.open_options)
            .arg(&dev)
            .arg(&luks.name)
            .run_with_input(Some(&key))
            .map_err(|e| DiskError::command(&dev, e))?;
    }
    // A generated key is only kept when no binding replaces it.
    let key_file = binding.is_none() || has_key_file(luks);
    if let Some(b) = &binding {
        clevis::bind(b, luks, &dev, &key, run_dir, &at)?;
        if !key_file {
            clevis::remove_key(&dev, &key)?;
        }
    }
    devices::wait_for(&mapped, &format!("{at}.name"), timeout)?;
    if key_file {
        save_key(run_dir, &luks.name, &key)?;
    }
    let volume = Volume {
        name: luks.name.clone(),
        uuid: header_uuid(&dev)?,
        discard: luks.discard == Some(true),
        open_options: luks.open_options.clone(),
        key_file,
        netdev: binding.as_ref().is_some_and(|b| b.network),
    };
    Ok((outcome, volume))
}

fn save_key(run_dir: &Path, name: &str, key: &[u8]) -> Result<(), DiskError> {
    let path = super::keys::key_dir(run_dir)?.join(name);
    crate::atomic::write(&path, key, 0o600)
        .map_err(|e| DiskError::device(&path, format!("cannot write the key: {e}")))
}

/// Writes what the files stage needs; an empty list removes an old hand-off.
pub fn write_handoff(run_dir: &Path, volumes: &[Volume]) -> Result<(), DiskError> {
    let path = crate::rundir::luks_handoff(run_dir);
    let bytes = serde_json::to_vec_pretty(volumes).unwrap_or_default();
    crate::atomic::write(&path, &bytes, 0o600)
        .map_err(|e| DiskError::device(&path, format!("cannot write it: {e}")))
}
