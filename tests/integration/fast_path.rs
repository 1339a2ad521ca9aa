//! The spec crate reads clean configs on a fast path, straight from the text. It must read
//! every config exactly as the full path does: the same model, the same report, the same
//! errors. Checked on every config the tests have: the validation corpora, the files and disks
//! differential fixtures, Butane's outputs for the repository's own reference cases, and those
//! in the shared compatibility corpus where it exists (under CI it must).

use crate::common;

use std::path::{Path, PathBuf};

use kindling_spec::{parse, parse_slow, Options};

fn configs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        root.join("tests/fixtures/positive"),
        root.join("tests/fixtures/negative"),
        root.join("tests/fixtures/files"),
        root.join("tests/fixtures/disks"),
    ];
    dirs.push(common::own_butane_cases_dir());
    if let Some(shared) =
        common::shared_butane_cases("the_fast_path_reads_every_config_as_the_full_path_does")
    {
        dirs.push(shared);
    }
    let mut out = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("json" | "ign")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_fast_path_reads_every_config_as_the_full_path_does() {
    let configs = configs();
    assert!(configs.len() > 150, "only {} configs found", configs.len());
    for path in &configs {
        let bytes = std::fs::read(path).expect("reading a config");
        for options in [Options::default(), Options { strict: true }] {
            let fast = parse(&bytes, options);
            let slow = parse_slow(&bytes, options);
            match (&fast, &slow) {
                (Ok(f), Ok(s)) => {
                    assert_eq!(f.config, s.config, "{}: model", path.display());
                    assert_eq!(f.version, s.version, "{}: version", path.display());
                    assert_eq!(f.report, s.report, "{}: report", path.display());
                }
                (Err(f), Err(s)) => assert_eq!(f, s, "{}: errors", path.display()),
                _ => panic!(
                    "{}: the paths disagree: fast {:?}, full {:?}",
                    path.display(),
                    fast.as_ref().map(|_| "ok").map_err(ToString::to_string),
                    slow.as_ref().map(|_| "ok").map_err(ToString::to_string)
                ),
            }
        }
    }
    common::note(&format!(
        "the_fast_path_reads_every_config_as_the_full_path_does: {} configs checked",
        configs.len()
    ));
}
