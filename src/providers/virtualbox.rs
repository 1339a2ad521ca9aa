//! Platform `virtualbox`: the config is the guest property `/Ignition/Config`, set on the host
//! with `VBoxManage guestproperty set <vm> /Ignition/Config "$(cat config.ign)"`.
//!
//! Guest properties travel over the Guest Additions driver's HGCM ioctls on /dev/vboxguest,
//! which would need unsafe code here. Kindling asks the Guest Additions' own user-space tool,
//! `VBoxControl`, which prints `Value: <value>` and a newline; everything between is the
//! value, byte for byte. A property is text: it cannot carry NUL bytes, on either path.

use super::host::{self, ToolFailure};
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::command::{Cmd, CommandError};

const PLATFORM: &str = "virtualbox";
const CONFIG: &str = "/Ignition/Config";
const ENCODING: &str = "/Ignition/Config/Encoding";
const VBOXCONTROL: &str = "VBoxControl";
const MISSING: &str = "Kindling reads guest properties through it. It comes with the \
    VirtualBox Guest Additions: install them on the host that builds the initramfs and rebuild \
    the initramfs (the kindling dracut module includes VBoxControl and the vboxguest driver \
    when the host has them). Outside a VirtualBox VM there are no guest properties: check \
    kindling.platform.id";
/// What VBoxControl prints for a property that is not set.
const NOT_SET: &str = "No value set!";
const VALUE: &[u8] = b"Value: ";

#[derive(Debug)]
pub struct VirtualBoxProvider;

impl Provider for VirtualBoxProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        if let Some(encoding) = property(ENCODING, SMALL_VALUE)?.filter(|e| !e.is_empty()) {
            return Err(host::error(
                PLATFORM,
                format!(
                    "{ENCODING} is set ({:?}), but encoded configs are unsupported on VirtualBox: set {CONFIG} to the plain config and delete {ENCODING}",
                    String::from_utf8_lossy(&encoding)
                ),
            ));
        }
        Ok(
            match property(CONFIG, cx.limit.saturating_add(SMALL_VALUE))? {
                Some(bytes) if !bytes.is_empty() => Acquired::Config {
                    bytes,
                    detached_signature: None,
                },
                _ => Acquired::NoConfig,
            },
        )
    }

    fn describe(&self) -> String {
        format!("VirtualBox guest property {CONFIG} (through {VBOXCONTROL})")
    }
}

/// The most output for a property that is a word (the encoding), and the room
/// `Value: ` and the newline take around a property's value.
const SMALL_VALUE: u64 = 4 << 10;

/// A guest property's value, or `None` when it is not set. The tool may print at most `max`
/// bytes.
fn property(name: &str, max: u64) -> Result<Option<Vec<u8>>, ProviderError> {
    let cmd = Cmd::new(format!("reading guest property {name}"), VBOXCONTROL)
        .args(["--nologo", "guestproperty", "get", name])
        .max_stdout(max);
    let out = match host::run(PLATFORM, cmd, MISSING) {
        Ok(out) => out.stdout,
        Err(ToolFailure::Failed(CommandError::Failed { stdout, .. }))
            if stdout.trim() == NOT_SET =>
        {
            return Ok(None)
        }
        Err(ToolFailure::Missing(e)) => return Err(e),
        Err(ToolFailure::Failed(e @ CommandError::TooMuchOutput { .. })) => return Err(host::error(
            PLATFORM,
            format!("{e} (a config larger than maxConfigBytes in the trust policy is refused: raise maxConfigBytes if the config is meant to be this big)"),
        )),
        Err(ToolFailure::Failed(e)) => return Err(host::error(
            PLATFORM,
            format!("{e}\n(VBoxControl fails like this outside a VirtualBox VM, or when the vboxguest driver is not loaded)"),
        )),
    };
    parse_get(&out).map_err(|reason| {
        host::error(
            PLATFORM,
            format!("{VBOXCONTROL} guestproperty get {name}: {reason}"),
        )
    })
}

/// The value in `guestproperty get` output: after `Value: `, without the final newline.
fn parse_get(out: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if out.trim_ascii() == NOT_SET.as_bytes() {
        return Ok(None);
    }
    let Some(value) = out.strip_prefix(VALUE) else {
        return Err("the output does not start with \"Value: \"; this VBoxControl prints something Kindling does not know".into());
    };
    Ok(Some(value.strip_suffix(b"\n").unwrap_or(value).to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_everything_between_the_label_and_the_last_newline() {
        assert_eq!(
            parse_get(b"Value: {\"a\":\n1}\n\n"),
            Ok(Some(b"{\"a\":\n1}\n".to_vec()))
        );
        assert_eq!(parse_get(b"Value: \n"), Ok(Some(Vec::new())));
        assert_eq!(parse_get(b"No value set!\n"), Ok(None));
        assert!(parse_get(b"Oracle VM VirtualBox Guest Additions\n").is_err());
    }
}
