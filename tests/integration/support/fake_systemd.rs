//! A stand-in for the part of systemd's D-Bus API that Ignition's disks stage uses, so that
//! Debian's Ignition can run its `disks` stage on a machine without systemd.
//!
//! Ignition waits for every device a config names by starting its `.device` unit through
//! systemd's private socket (`/run/systemd/private`) and waiting for the job's `JobRemoved`
//! signal. This server listens on a socket in a temporary directory; the differential test
//! bind-mounts that directory over `/run/systemd` in a private mount namespace in which it
//! runs Ignition. It speaks just enough of the D-Bus wire protocol for that: the EXTERNAL
//! authentication handshake, `AddMatch`/`Subscribe` (accepted and ignored), `StartUnit` of a
//! `.device` unit (answered with a job path, then a `JobRemoved` signal with `done` once the
//! device is there, or `timeout` when it does not come), and an error for everything else.
//!
//! "The device is there" means what systemd means: the kernel knows the block device. The
//! kernel of the test machines has no GPT parser, so while a device is awaited the server
//! syncs the kernel's view of the partitions of the disks it was given with their tables
//! (see [`super::loopdev::sync_partitions`]); that stands in for the kernel re-reading a
//! table that sgdisk just wrote.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::loopdev;

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;
const SIGNAL: u8 = 4;
const NO_REPLY_EXPECTED: u8 = 1;

/// How long a device may take to appear before its job ends with `timeout`.
const DEVICE_TIMEOUT: Duration = Duration::from_secs(20);

type Peer = Arc<Mutex<UnixStream>>;

struct Shared {
    disks: Vec<PathBuf>,
    peers: Mutex<Vec<Peer>>,
    next_job: AtomicU32,
    next_serial: AtomicU32,
    stop: AtomicBool,
    /// The units that were started, for the test's diagnostics.
    started: Mutex<Vec<String>>,
}

/// The server; it stops accepting connections when dropped.
pub struct FakeSystemd {
    dir: tempfile::TempDir,
    shared: Arc<Shared>,
}

impl FakeSystemd {
    /// Listens on `<tempdir>/private`. `disks` are the disks whose partitions it keeps the
    /// kernel in sync with while devices are awaited.
    pub fn start(disks: &[&Path]) -> FakeSystemd {
        let dir = tempfile::tempdir().expect("tempdir for the fake systemd");
        let listener = UnixListener::bind(dir.path().join("private")).expect("bind");
        let shared = Arc::new(Shared {
            disks: disks.iter().map(|d| d.to_path_buf()).collect(),
            peers: Mutex::new(Vec::new()),
            next_job: AtomicU32::new(1),
            next_serial: AtomicU32::new(1),
            stop: AtomicBool::new(false),
            started: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
        });
        FakeSystemd { dir, shared }
    }

    /// The directory to mount over `/run/systemd`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The units Ignition asked to start so far.
    pub fn started(&self) -> Vec<String> {
        self.shared.started.lock().expect("lock").clone()
    }
}

impl Drop for FakeSystemd {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = UnixStream::connect(self.dir.path().join("private"));
    }
}

fn serve(stream: UnixStream, shared: &Arc<Shared>) -> std::io::Result<()> {
    let peer: Peer = Arc::new(Mutex::new(stream.try_clone()?));
    let mut reader = BufReader::new(stream);
    authenticate(&mut reader, &peer)?;
    shared.peers.lock().expect("lock").push(peer.clone());
    loop {
        let msg = read_message(&mut reader)?;
        if msg.kind != METHOD_CALL {
            continue;
        }
        let reply: Result<Option<Body>, String> = match msg.member.as_str() {
            "Hello" => Ok(Some(Body::string(":1.1"))),
            "AddMatch" | "RemoveMatch" | "Subscribe" | "Unsubscribe" => Ok(None),
            "StartUnit" => start_unit(&msg, shared),
            other => Err(format!(
                "the test's fake systemd does not implement {}.{other}",
                msg.interface
            )),
        };
        if msg.flags & NO_REPLY_EXPECTED != 0 {
            continue;
        }
        let serial = shared.next_serial.fetch_add(1, Ordering::SeqCst);
        let bytes = match reply {
            Ok(body) => {
                let body = body.unwrap_or_default();
                let mut fields = vec![Field::U32(5, msg.serial)];
                if !body.signature.is_empty() {
                    fields.push(Field::Signature(8, body.signature.clone()));
                }
                encode(METHOD_RETURN, serial, &fields, &body.bytes)
            }
            Err(text) => {
                let body = Body::string(&text);
                let fields = vec![
                    Field::Str(4, "org.freedesktop.DBus.Error.UnknownMethod".into()),
                    Field::U32(5, msg.serial),
                    Field::Signature(8, "s".into()),
                ];
                encode(ERROR, serial, &fields, &body.bytes)
            }
        };
        peer.lock().expect("lock").write_all(&bytes)?;
    }
}

/// The SASL exchange before the binary protocol: a NUL byte, then text lines.
fn authenticate(reader: &mut BufReader<UnixStream>, peer: &Peer) -> std::io::Result<()> {
    let mut nul = [0u8; 1];
    reader.read_exact(&mut nul)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        let answer = if line.starts_with("AUTH EXTERNAL") {
            "OK 0123456789abcdef0123456789abcdef\r\n"
        } else if line.starts_with("AUTH") {
            "REJECTED EXTERNAL\r\n"
        } else if line == "NEGOTIATE_UNIX_FD" {
            "AGREE_UNIX_FD\r\n"
        } else if line == "BEGIN" {
            return Ok(());
        } else {
            "ERROR\r\n"
        };
        peer.lock().expect("lock").write_all(answer.as_bytes())?;
    }
}

/// `StartUnit(name, mode)`: answers with a job path at once; the job ends later.
fn start_unit(msg: &Message, shared: &Arc<Shared>) -> Result<Option<Body>, String> {
    let name = msg
        .body_strings
        .first()
        .cloned()
        .ok_or("StartUnit without a unit name")?;
    shared.started.lock().expect("lock").push(name.clone());
    let Some(device) = device_of_unit(&name) else {
        return Err(format!(
            "the test's fake systemd only starts .device units, not {name}"
        ));
    };
    let id = shared.next_job.fetch_add(1, Ordering::SeqCst);
    let job = format!("/org/freedesktop/systemd1/job/{id}");
    let (s, job2) = (shared.clone(), job.clone());
    thread::spawn(move || {
        let result = if wait_for_device(&device, &s.disks) {
            "done"
        } else {
            "timeout"
        };
        // The reply to StartUnit must go out first; the client holds its job table locked
        // until it has read the reply, so an early signal would only wait, but keep the
        // order systemd has anyway.
        thread::sleep(Duration::from_millis(20));
        let mut body = Encoder::default();
        body.u32(id);
        body.string(&job2);
        body.string(&name);
        body.string(result);
        let serial = s.next_serial.fetch_add(1, Ordering::SeqCst);
        let fields = vec![
            Field::ObjectPath(1, "/org/freedesktop/systemd1".into()),
            Field::Str(2, "org.freedesktop.systemd1.Manager".into()),
            Field::Str(3, "JobRemoved".into()),
            Field::Signature(8, "uoss".into()),
        ];
        let bytes = encode(SIGNAL, serial, &fields, &body.buf);
        for peer in s.peers.lock().expect("lock").iter() {
            let _ = peer.lock().expect("lock").write_all(&bytes);
        }
    });
    Ok(Some(Body {
        signature: "o".into(),
        bytes: {
            let mut e = Encoder::default();
            e.string(&job);
            e.buf
        },
    }))
}

/// `dev-disk-by\x2dpartlabel-root.device` → `/dev/disk/by-partlabel/root`.
fn device_of_unit(unit: &str) -> Option<PathBuf> {
    let escaped = unit.strip_suffix(".device")?;
    let mut path = String::from("/");
    let bytes = escaped.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => path.push('/'),
            b'\\' if bytes.get(i + 1) == Some(&b'x') && i + 3 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).ok()?;
                path.push(char::from(u8::from_str_radix(hex, 16).ok()?));
                i += 3;
            }
            b => path.push(char::from(b)),
        }
        i += 1;
    }
    Some(PathBuf::from(path))
}

/// Whether the kernel knows the block device `path` (after symlinks) within the timeout.
fn wait_for_device(path: &Path, disks: &[PathBuf]) -> bool {
    let deadline = Instant::now() + DEVICE_TIMEOUT;
    loop {
        for disk in disks {
            // A failure here shows as the device not coming, which ends in `timeout`.
            let _ = loopdev::try_sync_partitions(disk);
        }
        if let Ok(real) = std::fs::canonicalize(path) {
            if let Some(name) = real.file_name() {
                if real.starts_with("/dev") && Path::new("/sys/class/block").join(name).exists() {
                    return true;
                }
            }
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

// ---- The wire format (little endian only, which is what clients on x86 send) ----

#[derive(Default)]
struct Body {
    signature: String,
    bytes: Vec<u8>,
}

impl Body {
    fn string(s: &str) -> Body {
        let mut e = Encoder::default();
        e.string(s);
        Body {
            signature: "s".into(),
            bytes: e.buf,
        }
    }
}

enum Field {
    ObjectPath(u8, String),
    Str(u8, String),
    U32(u8, u32),
    Signature(u8, String),
}

#[derive(Default)]
struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    fn align(&mut self, n: usize) {
        while self.buf.len() % n != 0 {
            self.buf.push(0);
        }
    }

    fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn string(&mut self, s: &str) {
        self.u32(u32::try_from(s.len()).expect("short string"));
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }

    fn signature(&mut self, s: &str) {
        self.buf
            .push(u8::try_from(s.len()).expect("short signature"));
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
}

fn encode(kind: u8, serial: u32, fields: &[Field], body: &[u8]) -> Vec<u8> {
    let mut e = Encoder::default();
    e.buf.extend_from_slice(&[b'l', kind, 0, 1]);
    e.u32(u32::try_from(body.len()).expect("short body"));
    e.u32(serial);
    e.u32(0); // the fields' length, filled in below
    for f in fields {
        e.align(8);
        match f {
            Field::ObjectPath(code, v) => {
                e.buf.push(*code);
                e.signature("o");
                e.string(v);
            }
            Field::Str(code, v) => {
                e.buf.push(*code);
                e.signature("s");
                e.string(v);
            }
            Field::U32(code, v) => {
                e.buf.push(*code);
                e.signature("u");
                e.u32(*v);
            }
            Field::Signature(code, v) => {
                e.buf.push(*code);
                e.signature("g");
                e.signature(v);
            }
        }
    }
    let len = u32::try_from(e.buf.len() - 16).expect("short header");
    e.buf[12..16].copy_from_slice(&len.to_le_bytes());
    e.align(8);
    e.buf.extend_from_slice(body);
    e.buf
}

struct Message {
    kind: u8,
    flags: u8,
    serial: u32,
    interface: String,
    member: String,
    /// The body's leading strings (object paths count as strings), as far as the signature
    /// is only made of them.
    body_strings: Vec<String>,
}

fn read_message(reader: &mut impl Read) -> std::io::Result<Message> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut fixed = [0u8; 16];
    reader.read_exact(&mut fixed)?;
    if fixed[0] != b'l' {
        return Err(bad("only little-endian D-Bus messages are understood"));
    }
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let body_len = u32_at(&fixed, 4) as usize;
    let fields_len = u32_at(&fixed, 12) as usize;
    let padded = (16 + fields_len).div_ceil(8) * 8;
    let mut rest = vec![0u8; padded - 16 + body_len];
    reader.read_exact(&mut rest)?;
    let mut all = fixed.to_vec();
    all.extend_from_slice(&rest);

    let mut msg = Message {
        kind: fixed[1],
        flags: fixed[2],
        serial: u32_at(&fixed, 8),
        interface: String::new(),
        member: String::new(),
        body_strings: Vec::new(),
    };
    let mut signature = String::new();
    let mut pos = 16;
    let end = 16 + fields_len;
    let string_at = |pos: &mut usize| -> Option<String> {
        *pos = pos.div_ceil(4) * 4;
        let len = u32_at(&all, *pos) as usize;
        let s = String::from_utf8_lossy(all.get(*pos + 4..*pos + 4 + len)?).into_owned();
        *pos += 4 + len + 1;
        Some(s)
    };
    while pos < end {
        pos = pos.div_ceil(8) * 8;
        let code = all[pos];
        let sig_len = all[pos + 1] as usize;
        let sig = String::from_utf8_lossy(&all[pos + 2..pos + 2 + sig_len]).into_owned();
        pos += 2 + sig_len + 1;
        match sig.as_str() {
            "s" | "o" => {
                let v = string_at(&mut pos).ok_or_else(|| bad("truncated header"))?;
                match code {
                    2 => msg.interface = v,
                    3 => msg.member = v,
                    _ => {}
                }
            }
            "g" => {
                let len = all[pos] as usize;
                let v = String::from_utf8_lossy(&all[pos + 1..pos + 1 + len]).into_owned();
                pos += 1 + len + 1;
                if code == 8 {
                    signature = v;
                }
            }
            "u" => {
                pos = pos.div_ceil(4) * 4 + 4;
            }
            _ => return Err(bad("unexpected header field type")),
        }
    }
    // Body offsets are relative to its start, which is 8-aligned: same alignment.
    let mut pos = padded;
    for t in signature.chars() {
        if t != 's' && t != 'o' {
            break;
        }
        match string_at(&mut pos) {
            Some(s) => msg.body_strings.push(s),
            None => break,
        }
    }
    Ok(msg)
}
