//! Fault injection for the fetch layer (issue 15, deliverable 3, network part): real servers
//! on 127.0.0.1 that fail the ways networks and hostile servers do. Each case either
//! succeeds, or fails within its budget with an error naming the URL and the cause.
//!
//! Budgets are small (an httpTotal of a few seconds) so the file runs fast; the assertions on
//! elapsed time are generous upper bounds that only catch the "retried for five minutes" and
//! "never finishes" failures, and the error text says how many attempts were made.

use crate::support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use kindling::fetch::{FetchError, FetchSettings, Fetcher};
use kindling_spec::types::Resource;
use support::{ok, redirect, status, Server};

fn res(url: &str) -> Resource {
    Resource {
        source: Some(url.to_owned()),
        ..Resource::default()
    }
}

/// An httpTotal of `secs` seconds, and a short wait for headers.
fn budget(secs: u64) -> FetchSettings {
    FetchSettings {
        response_headers_timeout: Duration::from_secs(2),
        total_timeout: Some(Duration::from_secs(secs)),
        ..FetchSettings::default()
    }
}

fn get(settings: FetchSettings, url: &str) -> Result<Vec<u8>, FetchError> {
    Fetcher::new(settings)
        .fetch_to_vec(&res(url), 1 << 30)
        .map(|(b, _)| b)
}

/// Fails with an error that names `url` and contains every one of `causes`; returns it.
fn fails_naming(result: Result<Vec<u8>, FetchError>, url: &str, causes: &[&str]) -> String {
    let msg = result.expect_err("the fetch must fail").to_string();
    assert!(msg.contains(url), "the error must name {url}: {msg}");
    for cause in causes {
        assert!(msg.contains(cause), "the error must say {cause:?}: {msg}");
    }
    msg
}

/// A server that runs `script` on each accepted connection, for faults the scripted
/// [`Server`] cannot express (writing over time, resets).
fn raw_server(script: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let script = script.clone();
            thread::spawn(move || script(stream));
        }
    });
    addr
}

/// Reads the request head, so that closing the socket afterwards is a clean close.
fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

#[test]
fn a_storm_of_server_errors_then_success_succeeds() {
    let server = Server::start("127.0.0.1", |_, n| match n {
        0 => status(500, "Internal Server Error"),
        1 => status(502, "Bad Gateway"),
        2 | 3 => status(503, "Service Unavailable"),
        _ => ok(b"after the storm"),
    });
    let body = get(budget(10), &server.url("/storm")).expect("succeeds once the storm ends");
    assert_eq!(body, b"after the storm");
    assert_eq!(server.hits.load(Ordering::SeqCst), 5);
}

#[test]
fn a_storm_longer_than_the_budget_fails_naming_the_status() {
    let server = Server::start("127.0.0.1", |_, _| status(503, "Service Unavailable"));
    let url = server.url("/storm");
    let started = Instant::now();
    fails_naming(
        get(budget(2), &url),
        &url,
        &["HTTP 503", "gave up after", "ignition.timeouts.httpTotal"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "stops near httpTotal"
    );
}

#[test]
fn too_many_requests_is_retried_after_the_servers_delay() {
    let server = Server::start("127.0.0.1", |_, n| {
        if n == 0 {
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        } else {
            ok(b"served")
        }
    });
    let started = Instant::now();
    assert_eq!(
        get(budget(10), &server.url("/busy")).expect("retried"),
        b"served"
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
}

#[test]
fn a_retry_after_beyond_the_budget_fails_at_once() {
    let server = Server::start("127.0.0.1", |_, _| {
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
    });
    let url = server.url("/busy");
    let started = Instant::now();
    let msg = fails_naming(
        get(budget(2), &url),
        &url,
        &["HTTP 429 Too Many Requests, Retry-After 30 s", "gave up"],
    );
    assert!(msg.contains("after 1 attempts"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_connection_reset_mid_body_fails_naming_the_url() {
    let addr = raw_server(|mut s| {
        // Leave the request unread: closing a socket with unread input sends a reset.
        thread::sleep(Duration::from_millis(100));
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        let _ = s.write_all(&[b'x'; 1000]);
        let _ = s.flush();
        thread::sleep(Duration::from_millis(100));
    });
    let url = format!("http://{addr}/reset");
    // The client may have read the first 1000 bytes, or only part of them, when the reset
    // arrives; either way the error says how far it got.
    fails_naming(get(budget(3), &url), &url, &["reading", "of 100000 bytes"]);
}

#[test]
fn a_truncated_body_fails_with_the_sizes() {
    let addr = raw_server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n");
        let _ = s.write_all(&[b'y'; 10]);
    });
    let url = format!("http://{addr}/short");
    fails_naming(
        get(budget(3), &url),
        &url,
        &["body ended after 10 of 100 bytes"],
    );
}

/// A body that keeps coming, a byte every 200 ms: never stalled, never done.
fn dripping_server() -> String {
    raw_server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..100_000 {
            if s.write_all(b"z").and_then(|()| s.flush()).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
    })
}

/// Issue 15, defect 12: a body slower than the limit is cut off at httpTotal.
#[test]
fn a_body_slower_than_http_total_fails_naming_the_limit() {
    let url = format!("http://{}/drip", dripping_server());
    let started = Instant::now();
    fails_naming(
        get(budget(2), &url),
        &url,
        &[
            "took longer than 2 s",
            "ignition.timeouts.httpTotal",
            "to allow more time",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off near httpTotal, not after the whole body"
    );
}

#[test]
fn a_body_that_stops_sending_fails_naming_the_stall_limit() {
    let addr = raw_server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        let _ = s.flush();
        thread::sleep(Duration::from_secs(20));
    });
    let url = format!("http://{addr}/stalled");
    let settings = FetchSettings {
        response_headers_timeout: Duration::from_secs(1),
        total_timeout: Some(Duration::from_secs(15)),
        ..FetchSettings::default()
    };
    let started = Instant::now();
    fails_naming(
        get(settings, &url),
        &url,
        &[
            "no data for 1 s after 10 bytes",
            "ignition.timeouts.httpResponseHeaders",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_name_that_does_not_resolve_fails_within_the_budget() {
    // `.invalid` never resolves (RFC 2606), with or without a network.
    let url = "http://kindling-fault-test.invalid/config.ign";
    let started = Instant::now();
    fails_naming(get(budget(2), url), url, &["gave up after"]);
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// Issue 15, defect 11: a redirect loop fails on the first attempt.
#[test]
fn a_redirect_loop_fails_at_once() {
    let server = Server::start("127.0.0.1", |req, _| {
        if req.path == "/a" {
            redirect("/b")
        } else {
            redirect("/a")
        }
    });
    let url = server.url("/a");
    let msg = fails_naming(
        get(budget(30), &url),
        &url,
        &["more than 10 redirects", "not retried (attempt 1)"],
    );
    assert!(!msg.contains("gave up after"), "{msg}");
    assert_eq!(server.hits.load(Ordering::SeqCst), 11, "one attempt only");
}

#[test]
fn a_redirect_to_another_scheme_fails_at_once() {
    let server = Server::start("127.0.0.1", |_, _| redirect("tftp://127.0.0.1/config.ign"));
    let url = server.url("/x");
    fails_naming(
        get(budget(30), &url),
        &url,
        &[
            "redirected from http to tftp://127.0.0.1/config.ign",
            "not retried (attempt 1)",
        ],
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

// ---- TLS --------------------------------------------------------------------------------

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and a certificate `<name>.pem` signed by it for `san`, valid for `days`
/// (negative: expired).
fn make_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Kindling Fault CA",
        ],
    );
}

fn make_cert(dir: &Path, name: &str, san: &str, days: &str) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let pem = format!("{name}.pem");
    let ext = format!("{name}.ext");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=kindling-fault",
        ],
    );
    std::fs::write(dir.join(&ext), format!("subjectAltName={san}\n")).expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            days,
            "-extfile",
            &ext,
        ],
    );
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl s_server -HTTP` with `name`'s certificate, serving files of `dir` that each hold
/// a complete HTTP response. Returns the server and its port.
fn tls_server(dir: &Path, name: &str) -> (Killed, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let server = Killed(
        Command::new("openssl")
            .args([
                "s_server",
                "-quiet",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                &format!("{name}.pem"),
                "-key",
                &format!("{name}.key"),
                "-HTTP",
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s_server did not start");
        thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

fn trusting(dir: &Path, secs: u64) -> FetchSettings {
    FetchSettings {
        ca_bundles: vec![std::fs::read(dir.join("ca.pem")).expect("ca")],
        ..budget(secs)
    }
}

/// Writes `file` in `dir` as a complete HTTP response holding `body`.
fn response_file(dir: &Path, file: &str, response: &[u8]) {
    std::fs::write(dir.join(file), response).expect("response file");
}

/// Issue 15, defect 11: a certificate from an unknown issuer fails on the first attempt,
/// even with a budget of a minute.
#[test]
fn tls_with_an_unknown_ca_fails_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    make_cert(dir.path(), "srv", "IP:127.0.0.1", "2");
    response_file(dir.path(), "c.ign", &ok(b"over tls"));
    let (_server, port) = tls_server(dir.path(), "srv");
    let url = format!("https://127.0.0.1:{port}/c.ign");
    let started = Instant::now();
    let msg = fails_naming(
        get(budget(60), &url),
        &url,
        &[
            "UnknownIssuer",
            "not retried (attempt 1)",
            "certificateAuthorities",
        ],
    );
    assert!(!msg.contains("gave up after"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10), "{msg}");
    // The same server is fine once its CA is trusted, so the failure above was the CA.
    assert_eq!(
        get(trusting(dir.path(), 10), &url).expect("trusted"),
        b"over tls"
    );
}

#[test]
fn tls_with_an_expired_certificate_fails_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    make_cert(dir.path(), "old", "IP:127.0.0.1", "-1");
    response_file(dir.path(), "c.ign", &ok(b"stale"));
    let (_server, port) = tls_server(dir.path(), "old");
    let url = format!("https://127.0.0.1:{port}/c.ign");
    fails_naming(
        get(trusting(dir.path(), 60), &url),
        &url,
        &["Expired", "not retried (attempt 1)"],
    );
}

#[test]
fn tls_with_a_certificate_for_another_host_fails_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    make_cert(dir.path(), "other", "DNS:config.example.com", "2");
    response_file(dir.path(), "c.ign", &ok(b"misnamed"));
    let (_server, port) = tls_server(dir.path(), "other");
    let url = format!("https://127.0.0.1:{port}/c.ign");
    fails_naming(
        get(trusting(dir.path(), 60), &url),
        &url,
        &["not valid for name", "not retried (attempt 1)"],
    );
}

#[test]
fn a_redirect_from_https_to_plain_http_is_refused() {
    let plain = Server::start("127.0.0.1", |_, _| ok(b"downgraded"));
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    make_cert(dir.path(), "srv", "IP:127.0.0.1", "2");
    response_file(dir.path(), "down", &redirect(&plain.url("/x")));
    let (_server, port) = tls_server(dir.path(), "srv");
    let url = format!("https://127.0.0.1:{port}/down");
    fails_naming(
        get(trusting(dir.path(), 30), &url),
        &url,
        &["redirected from https to", "serve the resource over https"],
    );
    assert_eq!(
        plain.hits.load(Ordering::SeqCst),
        0,
        "the http URL is never fetched"
    );
}

// ---- through the engine: the config's own timeouts reach the fetch layer ------------------

/// Runs fetch-offline and then fetch on a local config that merges `merge_url`.
fn fetch_stage_merging(merge_url: &str, timeouts: &str) -> std::process::Output {
    use support::stage::{assert_ok, Env};
    let env = Env::new("kindling.platform.id=file");
    let config = format!(
        r#"{{"ignition":{{"version":"3.6.0","timeouts":{timeouts},"config":{{"merge":[{{"source":"{merge_url}"}}]}}}}}}"#
    );
    std::fs::write(env.path("user.ign"), config).expect("config");
    let file = env.path("user.ign");
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &file)]));
    env.stage("fetch", &[("KINDLING_CONFIG_FILE", &file)])
}

/// Issue 15, defect 12, end to end: `ignition.timeouts.httpTotal` in the config cuts off a
/// dripping body in the fetch stage.
#[test]
fn the_fetch_stage_honours_the_configs_http_total() {
    let url = format!("http://{}/merge.ign", dripping_server());
    let started = Instant::now();
    let out = fetch_stage_merging(&url, r#"{"httpTotal":2}"#);
    support::stage::assert_fails(&out, "took longer than 2 s (ignition.timeouts.httpTotal)");
    assert!(support::stage::stderr(&out).contains(&url));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Issue 15, defect 11, end to end: without httpTotal, a redirect loop still fails at once.
#[test]
fn the_fetch_stage_fails_a_redirect_loop_at_once() {
    let server = Server::start("127.0.0.1", |_, _| redirect("/loop"));
    let url = server.url("/loop");
    let started = Instant::now();
    let out = fetch_stage_merging(&url, "{}");
    support::stage::assert_fails(&out, "not retried (attempt 1)");
    assert!(support::stage::stderr(&out).contains("more than 10 redirects"));
    assert!(started.elapsed() < Duration::from_secs(20));
}
