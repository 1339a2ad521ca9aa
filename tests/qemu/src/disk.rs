//! Disk images: sparse copies, small ext4 images made from files, and reading files out of an
//! ext4 image with debugfs, so that nothing is mounted (no loop devices needed).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Copies `from` to `to`, keeping holes (the root image is 1 GiB, mostly empty).
pub fn copy_image(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("--sparse=always")
        .arg(from)
        .arg(to)
        .status()
        .expect("running cp");
    assert!(
        status.success(),
        "cp {} {} failed",
        from.display(),
        to.display()
    );
}

fn debugfs(image: &Path, request: &str) -> (Vec<u8>, String) {
    let output = Command::new(crate::find_tool("debugfs").expect("debugfs"))
        .arg("-R")
        .arg(request)
        .arg(image)
        .output()
        .expect("running debugfs");
    (
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The contents of `path` in the image, or `None` when it does not exist.
pub fn read(image: &Path, path: &str) -> Option<Vec<u8>> {
    let (stdout, stderr) = debugfs(image, &format!("cat {path}"));
    if stderr.contains("not found") || stderr.contains("File not found") {
        None
    } else {
        Some(stdout)
    }
}

/// [`read`] as text; panics with the path when the file is missing.
pub fn read_text(image: &Path, path: &str) -> String {
    let bytes =
        read(image, path).unwrap_or_else(|| panic!("{path} is missing from {}", image.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn exists(image: &Path, path: &str) -> bool {
    let (_, stderr) = debugfs(image, &format!("stat {path}"));
    !stderr.contains("not found")
}

/// The permission bits of `path` (e.g. 0o600).
pub fn mode(image: &Path, path: &str) -> Option<u32> {
    let (stdout, stderr) = debugfs(image, &format!("stat {path}"));
    if stderr.contains("not found") {
        return None;
    }
    let text = String::from_utf8_lossy(&stdout);
    let after = text.split("Mode:").nth(1)?;
    let mode = after.split_whitespace().next()?;
    u32::from_str_radix(mode, 8).ok().map(|m| m & 0o7777)
}

/// An 8 MiB ext4 image labelled `label` holding `files`, in `dir`.
pub fn ext4_image(dir: &Path, label: &str, files: &[(&str, &str)]) -> PathBuf {
    let src = dir.join(format!("{label}-files"));
    for (name, text) in files {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, text).expect("write");
    }
    let image = dir.join(format!("{label}.img"));
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", label, "-d"])
        .arg(&src)
        .arg(&image)
        .arg("8M")
        .output()
        .expect("running mkfs.ext4");
    assert!(
        mkfs.status.success(),
        "mkfs.ext4 failed: {}",
        String::from_utf8_lossy(&mkfs.stderr)
    );
    image
}
