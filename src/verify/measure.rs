//! Measuring the root config into the TPM before it is parsed, so a remote verifier can tell
//! from a TPM quote which config provisioned the machine.
//!
//! Kindling extends PCR 14 of the SHA-256 bank with the SHA-256 of the root config's bytes as
//! delivered (for a signed message: the whole message), once per boot. PCR 14 is outside the
//! PCRs systemd, the kernel and systemd-stub extend (9 kernel/initrd, 10 IMA, 11 UKI, 12
//! credentials, 13 system extensions, 15 machine identity) and not resettable, unlike PCR 16
//! and 23. A shim-based boot also extends it with its MOK lists, which a verifier replays from
//! the firmware's event log; in a UKI booted by the firmware directly it holds only Kindling's
//! event, and its value is `sha256(0^32 || sha256(config))`.
//!
//! The TPM is spoken to directly (`TPM2_PCR_Extend` on /dev/tpmrm0): the command is a fixed
//! 65-byte message, and an initramfs need not carry a TSS stack for it. The event is recorded
//! in the run dir's state, in the result report on the provisioned root, and in the journal.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The PCR Kindling extends.
pub const PCR: u32 = 14;
/// Test override for the TPM device.
pub const DEVICE_ENV: &str = "KINDLING_TPM_DEVICE";
const DEVICES: [&str; 2] = ["/dev/tpmrm0", "/dev/tpm0"];

const TPM_ST_SESSIONS: u16 = 0x8002;
const TPM_CC_PCR_EXTEND: u32 = 0x0000_0182;
const TPM_RS_PW: u32 = 0x4000_0009;
const TPM_ALG_SHA256: u16 = 0x000B;

/// One measurement event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub pcr: u32,
    pub bank: String,
    /// Hex SHA-256 of the config bytes: what was extended.
    pub digest: String,
    /// What was measured, e.g. "kindling root config from QEMU fw_cfg …".
    pub event: String,
    pub device: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("measuring the config into {device} failed: {source}")]
    Io {
        device: String,
        source: std::io::Error,
    },
    #[error("the TPM at {device} refused to extend PCR {pcr} (response code {code:#x})")]
    Tpm { device: String, pcr: u32, code: u32 },
    #[error("the trust policy requires the config to be measured (requireMeasurement), but there is no TPM ({devices}); boot with a TPM or drop requireMeasurement")]
    NoTpm { devices: String },
}

/// The `TPM2_PCR_Extend` command for one SHA-256 digest, with an empty password session.
pub fn extend_command(pcr: u32, digest: &[u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(65);
    body.extend_from_slice(&pcr.to_be_bytes());
    // Authorization area: TPM_RS_PW, empty nonce, no attributes, empty password.
    body.extend_from_slice(&9u32.to_be_bytes());
    body.extend_from_slice(&TPM_RS_PW.to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.push(0);
    body.extend_from_slice(&0u16.to_be_bytes());
    // TPML_DIGEST_VALUES with one TPMT_HA.
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&TPM_ALG_SHA256.to_be_bytes());
    body.extend_from_slice(digest);
    let size = u32::try_from(10 + body.len()).unwrap_or(u32::MAX);
    let mut cmd = Vec::with_capacity(10 + body.len());
    cmd.extend_from_slice(&TPM_ST_SESSIONS.to_be_bytes());
    cmd.extend_from_slice(&size.to_be_bytes());
    cmd.extend_from_slice(&TPM_CC_PCR_EXTEND.to_be_bytes());
    cmd.extend_from_slice(&body);
    cmd
}

/// What the PCR holds after extending `digest` into `before`.
pub fn predict(before: &[u8; 32], digest: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(before);
    h.update(digest);
    h.finalize().into()
}

fn device() -> Option<PathBuf> {
    if let Some(dev) = std::env::var_os(DEVICE_ENV) {
        return Some(PathBuf::from(dev)).filter(|p| p.exists());
    }
    DEVICES.iter().map(PathBuf::from).find(|p| p.exists())
}

fn transact(dev: &Path, cmd: &[u8]) -> Result<u32, std::io::Error> {
    let mut tpm = OpenOptions::new().read(true).write(true).open(dev)?;
    tpm.write_all(cmd)?;
    let mut resp = [0u8; 4096];
    let n = tpm.read(&mut resp)?;
    if n < 10 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("a {n}-byte response"),
        ));
    }
    Ok(u32::from_be_bytes([resp[6], resp[7], resp[8], resp[9]]))
}

/// Extends PCR 14 with the config's digest. Without a TPM: `Ok(None)`, or an error when the
/// policy requires a measurement.
pub fn measure(
    config: &[u8],
    source: &str,
    required: bool,
) -> Result<Option<Measurement>, MeasureError> {
    let digest: [u8; 32] = Sha256::digest(config).into();
    let Some(dev) = device() else {
        if required {
            return Err(MeasureError::NoTpm {
                devices: DEVICES.join(", "),
            });
        }
        log::info!(
            "no TPM ({}): the config was not measured",
            DEVICES.join(", ")
        );
        return Ok(None);
    };
    let shown = dev.display().to_string();
    let code =
        transact(&dev, &extend_command(PCR, &digest)).map_err(|source| MeasureError::Io {
            device: shown.clone(),
            source,
        })?;
    if code != 0 {
        return Err(MeasureError::Tpm {
            device: shown,
            pcr: PCR,
            code,
        });
    }
    let m = Measurement {
        pcr: PCR,
        bank: "sha256".into(),
        digest: hex::encode(digest),
        event: format!("kindling root config from {source}"),
        device: shown,
    };
    log::info!(
        "measured the config into PCR {} (sha256 bank): sha256 {}",
        m.pcr,
        m.digest
    );
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extend_command_is_well_formed() {
        let cmd = extend_command(14, &[0xab; 32]);
        assert_eq!(cmd.len(), 65);
        assert_eq!(&cmd[..10], &[0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82]);
        assert_eq!(&cmd[10..14], &14u32.to_be_bytes());
        assert_eq!(&cmd[14..18], &9u32.to_be_bytes());
        assert_eq!(&cmd[18..22], &TPM_RS_PW.to_be_bytes());
        assert_eq!(&cmd[27..31], &1u32.to_be_bytes());
        assert_eq!(&cmd[31..33], &[0x00, 0x0b]);
        assert_eq!(&cmd[33..], &[0xab; 32]);
    }

    #[test]
    fn prediction_is_the_extend_rule() {
        let d: [u8; 32] = Sha256::digest(b"config").into();
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(d);
        let want: [u8; 32] = h.finalize().into();
        assert_eq!(predict(&[0; 32], &d), want);
    }

    #[test]
    fn without_a_tpm_nothing_is_measured_unless_required() {
        std::env::set_var(DEVICE_ENV, "/nonexistent/tpm");
        assert_eq!(measure(b"{}", "test", false).expect("no TPM is fine"), None);
        let err = measure(b"{}", "test", true)
            .expect_err("required")
            .to_string();
        assert!(err.contains("requireMeasurement"), "{err}");
    }
}
