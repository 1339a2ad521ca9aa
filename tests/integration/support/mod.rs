//! Test servers on 127.0.0.1: a scriptable HTTP/1.1 server (optionally behind TLS via
//! openssl s_server is not needed: see `https`), bound to an ephemeral port.
//!
//! The submodules: `stage` runs stages as the dracut units do, `pgp` makes keys and
//! signatures, `loopdev` gives the storage tests loop devices and the tools to inspect them,
//! and `fake_systemd` lets Ignition's disks stage run without systemd.

#![allow(dead_code)]

pub mod bomb;
pub mod fake_systemd;
pub mod loopdev;
pub mod objstore;
pub mod pgp;
pub mod stage;
pub mod standin;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back: raw bytes written to the socket as they are.
pub type Handler = dyn Fn(&Request, usize) -> Vec<u8> + Send + Sync;

pub struct Server {
    pub addr: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    pub hits: Arc<AtomicUsize>,
}

impl Server {
    /// Serves on `ip` (e.g. "127.0.0.1" or "127.0.0.2"); `handler` gets each request and its
    /// 0-based sequence number.
    pub fn start(
        ip: &str,
        handler: impl Fn(&Request, usize) -> Vec<u8> + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("addr").to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let (r, h) = (requests.clone(), hits.clone());
        let handler: Arc<Handler> = Arc::new(handler);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h, handler) = (r.clone(), h.clone(), handler.clone());
                thread::spawn(move || serve(stream, &r, &h, &*handler));
            }
        });
        Server {
            addr,
            requests,
            hits,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Answers one request per connection, which keeps the scripted responses simple.
fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, hits: &AtomicUsize, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut stream = stream;
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let req = Request { path, headers };
    requests.lock().expect("lock").push(req.clone());
    let n = hits.fetch_add(1, Ordering::SeqCst);
    if stream.write_all(&handler(&req, n)).is_ok() {
        let _ = stream.flush();
    }
}

pub fn ok(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn status(code: u16, reason: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

pub fn redirect(to: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// Claims `claimed` bytes but sends only `body`.
pub fn truncated(body: &[u8], claimed: usize) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n")
            .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads a file to bytes, for fixtures.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .expect("read fixture");
    buf
}
