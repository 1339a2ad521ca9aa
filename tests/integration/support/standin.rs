//! The metadata stand-in (tests/standins/metadata.py) as a child process on 127.0.0.1: one
//! platform's API, optional faults, and the log of what the engine sent.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Standin {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// One request as the stand-in logged it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub port: u16,
}

impl Standin {
    /// Serves `platform` with `userdata` (`None`: the user-data route answers 404) on a
    /// random port of 127.0.0.1.
    pub fn start(platform: &str, userdata: Option<&[u8]>, faults: &[&str]) -> Standin {
        Standin::start_on(platform, userdata, faults, "127.0.0.1", 0)
    }

    /// The stand-in with raw extra arguments (`--userdata F`, `--aws-role R`, …).
    pub fn start_args(platform: &str, extra: &[&str]) -> Standin {
        Standin::spawn(platform, None, &[], "127.0.0.1", 0, extra)
    }

    /// [`Standin::start`] on a given address and port (0: any).
    pub fn start_on(
        platform: &str,
        userdata: Option<&[u8]>,
        faults: &[&str],
        bind: &str,
        port: u16,
    ) -> Standin {
        Standin::spawn(platform, userdata, faults, bind, port, &[])
    }

    fn spawn(
        platform: &str,
        userdata: Option<&[u8]>,
        faults: &[&str],
        bind: &str,
        port: u16,
        extra: &[&str],
    ) -> Standin {
        let dir = tempfile::tempdir().expect("tempdir");
        // The engine's tests and the QEMU crate (tests/qemu) both use it.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let script = [
            manifest.join("tests/standins/metadata.py"),
            manifest.join("../standins/metadata.py"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .expect("tests/standins/metadata.py");
        let port_file = dir.path().join("port");
        let log = dir.path().join("requests.jsonl");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .args(["--platform", platform, "--bind", bind, "--port"])
            .arg(port.to_string())
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::null());
        if let Some(data) = userdata {
            let path = dir.path().join("userdata");
            std::fs::write(&path, data).expect("userdata");
            cmd.arg("--userdata").arg(path);
        }
        for f in faults {
            cmd.arg("--fault").arg(f);
        }
        cmd.args(extra);
        let mut child = cmd.spawn().expect("python3 runs the stand-in");
        let started = Instant::now();
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break text.trim().parse().expect("port");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the metadata stand-in exited at once ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the metadata stand-in did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Standin {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The log as JSON values, for checks on fields [`Logged`] does not name.
    pub fn requests_json(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }

    pub fn requests(&self) -> Vec<Logged> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
