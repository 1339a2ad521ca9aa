//! Platform `applehv` (Apple's Virtualization framework, e.g. vfkit): the host serves the
//! config over HTTP on vsock port 1024 of the host (CID 2); the guest asks `GET http://d/`.
//! Vsock needs no network, so this works in fetch-offline.
//!
//! Unlike Ignition, which parses whatever body comes back, the status is checked: a 2xx is
//! the config (empty: no config); anything else is an error that names the status, so an
//! error page from the host is never taken for a config.

use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::host;
use super::raw_http;
use super::{Acquired, Environment, Provider, ProviderContext, ProviderError};

const PLATFORM: &str = "applehv";
const HOST_CID: u32 = 2;
const PORT: u32 = 1024;

#[derive(Debug)]
pub struct AppleHvProvider {
    env: Environment,
}

impl AppleHvProvider {
    pub fn new(env: &Environment) -> Self {
        Self { env: env.clone() }
    }

    /// The host's address: vsock in production; a test's stand-in otherwise.
    fn address(&self) -> Result<(SockAddr, String), ProviderError> {
        let Some(test) = &self.env.applehv_addr else {
            return Ok((
                SockAddr::vsock(HOST_CID, PORT),
                format!("vsock {HOST_CID}:{PORT}"),
            ));
        };
        let addr = if test.starts_with('/') {
            SockAddr::unix(test)
        } else {
            test.parse::<std::net::SocketAddr>()
                .map(SockAddr::from)
                .map_err(std::io::Error::other)
        };
        addr.map(|a| (a, test.clone())).map_err(|e| {
            host::error(
                PLATFORM,
                format!("KINDLING_TEST_APPLEHV_ADDR {test:?}: {e}"),
            )
        })
    }
}

impl Provider for AppleHvProvider {
    fn acquire(&self, cx: &ProviderContext<'_>) -> Result<Acquired, ProviderError> {
        if self.env.applehv_addr.is_none() {
            host::load_module(
                PLATFORM,
                &self.env,
                "vsock",
                Some("devices/virtual/misc/vsock"),
            )?;
        }
        let (addr, shown) = self.address()?;
        let fail = |reason: String| {
            host::error(
                PLATFORM,
                format!("getting the config from the host over {shown}: {reason}"),
            )
        };
        let socket = Socket::new(Domain::from(i32::from(addr.family())), Type::STREAM, None)
            .map_err(|e| fail(format!("creating a socket: {e}")))?;
        // The host answers at once or not at all; the config budget bounds the wait.
        let timeout = cx.timeout.max(Duration::from_secs(1));
        socket
            .set_read_timeout(Some(timeout))
            .and_then(|()| socket.set_write_timeout(Some(timeout)))
            .map_err(|e| fail(e.to_string()))?;
        socket.connect(&addr).map_err(|e| {
            fail(format!(
                "connecting: {e} (is the VM started with a vsock device that serves the config on port {PORT}?)"
            ))
        })?;
        let (status, body) = raw_http::get(
            socket,
            "d",
            "/",
            &[("Accept", "application/json")],
            cx.limit,
        )
        .map_err(fail)?;
        if !(200..300).contains(&status) {
            return Err(fail(format!(
                "the host answered HTTP {status}; only a 2xx answer carries a config"
            )));
        }
        if body.is_empty() {
            return Ok(Acquired::NoConfig);
        }
        Ok(Acquired::Config {
            bytes: body,
            detached_signature: None,
        })
    }

    fn describe(&self) -> String {
        format!("the Apple Virtualization host (http://d/ over vsock {HOST_CID}:{PORT})")
    }
}
