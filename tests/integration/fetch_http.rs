//! The fetch layer against real servers on 127.0.0.1: retries, status handling, redirects,
//! truncation, hashes, gzip and TLS with config CAs.

use crate::support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kindling::fetch::hash::sha512_of;
use kindling::fetch::{FetchError, FetchSettings, Fetcher};
use kindling_spec::types::{HttpHeader, Resource};
use support::{ok, redirect, status, truncated, Server};

fn res(url: &str) -> Resource {
    Resource {
        source: Some(url.to_owned()),
        ..Resource::default()
    }
}

fn quick() -> FetchSettings {
    FetchSettings {
        response_headers_timeout: Duration::from_secs(2),
        total_timeout: Some(Duration::from_secs(3)),
        ..FetchSettings::default()
    }
}

fn get(settings: FetchSettings, r: &Resource) -> Result<Vec<u8>, FetchError> {
    Fetcher::new(settings)
        .fetch_to_vec(r, 1 << 30)
        .map(|(b, _)| b)
}

const IGNITION_ACCEPT: &str = "application/vnd.coreos.ignition+json;version=3.6.0, */*;q=0.1";

/// Every http(s) fetch carries Ignition 2.26.0's Accept, Accept-Encoding and User-Agent
/// (config servers choose what to answer by them), plus the config's headers.
#[test]
fn fetches_and_sends_ignitions_headers_and_the_configs() {
    let server = Server::start("127.0.0.1", |_, _| ok(b"hello"));
    let mut r = res(&server.url("/file"));
    r.http_headers = vec![HttpHeader {
        name: "X-Token".into(),
        value: Some("abc".into()),
    }];
    assert_eq!(get(quick(), &r).expect("fetch"), b"hello");
    let reqs = server.requests.lock().expect("lock");
    assert_eq!(reqs[0].header("X-Token"), Some("abc"));
    assert_eq!(reqs[0].header("Accept"), Some(IGNITION_ACCEPT));
    assert_eq!(reqs[0].header("Accept-Encoding"), Some("identity"));
    assert_eq!(reqs[0].header("User-Agent"), Some("Ignition/2.26.0"));
    assert_eq!(kindling::fetch::USER_AGENT, "Ignition/2.26.0");
}

/// Metadata requests carry the same defaults; a provider's own header replaces one by name
/// (packet and akamai send `Accept: */*`, which their services insist on).
#[test]
fn metadata_requests_carry_the_defaults_unless_the_provider_overrides() {
    use kindling::fetch::request::Request;
    let server = Server::start("127.0.0.1", |_, _| ok(b"userdata"));
    let url = server.url("/userdata");
    let fetcher = Fetcher::new(quick());
    for headers in [&[][..], &[("Accept", "*/*")][..]] {
        let answer = fetcher
            .request(&Request {
                method: reqwest::Method::GET,
                url: &url,
                headers,
                body: None,
                retry: &[],
                limit: 1 << 20,
                budget: Duration::from_secs(3),
            })
            .expect("request");
        assert_eq!(answer.body, b"userdata");
    }
    let reqs = server.requests.lock().expect("lock");
    assert_eq!(reqs[0].header("Accept"), Some(IGNITION_ACCEPT));
    assert_eq!(reqs[0].header("User-Agent"), Some("Ignition/2.26.0"));
    assert_eq!(reqs[0].header("Accept-Encoding"), Some("identity"));
    assert_eq!(reqs[1].header("Accept"), Some("*/*"));
    assert_eq!(reqs[1].header("User-Agent"), Some("Ignition/2.26.0"));
}

/// The config's httpHeaders replace Ignition's defaults by name (case-insensitively), and a
/// name given twice keeps its last value, as Go's Header.Set does in Ignition.
#[test]
fn config_headers_override_the_defaults() {
    let server = Server::start("127.0.0.1", |_, _| ok(b"hello"));
    let mut r = res(&server.url("/file"));
    let h = |name: &str, value: &str| HttpHeader {
        name: name.into(),
        value: Some(value.into()),
    };
    r.http_headers = vec![
        h("accept", "text/plain"),
        h("User-Agent", "first"),
        h("user-agent", "my-agent/1"),
    ];
    assert_eq!(get(quick(), &r).expect("fetch"), b"hello");
    let reqs = server.requests.lock().expect("lock");
    assert_eq!(reqs[0].header("Accept"), Some("text/plain"));
    assert_eq!(reqs[0].header("User-Agent"), Some("my-agent/1"));
    assert_eq!(reqs[0].header("Accept-Encoding"), Some("identity"));
    let agents = reqs[0]
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        .count();
    assert_eq!(agents, 1, "one User-Agent, not one per entry");
}

#[test]
fn not_found_is_final_and_says_so() {
    let server = Server::start("127.0.0.1", |_, _| status(404, "Not Found"));
    let err = get(quick(), &res(&server.url("/missing"))).expect_err("404");
    assert_eq!(
        err.to_string(),
        format!("not found: {}", server.url("/missing"))
    );
    assert_eq!(
        server.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "4xx is not retried"
    );
}

#[test]
fn server_errors_are_retried_until_success() {
    let server = Server::start("127.0.0.1", |_, n| {
        if n < 2 {
            status(503, "Unavailable")
        } else {
            ok(b"third time")
        }
    });
    assert_eq!(
        get(quick(), &res(&server.url("/c"))).expect("fetch"),
        b"third time"
    );
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn server_errors_until_http_total_expires_fail() {
    let server = Server::start("127.0.0.1", |_, _| status(500, "Broken"));
    let settings = FetchSettings {
        total_timeout: Some(Duration::from_secs(1)),
        ..quick()
    };
    let started = Instant::now();
    let err = get(settings, &res(&server.url("/c"))).expect_err("gives up");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stops near httpTotal"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 500") && msg.contains("gave up after"),
        "{msg}"
    );
}

#[test]
fn truncated_bodies_are_refused() {
    let server = Server::start("127.0.0.1", |_, _| truncated(b"only half", 100));
    let err = get(quick(), &res(&server.url("/t"))).expect_err("truncated");
    assert!(matches!(err, FetchError::Read { .. }), "{err}");
}

#[test]
fn hashes_are_checked_over_the_body() {
    let server = Server::start("127.0.0.1", |_, _| ok(b"payload"));
    let mut r = res(&server.url("/h"));
    r.verification.hash = Some(sha512_of(b"payload").to_string());
    assert!(get(quick(), &r).is_ok());
    r.verification.hash = Some(sha512_of(b"tampered").to_string());
    assert!(matches!(
        get(quick(), &r),
        Err(FetchError::HashMismatch { .. })
    ));
}

/// As Ignition 2.26: a request after a redirect carries none of the config's headers and
/// none of Ignition's defaults, whether the redirect stays on the host or leaves it.
#[test]
fn no_header_follows_a_redirect() {
    let other = Server::start("127.0.0.2", |_, _| ok(b"elsewhere"));
    let target = other.url("/x");
    let first = Server::start("127.0.0.1", move |req, _| {
        if req.path == "/same" {
            redirect("/final")
        } else if req.path == "/final" {
            ok(b"here")
        } else {
            redirect(&target)
        }
    });
    let header = vec![HttpHeader {
        name: "Authorization".into(),
        value: Some("secret".into()),
    }];
    let mut r = res(&first.url("/away"));
    r.http_headers = header.clone();
    assert_eq!(get(quick(), &r).expect("redirected"), b"elsewhere");
    let away = other.requests.lock().expect("lock")[0].clone();
    assert_eq!(away.header("Authorization"), None);
    assert_eq!(away.header("User-Agent"), None);
    assert_ne!(away.header("Accept"), Some(IGNITION_ACCEPT));

    let mut r = res(&first.url("/same"));
    r.http_headers = header;
    assert_eq!(get(quick(), &r).expect("redirected"), b"here");
    let reqs = first.requests.lock().expect("lock");
    let before = reqs
        .iter()
        .rfind(|q| q.path == "/same")
        .expect("first request");
    assert_eq!(before.header("Authorization"), Some("secret"));
    assert_eq!(before.header("Accept"), Some(IGNITION_ACCEPT));
    let after = reqs.last().expect("final request");
    assert_eq!(after.path, "/final");
    assert_eq!(
        after.header("Authorization"),
        None,
        "same host: dropped too"
    );
    assert_eq!(after.header("User-Agent"), None);
    assert_eq!(after.header("Accept-Encoding"), None);
}

#[test]
fn unreachable_servers_fail_with_the_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let settings = FetchSettings {
        total_timeout: Some(Duration::from_millis(500)),
        ..quick()
    };
    let err = get(settings, &res(&format!("http://127.0.0.1:{port}/c"))).expect_err("refused");
    assert!(err.to_string().to_lowercase().contains("connect"), "{err}");
}

/// A CA and a server certificate for 127.0.0.1, made with openssl.
fn make_certs(dir: &std::path::Path) {
    let run = |args: &[&str]| {
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
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Kindling Test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl s_server` on 127.0.0.1 serving the files of `dir` with `cert` and `key`; the
/// URL of `path` on it.
fn serve_tls(dir: &std::path::Path, cert: &str, key: &str, path: &str) -> (Killed, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
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
                cert,
                "-key",
                key,
                "-WWW",
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, format!("https://127.0.0.1:{port}/{path}"))
}

#[test]
fn https_trusts_only_known_cas() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certs(dir.path());
    std::fs::File::create(dir.path().join("config.ign"))
        .and_then(|mut f| f.write_all(b"over tls"))
        .expect("file");
    let (_server, url) = serve_tls(dir.path(), "srv.pem", "srv.key", "config.ign");
    let unknown = FetchSettings {
        total_timeout: Some(Duration::from_millis(800)),
        ..quick()
    };
    let err = get(unknown, &res(&url)).expect_err("unknown CA");
    assert!(err.to_string().contains("certificate"), "{err}");

    let trusted = FetchSettings {
        ca_bundles: vec![std::fs::read(dir.path().join("ca.pem")).expect("ca")],
        ..quick()
    };
    assert_eq!(get(trusted, &res(&url)).expect("trusted CA"), b"over tls");
}

/// A self-signed certificate as `openssl req -x509` makes it (CA:TRUE), for `san`.
fn self_signed_ca(dir: &std::path::Path, name: &str, san: &str) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout",
        ])
        .arg(format!("{name}.key"))
        .arg("-out")
        .arg(format!("{name}.pem"))
        .args(["-subj", &format!("/CN={name}"), "-addext"])
        .arg(format!("subjectAltName={san}"))
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(format!("{name}.pem"))
        .current_dir(dir)
        .output()
        .expect("openssl x509");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("CA:TRUE"),
        "the test needs a CA:TRUE certificate, as openssl req -x509 makes by default"
    );
}

/// Ignition 2.26 accepts a server whose certificate is itself listed in
/// `ignition.security.tls.certificateAuthorities` (a self-signed CA:TRUE certificate);
/// rustls alone refuses it with CaUsedAsEndEntity. Exactly that case is accepted.
#[test]
fn a_self_signed_ca_certificate_listed_in_the_config_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    self_signed_ca(dir.path(), "self", "IP:127.0.0.1");
    std::fs::write(dir.path().join("config.ign"), b"self-signed").expect("file");
    let (_server, url) = serve_tls(dir.path(), "self.pem", "self.key", "config.ign");
    let listed = FetchSettings {
        ca_bundles: vec![std::fs::read(dir.path().join("self.pem")).expect("pem")],
        ..quick()
    };
    assert_eq!(get(listed, &res(&url)).expect("accepted"), b"self-signed");
}

/// Nothing wider: the same kind of certificate is refused when the config lists another CA
/// (or none), and when it is listed but made for another host name. Refusals are final at
/// once, not retried until httpTotal.
#[test]
fn a_self_signed_ca_certificate_is_refused_unless_listed_and_for_this_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    self_signed_ca(dir.path(), "self", "IP:127.0.0.1");
    self_signed_ca(dir.path(), "other", "IP:127.0.0.1");
    self_signed_ca(dir.path(), "elsewhere", "DNS:config.example.com");
    std::fs::write(dir.path().join("config.ign"), b"self-signed").expect("file");
    let (_server, url) = serve_tls(dir.path(), "self.pem", "self.key", "config.ign");
    let (_named, named_url) = serve_tls(dir.path(), "elsewhere.pem", "elsewhere.key", "config.ign");
    let with = |pem: &str| FetchSettings {
        ca_bundles: vec![std::fs::read(dir.path().join(pem)).expect("pem")],
        total_timeout: Some(Duration::from_secs(20)),
        ..quick()
    };
    for (settings, url, why) in [
        (with("other.pem"), &url, "another CA is listed"),
        (
            FetchSettings {
                total_timeout: Some(Duration::from_secs(20)),
                ..quick()
            },
            &url,
            "no CA is listed",
        ),
        (
            with("elsewhere.pem"),
            &named_url,
            "listed, for another name",
        ),
    ] {
        let started = Instant::now();
        let err = get(settings, &res(url)).expect_err(why);
        let msg = err.to_string();
        assert!(msg.contains("certificate"), "{why}: {msg}");
        assert!(msg.contains("not retried"), "{why}: {msg}");
        assert!(started.elapsed() < Duration::from_secs(10), "{why}: {msg}");
        if why.contains("name") {
            assert!(msg.to_lowercase().contains("name"), "{why}: {msg}");
        }
    }
}
