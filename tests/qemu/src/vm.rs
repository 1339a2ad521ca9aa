//! One QEMU boot: TCG, `-kernel`/`-initrd`, the root as a virtio disk, the serial console in a
//! file, `-no-reboot`, and a hard timeout after which QEMU is killed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::Setup;

/// Kernel arguments every boot gets. `rd.shell=0 rd.emergency=poweroff`: a failed boot powers
/// off instead of waiting at an emergency shell; `panic=-1` with `-no-reboot` ends the VM on a
/// kernel panic.
pub const BASE_CMDLINE: &[&str] = &[
    "root=/dev/vda",
    "ro",
    "console=ttyS0",
    "panic=-1",
    "rd.shell=0",
    "rd.emergency=poweroff",
];

/// The network the guest gets.
#[derive(Debug, Clone, Default)]
pub enum Net {
    /// No network device at all.
    #[default]
    None,
    /// QEMU user networking with `restrict=on`: the guest reaches only the forwards.
    Restricted {
        /// `guestfwd`: guest `ip:port` → host `127.0.0.1:port`.
        guestfwd: Vec<(String, u16)>,
        /// `hostfwd`: host `127.0.0.1:port` → guest port.
        hostfwd: Vec<(u16, u16)>,
        /// `guestfwd` to a command QEMU starts for each connection: guest `ip:port` →
        /// command line (no commas).
        guestcmd: Vec<(String, String)>,
    },
}

#[derive(Debug)]
pub struct Vm<'a> {
    pub setup: &'a Setup,
    /// Names the log in failure messages.
    pub name: String,
    pub disk: PathBuf,
    /// Instead of the setup's initramfs (one with a trust policy, say).
    pub initrd: Option<PathBuf>,
    /// Boot through UEFI firmware from an ESP instead of -kernel/-initrd/-append.
    pub uefi: Option<Uefi>,
    /// A TPM 2.0 (swtpm, fresh state for each boot).
    pub tpm: bool,
    /// Keep the TPM's state here across boots (the same machine booting again).
    pub tpm_state: Option<PathBuf>,
    /// Stop QEMU as soon as the console shows this (a firmware that refused an image waits
    /// for a key press forever).
    pub stop_on: Option<String>,
    /// More virtio disks: /dev/vdb, /dev/vdc, … in this order.
    pub extra_disks: Vec<PathBuf>,
    /// Added after [`BASE_CMDLINE`].
    pub cmdline: Vec<String>,
    /// A config for `-fw_cfg name=opt/com.coreos/config`.
    pub fw_cfg: Option<PathBuf>,
    pub net: Net,
    /// The user network's own prefix instead of QEMU's 10.0.2.0/24 (`net=`), so the guest
    /// can reach a forward at a cloud's metadata address (169.254.169.254).
    pub net_prefix: Option<String>,
    /// An image in a CD-ROM drive (a config drive or an OVF environment).
    pub cdrom: Option<PathBuf>,
    pub timeout: Duration,
    pub console_log: PathBuf,
}

impl<'a> Vm<'a> {
    /// A VM for `disk` whose console log goes next to it.
    pub fn new(setup: &'a Setup, name: &str, disk: &Path) -> Self {
        Self {
            setup,
            name: name.to_owned(),
            disk: disk.to_owned(),
            initrd: None,
            uefi: None,
            tpm: false,
            tpm_state: None,
            stop_on: None,
            extra_disks: Vec::new(),
            cmdline: Vec::new(),
            fw_cfg: None,
            net: Net::None,
            net_prefix: None,
            cdrom: None,
            timeout: Duration::from_secs(
                std::env::var("KINDLING_QEMU_TIMEOUT")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(480),
            ),
            console_log: disk.with_file_name(format!("{name}.console.log")),
        }
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.cmdline.push(arg.to_owned());
        self
    }

    /// Boots `uefi.esp` with OVMF (Secure Boot build, q35 with SMM) and a fresh copy of
    /// `uefi.vars`; the kernel command line is then the UKI's own.
    pub fn uefi(mut self, uefi: Uefi) -> Self {
        self.uefi = Some(uefi);
        self
    }

    /// Gives the VM a software TPM 2.0 (swtpm), in a fresh state.
    pub fn tpm(mut self) -> Self {
        self.tpm = true;
        self
    }

    /// A TPM whose state lives in `dir` and survives this boot, for a later boot of the same
    /// machine.
    pub fn tpm_in(mut self, dir: &Path) -> Self {
        self.tpm = true;
        self.tpm_state = Some(dir.to_owned());
        self
    }

    fn tpm_dir(&self) -> PathBuf {
        self.tpm_state
            .clone()
            .unwrap_or_else(|| self.console_log.with_extension("tpm"))
    }

    pub fn stop_on(mut self, needle: &str) -> Self {
        self.stop_on = Some(needle.to_owned());
        self
    }

    pub fn initrd(mut self, initrd: &Path) -> Self {
        self.initrd = Some(initrd.to_owned());
        self
    }

    /// Attaches another raw disk image (the next /dev/vdX).
    pub fn disk(mut self, image: &Path) -> Self {
        self.extra_disks.push(image.to_owned());
        self
    }

    pub fn fw_cfg(mut self, config: &Path) -> Self {
        self.fw_cfg = Some(config.to_owned());
        self
    }

    /// The user network's prefix, e.g. `169.254.169.0/24` for a cloud metadata address.
    pub fn net_prefix(mut self, prefix: &str) -> Self {
        self.net_prefix = Some(prefix.to_owned());
        self
    }

    /// `image` in a CD-ROM drive on the machine's AHCI controller (/dev/sr0).
    pub fn cdrom(mut self, image: &Path) -> Self {
        self.cdrom = Some(image.to_owned());
        self
    }

    pub fn net(mut self, net: Net) -> Self {
        self.net = net;
        self
    }

    pub fn qemu_args(&self) -> Vec<String> {
        // A root= of the scenario's own replaces the base one.
        let own_root = self.cmdline.iter().any(|a| a.starts_with("root="));
        let cmdline: Vec<&str> = BASE_CMDLINE
            .iter()
            .copied()
            .filter(|a| !(own_root && a.starts_with("root=")))
            .chain(self.cmdline.iter().map(String::as_str))
            .collect();
        let machine = if self.uefi.is_some() {
            "q35,smm=on"
        } else {
            "q35"
        };
        let mut args: Vec<String> = [
            "-machine",
            machine,
            "-accel",
            "tcg",
            "-cpu",
            "max",
            "-m",
            "1024",
            "-smp",
            "1",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ]
        .map(str::to_owned)
        .into();
        if let Some(uefi) = &self.uefi {
            args.extend(uefi.qemu_args(&self.console_log));
        } else {
            args.extend([
                "-kernel".into(),
                self.setup.kernel.display().to_string(),
                "-initrd".into(),
                self.initrd
                    .as_ref()
                    .unwrap_or(&self.setup.initrd)
                    .display()
                    .to_string(),
                "-append".into(),
                cmdline.join(" "),
            ]);
        }
        args.extend([
            "-drive".into(),
            format!("file={},if=virtio,format=raw", self.disk.display()),
            "-serial".into(),
            format!("file:{}", self.console_log.display()),
        ]);
        for image in &self.extra_disks {
            args.push("-drive".into());
            args.push(format!("file={},if=virtio,format=raw", image.display()));
        }
        if let Some(image) = &self.cdrom {
            args.extend([
                "-drive".into(),
                format!(
                    "file={},if=none,id=cd0,media=cdrom,readonly=on,format=raw",
                    image.display()
                ),
                "-device".into(),
                "ide-cd,drive=cd0,bus=ide.1".into(),
            ]);
        }
        if self.tpm {
            let sock = self.tpm_dir().join("sock");
            args.extend([
                "-chardev".into(),
                format!("socket,id=chrtpm,path={}", sock.display()),
                "-tpmdev".into(),
                "emulator,id=tpm0,chardev=chrtpm".into(),
                "-device".into(),
                "tpm-tis,tpmdev=tpm0".into(),
            ]);
        }
        if let Some(config) = &self.fw_cfg {
            args.push("-fw_cfg".into());
            args.push(format!(
                "name=opt/com.coreos/config,file={}",
                config.display()
            ));
        }
        if let Net::Restricted {
            guestfwd,
            hostfwd,
            guestcmd,
        } = &self.net
        {
            let mut netdev = "user,id=n0,restrict=on".to_owned();
            if let Some(prefix) = &self.net_prefix {
                let _ = write!(netdev, ",net={prefix}");
            }
            for (guest, port) in guestfwd {
                let _ = write!(netdev, ",guestfwd=tcp:{guest}-tcp:127.0.0.1:{port}");
            }
            for (guest, cmd) in guestcmd {
                assert!(
                    !cmd.contains(','),
                    "a guestfwd command cannot hold a comma: {cmd}"
                );
                let _ = write!(netdev, ",guestfwd=tcp:{guest}-cmd:{cmd}");
            }
            for (host, guest) in hostfwd {
                let _ = write!(netdev, ",hostfwd=tcp:127.0.0.1:{host}-:{guest}");
            }
            args.extend(["-netdev".into(), netdev]);
            args.extend(["-device".into(), "virtio-net-pci,netdev=n0".into()]);
        }
        args
    }

    /// Boots and waits until QEMU exits (the guest powered off) or the timeout kills it.
    pub fn boot(&self) -> Boot {
        let _ = std::fs::remove_file(&self.console_log);
        if self.tpm {
            // swtpm serves one VM and exits with it.
            let dir = self.tpm_dir();
            if self.tpm_state.is_none() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            let _ = std::fs::remove_file(dir.join("sock"));
            std::fs::create_dir_all(&dir).expect("creating the TPM state directory");
            let status = Command::new("swtpm")
                .args(["socket", "--tpm2", "--daemon"])
                .arg("--tpmstate")
                .arg(format!("dir={}", dir.display()))
                .arg("--ctrl")
                .arg(format!("type=unixio,path={}", dir.join("sock").display()))
                .status()
                .expect("starting swtpm (apt-get install swtpm swtpm-tools)");
            assert!(status.success(), "swtpm failed to start: {status}");
        }
        let started = Instant::now();
        let mut child = Command::new("qemu-system-x86_64")
            .args(self.qemu_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting qemu-system-x86_64");
        let (status, timed_out) = loop {
            if let Some(status) = child.try_wait().expect("waiting for qemu") {
                break (Some(status), false);
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break (None, true);
            }
            if let Some(needle) = &self.stop_on {
                let seen = std::fs::read(&self.console_log).unwrap_or_default();
                if String::from_utf8_lossy(&seen).contains(needle.as_str()) {
                    // Let the rest of the line reach the log, then stop.
                    std::thread::sleep(Duration::from_millis(500));
                    let _ = child.kill();
                    let _ = child.wait();
                    break (None, false);
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        let qemu_output = child
            .wait_with_output()
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .unwrap_or_default();
        let raw = std::fs::read(&self.console_log).unwrap_or_default();
        Boot {
            name: self.name.clone(),
            console: strip_ansi(&String::from_utf8_lossy(&raw)),
            console_log: self.console_log.clone(),
            status,
            timed_out,
            timeout: self.timeout,
            wall: started.elapsed(),
            qemu_output,
        }
    }
}

/// UEFI boot: OVMF's Secure Boot build, a variable store, and the ESP image to boot from.
#[derive(Debug, Clone)]
pub struct Uefi {
    /// The variable store template (keys enrolled); each boot gets a fresh copy next to the
    /// console log, because the firmware writes to it.
    pub vars: PathBuf,
    /// A FAT image with \EFI\BOOT\BOOTX64.EFI, attached as a SATA disk so that the virtio
    /// disks keep their names (/dev/vda is the root).
    pub esp: PathBuf,
}

pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";

impl Uefi {
    fn qemu_args(&self, console_log: &Path) -> Vec<String> {
        let vars = console_log.with_extension("vars.fd");
        std::fs::copy(&self.vars, &vars).expect("copying the OVMF variable store");
        vec![
            "-global".into(),
            "driver=cfi.pflash01,property=secure,value=on".into(),
            "-global".into(),
            "ICH9-LPC.disable_s3=1".into(),
            "-drive".into(),
            format!("if=pflash,format=raw,unit=0,file={OVMF_CODE},readonly=on"),
            "-drive".into(),
            format!("if=pflash,format=raw,unit=1,file={}", vars.display()),
            "-drive".into(),
            format!("if=none,id=esp,format=raw,file={}", self.esp.display()),
            "-device".into(),
            "ide-hd,drive=esp,bus=ide.0,bootindex=0".into(),
        ]
    }
}

/// What one boot left behind.
#[derive(Debug)]
pub struct Boot {
    pub name: String,
    /// The serial console, with terminal escape sequences removed.
    pub console: String,
    pub console_log: PathBuf,
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub timeout: Duration,
    pub wall: Duration,
    /// What QEMU itself printed.
    pub qemu_output: String,
}

impl Boot {
    /// Fails the test with `message`, the whole console log and QEMU's own output.
    pub fn fail(&self, message: &str) -> ! {
        panic!(
            "{}: {message}\n\
             ===== console of {} ({}, {:.0} s{}) =====\n{}\n\
             ===== end of console; qemu said: {}",
            self.name,
            self.name,
            self.console_log.display(),
            self.wall.as_secs_f64(),
            if self.timed_out {
                ", killed at the timeout"
            } else {
                ""
            },
            self.console,
            self.qemu_output.trim()
        )
    }

    /// The guest powered off by itself (QEMU exited 0 before the timeout).
    pub fn assert_powered_off(&self) {
        if self.timed_out {
            self.fail(&format!(
                "the VM did not power off within {} s",
                self.timeout.as_secs()
            ));
        }
        if !self.status.is_some_and(|s| s.success()) {
            self.fail(&format!("qemu exited with {:?}", self.status));
        }
    }

    pub fn assert_contains(&self, needle: &str) {
        if !self.console.contains(needle) {
            self.fail(&format!("the console should show {needle:?}"));
        }
    }

    pub fn assert_lacks(&self, needle: &str) {
        if let Some(line) = self.console.lines().find(|l| l.contains(needle)) {
            self.fail(&format!(
                "the console must not show {needle:?}, but has the line {line:?}"
            ));
        }
    }

    /// Lines between the boot-report markers: the journal of the `kindling-*`/`ignition-*`
    /// units, prefixed with monotonic time (seconds since the kernel started).
    pub fn report(&self) -> Vec<&str> {
        self.between("=== boot-report begin ===", "=== boot-report end ===")
            .into_iter()
            .filter(|l| l.starts_with('['))
            .collect()
    }

    /// Lines between KINDLING-PROOF-BEGIN and -END that start with `proof: `.
    pub fn proof(&self) -> Vec<&str> {
        self.between("KINDLING-PROOF-BEGIN", "KINDLING-PROOF-END")
            .into_iter()
            .filter_map(|l| l.strip_prefix("proof: "))
            .collect()
    }

    fn between(&self, begin: &str, end: &str) -> Vec<&str> {
        let Some(start) = self.console.rfind(begin) else {
            return Vec::new();
        };
        let rest = &self.console[start + begin.len()..];
        let rest = rest.find(end).map_or(rest, |e| &rest[..e]);
        rest.lines().map(str::trim_end).collect()
    }

    /// Monotonic time of the first report line that contains `needle`.
    pub fn time_of(&self, needle: &str) -> Option<f64> {
        self.report()
            .into_iter()
            .find(|l| l.contains(needle))
            .and_then(monotonic)
    }

    pub fn assert_proof(&self, expected: &str) {
        let proof = self.proof();
        if !proof.iter().any(|l| l.contains(expected)) {
            self.fail(&format!(
                "the proof unit should print a line with {expected:?}; it printed {proof:#?}"
            ));
        }
    }
}

/// `[   22.130558] systemd[1]: …` → 22.130558
pub fn monotonic(line: &str) -> Option<f64> {
    let inner = line.strip_prefix('[')?.split(']').next()?;
    inner.trim().parse().ok()
}

/// Removes ANSI escape sequences and carriage returns from console output.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    // Parameters, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_carriage_returns_are_removed() {
        let raw = "[\u{1b}[0;32m  OK  \u{1b}[0m] Finished \u{1b}[0;1;39mkindling-files.service\u{1b}[0m.\r\n";
        assert_eq!(
            strip_ansi(raw),
            "[  OK  ] Finished kindling-files.service.\n"
        );
    }

    #[test]
    fn monotonic_time_is_read_from_journal_lines() {
        assert_eq!(
            monotonic("[   22.130558] systemd[1]: Reached target kindling-complete.target"),
            Some(22.130558)
        );
        assert_eq!(monotonic("Welcome"), None);
    }
}
