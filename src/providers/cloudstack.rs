//! Platform `cloudstack`: the config drive (`config-2` or `CONFIG-2`, file
//! `cloudstack/userdata/user_data.txt`) and the metadata server, which CloudStack runs on the
//! virtual router that is also the DHCP server, asked at once; the first to answer without an
//! error wins, as in Ignition. The DHCP server's address comes from systemd-networkd's lease
//! files (`SERVER_ADDRESS=`), as Ignition reads it.
//!
//! As in Ignition, fetch-offline does not look at the drive either. Unlike Ignition, which
//! waits for a lease file forever, the wait ends with the config budget.

use std::path::Path;
use std::time::{Duration, Instant};

use super::metadata::{found, MetadataService};
use super::race::{self, Contender, OwnedContext};
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::FetchError;

/// Where systemd-networkd writes one lease file per interface, named by its index.
pub const LEASES_DIR: &str = "/run/systemd/netif/leases";
const DRIVE_FILE: &str = "cloudstack/userdata/user_data.txt";
/// How often the leases are looked at again, as Ignition does.
const LEASE_POLL: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct CloudstackProvider;

impl Provider for CloudstackProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, "cloudstack");
        if let Some(offline) = service.offline("http://<DHCP server>/latest/user-data") {
            return Ok(offline);
        }
        let owned = OwnedContext::new(cx);
        let metadata = Contender {
            name: "the metadata server (the DHCP server's address)".to_owned(),
            must_finish: false,
            source: Box::new(move |cancel| {
                let cx = owned.context();
                let leases = cx.env.leases_dir();
                let until = Instant::now() + cx.timeout;
                let server = loop {
                    if let Some(server) = dhcp_server(&leases) {
                        break server;
                    }
                    if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                        return Ok(Acquired::NoConfig);
                    }
                    if Instant::now() >= until {
                        let url = format!(
                            "http://<SERVER_ADDRESS in {}/*>/latest/user-data",
                            leases.display()
                        );
                        return Err(MetadataService::new(&cx, "cloudstack").error(
                            &url,
                            FetchError::Transport {
                                url: url.clone(),
                                reason: format!(
                                    "no DHCP lease with a SERVER_ADDRESS appeared in {} within {} s; is systemd-networkd managing the network?",
                                    leases.display(),
                                    cx.timeout.as_secs()
                                ),
                            },
                        ));
                    }
                    std::thread::sleep(LEASE_POLL);
                };
                let service = MetadataService::new(&cx, "cloudstack");
                let url = service.url(&format!("http://{server}/latest/user-data"));
                log::info!("cloudstack: the metadata server is the DHCP server, {server}");
                Ok(found(service.userdata(&url, &[], &[])?))
            }),
        };
        race::first_success(
            "cloudstack",
            vec![
                race::drive_contender(cx, "config-2", DRIVE_FILE),
                race::drive_contender(cx, "CONFIG-2", DRIVE_FILE),
                metadata,
            ],
        )
    }

    fn describe(&self) -> String {
        "the CloudStack config drive (config-2) or metadata server".to_owned()
    }
}

const LEASE_LIMIT: u64 = 64 << 10;

/// The DHCP server of the lowest-numbered interface whose lease names one, as a URL host.
fn dhcp_server(leases: &Path) -> Option<String> {
    let mut files: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(leases)
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .collect();
    files.sort();
    files.into_iter().find_map(|(_, path)| {
        // A lease is a few hundred bytes; a file far larger is not one.
        match crate::bounded::read(&path, LEASE_LIMIT) {
            Ok(crate::bounded::Bounded::Whole(bytes)) => {
                server_address(&String::from_utf8_lossy(&bytes))
            }
            Ok(crate::bounded::Bounded::Cut { .. }) => {
                log::warn!(
                    "skipping {}: larger than {LEASE_LIMIT} bytes, not a networkd lease",
                    path.display()
                );
                None
            }
            Err(_) => None,
        }
    })
}

/// `SERVER_ADDRESS=` of a systemd-networkd lease file; an IPv6 address gets its brackets.
fn server_address(lease: &str) -> Option<String> {
    lease.lines().find_map(|line| {
        let mut parts = line.split('=');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("SERVER_ADDRESS"), Some(v), None) if !v.trim().is_empty() => {
                let v = v.trim();
                Some(if v.contains(':') {
                    format!("[{v}]")
                } else {
                    v.to_owned()
                })
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_address_comes_from_its_line() {
        let lease = "# This is private data. Do not parse.\nADDRESS=10.1.1.23\nNETMASK=255.255.255.0\nROUTER=10.1.1.1\nSERVER_ADDRESS=10.1.1.1\nT1=1800\n";
        assert_eq!(server_address(lease).as_deref(), Some("10.1.1.1"));
        assert_eq!(server_address("ADDRESS=10.1.1.23\n"), None);
        assert_eq!(server_address("SERVER_ADDRESS=\n"), None);
        assert_eq!(
            server_address("SERVER_ADDRESS=a=b\n"),
            None,
            "two = is not a KEY=VALUE line"
        );
        assert_eq!(
            server_address("SERVER_ADDRESS=fd00::1\n").as_deref(),
            Some("[fd00::1]")
        );
    }

    #[test]
    fn the_lowest_interface_with_a_server_wins() {
        let dir = std::env::temp_dir().join(format!("kindling-leases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("10"), "SERVER_ADDRESS=10.0.0.10\n").expect("lease");
        std::fs::write(dir.join("3"), "ADDRESS=10.0.0.5\n").expect("lease");
        std::fs::write(dir.join("7"), "SERVER_ADDRESS=10.0.0.7\n").expect("lease");
        std::fs::write(dir.join("notes"), "SERVER_ADDRESS=1.1.1.1\n").expect("other");
        assert_eq!(dhcp_server(&dir).as_deref(), Some("10.0.0.7"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(dhcp_server(&dir), None);
    }
}
