//! `passwd.groups` and `passwd.users`, applied the way Ignition applies them: shadow-utils
//! (`groupadd`, `groupdel`, `useradd`, `usermod`, `userdel`) with `--root`, the same flags in
//! the same order, so `/etc/passwd`, `/etc/group`, `/etc/shadow` and `/etc/gshadow` come out
//! identical.
//!
//! - Groups first, then users, each in config order.
//! - A group that does not exist is created with `groupadd`; an existing one is changed with
//!   `groupmod` (gid and password), as Ignition 2.26 does. `--password` is passed only for a
//!   non-empty `passwordHash`. `shouldExist: false` deletes it with `groupdel` when it exists.
//! - A user that does not exist is created with `useradd`; an existing one is changed with
//!   `usermod` (home, password, uid, comment, primary group, groups and shell only).
//!   `shouldExist: false` deletes it with `userdel --remove`.
//! - The password is then set again with `usermod --password`, and the SSH keys are written.
//!   Hashes are passed as arguments that are never printed.
//!
//! SSH keys go to `~/.ssh/authorized_keys.d/kindling` (or `~/.ssh/authorized_keys`, see
//! [`SshKeyLayout`]), written as the user: the directories are created 0700 and the file
//! 0600, owned by the user, and the kernel checks permissions as that user, so a link planted
//! in a home directory cannot make Kindling write a file the user could not write.

use kindling_spec::types::{Passwd, PasswdGroup, PasswdUser};
use nix::unistd::{self, Gid, Uid};

use super::owners::Owners;
use super::root::{Missing, Root};
use super::write::{self, Attrs, WriteError};
use super::{FilesError, FilesSummary};
use crate::command::Cmd;
use crate::stages::StageContext;

/// Where SSH keys are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshKeyLayout {
    /// `~/.ssh/authorized_keys.d/kindling`, as Ignition writes `…/ignition`. sshd reads it
    /// through `AuthorizedKeysCommand` or an `AuthorizedKeysFile` that lists it (Fedora
    /// CoreOS, Flatcar).
    #[default]
    Fragment,
    /// `~/.ssh/authorized_keys`, which every sshd reads (Debian, Ubuntu). Replaces the file.
    Plain,
}

/// The kernel argument that picks the layout.
pub const LAYOUT_KARG: &str = "ssh.authorized_keys";
/// The environment variable that picks the layout when the kernel argument is absent.
pub const LAYOUT_ENV: &str = "KINDLING_SSH_AUTHORIZED_KEYS";

impl SshKeyLayout {
    /// `kindling.ssh.authorized_keys=plain|fragment` on the kernel command line, else
    /// `$KINDLING_SSH_AUTHORIZED_KEYS`, else `fragment`.
    pub fn from_context(ctx: &StageContext) -> Result<Self, FilesError> {
        let (value, from) = match ctx.cmdline.value(LAYOUT_KARG) {
            Some(v) => (Some(v.to_owned()), format!("kindling.{LAYOUT_KARG}")),
            None => (std::env::var(LAYOUT_ENV).ok(), LAYOUT_ENV.to_owned()),
        };
        match value.as_deref() {
            None | Some("") | Some("fragment") => Ok(Self::Fragment),
            Some("plain") => Ok(Self::Plain),
            Some(other) => Err(FilesError::Setting {
                name: from,
                problem: format!("{other:?} is not a key layout; use fragment or plain"),
            }),
        }
    }

    fn path(self, home: &str) -> String {
        let home = home.trim_end_matches('/');
        match self {
            Self::Fragment => format!("{home}/.ssh/authorized_keys.d/kindling"),
            Self::Plain => format!("{home}/.ssh/authorized_keys"),
        }
    }
}

pub fn apply(
    root: &Root,
    passwd: &Passwd,
    layout: SshKeyLayout,
    resumed: bool,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    check_names(passwd)?;
    if !passwd.users.is_empty() || !passwd.groups.is_empty() {
        check_account_files(root)?;
        if resumed {
            clear_shadow_leftovers(root)?;
            check_half_created(root, passwd)?;
        }
    }
    for group in &passwd.groups {
        ensure_group(root, group, summary)?;
    }
    for user in &passwd.users {
        ensure_user(root, user, layout, summary)?;
    }
    Ok(())
}

/// shadow-utils locks and rewrites the root's account files; without them it fails with
/// "cannot lock /etc/passwd; try again later", which points nowhere useful.
fn check_account_files(root: &Root) -> Result<(), FilesError> {
    for file in ["/etc/passwd", "/etc/group"] {
        if root.read(file)?.is_none() {
            return Err(FilesError::NoAccountFiles {
                root: root.path().display().to_string(),
                file,
            });
        }
    }
    Ok(())
}

/// The account databases shadow-utils locks and rewrites.
const SHADOW_DBS: [&str; 6] = ["passwd", "group", "shadow", "gshadow", "subuid", "subgid"];

/// After an interrupted attempt: removes what a killed shadow-utils command left in the
/// root's /etc, its lock files (`passwd.lock`, and `passwd.<pid>` on the way to one) and its
/// unfinished new databases (`passwd+`). Only shadow-utils writes them, while it holds the
/// lock, and nothing else runs on the target root during the first boot, so any found is
/// stale. Left there, a lock whose pid now names a live process stops every later command
/// with "cannot lock /etc/passwd; try again later". The backups (`passwd-`) are whole
/// earlier versions and stay; the next command that changes a database rewrites its backup.
fn clear_shadow_leftovers(root: &Root) -> Result<(), FilesError> {
    let etc = root.dir("/etc", Missing::Fail)?;
    let listing = super::root::open_dir(
        std::os::fd::AsFd::as_fd(&etc),
        std::ffi::OsStr::new("."),
        "/etc",
    )?;
    let names = super::root::list_dir(listing, "/etc")?;
    for name in names {
        let Some(n) = name.to_str() else { continue };
        let stale = SHADOW_DBS.iter().any(|db| {
            n.strip_prefix(db).is_some_and(|rest| {
                rest == ".lock"
                    || rest == "+"
                    || rest.strip_prefix('.').is_some_and(|pid| {
                        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                    })
            })
        });
        if !stale {
            continue;
        }
        match unistd::unlinkat(&etc, n, nix::unistd::UnlinkatFlags::NoRemoveDir) {
            Ok(()) => log::warn!(
                "removed /etc/{n}, left by a shadow-utils command of the interrupted attempt"
            ),
            Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => {
                return Err(super::root::RootError::io(
                    "removing the stale shadow-utils file",
                    format!("/etc/{n}"),
                    e,
                )
                .into())
            }
        }
    }
    Ok(())
}

/// The names in an account database (the first field of each line); `None` when the
/// database is absent.
fn names_in(root: &Root, file: &str) -> Result<Option<Vec<String>>, FilesError> {
    Ok(root.read(file)?.map(|bytes| {
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| l.split(':').next())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }))
}

/// After an interrupted attempt: refuses a group or user of the config that a killed
/// shadow-utils command left half-made. groupadd and useradd write the databases one after
/// the other and then the home directory; killed between two, they leave an account that
/// groupmod and usermod take as existing but never complete (no gshadow or shadow line, no
/// home), and the keys of a user without a home cannot be written.
fn check_half_created(root: &Root, passwd: &Passwd) -> Result<(), FilesError> {
    let fix = "the interrupted attempt was killed while shadow-utils created it; remove it (groupdel or userdel --remove with --root), or restore the root from the image, and boot again";
    let pairs = [
        (
            "/etc/group",
            "/etc/gshadow",
            "group",
            passwd.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
        ),
        (
            "/etc/passwd",
            "/etc/shadow",
            "user",
            passwd.users.iter().map(|u| &u.name).collect(),
        ),
    ];
    for (db, shadow, what, names) in pairs {
        let (Some(listed), Some(shadowed)) = (names_in(root, db)?, names_in(root, shadow)?) else {
            continue;
        };
        for name in names {
            if listed.contains(name) != shadowed.contains(name) {
                let (is, isnt) = if listed.contains(name) {
                    (db, shadow)
                } else {
                    (shadow, db)
                };
                return Err(FilesError::Conflict {
                    path: isnt.to_owned(),
                    problem: format!("the {what} {name} is in {is} but not in {isnt}: {fix}"),
                });
            }
        }
    }
    let owners = Owners::load(root)?;
    for u in &passwd.users {
        if u.should_exist == Some(false) || u.no_create_home == Some(true) {
            continue;
        }
        let Some(account) = owners.user(&u.name) else {
            continue;
        };
        let home = root.leaf(&account.home, Missing::Fail).ok();
        let exists = match home {
            Some(leaf) => super::root::lstat(&leaf)?.is_some(),
            None => false,
        };
        if !exists {
            return Err(FilesError::Conflict {
                path: account.home.clone(),
                problem: format!(
                    "the user {} exists but its home directory does not: {fix}",
                    u.name
                ),
            });
        }
    }
    Ok(())
}

/// Refuses, before any command runs, names that shadow-utils would read as options (a user
/// `--help` would run `useradd --help`, which creates nothing and succeeds). The commands
/// also get every name after `--`; this check gives the error a JSON path.
fn check_names(passwd: &Passwd) -> Result<(), FilesError> {
    let groups = passwd.groups.iter().map(|g| ("group", "groups", &g.name));
    let users = passwd.users.iter().map(|u| ("user", "users", &u.name));
    for (i, (what, list, name)) in groups.enumerate().chain(users.enumerate()) {
        if name.starts_with('-') {
            return Err(FilesError::Setting {
                name: format!("$.passwd.{list}.{i}.name"),
                problem: format!(
                    "the {what} name {name:?} starts with -, which shadow-utils would read as an option; pick a name that starts with a letter or _"
                ),
            });
        }
    }
    Ok(())
}

/// The last argument of every shadow-utils command: the name, after `--` so that it is
/// never read as an option.
fn name_arg(cmd: Cmd, name: &str) -> Cmd {
    cmd.arg("--").arg(name)
}

fn root_arg(root: &Root) -> std::ffi::OsString {
    root.path().as_os_str().to_owned()
}

fn ensure_group(
    root: &Root,
    g: &PasswdGroup,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let exists = Owners::load(root)?.group(&g.name).is_some();
    if g.should_exist == Some(false) {
        if exists {
            let cmd = Cmd::new(format!("deleting group {}", g.name), "groupdel")
                .arg("--root")
                .arg(root_arg(root));
            name_arg(cmd, &g.name).run()?;
            log::info!("deleted group {}", g.name);
            summary.groups_deleted += 1;
        } else {
            log::info!("group {} does not exist; nothing to delete", g.name);
        }
        return Ok(());
    }
    // As Ignition 2.26: an existing group is changed with groupmod (2.14 ran groupadd and
    // failed), and without a passwordHash no --password is passed, so groupadd writes its
    // own default into gshadow (2.14 passed "*").
    let (program, what) = if exists {
        ("groupmod", format!("modifying group {}", g.name))
    } else {
        ("groupadd", format!("creating group {}", g.name))
    };
    let mut cmd = Cmd::new(what, program).arg("--root").arg(root_arg(root));
    if let Some(gid) = g.gid {
        cmd = cmd.arg("--gid").arg(gid.to_string());
    }
    if let Some(hash) = g.password_hash.as_deref().filter(|h| !h.is_empty()) {
        cmd = cmd.arg("--password").secret_arg(hash);
    }
    // groupmod has no --system; Ignition passes it to groupadd only.
    if !exists && g.system == Some(true) {
        cmd = cmd.arg("--system");
    }
    name_arg(cmd, &g.name).run()?;
    if exists {
        log::info!("modified group {}", g.name);
        summary.groups_modified += 1;
    } else {
        log::info!("created group {}", g.name);
        summary.groups_created += 1;
    }
    Ok(())
}

fn ensure_user(
    root: &Root,
    u: &PasswdUser,
    layout: SshKeyLayout,
    summary: &mut FilesSummary,
) -> Result<(), FilesError> {
    let exists = Owners::load(root)?.user(&u.name).is_some();
    if u.should_exist == Some(false) {
        if exists {
            let cmd = Cmd::new(format!("deleting user {}", u.name), "userdel")
                .arg("--remove")
                .arg("--root")
                .arg(root_arg(root));
            name_arg(cmd, &u.name).run()?;
            log::info!("deleted user {} and its home directory", u.name);
            summary.users_deleted += 1;
        } else {
            log::info!("user {} does not exist; nothing to delete", u.name);
        }
        return Ok(());
    }
    let set = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let (program, what) = if exists {
        ("usermod", format!("modifying user {}", u.name))
    } else {
        ("useradd", format!("creating user {}", u.name))
    };
    let mut cmd = Cmd::new(what, program).arg("--root").arg(root_arg(root));
    if exists {
        if let Some(home) = set(&u.home_dir) {
            cmd = cmd.args(["--home", &home, "--move-home"]);
        }
    } else {
        if let Some(home) = set(&u.home_dir) {
            cmd = cmd.args(["--home-dir", &home]);
        }
        cmd = cmd.arg(if u.no_create_home == Some(true) {
            "--no-create-home"
        } else {
            "--create-home"
        });
        for (flag, on) in [
            ("--no-user-group", u.no_user_group),
            ("--system", u.system),
            ("--no-log-init", u.no_log_init),
        ] {
            if on == Some(true) {
                cmd = cmd.arg(flag);
            }
        }
    }
    match u.password_hash.as_deref() {
        Some(hash) if !hash.is_empty() => cmd = cmd.arg("--password").secret_arg(hash),
        Some(_) => cmd = cmd.args(["--password", "*"]),
        None if !exists => cmd = cmd.args(["--password", "*"]),
        None => {}
    }
    if let Some(uid) = u.uid {
        cmd = cmd.arg("--uid").arg(uid.to_string());
    }
    if let Some(gecos) = set(&u.gecos) {
        cmd = cmd.arg("--comment").arg(gecos);
    }
    if let Some(group) = set(&u.primary_group) {
        cmd = cmd.arg("--gid").arg(group);
    }
    if !u.groups.is_empty() {
        cmd = cmd.arg("--groups").arg(u.groups.join(","));
    }
    if let Some(shell) = set(&u.shell) {
        cmd = cmd.arg("--shell").arg(shell);
    }
    name_arg(cmd, &u.name).run()?;
    if exists {
        log::info!("modified user {}", u.name);
        summary.users_modified += 1;
    } else {
        log::info!("created user {}", u.name);
        summary.users_created += 1;
    }

    if let Some(hash) = u.password_hash.as_deref() {
        let hash = if hash.is_empty() { "*" } else { hash };
        let cmd = Cmd::new(format!("setting the password of {}", u.name), "usermod")
            .arg("--root")
            .arg(root_arg(root))
            .arg("--password")
            .secret_arg(hash);
        name_arg(cmd, &u.name).run()?;
        log::info!("set the password hash of {}", u.name);
    }

    if !u.ssh_authorized_keys.is_empty() {
        authorize_keys(root, u, layout)?;
        summary.ssh_key_files += 1;
    }
    Ok(())
}

/// Writes the user's keys file as the user.
fn authorize_keys(root: &Root, u: &PasswdUser, layout: SshKeyLayout) -> Result<(), FilesError> {
    let owners = Owners::load(root)?;
    let account = owners
        .user(&u.name)
        .ok_or_else(|| FilesError::Conflict {
            path: "/etc/passwd".into(),
            problem: format!("user {} is missing after it was created", u.name),
        })?
        .clone();
    let mut keys = u.ssh_authorized_keys.join("\n");
    if !keys.ends_with('\n') {
        keys.push('\n');
    }
    let path = layout.path(&account.home);
    let _as_user =
        AsUser::switch(account.uid, account.gid).map_err(|problem| FilesError::Setting {
            name: format!("user {}", u.name),
            problem,
        })?;
    let leaf = root
        .leaf(&path, Missing::Create(0o700))
        .map_err(|e| FilesError::Keys {
            user: u.name.clone(),
            source: Box::new(e.into()),
        })?;
    write::atomic(
        &leaf,
        Attrs {
            owner: None,
            mode: 0o600,
        },
        |out| out.write_all(keys.as_bytes()),
    )
    .map_err(|e| FilesError::Keys {
        user: u.name.clone(),
        source: Box::new(match e {
            WriteError::Fill(source) => super::root::RootError::Io {
                op: "writing",
                path: path.clone(),
                source,
            }
            .into(),
            WriteError::Fs(e) => e.into(),
        }),
    })?;
    log::info!(
        "wrote {} SSH key(s) for {} to {path}",
        u.ssh_authorized_keys.len(),
        u.name
    );
    Ok(())
}

/// Filesystem ids switched to a user for as long as this lives (this thread only).
#[derive(Debug)]
struct AsUser {
    previous: Option<(Uid, Gid)>,
}

impl AsUser {
    fn switch(uid: u32, gid: u32) -> Result<Self, String> {
        let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
        if uid == unistd::geteuid() && gid == unistd::getegid() {
            return Ok(Self { previous: None });
        }
        let old_gid = unistd::setfsgid(gid);
        let old_uid = unistd::setfsuid(uid);
        let guard = Self {
            previous: Some((old_uid, old_gid)),
        };
        // setfsuid reports failure only through the id it returns; ask again to check.
        if unistd::setfsuid(uid) != uid || unistd::setfsgid(gid) != gid {
            return Err(format!(
                "cannot act as uid {uid}, gid {gid} to write SSH keys (is Kindling running as root?)"
            ));
        }
        Ok(guard)
    }
}

impl Drop for AsUser {
    fn drop(&mut self) {
        if let Some((uid, gid)) = self.previous {
            unistd::setfsuid(uid);
            unistd::setfsgid(gid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 15, item 6: names reached shadow-utils where options go.
    #[test]
    fn names_go_after_the_end_of_options() {
        let cmd = name_arg(Cmd::new("creating user --help", "useradd"), "--help");
        assert!(cmd.cmdline().ends_with(" -- --help"), "{}", cmd.cmdline());
    }

    #[test]
    fn names_that_look_like_options_are_refused_with_their_json_path() {
        let passwd: Passwd = serde_json::from_str(
            r#"{"groups":[{"name":"ok"}],"users":[{"name":"core"},{"name":"-r"}]}"#,
        )
        .expect("passwd");
        let err = check_names(&passwd).expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("$.passwd.users.1.name: the user name \"-r\" starts with -"),
            "{err}"
        );
        let passwd: Passwd =
            serde_json::from_str(r#"{"groups":[{"name":"--help"}]}"#).expect("passwd");
        let err = check_names(&passwd).expect_err("refused");
        assert!(
            err.to_string().starts_with("$.passwd.groups.0.name"),
            "{err}"
        );
        let passwd: Passwd =
            serde_json::from_str(r#"{"users":[{"name":"a-b"},{"name":"_x"}]}"#).expect("passwd");
        assert!(check_names(&passwd).is_ok());
    }
}
