//! Clevis bindings for LUKS volumes (`storage.luks.*.clevis`): tpm2, Tang servers, a threshold
//! over both (Shamir secret sharing, the `sss` pin), or a hand-written pin and configuration.
//!
//! The volume is formatted and opened with its key as usual; `clevis luks bind` then adds a
//! keyslot that the binding unlocks. When the config gave no key file, the random key that
//! formatted the volume is removed again, as Ignition does: the binding is then the only way
//! in, and no key is written to the installed system.

use std::fs;
use std::path::{Path, PathBuf};

use kindling_spec::types::{Luks, Resource};
use serde_json::{json, Value};

use super::DiskError;
use crate::command::Cmd;
use crate::fetch::{FetchPolicy, Fetcher};

/// What `clevis luks bind` is given for one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub pin: String,
    pub config: String,
    /// Unlocking needs the network (Tang, or a custom pin that says so): crypttab gets
    /// `_netdev` so the booted system unlocks it once the network is up.
    pub network: bool,
    /// Tang servers without an advertisement in the config: clevis asks them for one while
    /// binding, so they must answer first.
    pub tang_to_contact: Vec<String>,
    /// Whether the binding can unlock the volume right now: enough of its pins need nothing
    /// but this machine and reachable servers (an advertisement given in the config says
    /// nothing about whether the server is up).
    pub can_unlock_now: bool,
}

/// The binding a volume asks for, or `None` when it has none.
pub fn binding(luks: &Luks, at: &str) -> Result<Option<Binding>, DiskError> {
    let c = &luks.clevis;
    let at = format!("{at}.clevis");
    if let Some(pin) = c.custom.pin.as_deref().filter(|p| !p.is_empty()) {
        let config = c.custom.config.clone().unwrap_or_default();
        if serde_json::from_str::<Value>(&config).is_err() {
            return Err(DiskError::at(
                &format!("{at}.custom.config"),
                "is not a JSON object; write the pin's configuration as JSON text, as `clevis encrypt PIN CONFIG` takes it".to_owned(),
            ));
        }
        return Ok(Some(Binding {
            pin: pin.to_owned(),
            config,
            network: c.custom.needs_network == Some(true),
            tang_to_contact: Vec::new(),
            // A custom pin is opaque: trust the bind, and let the booted system unlock it.
            can_unlock_now: false,
        }));
    }
    let tpm2 = c.tpm2 == Some(true);
    if !tpm2 && c.tang.is_empty() {
        return Ok(None);
    }
    let mut servers = Vec::new();
    for (j, t) in c.tang.iter().enumerate() {
        let mut server = serde_json::Map::new();
        server.insert("url".into(), Value::String(t.url.clone()));
        if let Some(thp) = t.thumbprint.as_deref().filter(|s| !s.is_empty()) {
            server.insert("thp".into(), Value::String(thp.to_owned()));
        }
        if let Some(adv) = t.advertisement.as_deref().filter(|s| !s.is_empty()) {
            let adv: Value = serde_json::from_str(adv).map_err(|e| {
                DiskError::at(
                    &format!("{at}.tang.{j}.advertisement"),
                    format!("is not JSON ({e}); paste the server's /adv response unchanged, or leave it unset to fetch it"),
                )
            })?;
            server.insert("adv".into(), adv);
        }
        servers.push(Value::Object(server));
    }
    let threshold = c.threshold.unwrap_or(1);
    let pins = if tpm2 {
        let mut pins = json!({ "tpm2": {} });
        if !servers.is_empty() {
            pins["tang"] = Value::Array(servers);
        }
        pins
    } else {
        json!({ "tang": servers })
    };
    let config = json!({ "t": threshold, "pins": pins }).to_string();
    let tang_to_contact: Vec<String> = c
        .tang
        .iter()
        .filter(|t| t.advertisement.as_deref().is_none_or(str::is_empty))
        .map(|t| t.url.clone())
        .collect();
    let reachable = tang_to_contact.len() as i64 + i64::from(tpm2);
    Ok(Some(Binding {
        pin: "sss".into(),
        config,
        network: !c.tang.is_empty(),
        can_unlock_now: reachable >= threshold,
        tang_to_contact,
    }))
}

/// Asks each Tang server without a configured advertisement for one, with the fetcher's
/// retries, so a network that is still coming up does not fail the bind. The answer itself
/// is only a reachability check: clevis fetches and checks it against the thumbprint.
pub fn contact_tang(binding: &Binding, fetcher: &Fetcher, at: &str) -> Result<(), DiskError> {
    for (j, url) in binding.tang_to_contact.iter().enumerate() {
        let adv = format!("{}/adv", url.trim_end_matches('/'));
        let res = Resource {
            source: Some(adv.clone()),
            ..Resource::default()
        };
        log::info!("disks: asking the Tang server {url} for its advertisement");
        fetcher.fetch_to_vec(&res, 1 << 20).map_err(|e| {
            DiskError::at(
                &format!("{at}.clevis.tang.{j}.url"),
                format!("the Tang server did not answer ({e}); check the URL and that the machine can reach it"),
            )
        })?;
    }
    Ok(())
}

/// A fetcher for Tang advertisements: they are checked by thumbprint, not by hash, so the
/// trust policy's hash rule does not apply to them.
pub fn tang_fetcher(fetcher: &Fetcher) -> Fetcher {
    fetcher.with_policy(FetchPolicy::default())
}

/// Binds the volume at `dev` (already opened with `key`) and, when the binding can unlock it
/// now, closes and reopens it through clevis to prove it does.
pub fn bind(
    binding: &Binding,
    luks: &Luks,
    dev: &Path,
    key: &[u8],
    run_dir: &Path,
    at: &str,
) -> Result<(), DiskError> {
    // clevis reads `-k -` with `read -r`, which stops at a newline byte; a key file is exact.
    let key_file = KeyFile::new(run_dir, &luks.name, key)?;
    log::info!(
        "disks: binding {} to clevis ({} {})",
        dev.display(),
        binding.pin,
        binding.config
    );
    Cmd::new(format!("binding {} to clevis", dev.display()), "clevis")
        .args(["luks", "bind", "-f", "-k"])
        .arg(&key_file.path)
        .arg("-d")
        .arg(dev)
        .arg(&binding.pin)
        .arg(&binding.config)
        .run()
        .map_err(|e| {
            DiskError::at(
                &format!("{at}.clevis"),
                format!("clevis could not bind the volume: {e}"),
            )
        })?;
    drop(key_file);
    if binding.can_unlock_now {
        Cmd::new(format!("closing {}", luks.name), "cryptsetup")
            .arg("luksClose")
            .arg(&luks.name)
            .run()
            .map_err(|e| DiskError::command(dev, e))?;
        log::info!("disks: reopening {} through its clevis binding", luks.name);
        Cmd::new(format!("unlocking {} with clevis", dev.display()), "clevis")
            .args(["luks", "unlock", "-d"])
            .arg(dev)
            .arg("-n")
            .arg(&luks.name)
            .run()
            .map_err(|e| {
                DiskError::at(
                    &format!("{at}.clevis"),
                    format!("the new clevis binding does not unlock the volume: {e}"),
                )
            })?;
    }
    Ok(())
}

/// Removes the random key that formatted the volume, leaving the binding as the only way in.
pub fn remove_key(dev: &Path, key: &[u8]) -> Result<(), DiskError> {
    log::info!(
        "disks: removing the generated key from {} (the clevis binding unlocks it)",
        dev.display()
    );
    Cmd::new(
        format!("removing the generated key from {}", dev.display()),
        "cryptsetup",
    )
    .args(["luksRemoveKey", "--batch-mode", "--key-file=-"])
    .arg(dev)
    .run_with_input(Some(key))
    .map(drop)
    .map_err(|e| DiskError::command(dev, e))
}

/// A key in a 0600 file in the run dir (0700) for as long as clevis needs it.
struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    fn new(run_dir: &Path, name: &str, key: &[u8]) -> Result<Self, DiskError> {
        let path = super::keys::key_dir(run_dir)?.join(format!(".bind-{name}"));
        crate::atomic::write(&path, key, 0o600)
            .map_err(|e| DiskError::device(&path, format!("cannot write the key: {e}")))?;
        Ok(Self { path })
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luks(clevis: &str) -> Luks {
        serde_json::from_str(&format!(
            r#"{{"name":"d","device":"/dev/vdb","clevis":{clevis}}}"#
        ))
        .expect("luks")
    }

    #[test]
    fn tpm2_alone_is_sss_with_one_pin() {
        let b = binding(&luks(r#"{"tpm2":true}"#), "$.storage.luks.0")
            .expect("ok")
            .expect("binding");
        assert_eq!(b.pin, "sss");
        assert_eq!(b.config, r#"{"pins":{"tpm2":{}},"t":1}"#);
        assert!(!b.network);
        assert!(b.can_unlock_now);
    }

    #[test]
    fn tang_and_tpm2_with_a_threshold() {
        let b = binding(
            &luks(
                r#"{"tpm2":true,"threshold":2,"tang":[{"url":"http://tang.example","thumbprint":"abc"}]}"#,
            ),
            "$.storage.luks.0",
        )
        .expect("ok")
        .expect("binding");
        let v: Value = serde_json::from_str(&b.config).expect("json");
        assert_eq!(v["t"], 2);
        assert_eq!(v["pins"]["tpm2"], json!({}));
        assert_eq!(
            v["pins"]["tang"],
            json!([{"url": "http://tang.example", "thp": "abc"}])
        );
        assert!(b.network);
        assert_eq!(b.tang_to_contact, ["http://tang.example"]);
        assert!(b.can_unlock_now);
    }

    #[test]
    fn configured_advertisements_are_embedded_and_not_contacted() {
        let b = binding(
            &luks(
                r#"{"threshold":1,"tang":[{"url":"http://t","thumbprint":"x","advertisement":"{\"payload\":\"p\"}"}]}"#,
            ),
            "$.storage.luks.0",
        )
        .expect("ok")
        .expect("binding");
        let v: Value = serde_json::from_str(&b.config).expect("json");
        assert_eq!(v["pins"]["tang"][0]["adv"], json!({"payload": "p"}));
        assert!(v["pins"].get("tpm2").is_none());
        assert!(b.tang_to_contact.is_empty());
        assert!(!b.can_unlock_now);
    }

    #[test]
    fn custom_pins_pass_through_and_bad_json_names_the_field() {
        let b = binding(
            &luks(
                r#"{"custom":{"pin":"tpm2","config":"{\"pcr_ids\":\"7\"}","needsNetwork":false}}"#,
            ),
            "$.storage.luks.3",
        )
        .expect("ok")
        .expect("binding");
        assert_eq!(
            (b.pin.as_str(), b.config.as_str()),
            ("tpm2", r#"{"pcr_ids":"7"}"#)
        );
        let err = binding(
            &luks(r#"{"custom":{"pin":"tpm2","config":"pcr 7"}}"#),
            "$.storage.luks.3",
        )
        .expect_err("bad config");
        assert!(
            err.to_string()
                .contains("$.storage.luks.3.clevis.custom.config"),
            "{err}"
        );
    }

    #[test]
    fn no_pins_no_binding() {
        assert!(binding(&luks(r#"{"tpm2":false}"#), "$")
            .expect("ok")
            .is_none());
    }
}
