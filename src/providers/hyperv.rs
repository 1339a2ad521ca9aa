//! Platform `hyperv`: the config is a key-value pair that the host pushes into the guest's
//! KVP (key-value pair exchange) pool 0, set on the host with the Msvm_KvpExchangeDataItem
//! WMI API. A value holds at most 2048 bytes, so a bigger config is split over the keys
//! `ignition.config.0`, `.1`, …, concatenated in that order; a config that fits may use the
//! key `ignition.config` instead.
//!
//! The kernel's hv_utils driver hands the host's pairs to user space through the character
//! device /dev/vmbus/hv_kvp, in fixed-size messages: a user-space client registers, then
//! receives one SET message per pair and answers each. This is the device's documented
//! protocol (the kernel's uapi header linux/hyperv.h, and hv_kvp_daemon, its reference
//! client); it needs only plain reads, writes and poll. While Kindling holds the device,
//! hv_kvp_daemon cannot: the kernel allows one client at a time.
//!
//! The host sends each pair once: a client that takes it consumes it. So the pairs are kept
//! where hv_kvp_daemon keeps them, the pool files `/var/lib/hyperv/.kvp_pool_<n>` (records of
//! a 512-byte key and a 2048-byte value, NUL-padded), and read back first: the fetch stage,
//! when it runs after fetch-offline, finds the pairs fetch-offline took.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::host;
use super::{Acquired, Environment, Provider, ProviderContext, ProviderError};
use crate::bounded::Bounded;

const PLATFORM: &str = "hyperv";
const DEVICE: &str = "/dev/vmbus/hv_kvp";
const KEY: &str = "ignition.config";

/// `sizeof(struct hv_kvp_msg)`: a 4-byte header (operation, pool, padding; an error code in
/// answers) and a union whose biggest member is the 7426-byte IP address record.
const MSG_SIZE: usize = 4 + 7426;
const OP_SET: u8 = 1;
/// The newest registration the driver knows (KVP_OP_REGISTER1).
const OP_REGISTER: u8 = 100;
const HV_S_OK: u32 = 0;
const HV_E_FAIL: u32 = 0x8000_4005;
/// "No more items", the answer to an enumeration past the end.
const HV_S_CONT: u32 = 0x8007_0103;
const OP_ENUMERATE: u8 = 3;
const KEY_SIZE: usize = 512;
const VALUE_SIZE: usize = 2048;
/// Offsets in a SET message: header, value type, key size, value size, key, value.
const KEY_SIZE_AT: usize = 8;
const VALUE_SIZE_AT: usize = 12;
const KEY_AT: usize = 16;
const VALUE_AT: usize = KEY_AT + KEY_SIZE;
/// The host sends its pairs right after registration; this long a silence means it is done.
const QUIET: u16 = 1000;

const POOL_DIR: &str = "/var/lib/hyperv";
const POOLS: u8 = 5;
const RECORD: usize = KEY_SIZE + VALUE_SIZE;

#[derive(Debug)]
pub struct HypervProvider {
    env: Environment,
    device: PathBuf,
    /// Where the pool files live; none for a stand-in device without a stand-in directory.
    pool_dir: Option<PathBuf>,
}

impl HypervProvider {
    pub fn new(env: &Environment) -> Self {
        Self {
            env: env.clone(),
            device: env.hv_kvp.clone().unwrap_or_else(|| PathBuf::from(DEVICE)),
            pool_dir: match &env.hv_kvp {
                None => Some(PathBuf::from(POOL_DIR)),
                Some(_) => env.hv_pool_dir.clone(),
            },
        }
    }
}

impl Provider for HypervProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        if self.env.hv_kvp.is_none() {
            host::load_module(
                PLATFORM,
                &self.env,
                "hv_utils",
                Some("bus/vmbus/drivers/hv_utils"),
            )?;
        }
        let pairs = receive_pairs(&self.device, cx.timeout).map_err(|reason| {
            host::error(PLATFORM, format!("{}: {reason}", self.device.display()))
        })?;
        let mut pools = match &self.pool_dir {
            Some(dir) => load_pools(dir),
            None => vec![Vec::new(); usize::from(POOLS)],
        };
        for p in pairs {
            match pools.get_mut(usize::from(p.pool)) {
                Some(pool) => set(pool, p.key, p.value),
                None => log::warn!("ignoring a pair for unknown KVP pool {}", p.pool),
            }
        }
        if let Some(dir) = &self.pool_dir {
            // The config is in hand; a pool file that cannot be kept only costs a second read.
            if let Err(e) = save_pools(dir, &pools) {
                log::warn!("keeping the KVP pools in {}: {e}", dir.display());
            }
        }
        let pool0: HashMap<Vec<u8>, Vec<u8>> = pools.swap_remove(0).into_iter().collect();
        Ok(match config_from_pool(&pool0) {
            Some(bytes) => Acquired::Config {
                bytes,
                detached_signature: None,
            },
            None => Acquired::NoConfig,
        })
    }

    fn describe(&self) -> String {
        format!(
            "Hyper-V KVP pool 0 key {KEY} (through {})",
            self.device.display()
        )
    }
}

/// `ignition.config`, else `ignition.config.0`, `.1`, … up to the first missing key.
fn config_from_pool(pool: &HashMap<Vec<u8>, Vec<u8>>) -> Option<Vec<u8>> {
    if let Some(whole) = pool.get(KEY.as_bytes()).filter(|v| !v.is_empty()) {
        return Some(whole.clone());
    }
    let mut out = Vec::new();
    let mut parts = 0;
    while let Some(part) = pool.get(format!("{KEY}.{parts}").as_bytes()) {
        out.extend_from_slice(part);
        parts += 1;
    }
    if parts > 0 {
        log::info!(
            "the config came in {parts} parts ({KEY}.0 to {KEY}.{})",
            parts - 1
        );
    }
    (!out.is_empty()).then_some(out)
}

type Pool = Vec<(Vec<u8>, Vec<u8>)>;

/// Sets `key` in `pool`, in place when it is there, as hv_kvp_daemon does.
fn set(pool: &mut Pool, key: Vec<u8>, value: Vec<u8>) {
    match pool.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => pool.push((key, value)),
    }
}

fn pool_file(dir: &Path, n: u8) -> PathBuf {
    dir.join(format!(".kvp_pool_{n}"))
}

/// The most of a pool file that is read: far more records than a VM's key-value pairs.
const POOL_LIMIT: u64 = (4096 * RECORD) as u64;

fn records(bytes: &[u8]) -> Pool {
    bytes
        .chunks_exact(RECORD)
        .map(|r| (until_nul(&r[..KEY_SIZE]), until_nul(&r[KEY_SIZE..])))
        .collect()
}

/// The pools kept by an earlier stage (or hv_kvp_daemon); missing files are empty pools.
fn load_pools(dir: &Path) -> Vec<Pool> {
    (0..POOLS)
        .map(|n| {
            let path = pool_file(dir, n);
            match crate::bounded::read(&path, POOL_LIMIT) {
                Ok(Bounded::Cut { head, .. }) => {
                    log::warn!(
                        "{} holds more than {POOL_LIMIT} bytes; only its first {} records are read",
                        path.display(),
                        POOL_LIMIT as usize / RECORD
                    );
                    records(&head)
                }
                Ok(Bounded::Whole(bytes)) => records(&bytes),
                Err(e) => {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        log::warn!("reading {}: {e}", path.display());
                    }
                    Vec::new()
                }
            }
        })
        .collect()
}

fn until_nul(field: &[u8]) -> Vec<u8> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end].to_vec()
}

fn save_pools(dir: &Path, pools: &[Pool]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (n, pool) in (0..POOLS).zip(pools) {
        let mut bytes = Vec::with_capacity(pool.len() * RECORD);
        for (key, value) in pool {
            let mut record = vec![0u8; RECORD];
            // One byte of each field stays NUL: the records are C strings.
            let k = key.len().min(KEY_SIZE - 1);
            let v = value.len().min(VALUE_SIZE - 1);
            record[..k].copy_from_slice(&key[..k]);
            record[KEY_SIZE..KEY_SIZE + v].copy_from_slice(&value[..v]);
            bytes.extend_from_slice(&record);
        }
        crate::atomic::write(&pool_file(dir, n), &bytes, 0o600)?;
    }
    Ok(())
}

#[derive(Debug)]
struct Pair {
    pool: u8,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Registers with the driver and collects the pairs the host sends, answering each, until
/// the device is quiet for a second (or `budget` is spent).
fn receive_pairs(device: &std::path::Path, budget: Duration) -> Result<Vec<Pair>, String> {
    let mut dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(device)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::EBUSY) => format!(
                "{e}: another KVP client (hv_kvp_daemon) holds the device; it must not run before Kindling's fetch stage"
            ),
            Some(nix::libc::ENOENT) => format!(
                "{e}: no KVP device; this is not a Hyper-V VM, or the hv_utils driver is missing from the initramfs"
            ),
            _ => e.to_string(),
        })?;
    let mut register = vec![0u8; MSG_SIZE];
    register[0] = OP_REGISTER;
    write_message(&mut dev, &register).map_err(|e| format!("registering: {e}"))?;
    let started = Instant::now();
    let mut pending = Vec::new();
    let mut pairs = Vec::new();
    let mut buf = vec![0u8; 2 * MSG_SIZE];
    while started.elapsed() < budget {
        let mut fds = [PollFd::new(dev.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(QUIET)) {
            Ok(0) => break,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("waiting for the host's pairs: {e}")),
        }
        // One read per wake-up: the driver's read waits for a message even on a non-blocking
        // descriptor, and the next message comes only after this one is answered, so a
        // second read would wait forever.
        match dev.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(format!("reading: {e}")),
        }
        // The device returns whole messages; a stream (the tests' stand-in) may not.
        while pending.len() >= MSG_SIZE {
            let mut msg: Vec<u8> = pending.drain(..MSG_SIZE).collect();
            let answer = match msg[0] {
                OP_SET => {
                    pairs.push(pair(&msg));
                    HV_S_OK
                }
                // The driver's answer to the registration: nothing to say back.
                OP_REGISTER => continue,
                // Kindling keeps no items of its own to list, get, delete or report (the
                // host asks again once hv_kvp_daemon runs in the booted system).
                OP_ENUMERATE => HV_S_CONT,
                _ => HV_E_FAIL,
            };
            msg[..4].copy_from_slice(&answer.to_ne_bytes());
            write_message(&mut dev, &msg).map_err(|e| format!("answering the host: {e}"))?;
        }
    }
    Ok(pairs)
}

/// A SET message's pool, key and value; the sizes count a terminating NUL.
fn pair(msg: &[u8]) -> Pair {
    let size = |at: usize, max: usize| {
        let n = u32::from_ne_bytes([msg[at], msg[at + 1], msg[at + 2], msg[at + 3]]) as usize;
        n.saturating_sub(1).min(max - 1)
    };
    let key_len = size(KEY_SIZE_AT, KEY_SIZE);
    let value_len = size(VALUE_SIZE_AT, VALUE_SIZE);
    Pair {
        pool: msg[1],
        key: msg[KEY_AT..KEY_AT + key_len].to_vec(),
        value: msg[VALUE_AT..VALUE_AT + value_len].to_vec(),
    }
}

/// Writes one message whole, waiting while the device is not ready for it.
fn write_message(dev: &mut File, mut msg: &[u8]) -> std::io::Result<()> {
    while !msg.is_empty() {
        match dev.write(msg) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => msg = &msg[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(dev.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::from(5000u16)) {
                    Ok(0) => return Err(std::io::ErrorKind::TimedOut.into()),
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(pairs: &[(&str, &str)]) -> HashMap<Vec<u8>, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn the_whole_key_wins_over_parts() {
        let p = pool(&[("ignition.config", "{}"), ("ignition.config.0", "x")]);
        assert_eq!(config_from_pool(&p), Some(b"{}".to_vec()));
    }

    #[test]
    fn parts_are_joined_up_to_the_first_gap() {
        let p = pool(&[
            ("ignition.config", ""),
            ("ignition.config.0", "ab"),
            ("ignition.config.1", "cd"),
            ("ignition.config.3", "ef"),
        ]);
        assert_eq!(config_from_pool(&p), Some(b"abcd".to_vec()));
        assert_eq!(config_from_pool(&pool(&[("other", "x")])), None);
    }

    #[test]
    fn pools_survive_a_round_trip_through_their_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pools = vec![Vec::new(); usize::from(POOLS)];
        set(&mut pools[0], b"a".to_vec(), b"1".to_vec());
        set(&mut pools[0], b"b".to_vec(), vec![b'x'; 5000]);
        set(&mut pools[0], b"a".to_vec(), b"2".to_vec());
        set(&mut pools[3], b"c".to_vec(), b"3".to_vec());
        save_pools(dir.path(), &pools).expect("saved");
        let bytes = std::fs::read(dir.path().join(".kvp_pool_0")).expect("pool 0");
        assert_eq!(bytes.len(), 2 * RECORD);
        let loaded = load_pools(dir.path());
        assert_eq!(loaded[0][0], (b"a".to_vec(), b"2".to_vec()));
        assert_eq!(
            loaded[0][1].1.len(),
            VALUE_SIZE - 1,
            "values are cut to the field"
        );
        assert_eq!(loaded[3], vec![(b"c".to_vec(), b"3".to_vec())]);
        assert!(loaded[1].is_empty());
    }

    #[test]
    fn set_messages_are_decoded_with_sizes_counting_the_nul() {
        let mut msg = vec![0u8; MSG_SIZE];
        msg[0] = OP_SET;
        msg[1] = 0;
        msg[KEY_SIZE_AT..KEY_SIZE_AT + 4].copy_from_slice(&4u32.to_ne_bytes());
        msg[VALUE_SIZE_AT..VALUE_SIZE_AT + 4].copy_from_slice(&3u32.to_ne_bytes());
        msg[KEY_AT..KEY_AT + 3].copy_from_slice(b"key");
        msg[VALUE_AT..VALUE_AT + 2].copy_from_slice(b"va");
        let p = pair(&msg);
        assert_eq!(
            (p.pool, p.key, p.value),
            (0, b"key".to_vec(), b"va".to_vec())
        );
        // Sizes beyond the fields are clamped, not trusted.
        msg[VALUE_SIZE_AT..VALUE_SIZE_AT + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(pair(&msg).value.len(), VALUE_SIZE - 1);
    }
}
