//! The object store emulators (tests/standins/objstore.py): moto's S3 with SigV4 checked and
//! gcp-storage-emulator, from the virtualenv tests/standins/objstore-venv.sh prepares. One of
//! each per test process; they exit with it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository: the engine's tests run from it, the QEMU crate from tests/qemu.
fn repo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest, &manifest.join("../..")]
        .into_iter()
        .find(|d| d.join("tests/standins/objstore.py").is_file())
        .expect("tests/standins/objstore.py")
        .to_owned()
}

/// The venv's python, installed on first use.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new(repo().join("tests/standins/objstore-venv.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("tests/standins/objstore-venv.sh runs");
        assert!(
            out.status.success(),
            "installing the object store stand-ins failed (moto[server], gcp-storage-emulator from PyPI); these tests cannot run without them"
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// A stand-in process: killed on drop, or when this test process exits (it watches its
/// standard input).
pub struct Emulator {
    child: Child,
    _stdin: Option<ChildStdin>,
    state: serde_json::Value,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    fn start(program: &Path, args: &[&str], state_name: &str) -> Emulator {
        let dir = tempfile::tempdir().expect("tempdir");
        let state_path = dir.path().join(state_name);
        let mut child = Command::new(program)
            .args(args)
            .arg(&state_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("stand-in starts");
        let stdin = child.stdin.take();
        let started = Instant::now();
        while !state_path.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(e) = child.stderr.take() {
                    for line in BufReader::new(e).lines().map_while(Result::ok) {
                        err.push_str(&line);
                        err.push('\n');
                    }
                }
                panic!("stand-in {args:?} exited with {status}:\n{err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "stand-in {args:?} did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let state = std::fs::read(&state_path).expect("state file");
        Emulator {
            child,
            _stdin: stdin,
            state: serde_json::from_slice(&state).expect("state is JSON"),
            _dir: dir,
        }
    }

    pub fn get(&self, key: &str) -> String {
        self.state
            .pointer(key)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("state has {key}"))
            .to_owned()
    }
}

/// One moto server for the whole test binary (seeding takes a few seconds).
pub fn s3() -> &'static Emulator {
    static S3: OnceLock<Emulator> = OnceLock::new();
    S3.get_or_init(|| {
        let script = repo().join("tests/standins/objstore.py");
        let script = script.to_str().expect("utf-8 path");
        Emulator::start(python(), &[script, "s3", "--state"], "s3.json")
    })
}

pub fn gcs() -> &'static Emulator {
    static GCS: OnceLock<Emulator> = OnceLock::new();
    GCS.get_or_init(|| {
        let script = repo().join("tests/standins/objstore.py");
        let script = script.to_str().expect("utf-8 path");
        Emulator::start(python(), &[script, "gcs", "--state"], "gcs.json")
    })
}
