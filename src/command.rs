//! The one way Kindling runs external programs (useradd, sgdisk, mkfs, …). Every failure
//! carries the full command line and what the program wrote to stderr, so the journal alone
//! tells what went wrong.

use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::process::{Command, Output, Stdio};

/// A command to run, with a human description that becomes the progress line.
#[derive(Debug)]
pub struct Cmd {
    what: String,
    command: Command,
    /// Arguments that must not be shown (passwords, keys): shown as `<redacted>`.
    secret_args: Vec<usize>,
    /// The secret arguments' values, scrubbed from output shown in errors.
    secret_values: Vec<String>,
    args_shown: Vec<String>,
    /// The most standard output taken in; more is an error and the program is killed.
    max_stdout: u64,
}

/// What any program may write to standard output unless its caller says otherwise: far more
/// than any tool Kindling runs prints (sgdisk, blkid, cryptsetup), small enough that a
/// runaway program cannot exhaust the initramfs's memory.
pub const DEFAULT_MAX_STDOUT: u64 = 16 << 20;

/// How much standard error is kept; the rest is read and dropped, so the program never
/// blocks on a full pipe.
const MAX_STDERR: u64 = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{what}: could not start `{cmdline}`: {source}{}", missing_hint(.source, .program))]
    Spawn {
        what: String,
        /// The program alone, as given (the command line shows it shell-quoted).
        program: String,
        cmdline: String,
        source: std::io::Error,
    },
    #[error("{what}: `{cmdline}` wrote more than {limit} bytes to standard output and was stopped; the program is not behaving as this tool expects")]
    TooMuchOutput {
        what: String,
        cmdline: String,
        limit: u64,
    },
    #[error("{what}: `{cmdline}` failed ({status}){}", output_suffix(.stderr, .stdout))]
    Failed {
        what: String,
        cmdline: String,
        status: String,
        stderr: String,
        /// The end of standard output: some tools (clevis) report their errors there.
        stdout: String,
    },
}

/// How much of a failed command's standard output an error keeps.
const STDOUT_LINES: usize = 20;

/// A program that is not there: say so, and where it comes from. In the initramfs that is the
/// host that built it (the dracut module copies the optional tools only from there).
fn missing_hint(source: &std::io::Error, program: &str) -> String {
    if source.kind() != std::io::ErrorKind::NotFound {
        return String::new();
    }
    format!(
        " ({program} is not installed; an initramfs carries the tools its build host had: install {program} there and rebuild the initramfs)"
    )
}

fn output_suffix(stderr: &str, stdout: &str) -> String {
    let mut out = String::new();
    let stderr = stderr.trim();
    if !stderr.is_empty() {
        out.push_str(":\n");
        out.push_str(stderr);
    }
    let stdout = stdout.trim();
    if !stdout.is_empty() {
        let lines: Vec<&str> = stdout.lines().collect();
        let tail = &lines[lines.len().saturating_sub(STDOUT_LINES)..];
        out.push_str(if out.is_empty() { ":\n" } else { "\n" });
        out.push_str("standard output:\n");
        out.push_str(&tail.join("\n"));
    }
    out
}

impl Cmd {
    /// `what` says what the command is for, e.g. "creating user core".
    pub fn new(what: impl Into<String>, program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        Self {
            what: what.into(),
            command: Command::new(program),
            secret_args: Vec::new(),
            secret_values: Vec::new(),
            args_shown: vec![program.to_string_lossy().into_owned()],
            max_stdout: DEFAULT_MAX_STDOUT,
        }
    }

    /// Takes in at most `limit` bytes of standard output (default [`DEFAULT_MAX_STDOUT`]).
    pub fn max_stdout(mut self, limit: u64) -> Self {
        self.max_stdout = limit;
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args_shown
            .push(shell_quote(&arg.as_ref().to_string_lossy()));
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// An argument that is never printed (a password hash, a key).
    pub fn secret_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.secret_args.push(self.args_shown.len());
        self.secret_values
            .push(arg.as_ref().to_string_lossy().into_owned());
        self.args_shown.push("<redacted>".to_owned());
        self.command.arg(arg);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// A program's output as an error may show it: secret arguments and the secret input
    /// (a key, a password) replaced, in case the program echoed them.
    fn scrub(&self, output: &[u8], input: Option<&[u8]>) -> String {
        let mut text = String::from_utf8_lossy(output).into_owned();
        let input = input.map(String::from_utf8_lossy);
        let input = input.as_deref().map(str::trim);
        for secret in self.secret_values.iter().map(String::as_str).chain(input) {
            // Short inputs ("y", a one-letter test key) would scrub ordinary text.
            if secret.len() >= 6 {
                text = text.replace(secret, "<redacted>");
            }
        }
        text
    }

    /// The command line as it appears in logs and errors.
    pub fn cmdline(&self) -> String {
        self.args_shown.join(" ")
    }

    /// Runs the command to completion; a non-zero exit is an error.
    pub fn run(self) -> Result<Output, CommandError> {
        self.run_with_input(None)
    }

    /// Runs the command with `input` on its standard input (never logged).
    pub fn run_with_input(mut self, input: Option<&[u8]>) -> Result<Output, CommandError> {
        let cmdline = self.cmdline();
        log::debug!("{}: running {cmdline}", self.what);
        self.command
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Starting the program, or waiting for it, failed.
        let not_run = |source| CommandError::Spawn {
            what: self.what.clone(),
            program: self.args_shown[0].clone(),
            cmdline: cmdline.clone(),
            source,
        };
        let mut child = self.command.spawn().map_err(not_run)?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            use std::io::Write;
            // A program that exits without reading all input reports its own error below.
            let _ = stdin.write_all(bytes);
        }
        let stderr = child.stderr.take().map(|pipe| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut pipe = pipe;
                let _ = (&mut pipe).take(MAX_STDERR).read_to_end(&mut kept);
                let _ = std::io::copy(&mut pipe, &mut std::io::sink());
                kept
            })
        });
        let mut stdout = Vec::new();
        if let Some(pipe) = child.stdout.take() {
            if let Err(e) = pipe.take(self.max_stdout + 1).read_to_end(&mut stdout) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(not_run(e));
            }
        }
        if stdout.len() as u64 > self.max_stdout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CommandError::TooMuchOutput {
                what: self.what,
                cmdline,
                limit: self.max_stdout,
            });
        }
        let status = child.wait().map_err(not_run)?;
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let output = Output {
            status,
            stdout,
            stderr,
        };
        if output.status.success() {
            Ok(output)
        } else {
            let stderr = self.scrub(&output.stderr, input);
            let stdout = self.scrub(&output.stdout, input);
            Err(CommandError::Failed {
                what: self.what,
                cmdline,
                status: output.status.to_string(),
                stderr,
                stdout,
            })
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cmdline())
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_the_command_line_and_stderr() {
        let err = Cmd::new("testing failure", "sh")
            .args(["-c", "echo boom >&2; exit 3"])
            .run()
            .expect_err("fails");
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "testing failure: `sh -c 'echo boom >&2; exit 3'` failed (exit status: 3)"
            ),
            "{msg}"
        );
        assert!(msg.ends_with("boom"), "{msg}");
    }

    #[test]
    fn missing_programs_are_named_with_where_they_come_from() {
        let err = Cmd::new("creating RAID array /dev/md/data", "kindling-no-such-mdadm")
            .args(["--create", "/dev/md/data"])
            .run()
            .expect_err("fails");
        let msg = err.to_string();
        assert!(
            msg.starts_with("creating RAID array /dev/md/data: could not start `kindling-no-such-mdadm --create /dev/md/data`: "),
            "{msg}"
        );
        assert!(
            msg.ends_with("(kindling-no-such-mdadm is not installed; an initramfs carries the tools its build host had: install kindling-no-such-mdadm there and rebuild the initramfs)"),
            "{msg}"
        );
    }

    #[test]
    fn failures_carry_the_end_of_stdout_with_secrets_scrubbed() {
        let err = Cmd::new("binding", "sh")
            .args([
                "-c",
                "for i in $(seq 1 30); do echo line $i; done; cat; echo \"$0\"; exit 1",
            ])
            .secret_arg("hash-$6$xyz")
            .run_with_input(Some(b"the-secret-key"))
            .expect_err("fails");
        let msg = err.to_string();
        assert!(msg.contains("standard output:\nline 12\n"), "{msg}");
        assert!(!msg.contains("line 11\n"), "only the last 20 lines: {msg}");
        assert!(!msg.contains("the-secret-key"), "{msg}");
        assert!(!msg.contains("hash-$6$xyz"), "{msg}");
        assert!(msg.ends_with("<redacted><redacted>"), "{msg}");
    }

    #[test]
    fn secrets_are_never_shown() {
        let err = Cmd::new("setting a password", "false")
            .secret_arg("$6$hash")
            .run()
            .expect_err("fails");
        assert!(!err.to_string().contains("$6$hash"));
        assert!(err.to_string().contains("<redacted>"));
    }

    #[test]
    fn a_flood_of_output_is_stopped_at_the_limit() {
        let started = std::time::Instant::now();
        let err = Cmd::new("reading a guest property", "yes")
            .max_stdout(1 << 20)
            .run()
            .expect_err("stopped");
        assert_eq!(
            err.to_string(),
            "reading a guest property: `yes` wrote more than 1048576 bytes to standard output and was stopped; the program is not behaving as this tool expects"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let out = Cmd::new("counting", "sh")
            .args(["-c", "head -c 1048576 /dev/zero"])
            .max_stdout(1 << 20)
            .run()
            .expect("exactly the limit is fine");
        assert_eq!(out.stdout.len(), 1 << 20);
    }

    #[test]
    fn a_flood_on_stderr_is_cut_not_buffered() {
        let err = Cmd::new("failing loudly", "sh")
            .args([
                "-c",
                "head -c 50000000 /dev/zero | tr '\\0' x >&2; echo last >&2; exit 2",
            ])
            .run()
            .expect_err("fails");
        let CommandError::Failed { stderr, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(stderr.len() as u64, MAX_STDERR);
    }

    #[test]
    fn input_goes_to_stdin() {
        let out = Cmd::new("echoing", "cat")
            .run_with_input(Some(b"hi"))
            .expect("runs");
        assert_eq!(out.stdout, b"hi");
    }
}
