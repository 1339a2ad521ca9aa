//! `systemd.units`: unit files, drop-ins, masks and presets, as Ignition writes them.
//!
//! - A drop-in with `contents` set (even empty) goes to `/etc/systemd/system/UNIT.d/NAME`;
//!   a unit with non-empty `contents` to `/etc/systemd/system/UNIT`. Both are replaced if
//!   they exist, mode 0644, owned by root.
//! - `mask: true` replaces `/etc/systemd/system/UNIT` with a link to `/dev/null`;
//!   `mask: false` removes such a link if there is one.
//! - `enabled` becomes a line in `/etc/systemd/system-preset/20-kindling.preset`, in the
//!   format of Ignition's `20-ignition.preset`: `enable UNIT`, `disable UNIT`, and for
//!   template instances one line per template and state, `enable foo@.service a b`.
//!   systemd applies presets on the first boot.
//! - `enabled: false` also removes the unit's enablement links under `/etc/systemd/system`
//!   (what Ignition gets from `systemctl --root disable`): every link named after the unit
//!   or pointing at it, then links to those links, and directories left empty. A masked
//!   unit is left alone, as systemctl does.
//! - An enabled unit whose unit file has no `[Install]` section gets a warning: enabling it
//!   does nothing.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use kindling_spec::types::{Systemd, Unit};
use nix::unistd::{self, UnlinkatFlags};

use super::nodes::PARENT_MODE;
use super::root::{self, Kind, Leaf, Missing, Root, RootError};
use super::write::{self, Attrs, WriteError};
use super::{FilesError, FilesSummary};
use crate::command::{Cmd, CommandError};

pub const UNIT_DIR: &str = "/etc/systemd/system";
pub const PRESET_PATH: &str = "/etc/systemd/system-preset/20-kindling.preset";
/// Where unit files are looked up for the `[Install]` check, in systemd's order.
const UNIT_PATHS: [&str; 3] = [UNIT_DIR, "/usr/lib/systemd/system", "/lib/systemd/system"];

/// One preset line.
#[derive(Debug, PartialEq, Eq)]
struct Preset {
    /// The unit, or the template for instances.
    unit: String,
    enabled: bool,
    instances: Vec<String>,
}

impl Preset {
    fn line(&self) -> String {
        let verb = if self.enabled { "enable" } else { "disable" };
        let mut line = format!("{verb} {}", self.unit);
        for i in self.instances.iter().filter(|i| !i.is_empty()) {
            line.push(' ');
            line.push_str(i);
        }
        line
    }

    /// The unit names whose enablement links `disable` removes.
    fn names(&self) -> Vec<String> {
        if self.instances.iter().all(String::is_empty) {
            return vec![self.unit.clone()];
        }
        let (head, ext) = split_template(&self.unit);
        self.instances
            .iter()
            .map(|i| format!("{head}{i}{ext}"))
            .collect()
    }
}

impl Preset {
    /// The key Ignition 2.26 sorts its preset lines by.
    fn key(&self) -> String {
        let state = if self.enabled { "enabled" } else { "disabled" };
        format!("{}-{state}", self.unit)
    }
}

/// Keeps in a `disable` preset only the units (or instances) that
/// `systemctl --root ROOT is-enabled` reports as enabled, and removes their enablement links
/// first, as Ignition 2.26 does: a unit that is not enabled, is masked or does not exist gets
/// no line. (2.14 wrote `disable` for every unit.) An instance is asked about on its own
/// name; 2.26 passes "foo@.service a b" to is-enabled as one argument, which systemctl
/// refuses, so it never disables an instance; Kindling does what the config asks instead.
fn only_enabled(root: &Root, preset: &mut Preset) -> Result<bool, FilesError> {
    let names = preset.names();
    if preset.instances.iter().all(String::is_empty) {
        let enabled = is_enabled(root, &preset.unit)?;
        if enabled {
            disable(root, &preset.unit)?;
        }
        return Ok(enabled);
    }
    let instances = std::mem::take(&mut preset.instances);
    for (instance, name) in instances.into_iter().zip(names) {
        if !instance.is_empty() && is_enabled(root, &name)? {
            disable(root, &name)?;
            preset.instances.push(instance);
        }
    }
    Ok(!preset.instances.is_empty())
}

/// `systemctl --root ROOT is-enabled NAME` exits 0 (enabled, enabled-runtime, static,
/// alias, indirect, generated, transient): the test Ignition 2.26 uses. A systemctl that
/// cannot be started is an error, not "not enabled": that would silently leave units on.
fn is_enabled(root: &Root, name: &str) -> Result<bool, FilesError> {
    let cmd = Cmd::new(format!("checking whether {name} is enabled"), "systemctl")
        .arg("--root")
        .arg(root.path().as_os_str())
        .arg("is-enabled")
        .arg("--")
        .arg(name);
    match cmd.run() {
        Ok(_) => Ok(true),
        Err(CommandError::Failed { .. }) => {
            log::info!("{name} is not enabled; no disable preset for it");
            Ok(false)
        }
        Err(e @ (CommandError::Spawn { .. } | CommandError::TooMuchOutput { .. })) => Err(e.into()),
    }
}

/// `foo@.service` → (`foo@`, `.service`).
fn split_template(name: &str) -> (&str, &str) {
    match (name.find('@'), name.rfind('.')) {
        (Some(at), Some(dot)) if dot > at => (&name[..=at], &name[dot..]),
        _ => (name, ""),
    }
}

/// `foo@bar.service` → (`foo@.service`, `bar`); `None` for a plain unit.
fn instance_of(name: &str) -> Option<(String, String)> {
    let at = name.find('@')?;
    let dot = name.rfind('.').filter(|d| *d > at)?;
    Some((
        format!("{}{}", &name[..=at], &name[dot..]),
        name[at + 1..dot].to_owned(),
    ))
}

fn add_preset(presets: &mut Vec<Preset>, unit: &Unit, enabled: bool) {
    let (name, instance) = match instance_of(&unit.name) {
        Some((template, instance)) => (template, Some(instance)),
        None => (unit.name.clone(), None),
    };
    if let Some(p) = presets
        .iter_mut()
        .find(|p| p.unit == name && p.enabled == enabled)
    {
        p.instances.extend(instance);
        return;
    }
    presets.push(Preset {
        unit: name,
        enabled,
        instances: instance.into_iter().collect(),
    });
}

/// Refuses a unit or drop-in name that is not one plain file name. Validation refuses these
/// already; this guards the writes below against a config that reached the stage some other
/// way (a run directory edited by hand), since the names become paths.
fn check_name(what: &str, name: &str) -> Result<(), FilesError> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if name.contains('/') {
        "it contains a /, so it would be written outside /etc/systemd/system"
    } else if name.contains('\0') {
        "it contains a NUL character"
    } else if name == "." || name == ".." {
        "it is . or .."
    } else {
        return Ok(());
    };
    Err(FilesError::Setting {
        name: format!("{what} {name:?}"),
        problem: format!("refused: {problem}; name it like app.service (drop-ins: 10-app.conf)"),
    })
}

/// Checks every unit and drop-in name; the stage calls this before it writes anything.
pub fn check_names(systemd: &Systemd) -> Result<(), FilesError> {
    for unit in &systemd.units {
        check_name("systemd unit", &unit.name)?;
        for dropin in &unit.dropins {
            check_name(&format!("drop-in of {}", unit.name), &dropin.name)?;
        }
    }
    Ok(())
}

pub fn apply(root: &Root, systemd: &Systemd, summary: &mut FilesSummary) -> Result<(), FilesError> {
    check_names(systemd)?;
    let mut presets = Vec::new();
    for unit in &systemd.units {
        for dropin in &unit.dropins {
            let Some(contents) = dropin.contents.as_deref() else {
                continue;
            };
            let path = format!("{UNIT_DIR}/{}.d/{}", unit.name, dropin.name);
            write_text(root, &path, contents)?;
            log::info!("wrote drop-in {path} for {}", unit.name);
            summary.dropins += 1;
        }
        if let Some(contents) = unit.contents.as_deref().filter(|c| !c.is_empty()) {
            let path = format!("{UNIT_DIR}/{}", unit.name);
            write_text(root, &path, contents)?;
            log::info!("wrote unit {path}");
            summary.units += 1;
        }
        if let Some(enabled) = unit.enabled {
            if enabled {
                warn_without_install(root, unit);
            }
            add_preset(&mut presets, unit, enabled);
        }
        match unit.mask {
            Some(true) => {
                mask(root, &unit.name)?;
                summary.masked += 1;
            }
            Some(false) if unmask(root, &unit.name)? => summary.unmasked += 1,
            _ => {}
        }
    }
    if presets.is_empty() {
        return Ok(());
    }
    // Ignition 2.26 writes the preset lines sorted by "<unit>-enabled" / "<unit>-disabled"
    // (2.14 wrote them in Go map order, which is random).
    presets.sort_by_cached_key(Preset::key);
    let mut kept = Vec::with_capacity(presets.len());
    for mut preset in presets {
        if preset.enabled || only_enabled(root, &mut preset)? {
            kept.push(preset);
        }
    }
    let presets = kept;
    if presets.is_empty() {
        return Ok(());
    }
    write_presets(root, &presets)?;
    summary.enabled += presets.iter().filter(|p| p.enabled).count() as u64;
    summary.disabled += presets.iter().filter(|p| !p.enabled).count() as u64;
    Ok(())
}

fn fs_err(e: WriteError<std::io::Error>, path: &str) -> FilesError {
    match e {
        WriteError::Fill(source) => RootError::Io {
            op: "writing",
            path: path.to_owned(),
            source,
        }
        .into(),
        WriteError::Fs(e) => e.into(),
    }
}

fn write_text(root: &Root, path: &str, contents: &str) -> Result<(), FilesError> {
    let leaf = root.leaf(path, Missing::Create(PARENT_MODE))?;
    write::atomic(
        &leaf,
        Attrs {
            owner: Some((0, 0)),
            mode: 0o644,
        },
        |out| out.write_all(contents.as_bytes()),
    )
    .map_err(|e| fs_err(e, path))
}

fn warn_without_install(root: &Root, unit: &Unit) {
    let text = match unit.contents.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(text.to_owned()),
        None => {
            let template = instance_of(&unit.name).map(|(t, _)| t);
            UNIT_PATHS
                .iter()
                .flat_map(|dir| {
                    std::iter::once(format!("{dir}/{}", unit.name))
                        .chain(template.iter().map(move |t| format!("{dir}/{t}")))
                })
                .find_map(|p| root.read(&p).ok().flatten())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        }
    };
    match text {
        Some(text) if !text.lines().any(|l| l.trim() == "[Install]") => log::warn!(
            "unit {} is enabled, but its unit file has no [Install] section, so enabling it does nothing; add one (e.g. WantedBy=multi-user.target)",
            unit.name
        ),
        Some(_) => {}
        None => log::debug!(
            "unit {} is enabled but its unit file is not in the root; cannot check its [Install] section",
            unit.name
        ),
    }
}

fn is_masked(leaf: &Leaf) -> Result<bool, RootError> {
    Ok(match root::lstat(leaf)? {
        Some(st) if root::kind(&st) == Kind::Symlink => root::readlink(leaf)? == "/dev/null",
        _ => false,
    })
}

fn mask(root: &Root, name: &str) -> Result<(), FilesError> {
    let path = format!("{UNIT_DIR}/{name}");
    let leaf = root.leaf(&path, Missing::Create(PARENT_MODE))?;
    root.remove_all(&leaf)?;
    unistd::symlinkat("/dev/null", &leaf.dir, leaf.name.as_os_str())
        .map_err(|e| RootError::io("masking (linking to /dev/null)", &path, e))?;
    log::info!("masked {name}: {path} -> /dev/null");
    Ok(())
}

fn unmask(root: &Root, name: &str) -> Result<bool, FilesError> {
    let path = format!("{UNIT_DIR}/{name}");
    let leaf = match root.leaf(&path, Missing::Fail) {
        Ok(leaf) => leaf,
        Err(e) if e.errno() == Some(nix::errno::Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if !is_masked(&leaf)? {
        return Ok(false);
    }
    unistd::unlinkat(&leaf.dir, leaf.name.as_os_str(), UnlinkatFlags::NoRemoveDir)
        .map_err(|e| RootError::io("unmasking (removing)", &path, e))?;
    log::info!("unmasked {name}: removed {path} -> /dev/null");
    Ok(true)
}

/// Removes the enablement links of `name`, as `systemctl --root ROOT disable NAME` does.
fn disable(root: &Root, name: &str) -> Result<(), FilesError> {
    let dir = match root.dir(UNIT_DIR, Missing::Fail) {
        Ok(dir) => dir,
        Err(e) if e.errno() == Some(nix::errno::Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let unit = Leaf {
        dir: std::rc::Rc::new(dir.try_clone().map_err(|source| RootError::Io {
            op: "opening",
            path: UNIT_DIR.into(),
            source,
        })?),
        name: name.into(),
        shown: format!("{UNIT_DIR}/{name}"),
    };
    if is_masked(&unit)? {
        log::info!("{name} is masked; leaving its enablement links alone");
        return Ok(());
    }
    let mut marked: BTreeSet<Vec<u8>> = BTreeSet::from([name.as_bytes().to_vec()]);
    let mut removed = 0usize;
    loop {
        let n = remove_marked(&dir, UNIT_DIR, &mut marked)?;
        if n == 0 {
            break;
        }
        removed += n;
    }
    log::info!("disabled {name}: removed {removed} enablement link(s)");
    Ok(())
}

/// One pass over a directory tree: removes the links that `marked` names (by link name,
/// target, or target's last component) and marks their paths in turn. Returns how many
/// links went; a directory emptied on the way is removed too.
fn remove_marked(
    dir: &std::os::fd::OwnedFd,
    shown: &str,
    marked: &mut BTreeSet<Vec<u8>>,
) -> Result<usize, FilesError> {
    let listing = root::open_dir(dir.as_fd(), OsStr::new("."), shown)?;
    let mut removed = 0;
    for name in root::list_dir(listing, shown)? {
        let path = format!("{shown}/{}", name.to_string_lossy());
        let leaf = Leaf {
            dir: std::rc::Rc::new(dir.try_clone().map_err(|source| RootError::Io {
                op: "opening",
                path: shown.into(),
                source,
            })?),
            name: name.clone(),
            shown: path.clone(),
        };
        let Some(st) = root::lstat(&leaf)? else {
            continue;
        };
        match root::kind(&st) {
            Kind::Dir => {
                let sub = nix::fcntl::openat(
                    dir,
                    name.as_os_str(),
                    nix::fcntl::OFlag::O_PATH
                        | nix::fcntl::OFlag::O_DIRECTORY
                        | nix::fcntl::OFlag::O_NOFOLLOW
                        | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )
                .map_err(|e| RootError::io("opening", &path, e))?;
                let n = remove_marked(&sub, &path, marked)?;
                if n > 0
                    && unistd::unlinkat(dir, name.as_os_str(), UnlinkatFlags::RemoveDir).is_ok()
                {
                    log::info!("removed the emptied directory {path}");
                }
                removed += n;
            }
            Kind::Symlink => {
                let target = root::readlink(&leaf)?;
                let target = target.as_bytes();
                let base = target.rsplit(|b| *b == b'/').next().unwrap_or(target);
                if marked.contains(name.as_bytes())
                    || marked.contains(target)
                    || marked.contains(base)
                {
                    unistd::unlinkat(dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir)
                        .map_err(|e| RootError::io("removing the enablement link", &path, e))?;
                    log::info!(
                        "removed enablement link {path} -> {}",
                        String::from_utf8_lossy(target)
                    );
                    marked.insert(path.into_bytes());
                    removed += 1;
                }
            }
            _ => {}
        }
    }
    Ok(removed)
}

fn write_presets(root: &Root, presets: &[Preset]) -> Result<(), FilesError> {
    let existing = root.follow(PRESET_PATH)?;
    let (leaf, attrs, mut text) = match existing {
        Some((leaf, st)) if root::kind(&st) == Kind::File => {
            let text = root.read(PRESET_PATH)?.unwrap_or_default();
            let attrs = Attrs {
                owner: Some((st.st_uid, st.st_gid)),
                mode: st.st_mode & 0o7777,
            };
            (leaf, attrs, text)
        }
        Some((_, st)) => {
            return Err(FilesError::Conflict {
                path: PRESET_PATH.into(),
                problem: format!(
                    "{} is in the way of the preset file",
                    match root::kind(&st) {
                        Kind::Dir => "a directory",
                        _ => "a special file",
                    }
                ),
            })
        }
        None => (
            root.leaf(PRESET_PATH, Missing::Create(PARENT_MODE))?,
            Attrs {
                owner: Some((0, 0)),
                mode: 0o644,
            },
            Vec::new(),
        ),
    };
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    for preset in presets {
        let line = preset.line();
        log::info!("preset: {line}");
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
    }
    write::atomic(&leaf, attrs, |out| out.write_all(&text)).map_err(|e| fs_err(e, PRESET_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str) -> Unit {
        Unit {
            name: name.into(),
            ..Unit::default()
        }
    }

    #[test]
    fn preset_lines_match_ignition() {
        let mut presets = Vec::new();
        add_preset(&mut presets, &unit("foo.service"), true);
        add_preset(&mut presets, &unit("echo@a.service"), true);
        add_preset(&mut presets, &unit("bar.socket"), false);
        add_preset(&mut presets, &unit("echo@b.service"), true);
        add_preset(&mut presets, &unit("echo@c.service"), false);
        let lines: Vec<String> = presets.iter().map(Preset::line).collect();
        assert_eq!(
            lines,
            [
                "enable foo.service",
                "enable echo@.service a b",
                "disable bar.socket",
                "disable echo@.service c"
            ]
        );
        assert_eq!(presets[3].names(), ["echo@c.service"]);
        assert_eq!(presets[2].names(), ["bar.socket"]);
    }

    #[test]
    fn templates_split() {
        assert_eq!(
            instance_of("getty@tty1.service"),
            Some(("getty@.service".into(), "tty1".into()))
        );
        assert_eq!(instance_of("plain.service"), None);
        assert_eq!(split_template("getty@.service"), ("getty@", ".service"));
    }
}
