//! Platform `qemu`: the config arrives through fw_cfg as `opt/com.coreos/config`
//! (`-fw_cfg name=opt/com.coreos/config,file=config.ign`). QEMU on s390x and ppc64le has no
//! fw_cfg; there the config is a virtio-blk disk with the serial `ignition`
//! (`-drive if=none,id=ign,format=raw,file=config.ign,readonly=on
//! -device virtio-blk,serial=ignition,drive=ign`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::host;
use super::{read_optional, Acquired, Environment, Provider, ProviderContext, ProviderError};

const PLATFORM: &str = "qemu";
const VIRTIO_DISK: &str = "/dev/disk/by-id/virtio-ignition";
/// How long the virtio disk may take to appear, and how often to look.
const DISK_WAIT: Duration = Duration::from_secs(300);
const DISK_POLL: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct QemuProvider {
    env: Environment,
    raw: PathBuf,
}

impl QemuProvider {
    pub fn new(env: &Environment) -> Self {
        Self {
            env: env.clone(),
            raw: env
                .sysfs()
                .join("firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw"),
        }
    }

    fn read_virtio_disk(&self, limit: u64) -> Result<Acquired, ProviderError> {
        host::load_module(
            PLATFORM,
            &self.env,
            "virtio_blk",
            Some("bus/virtio/drivers/virtio_blk"),
        )?;
        let started = Instant::now();
        loop {
            match host::read_padded(Path::new(VIRTIO_DISK), limit) {
                Err(ProviderError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                found => {
                    return found.map(|bytes| Acquired::Config {
                        bytes,
                        detached_signature: None,
                    })
                }
            }
            if started.elapsed() >= DISK_WAIT {
                return Err(host::error(
                    PLATFORM,
                    format!(
                        "{VIRTIO_DISK} did not appear within {} s: attach the config as a virtio-blk disk with serial \"ignition\"",
                        DISK_WAIT.as_secs()
                    ),
                ));
            }
            log::info!("waiting for {VIRTIO_DISK}");
            std::thread::sleep(DISK_POLL);
        }
    }
}

impl Provider for QemuProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        if cfg!(any(
            target_arch = "s390x",
            all(target_arch = "powerpc64", target_endian = "little")
        )) {
            return self.read_virtio_disk(cx.limit);
        }
        host::load_module(
            PLATFORM,
            &self.env,
            "qemu_fw_cfg",
            Some("firmware/qemu_fw_cfg"),
        )?;
        // Absent (no fw_cfg entry): no config was given.
        read_optional(&self.raw, cx.limit)
    }

    fn describe(&self) -> String {
        if cfg!(any(
            target_arch = "s390x",
            all(target_arch = "powerpc64", target_endian = "little")
        )) {
            return format!("the QEMU virtio-blk disk {VIRTIO_DISK}");
        }
        "QEMU fw_cfg opt/com.coreos/config".to_owned()
    }
}
