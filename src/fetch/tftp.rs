//! tftp, as PXE setups use it. The protocol caps a file at 65535 blocks (32 MiB), so the
//! body is held in memory.

use std::io::{Cursor, Read};
use std::net::{ToSocketAddrs, UdpSocket};
use std::time::Duration;

use reqwest::Url;

use super::redact::redact;
use super::{FetchError, FetchSettings};

pub(super) fn open(settings: &FetchSettings, url: &str) -> Result<Box<dyn Read>, FetchError> {
    let fail = |reason: String| FetchError::Transport {
        url: redact(url),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| fail(format!("invalid URL: {e}")))?;
    let host = parsed.host_str().ok_or_else(|| fail("no host".into()))?;
    let server = (host, parsed.port().unwrap_or(69))
        .to_socket_addrs()
        .map_err(|e| fail(format!("resolving {host}: {e}")))?
        .next()
        .ok_or_else(|| fail(format!("{host} has no address")))?;
    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(bind).map_err(|e| fail(e.to_string()))?;
    let path = parsed.path().trim_start_matches('/');
    let timeout = settings
        .response_headers_timeout
        .min(Duration::from_secs(5));
    let data = tftp_client::download(
        path,
        &socket,
        server,
        timeout,
        settings.response_headers_timeout * 3,
        5,
    )
    .map_err(|e| match e {
        tftp_client::Error::Protocol {
            code: tftp_client::parser::ErrorCode::NoFile,
            ..
        } => FetchError::NotFound { url: redact(url) },
        other => fail(other.to_string()),
    })?;
    Ok(Box::new(Cursor::new(data)))
}
