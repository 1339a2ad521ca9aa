//! The kargs stage against Boot Loader Specification entries in a directory
//! (`KINDLING_BOOT_DIR`), and through a distribution helper (`KINDLING_KARGS_HELPER`): the
//! arguments land once, a second run changes nothing and asks for no reboot, and every way it
//! can fail says what to do.

use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::stage::{assert_fails, assert_ok, stderr, Env};

const ENTRY: &str = "title Debian GNU/Linux\nversion 6.1.0\nlinux /vmlinuz-6.1.0\ninitrd /initrd.img-6.1.0\noptions root=UUID=1234 ro quiet splash\n";

fn provision(env: &Env, config: &str) {
    let path = env.path("config.json");
    fs::write(&path, config).expect("config");
    let out = env.stage("fetch-offline", &[("KINDLING_CONFIG_FILE", &path)]);
    assert_ok(&out);
}

fn boot_dir(env: &Env, entries: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = env.path("boot");
    fs::create_dir_all(dir.join("loader/entries")).expect("entries dir");
    for (name, text) in entries {
        fs::write(dir.join("loader/entries").join(name), text).expect("entry");
    }
    dir
}

const CONFIG: &str = r#"{"ignition":{"version":"3.3.0"},"kernelArguments":{"shouldExist":["console=ttyS0,115200","nosmt"],"shouldNotExist":["quiet","splash"]}}"#;

#[test]
fn arguments_land_in_every_entry_once_and_a_reboot_is_requested() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, CONFIG);
    let boot = boot_dir(
        &env,
        &[
            ("a.conf", ENTRY),
            ("b.conf", ENTRY),
            ("notes.txt", "options x\n"),
        ],
    );
    let out = env.stage("kargs", &[("KINDLING_BOOT_DIR", &boot)]);
    assert_ok(&out);
    for name in ["a.conf", "b.conf"] {
        let text = fs::read_to_string(boot.join("loader/entries").join(name)).expect("entry");
        assert!(
            text.ends_with("options root=UUID=1234 ro console=ttyS0,115200 nosmt\n"),
            "{text}"
        );
        assert!(text.starts_with("title Debian GNU/Linux\n"), "{text}");
    }
    assert_eq!(
        fs::read_to_string(boot.join("loader/entries/notes.txt")).expect("untouched"),
        "options x\n"
    );
    assert!(
        env.run_dir().join("kargs-reboot").exists(),
        "{}",
        stderr(&out)
    );

    // After the reboot the entries already match: nothing changes, no second reboot.
    fs::remove_file(env.run_dir().join("kargs-reboot")).expect("stamp");
    let before = fs::read(boot.join("loader/entries/a.conf")).expect("entry");
    assert_ok(&env.stage("kargs", &[("KINDLING_BOOT_DIR", &boot)]));
    assert_eq!(
        fs::read(boot.join("loader/entries/a.conf")).expect("entry"),
        before
    );
    assert!(!env.run_dir().join("kargs-reboot").exists());
}

#[test]
fn no_kernel_arguments_means_nothing_is_touched() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, r#"{"ignition":{"version":"3.3.0"}}"#);
    // No boot dir and no boot partition: fine, because nothing is asked.
    assert_ok(&env.stage("kargs", &[]));
    assert!(!env.run_dir().join("kargs-reboot").exists());
}

#[test]
fn a_boot_dir_without_entries_is_an_error_that_names_the_helper() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, CONFIG);
    let boot = boot_dir(&env, &[]);
    let out = env.stage("kargs", &[("KINDLING_BOOT_DIR", &boot)]);
    assert_fails(&out, "holds no *.conf entries");
    let empty = env.path("nothing");
    let out = env.stage("kargs", &[("KINDLING_BOOT_DIR", &empty)]);
    assert_fails(&out, "/usr/lib/kindling/kargs-helper");
    assert!(!env.run_dir().join("kargs-reboot").exists());
}

#[test]
fn a_missing_boot_partition_fails_after_the_device_timeout() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, CONFIG);
    let out = env.stage(
        "kargs",
        &[("KINDLING_KARGS_HELPER", Path::new("/nonexistent"))],
    );
    assert_fails(&out, "/dev/disk/by-label/boot");
}

fn helper(env: &Env, script: &str) -> std::path::PathBuf {
    let path = env.path("kargs-helper");
    fs::write(&path, script).expect("helper");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn the_distribution_helper_gets_ignitions_arguments() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, CONFIG);
    let log = env.path("helper.log");
    let script = format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n", log.display());
    let helper = helper(&env, &script);
    assert_ok(&env.stage("kargs", &[("KINDLING_KARGS_HELPER", &helper)]));
    assert_eq!(
        fs::read_to_string(&log).expect("helper ran"),
        "--should-exist\nconsole=ttyS0,115200\n--should-exist\nnosmt\n--should-not-exist\nquiet\n--should-not-exist\nsplash\n"
    );
}

#[test]
fn a_failing_helper_fails_the_stage_with_its_output() {
    let env = Env::new("kindling.platform.id=file");
    provision(&env, CONFIG);
    let helper = helper(
        &env,
        "#!/bin/sh\necho 'grubby: no default entry' >&2\nexit 4\n",
    );
    let out = env.stage("kargs", &[("KINDLING_KARGS_HELPER", &helper)]);
    assert_fails(&out, "grubby: no default entry");
    assert!(
        stderr(&out).contains("--should-exist console=ttyS0,115200"),
        "{}",
        stderr(&out)
    );
}
