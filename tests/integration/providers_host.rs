//! Platforms whose config comes through the hypervisor's guest interface (vmware, virtualbox,
//! hyperv, applehv, zvm, nvidiabluefield, qemu), run as the dracut units run the fetch stages.
//! The guest tools are stand-in scripts first on PATH that answer as the real tools do; the
//! devices are a stand-in sysfs, a pseudo-terminal playing the Hyper-V KVP driver, and a
//! socket in place of vsock.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::stage::{assert_fails, assert_ok, stderr, Env};
use support::{ok, status, Server};

const CFG: &str = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hi"}}]}}"#;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// Stand-in tools in `<env>/bin`, and the PATH that finds them first.
fn tools(env: &Env, scripts: &[(&str, &str)]) -> PathBuf {
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for (name, body) in scripts {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let system = std::env::var("PATH").unwrap_or_default();
    PathBuf::from(format!("{}:{system}", bin.display()))
}

/// Every invocation of the stand-in tools, one line each.
fn calls(env: &Env) -> String {
    std::fs::read_to_string(env.path("calls")).unwrap_or_default()
}

#[track_caller]
fn assert_config(env: &Env) {
    assert_eq!(env.config()["storage"]["files"][0]["path"], "/etc/motd");
}

#[track_caller]
fn assert_no_config(env: &Env) {
    let cfg = env.config();
    assert_eq!(cfg["ignition"]["version"], "3.6.0");
    assert!(cfg["storage"]["files"].is_null(), "{cfg}");
}

// ---- vmware ---------------------------------------------------------------------------

/// vmware-rpctool as open-vm-tools ships it: `info-get guestinfo.<key>` prints the value and
/// a newline, or "No value found" on stderr with exit status 1. Values live in
/// `<env>/guestinfo/<key>`.
fn vmware(env: &Env, vars: &[(&str, &[u8])]) -> PathBuf {
    let dir = env.path("guestinfo");
    std::fs::create_dir_all(&dir).expect("guestinfo");
    for (key, value) in vars {
        std::fs::write(dir.join(key), value).expect("guestinfo var");
    }
    tools(
        env,
        &[(
            "vmware-rpctool",
            &format!(
                r#"echo "vmware-rpctool $*" >> {calls}
case "$1" in "info-get guestinfo."*) ;; *) echo "Unknown command" >&2; exit 1;; esac
f={dir}/"${{1#info-get }}"
if [ -f "$f" ]; then cat "$f"; echo; else echo "No value found" >&2; exit 1; fi"#,
                calls = env.path("calls").display(),
                dir = dir.display()
            ),
        )],
    )
}

fn vmware_env() -> Env {
    Env::new("kindling.firstboot kindling.platform.id=vmware")
}

#[test]
fn vmware_reads_a_plain_config() {
    let env = vmware_env();
    let path = vmware(&env, &[("guestinfo.ignition.config.data", CFG.as_bytes())]);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_config(&env);
    assert!(calls(&env).contains("vmware-rpctool info-get guestinfo.ignition.config.data\n"));
}

#[test]
fn vmware_decodes_base64_and_b64() {
    for encoding in ["base64", "b64"] {
        let env = vmware_env();
        let path = vmware(
            &env,
            &[
                (
                    "guestinfo.ignition.config.data",
                    b64(CFG.as_bytes()).as_bytes(),
                ),
                (
                    "guestinfo.ignition.config.data.encoding",
                    encoding.as_bytes(),
                ),
            ],
        );
        assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
        assert_config(&env);
    }
}

#[test]
fn vmware_decodes_gzip_then_base64_under_every_name() {
    for encoding in ["gz+base64", "gzip+base64", "gz+b64", "gzip+b64"] {
        let env = vmware_env();
        let path = vmware(
            &env,
            &[
                (
                    "guestinfo.ignition.config.data",
                    b64(&gzip(CFG.as_bytes())).as_bytes(),
                ),
                (
                    "guestinfo.ignition.config.data.encoding",
                    encoding.as_bytes(),
                ),
            ],
        );
        let out = env.stage("fetch-offline", &[("PATH", &path)]);
        assert_ok(&out);
        assert_config(&env);
        assert!(!stderr(&out).contains("/etc/motd"), "no config in the log");
    }
}

#[test]
fn vmware_refuses_an_unknown_encoding_naming_the_valid_ones() {
    let env = vmware_env();
    let path = vmware(
        &env,
        &[
            ("guestinfo.ignition.config.data", CFG.as_bytes()),
            ("guestinfo.ignition.config.data.encoding", b"base32"),
        ],
    );
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(
        &out,
        "guestinfo.ignition.config.data.encoding is \"base32\"",
    );
    assert!(stderr(&out).contains("gzip+base64"), "{}", stderr(&out));
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn vmware_refuses_data_that_does_not_match_its_encoding() {
    let env = vmware_env();
    let path = vmware(
        &env,
        &[
            ("guestinfo.ignition.config.data", b"%%% not base64 %%%"),
            ("guestinfo.ignition.config.data.encoding", b"base64"),
        ],
    );
    assert_fails(
        &env.stage("fetch-offline", &[("PATH", &path)]),
        "not valid base64",
    );
}

#[test]
fn vmware_without_data_is_no_config() {
    let env = vmware_env();
    let path = vmware(&env, &[]);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_no_config(&env);
}

#[test]
fn vmware_falls_back_to_the_ovf_environment() {
    let env = vmware_env();
    let ovf = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1">
  <PropertySection>
    <Property oe:key="guestinfo.ignition.config.data" oe:value="{}"/>
    <Property oe:key="guestinfo.ignition.config.data.encoding" oe:value="base64"/>
  </PropertySection>
</Environment>"#,
        b64(CFG.as_bytes())
    );
    let path = vmware(&env, &[("guestinfo.ovfenv", ovf.as_bytes())]);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_config(&env);
}

#[test]
fn vmware_guestinfo_wins_over_the_ovf_environment() {
    let env = vmware_env();
    let ovf = r#"<Environment xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection>
<Property oe:key="guestinfo.ignition.config.data" oe:value="{&quot;broken"/>
</PropertySection></Environment>"#;
    let path = vmware(
        &env,
        &[
            ("guestinfo.ovfenv", ovf.as_bytes()),
            ("guestinfo.ignition.config.data", CFG.as_bytes()),
        ],
    );
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_config(&env);
}

#[test]
fn vmware_works_in_the_fetch_stage_too() {
    let env = vmware_env();
    let path = vmware(&env, &[("guestinfo.ignition.config.data", CFG.as_bytes())]);
    assert_ok(&env.stage("fetch", &[("PATH", &path)]));
    assert_config(&env);
}

#[test]
fn vmware_without_vmware_rpctool_says_what_to_install() {
    let env = vmware_env();
    let empty = env.path("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = env.stage("fetch-offline", &[("PATH", &empty)]);
    assert_fails(&out, "vmware-rpctool was not found on PATH");
    assert!(stderr(&out).contains("open-vm-tools"), "{}", stderr(&out));
}

#[test]
fn vmware_outside_a_vm_fails_with_the_tools_own_words() {
    let env = vmware_env();
    let path = tools(
        &env,
        &[(
            "vmware-rpctool",
            "echo 'vmware-rpctool must be run inside a virtual machine.' >&2; exit 1",
        )],
    );
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(&out, "must be run inside a virtual machine");
    assert!(
        stderr(&out).contains("outside a VMware VM"),
        "{}",
        stderr(&out)
    );
}

// ---- virtualbox -----------------------------------------------------------------------

/// VBoxControl as the Guest Additions ship it: `--nologo guestproperty get NAME` prints
/// "Value: <value>" and a newline, or "No value set!" with exit status 1.
fn virtualbox(env: &Env, props: &[(&str, &str)]) -> PathBuf {
    let dir = env.path("props");
    std::fs::create_dir_all(&dir).expect("props");
    for (name, value) in props {
        std::fs::write(
            dir.join(name.trim_start_matches('/').replace('/', "_")),
            value,
        )
        .expect("prop");
    }
    tools(
        env,
        &[(
            "VBoxControl",
            &format!(
                r#"echo "VBoxControl $*" >> {calls}
[ "$1 $2 $3" = "--nologo guestproperty get" ] || {{ echo "bad usage" >&2; exit 2; }}
f={dir}/$(echo "$4" | sed 's|^/||; s|/|_|g')
if [ -f "$f" ]; then printf 'Value: '; cat "$f"; echo; else echo "No value set!"; exit 1; fi"#,
                calls = env.path("calls").display(),
                dir = dir.display()
            ),
        )],
    )
}

#[test]
fn virtualbox_reads_the_guest_property() {
    let env = Env::new("kindling.firstboot kindling.platform.id=virtualbox");
    // A pretty-printed config, to show multi-line values come through whole.
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(CFG).expect("json"),
    )
    .expect("json");
    let path = virtualbox(&env, &[("/Ignition/Config", &pretty)]);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_config(&env);
    assert!(calls(&env).contains("VBoxControl --nologo guestproperty get /Ignition/Config\n"));
}

#[test]
fn virtualbox_without_the_property_is_no_config() {
    let env = Env::new("kindling.firstboot kindling.platform.id=virtualbox");
    let path = virtualbox(&env, &[]);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_no_config(&env);
}

#[test]
fn virtualbox_refuses_an_encoding() {
    let env = Env::new("kindling.firstboot kindling.platform.id=virtualbox");
    let path = virtualbox(
        &env,
        &[
            ("/Ignition/Config", CFG),
            ("/Ignition/Config/Encoding", "gzip"),
        ],
    );
    assert_fails(
        &env.stage("fetch-offline", &[("PATH", &path)]),
        "encoded configs are unsupported on VirtualBox",
    );
}

#[test]
fn virtualbox_without_vboxcontrol_says_what_to_install() {
    let env = Env::new("kindling.firstboot kindling.platform.id=virtualbox");
    let empty = env.path("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = env.stage("fetch-offline", &[("PATH", &empty)]);
    assert_fails(&out, "VBoxControl was not found on PATH");
    assert!(stderr(&out).contains("Guest Additions"), "{}", stderr(&out));
}

#[test]
fn virtualbox_outside_a_vm_fails_with_the_tools_own_words() {
    let env = Env::new("kindling.firstboot kindling.platform.id=virtualbox");
    let path = tools(
        &env,
        &[(
            "VBoxControl",
            "echo 'VBoxControl: error: Could not contact the host system.  Make sure that you are running this' >&2; exit 1",
        )],
    );
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(&out, "Could not contact the host system");
    assert!(
        stderr(&out).contains("outside a VirtualBox VM"),
        "{}",
        stderr(&out)
    );
}

// ---- hyperv ---------------------------------------------------------------------------

/// The KVP driver's stand-in (tests/standins/hv_kvp.py), sending `pairs` ("pool:key=value").
struct Kvp {
    child: Child,
    device: PathBuf,
}

impl Kvp {
    fn start(pairs: &[String]) -> Kvp {
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/standins/hv_kvp.py"
            ))
            .args(pairs)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the KVP stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("device path");
        Kvp {
            child,
            device: PathBuf::from(line.trim()),
        }
    }

    /// What the stand-in saw: "answered N" and any problems.
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("report");
        let _ = self.child.wait();
        out.trim().to_owned()
    }
}

impl Drop for Kvp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hyperv_env() -> Env {
    Env::new("kindling.firstboot kindling.platform.id=hyperv")
}

#[test]
fn hyperv_joins_the_split_keys_of_pool_0() {
    // Split where a 2048-byte value would force it, only smaller: the order is the keys'.
    let (a, rest) = CFG.split_at(40);
    let (b, c) = rest.split_at(40);
    let pairs = vec![
        "1:ignition.config.0=from the guest pool, ignored".to_owned(),
        format!("0:ignition.config.1={b}"),
        format!("0:ignition.config.0={a}"),
        format!("0:ignition.config.2={c}"),
        "0:other=x".to_owned(),
        // The host lists the guest's own items; Kindling has none.
        "enumerate".to_owned(),
    ];
    let kvp = Kvp::start(&pairs);
    let env = hyperv_env();
    let out = env.stage("fetch-offline", &[("KINDLING_TEST_HV_KVP", &kvp.device)]);
    assert_ok(&out);
    assert_eq!(
        kvp.finish(),
        "answered 6",
        "every message answered as expected"
    );
    assert_config(&env);
}

#[test]
fn hyperv_reads_the_whole_key() {
    let kvp = Kvp::start(&[format!("0:ignition.config={CFG}")]);
    let env = hyperv_env();
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_TEST_HV_KVP", &kvp.device)]));
    assert_eq!(kvp.finish(), "answered 1");
    assert_config(&env);
}

#[test]
fn hyperv_without_the_keys_is_no_config() {
    let kvp = Kvp::start(&["0:hostname=vm1".to_owned()]);
    let env = hyperv_env();
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_TEST_HV_KVP", &kvp.device)]));
    assert_eq!(kvp.finish(), "answered 1");
    assert_no_config(&env);
}

/// The host sends each pair once. When fetch-offline leaves a config that needs the network
/// to the fetch stage, the fetch stage reads the device again and gets nothing new; it must
/// find the config in the pool files that fetch-offline kept, as hv_kvp_daemon keeps them.
#[test]
fn hyperv_fetch_finds_the_pairs_fetch_offline_took() {
    let remote = r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,a"},"append":[{"source":"https://example.com/more"}]}]}}"#;
    let env = hyperv_env();
    let pools = env.path("hyperv");
    let kvp = Kvp::start(&[format!("0:ignition.config={remote}")]);
    assert_ok(&env.stage(
        "fetch-offline",
        &[
            ("KINDLING_TEST_HV_KVP", &kvp.device),
            ("KINDLING_TEST_HV_POOL_DIR", &pools),
        ],
    ));
    assert_eq!(kvp.finish(), "answered 1");
    assert!(env.run_dir().join("neednet").exists());
    use std::os::unix::fs::MetadataExt;
    let pool0 = std::fs::metadata(pools.join(".kvp_pool_0")).expect("pool 0 kept");
    assert_eq!((pool0.len(), pool0.mode() & 0o777), (2560, 0o600));
    // The host has nothing more to send.
    let kvp = Kvp::start(&[]);
    assert_ok(&env.stage(
        "fetch",
        &[
            ("KINDLING_TEST_HV_KVP", &kvp.device),
            ("KINDLING_TEST_HV_POOL_DIR", &pools),
        ],
    ));
    assert_eq!(kvp.finish(), "answered 0");
    assert_config(&env);
}

#[test]
fn hyperv_without_the_device_names_it() {
    let env = hyperv_env();
    let missing = env.path("no-such-device");
    let out = env.stage("fetch-offline", &[("KINDLING_TEST_HV_KVP", &missing)]);
    assert_fails(&out, &format!("{}", missing.display()));
    assert!(
        stderr(&out).contains("not a Hyper-V VM"),
        "{}",
        stderr(&out)
    );
}

// ---- applehv --------------------------------------------------------------------------

/// One HTTP answer on a Unix socket, the stand-in for the host's vsock listener; returns
/// the request as received.
fn unix_server(path: &Path, answer: Vec<u8>) -> std::thread::JoinHandle<String> {
    let listener = std::os::unix::net::UnixListener::bind(path).expect("bind");
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(&answer).expect("answer");
        String::from_utf8_lossy(&request).into_owned()
    })
}

#[test]
fn applehv_gets_the_config_from_the_host() {
    let env = Env::new("kindling.firstboot kindling.platform.id=applehv");
    let sock = env.path("vsock");
    let server = unix_server(&sock, ok(CFG.as_bytes()));
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_TEST_APPLEHV_ADDR", &sock)]));
    assert_config(&env);
    let request = server.join().expect("server");
    assert!(request.starts_with("GET / HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("\r\nHost: d\r\n"), "{request}");
    assert!(
        request.contains("\r\nAccept: application/json\r\n"),
        "{request}"
    );
}

#[test]
fn applehv_takes_a_chunked_answer() {
    // Go's HTTP server chunks an answer whose handler sets no length.
    let env = Env::new("kindling.firstboot kindling.platform.id=applehv");
    let sock = env.path("vsock");
    let (a, b) = CFG.split_at(50);
    let answer = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let server = unix_server(&sock, answer.into_bytes());
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_TEST_APPLEHV_ADDR", &sock)]));
    server.join().expect("server");
    assert_config(&env);
}

#[test]
fn applehv_empty_answer_is_no_config() {
    let env = Env::new("kindling.firstboot kindling.platform.id=applehv");
    let sock = env.path("vsock");
    let server = unix_server(&sock, ok(b""));
    assert_ok(&env.stage("fetch-offline", &[("KINDLING_TEST_APPLEHV_ADDR", &sock)]));
    server.join().expect("server");
    assert_no_config(&env);
}

#[test]
fn applehv_refuses_an_error_status() {
    // Over TCP this time: the seam takes host:port as well.
    let server = Server::start("127.0.0.1", |_, _| status(500, "Internal Server Error"));
    let env = Env::new("kindling.firstboot kindling.platform.id=applehv");
    let out = env.stage(
        "fetch-offline",
        &[("KINDLING_TEST_APPLEHV_ADDR", Path::new(&server.addr))],
    );
    assert_fails(&out, "the host answered HTTP 500");
}

#[test]
fn applehv_without_a_listener_says_so() {
    let env = Env::new("kindling.firstboot kindling.platform.id=applehv");
    let out = env.stage(
        "fetch-offline",
        &[("KINDLING_TEST_APPLEHV_ADDR", &env.path("nobody-listens"))],
    );
    assert_fails(&out, "connecting:");
    assert!(stderr(&out).contains("port 1024"), "{}", stderr(&out));
}

// ---- zvm ------------------------------------------------------------------------------

const VMUR_LIST: &str = "\
ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST
T6360025 0463 V DMP 00020222 001 NONE 06/11 15:07:42 VMDUMP    FILE     T6360025
T6360025 0464 A PUN 00000003 001 NONE 06/11 15:08:00 CONFIG    ign      T6360025
";

/// s390-tools stand-ins: chccwdev fails until cio_ignore has freed the device, as for a
/// reader on the ignore list; `vmur re -f ID FILE` writes the spool file, NUL-padded to
/// whole records.
fn zvm(env: &Env, listing: &str) -> PathBuf {
    std::fs::write(env.path("vmur-list"), listing).expect("listing");
    let mut padded = CFG.as_bytes().to_vec();
    padded.resize(800, 0);
    std::fs::write(env.path("spool-0464"), padded).expect("spool");
    let calls = env.path("calls").display().to_string();
    let dir = env.dir.path().display().to_string();
    tools(
        env,
        &[
            ("modprobe", &format!("echo \"modprobe $*\" >> {calls}")),
            ("udevadm", &format!("echo \"udevadm $*\" >> {calls}")),
            (
                "cio_ignore",
                &format!("echo \"cio_ignore $*\" >> {calls}; touch {dir}/freed"),
            ),
            (
                "chccwdev",
                &format!(
                    "echo \"chccwdev $*\" >> {calls}\n[ -f {dir}/freed ] || {{ echo 'Device 0.0.000c not found' >&2; exit 1; }}"
                ),
            ),
            (
                "vmur",
                &format!(
                    r#"echo "vmur $*" >> {calls}
case "$1" in
  li) cat {dir}/vmur-list ;;
  re) [ "$2" = -f ] && cp {dir}/spool-"$3" "$4" ;;
  *) exit 1 ;;
esac"#
                ),
            ),
        ],
    )
}

#[test]
fn zvm_reads_the_first_ign_spool_file() {
    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    let path = zvm(&env, VMUR_LIST);
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_config(&env);
    let calls = calls(&env);
    let order: Vec<&str> = calls
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        [
            "modprobe",
            "chccwdev",
            "cio_ignore",
            "chccwdev",
            "udevadm",
            "vmur",
            "vmur"
        ],
        "{calls}"
    );
    assert!(calls.contains("modprobe vmur\n"), "{calls}");
    assert!(calls.contains("chccwdev -e 000c\n"), "{calls}");
    assert!(calls.contains("cio_ignore -r 000c\n"), "{calls}");
    assert!(calls.contains("udevadm settle\n"), "{calls}");
    let read = calls.lines().last().unwrap_or_default();
    assert!(read.starts_with("vmur re -f 0464 /"), "{read}");
    assert!(read.ends_with("/CONFIG.ign"), "{read}");
    // The private directory is gone afterwards.
    let dir = Path::new(read.trim_start_matches("vmur re -f 0464 "))
        .parent()
        .expect("dir")
        .to_owned();
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn zvm_without_an_ign_file_is_no_config() {
    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    let path = zvm(&env, &VMUR_LIST.replace(" ign ", " txt "));
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_no_config(&env);
    assert!(!calls(&env).contains("vmur re"), "{}", calls(&env));
}

#[test]
fn zvm_without_vmur_says_what_to_install() {
    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    let calls = env.path("calls").display().to_string();
    tools(
        &env,
        &[
            ("modprobe", &format!("echo \"modprobe $*\" >> {calls}")),
            ("chccwdev", "exit 0"),
            ("udevadm", "exit 0"),
        ],
    );
    // Only the stand-ins on PATH: no vmur anywhere.
    let out = env.stage("fetch-offline", &[("PATH", &env.path("bin"))]);
    assert_fails(&out, "vmur was not found on PATH");
    assert!(stderr(&out).contains("s390-tools"), "{}", stderr(&out));
}

#[test]
fn zvm_reader_that_stays_offline_fails_naming_the_command() {
    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    let path = zvm(&env, VMUR_LIST);
    // chccwdev fails even after cio_ignore: the reader does not exist.
    tools(
        &env,
        &[("chccwdev", "echo 'Device 0.0.000c not found' >&2; exit 1")],
    );
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(&out, "`chccwdev -e 000c` failed");
    assert!(
        stderr(&out).contains("Device 0.0.000c not found"),
        "{}",
        stderr(&out)
    );
    assert!(
        calls(&env).contains("cio_ignore -r 000c"),
        "{}",
        calls(&env)
    );
    assert!(!env.run_dir().join("config.json").exists());
}

// ---- nvidiabluefield ------------------------------------------------------------------

#[test]
fn nvidiabluefield_reads_the_boot_fifo_without_padding() {
    let env = Env::new("kindling.firstboot kindling.platform.id=nvidiabluefield");
    let dev = env.path("sys/bus/platform/devices/MLNXBF04:00");
    std::fs::create_dir_all(&dev).expect("sysfs");
    let mut fifo = vec![0u8; 3];
    fifo.extend_from_slice(CFG.as_bytes());
    fifo.resize(4096, 0);
    std::fs::write(dev.join("bootfifo"), fifo).expect("bootfifo");
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_config(&env);
}

#[test]
fn nvidiabluefield_empty_or_missing_fifo_is_no_config() {
    for contents in [None, Some(vec![0u8; 64])] {
        let env = Env::new("kindling.firstboot kindling.platform.id=nvidiabluefield");
        if let Some(bytes) = contents {
            let dev = env.path("sys/bus/platform/devices/MLNXBF04:00");
            std::fs::create_dir_all(&dev).expect("sysfs");
            std::fs::write(dev.join("bootfifo"), bytes).expect("bootfifo");
        }
        assert_ok(&env.stage("fetch-offline", &[]));
        assert_no_config(&env);
    }
}

// ---- qemu -----------------------------------------------------------------------------

#[test]
fn qemu_loads_no_module_for_a_stand_in_sysfs() {
    // A module changes the running kernel, which a stand-in sysfs does not describe.
    let env = Env::new("kindling.firstboot kindling.platform.id=qemu");
    let log = env.path("calls").display().to_string();
    let path = tools(
        &env,
        &[(
            "modprobe",
            &format!("echo \"modprobe $*\" >> {log}; exit 1"),
        )],
    );
    assert_ok(&env.stage("fetch-offline", &[("PATH", &path)]));
    assert_no_config(&env);
    assert_eq!(calls(&env), "");
}

// ---- limits on what the guest interfaces hand over ------------------------------------

/// A policy with a small config limit, so floods are cut early.
const SMALL_LIMIT: &str = r#"{"maxConfigBytes": 2048}"#;

#[test]
fn a_guest_tool_flooding_its_output_is_stopped_and_named() {
    for (platform, tool, unset, needle) in [
        (
            "vmware",
            "vmware-rpctool",
            "echo 'No value found' >&2",
            "`vmware-rpctool 'info-get guestinfo.ignition.config.data'` wrote more than 69632 bytes",
        ),
        (
            "virtualbox",
            "VBoxControl",
            "echo 'No value set!'",
            "`VBoxControl --nologo guestproperty get /Ignition/Config` wrote more than 6144 bytes",
        ),
    ] {
        let env = Env::new(&format!("kindling.firstboot kindling.platform.id={platform}"));
        env.trust(Some(SMALL_LIMIT), &[]);
        // Answers every question with an endless stream, as a broken or hostile tool might.
        let script = format!("case \"$*\" in *ncoding*) {unset}; exit 1;; esac; exec yes");
        let path = tools(&env, &[(tool, &script)]);
        let started = std::time::Instant::now();
        let out = env.stage("fetch-offline", &[("PATH", &path)]);
        assert_fails(&out, needle);
        assert!(
            stderr(&out).contains("raise maxConfigBytes if the config is meant to be this big"),
            "{}",
            stderr(&out)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert!(!env.run_dir().join("config.json").exists());
    }
}

#[test]
fn zvm_refuses_a_flooding_listing_and_a_spool_file_over_the_limit() {
    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    let path = zvm(&env, VMUR_LIST);
    tools(
        &env,
        &[(
            "vmur",
            "exec yes 'ORIGINID FILE CLASS RECORDS CPY HOLD DATE  TIME     NAME      TYPE DIST'",
        )],
    );
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(
        &out,
        "`vmur li` wrote more than 1048576 bytes to standard output",
    );

    let env = Env::new("kindling.firstboot kindling.platform.id=zvm");
    env.trust(Some(SMALL_LIMIT), &[]);
    let path = zvm(&env, VMUR_LIST);
    std::fs::write(env.path("spool-0464"), vec![b' '; 4096]).expect("spool");
    let out = env.stage("fetch-offline", &[("PATH", &path)]);
    assert_fails(&out, "is 4096 bytes, larger than the limit of 2048 bytes");
    assert!(!env.run_dir().join("config.json").exists());
}

#[test]
fn nvidiabluefield_refuses_a_fifo_over_the_limit_but_not_its_padding() {
    let env = Env::new("kindling.firstboot kindling.platform.id=nvidiabluefield");
    env.trust(Some(SMALL_LIMIT), &[]);
    let dev = env.path("sys/bus/platform/devices/MLNXBF04:00");
    std::fs::create_dir_all(&dev).expect("sysfs");
    let mut fifo = CFG.as_bytes().to_vec();
    fifo.resize(1 << 20, 0);
    std::fs::write(dev.join("bootfifo"), &fifo).expect("bootfifo");
    assert_ok(&env.stage("fetch-offline", &[]));
    assert_config(&env);

    let env = Env::new("kindling.firstboot kindling.platform.id=nvidiabluefield");
    env.trust(Some(SMALL_LIMIT), &[]);
    std::fs::create_dir_all(&dev).expect("sysfs");
    let dev = env.path("sys/bus/platform/devices/MLNXBF04:00");
    std::fs::create_dir_all(&dev).expect("sysfs");
    std::fs::write(dev.join("bootfifo"), vec![b' '; 4096]).expect("bootfifo");
    let out = env.stage("fetch-offline", &[]);
    assert_fails(&out, "bootfifo is larger than the limit of 2048 bytes");
    assert!(!env.run_dir().join("config.json").exists());
}
