//! Platform `scaleway`: the metadata service gives user data only to requests from a
//! privileged source port (below 1024), which only root can bind: proof that the request
//! comes from the instance's own system, not from a user on it. reqwest cannot choose a
//! source port, so this one request is made over a socket bound by hand.

use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::metadata::{found, MetadataService};
use super::raw_http;
use super::{Acquired, Provider, ProviderContext, ProviderError};
use crate::fetch::redact::redact;
use crate::fetch::FetchError;

const URL: &str = "http://169.254.42.42/user_data/cloud-init";

#[derive(Debug)]
pub struct ScalewayProvider;

impl Provider for ScalewayProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        let service = MetadataService::new(cx, "scaleway");
        let url = service.url(URL);
        if let Some(offline) = service.offline(&url) {
            return Ok(offline);
        }
        let fail = |reason: String| {
            service.error(
                &url,
                FetchError::Transport {
                    url: redact(&url),
                    reason,
                },
            )
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| fail(e.to_string()))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let started = Instant::now();
        let mut backoff = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            let reason = match get_from_privileged_port(&host, port, &path, cx.limit) {
                Ok((status, body)) if (200..300).contains(&status) => return Ok(found(Some(body))),
                Ok((404, _)) => return Ok(found(None)),
                Ok((status, _)) if status < 500 => return Err(service.status_error(&url, status)),
                Ok((status, _)) => format!("HTTP {status}"),
                Err(reason) => reason,
            };
            if started.elapsed() + backoff > cx.timeout {
                return Err(fail(format!(
                    "{reason}; gave up after {attempt} attempts in {:.1} s",
                    started.elapsed().as_secs_f64()
                )));
            }
            log::warn!(
                "GET {}: {reason}; retrying (attempt {attempt})",
                redact(&url)
            );
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
            attempt += 1;
        }
    }

    fn describe(&self) -> String {
        "the Scaleway metadata service (user data, from a privileged port)".to_owned()
    }
}

/// One GET over a connection whose source port is a random free port in 1..=1023.
fn get_from_privileged_port(
    host: &str,
    port: u16,
    path: &str,
    limit: u64,
) -> Result<(u16, Vec<u8>), String> {
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("resolving {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let stream = connect_from_privileged_port(addr)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(10))))
        .map_err(|e| e.to_string())?;
    raw_http::get(stream, host, path, &[], limit)
}

fn connect_from_privileged_port(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut last = String::new();
    for _ in 0..64 {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(|e| format!("creating a socket: {e}"))?;
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], random_privileged_port()).into()
        } else {
            ([0u16; 8], random_privileged_port()).into()
        };
        match socket.bind(&SockAddr::from(local)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                last = e.to_string();
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "binding source port {} failed: {e} (the service needs a port below 1024, which only root may bind)",
                    local.port()
                ))
            }
        }
        socket
            .connect_timeout(&SockAddr::from(addr), Duration::from_secs(10))
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        return Ok(socket.into());
    }
    Err(format!("no free source port below 1024: {last}"))
}

fn random_privileged_port() -> u16 {
    let mut b = [0u8; 2];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    1 + u16::from_le_bytes(b) % 1023
}
